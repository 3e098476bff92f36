import pytest
import torch
from torch import nn

from alexnet.config import resolve
from alexnet.models import (AlexNetSpec, LocalResponseNorm, alexnet_d2l, alexnet_paper, alexnet_small,
                            alexnet_torchvision, build_model, count_parameters, init_paper, layer_table,
                            local_response_norm)


def lrn_by_loop(a, n=5, alpha=1e-4, beta=0.75, k=2.0):
    """§3.3 written as a literal loop over the formula."""
    out = torch.empty_like(a)
    N = a.shape[1]
    for i in range(N):
        lo, hi = max(0, i - n // 2), min(N - 1, i + n // 2)
        s = (a[:, lo:hi + 1] ** 2).sum(1)
        out[:, i] = a[:, i] / (k + alpha * s) ** beta
    return out


@pytest.mark.parametrize("channels,n", [(7, 5), (12, 3), (96, 5)])
def test_lrn_matches_the_papers_formula(channels, n):
    a = torch.randn(2, channels, 4, 5, dtype=torch.float64) * 30
    ours = LocalResponseNorm(size=n)(a)
    torch.testing.assert_close(ours, lrn_by_loop(a, n=n), rtol=1e-10, atol=1e-12)
    # torch's module averages over the window: its alpha must be n times the paper's
    torch_lrn = nn.LocalResponseNorm(n, alpha=1e-4 * n, beta=0.75, k=2.0)(a)
    torch.testing.assert_close(ours, torch_lrn, rtol=1e-8, atol=1e-10)
    assert not torch.allclose(ours, nn.LocalResponseNorm(n, alpha=1e-4, beta=0.75, k=2.0)(a))


def test_lrn_groups_normalise_each_column_alone():
    a = torch.randn(2, 8, 3, 3, dtype=torch.float64) * 40
    grouped = local_response_norm(a, groups=2)
    torch.testing.assert_close(grouped[:, :4], lrn_by_loop(a[:, :4]))
    torch.testing.assert_close(grouped[:, 4:], lrn_by_loop(a[:, 4:]))


def test_paper_parameter_count_and_shapes():
    model = alexnet_paper()
    assert count_parameters(model) == 60_965_224
    table = layer_table(model, (3, 227, 227))
    assert list(table.layer) == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    assert table.output.tolist()[:5] == [(96, 55, 55), (256, 27, 27), (384, 13, 13), (384, 13, 13), (256, 13, 13)]
    assert model.conv2.groups == model.conv4.groups == model.conv5.groups == 2
    assert model.conv3.groups == 1 and model.fc6.in_features == 256 * 6 * 6
    # §3.5: "650,000 neurons"
    assert 640_000 < table.neurons.sum() < 670_000
    assert model(torch.zeros(1, 3, 227, 227)).shape == (1, 1000)


def d2l_alexnet(num_classes=10):
    """The network of d2l's chapter "Deep Convolutional Neural Networks (AlexNet)", as printed there."""
    return nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, num_classes))


def test_torchvision_and_d2l_nets():
    assert count_parameters(alexnet_torchvision()) == 61_100_840
    ours, ref = alexnet_d2l().eval(), d2l_alexnet().eval()
    assert count_parameters(ours) == count_parameters(ref) == 46_764_746
    # same function: load our weights into d2l's Sequential in layer order, compare outputs
    ref_layers = [m for m in ref if isinstance(m, (nn.Conv2d, nn.Linear))]
    ours_layers = [getattr(ours, n) for n in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")]
    for a, b in zip(ours_layers, ref_layers):
        b.load_state_dict(a.state_dict())
    x = torch.randn(2, 1, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))


def test_switches():
    half = alexnet_paper(columns=1)
    assert [m.out_channels for m in (half.conv1, half.conv2, half.conv3, half.conv4, half.conv5)] == \
        [48, 128, 192, 192, 256]
    assert half.conv2.groups == 1
    plain = alexnet_paper(pool="plain")
    assert plain.pool1.kernel_size == 2 and plain.pool1.stride == 2
    assert isinstance(alexnet_paper(activation="tanh").act, nn.Tanh)
    assert isinstance(alexnet_paper(lrn=False).norm1, nn.Identity)
    assert alexnet_paper(dropout=0.0).drop6.p == 0.0
    small = alexnet_small()
    assert small(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="too small"):
        AlexNetSpec(input_size=20).feature_side()


def test_paper_init():
    model = init_paper(alexnet_paper(num_classes=10))
    for name in ("conv2", "conv4", "conv5", "fc6", "fc7"):
        assert torch.all(getattr(model, name).bias == 1)
    for name in ("conv1", "conv3", "fc8"):
        assert torch.all(getattr(model, name).bias == 0)
    w = model.fc6.weight
    assert abs(float(w.detach().mean())) < 1e-4 and abs(float(w.detach().std()) - 0.01) < 1e-4


def test_build_model_is_seeded():
    cfg = resolve("smoke")
    a, b = build_model(cfg, 10, 3), build_model(cfg, 10, 3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = build_model(cfg.replace(seed=1), 10, 3)
    assert not torch.equal(a.conv1.weight, c.conv1.weight)
