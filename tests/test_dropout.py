"""§4.2 dropout: vanilla (x0.5 at test) and inverted (x2 at training) are the same thing in
expectation, and trained nets convert exactly between the two forms."""
import math

import pytest
import torch

from alexnet.models.cifar_alexnet import cifar_alexnet
from alexnet.models.dropout import Dropout, dropout, dropout_mask


def test_mask_keeps_units_with_probability_one_minus_p():
    n, p = 200_000, 0.5
    kept = dropout_mask((n,), p, generator=torch.Generator().manual_seed(0)).mean().item()
    # Binomial(n, 1 - p) / n has std sqrt(p (1 - p) / n) ~ 0.0011; allow 5 std (fails ~1 in 2e6).
    assert abs(kept - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("style", ["vanilla", "inverted"])
def test_training_output_equals_test_output_in_expectation(style):
    """Average the training-mode output over n masks: it converges to the test-mode output.
    Per unit, y = x m s with m ~ Bernoulli(q), q = 1 - p, s the style's training scale, has
    mean x q s and std |x| s sqrt(q p); the mean of n draws is within 5 std / sqrt(n)."""
    torch.manual_seed(0)
    p, n = 0.5, 20_000
    x = torch.randn(64).abs() + 0.5                                   # (64,) one unit's input each
    samples = dropout(x.expand(n, -1), p, training=True, style=style)  # (n, 64), n independent masks
    test = dropout(x, p, training=False, style=style)
    scale = 1.0 if style == "vanilla" else 1 / (1 - p)
    tol = 5 * x * scale * math.sqrt(p * (1 - p)) / math.sqrt(n)
    assert torch.all((samples.mean(0) - test).abs() < tol)
    # ...and the tolerance is tight enough to catch a wrong test-time scale (e.g. none, for vanilla).
    wrong = x if style == "vanilla" else x * (1 - p)
    assert torch.all((samples.mean(0) - wrong).abs() > tol)


def test_inverted_matches_torch_dropout_for_the_same_mask():
    torch.manual_seed(1)
    x, p = torch.randn(8, 16), 0.5
    torch.manual_seed(7)
    mask = dropout_mask(x.shape, p)
    assert torch.equal(dropout(x, p, style="inverted", mask=mask), x * mask / (1 - p))
    theirs = torch.nn.functional.dropout(x, p, training=True)       # its own mask, same rule
    kept = theirs != 0
    assert torch.allclose(theirs[kept], x[kept] * 2.0)
    assert torch.equal(Dropout(p, "inverted").eval()(x), torch.nn.Dropout(p).eval()(x))


@pytest.mark.parametrize("p", [0.0, 0.25, 0.5])
def test_inverted_layer_is_torch_dropout_bit_for_bit(p):
    """Dropout(style="inverted") draws the same random numbers as torch.nn.Dropout: under the
    same seed it gives the same tensor in training and in evaluation, and so does the next draw
    (the RNG stream is left where torch's leaves it)."""
    x = torch.randn(64, 256)
    outs = []
    for layer in (Dropout(p, "inverted"), torch.nn.Dropout(p)):
        torch.manual_seed(3)
        outs.append((layer.train()(x), layer.train()(x), layer.eval()(x), torch.rand(3)))
    for ours, theirs in zip(*outs):
        assert torch.equal(ours, theirs)


@pytest.mark.parametrize("name", ["alexnet_small", "vgg_a_small", "cifar_alexnet"])
def test_every_model_with_dropout_honours_dropout_style(name):
    from alexnet.config import resolve
    from alexnet.models import build_model
    for style in ("vanilla", "inverted"):
        net = build_model(resolve("smoke", dict(model=name, dropout_style=style)), 10, 3)
        layers = [m for m in net.modules() if isinstance(m, (Dropout, torch.nn.Dropout))]
        assert len(layers) == 2 and all(isinstance(m, Dropout) and m.style == style for m in layers)


def test_direct_factories_keep_torchs_inverted_dropout():
    """Called without a config, the AlexNet and VGG factories build the inverted form they
    always built (torch.nn.Dropout's); the registry passes cfg.dropout_style instead."""
    from alexnet.models import alexnet_d2l, alexnet_small, alexnet_torchvision
    from alexnet.models.vgg import vgg_small
    for net in (alexnet_small(), alexnet_d2l(), vgg_small(), alexnet_torchvision(10)):
        layers = [m for m in net.modules() if isinstance(m, Dropout)]
        assert len(layers) == 2 and {m.style for m in layers} == {"inverted"}


def test_vanilla_net_is_an_inverted_net_with_next_layer_weights_halved():
    """A vanilla-dropout net equals, exactly at test time and mask by mask at training time,
    the inverted-dropout net whose fc7 and fc8 weights (the layers after the dropouts) are
    multiplied by (1 - p): the 1/(1 - p) is absorbed by the next layer."""
    p = 0.5
    vanilla = cifar_alexnet(dropout=p, dropout_style="vanilla", lrn=False)
    inverted = cifar_alexnet(dropout=p, dropout_style="inverted", lrn=False)
    inverted.load_state_dict(vanilla.state_dict())
    with torch.no_grad():
        inverted.fc7.weight.mul_(1 - p)
        inverted.fc8.weight.mul_(1 - p)
    for net in (vanilla, inverted):                                   # the same masks in both nets
        net.drop6, net.drop7 = SameMask(net.drop6, 6), SameMask(net.drop7, 7)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(vanilla.eval()(x), inverted.eval()(x), atol=1e-5)
        a, b = vanilla.train()(x), inverted.train()(x)
    assert torch.allclose(a, b, atol=1e-5)


class SameMask(torch.nn.Module):
    """A dropout layer whose mask is drawn from its own seed: two nets given layers of the
    same seed drop the same units whatever their style (inverted otherwise draws torch's)."""

    def __init__(self, layer: Dropout, seed: int):
        super().__init__()
        self.layer, self.seed = layer, seed

    def forward(self, x):
        mask = dropout_mask(x.shape, self.layer.p, torch.Generator().manual_seed(self.seed))
        return dropout(x, self.layer.p, self.training, self.layer.style, mask=mask)


def test_worked_example():
    """The chapter's example: four units, mask 1 0 1 0."""
    x, mask = torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1.0, 0.0, 1.0, 0.0])
    assert dropout(x, 0.5, True, "vanilla", mask).tolist() == [1.0, 0.0, 3.0, 0.0]
    assert dropout(x, 0.5, True, "inverted", mask).tolist() == [2.0, 0.0, 6.0, 0.0]
    assert dropout(x, 0.5, False, "vanilla").tolist() == [0.5, 1.0, 1.5, 2.0]
    assert dropout(x, 0.5, False, "inverted").tolist() == x.tolist()
    assert torch.equal(dropout(x, 0.0, True, "vanilla"), x)


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="choose one of vanilla, inverted"):
        Dropout(0.5, "gaussian")
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        dropout(torch.ones(3), 1.0)


def test_dropout_experiment_smoke(tmp_path, monkeypatch):
    import json
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))      # no resuming old checkpoints
    from alexnet.experiments import run_experiment
    out = run_experiment("dropout", "smoke", results=tmp_path)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["variants"]) == {"p0", "p0.5"}
    for key in ("epochs_to_plateau", "epochs_to_loss", "gap"):
        assert key in summary["variants"]["p0.5"]
