"""§5's update rule (alexnet.training.optim.PaperSGD) against torch.optim.SGD."""
import pytest
import torch
from torch import nn

from alexnet.training.optim import PaperSGD, compare_on_quadratic, torch_sgd_like_paper


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny float64 ops: one thread is 100x faster than two on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5)).double()


def _run(opt_factory, lrs, rescale_at=None):
    """Train a tiny net on fixed random batches with the learning rate lrs[step]."""
    model = _net()
    opt = opt_factory(model.parameters(), lr=lrs[0])
    gen = torch.Generator().manual_seed(1)
    for step, lr in enumerate(lrs):
        if rescale_at is not None and step == rescale_at:
            opt.rescale_velocity(lr / lrs[step - 1])
        for g in opt.param_groups:
            g["lr"] = lr
        x = torch.randn(8, 3, 8, 8, generator=gen, dtype=torch.float64)
        y = torch.randint(0, 5, (8,), generator=gen)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_constant_lr_gives_identical_trajectories():
    lrs = [0.05] * 30
    paper, ours = _run(PaperSGD, lrs), _run(torch_sgd_like_paper, lrs)
    assert torch.allclose(paper, ours, rtol=0, atol=1e-12)


def test_first_step_is_the_formula():
    w = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    opt = PaperSGD([w], lr=0.1)
    opt.state[w]["velocity"] = torch.tensor([0.3], dtype=torch.float64)
    (3 * w).sum().backward()                      # dL/dw = 3
    opt.step()
    v = 0.9 * 0.3 - 0.0005 * 0.1 * 2.0 - 0.1 * 3  # §5, by hand
    assert w.item() == pytest.approx(2.0 + v, abs=1e-15)


def test_after_an_lr_drop_they_differ_unless_v_is_rescaled():
    lrs = [0.05] * 15 + [0.005] * 15
    paper, ours = _run(PaperSGD, lrs), _run(torch_sgd_like_paper, lrs)
    rescaled = _run(PaperSGD, lrs, rescale_at=15)
    assert (paper - ours).abs().max() > 1e-4       # the conventions part at the drop
    assert torch.allclose(rescaled, ours, rtol=0, atol=1e-12)


def test_quadratic_demo_shows_the_lag():
    df = compare_on_quadratic(steps=40, drop_at=10)
    before, after = df[df.step <= 10], df[df.step > 10]
    assert (before.paper - before.torch).abs().max() < 1e-12
    assert (after.paper - after.torch).abs().max() > 1e-3
    assert (df.paper_rescaled - df.torch).abs().max() < 1e-12


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="momentum"):
        PaperSGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=1.5)


def test_make_optimizer_picks_the_rule_and_decays_weights_only():
    from alexnet.config import resolve
    from alexnet.training.optim import make_optimizer
    net = _net()
    paper = make_optimizer(net, resolve("paper"))
    sgd = make_optimizer(net, resolve("paper", ["optimizer=sgd"]))
    assert type(paper) is PaperSGD and type(sgd) is torch.optim.SGD
    for opt in (paper, sgd):
        weights, biases = opt.param_groups
        assert all(p.dim() > 1 for p in weights["params"]) and weights["weight_decay"] == 5e-4
        assert all(p.dim() == 1 for p in biases["params"]) and biases["weight_decay"] == 0.0


def test_training_under_optimizer_paper_follows_papersgd_after_a_rate_drop():
    """train() with a ÷10 drop after epoch 1: optimizer=paper and optimizer=sgd agree until
    the drop (float rounding only) and part after it, as PaperSGD and torch's SGD do."""
    from alexnet.config import resolve
    from alexnet.training.loop import train
    torch.set_num_threads(1)

    def weights(rule, epochs):
        cfg = resolve("smoke", [f"optimizer={rule}", "schedule=step", "step_every=1", "lr=0.05",
                                f"epochs={epochs}", "dropout=0", "threads=1"])
        model = train(cfg, log=lambda *_: None).model
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    before = (weights("paper", 1) - weights("sgd", 1)).abs().max().item()
    after = (weights("paper", 2) - weights("sgd", 2)).abs().max().item()
    assert before < 1e-5                          # the same recursion at a constant rate
    assert after > 100 * max(before, 1e-7)        # the paper's velocity keeps the old speed


@pytest.mark.parametrize("nesterov", [False, True])
def test_fused_torch_sgd_equals_the_per_tensor_loop(nesterov):
    from alexnet.training.optim import torch_sgd

    def factory(fused):
        def make(params, lr):
            params = list(params)
            groups = [dict(params=[p for p in params if p.dim() > 1], weight_decay=5e-4),
                      dict(params=[p for p in params if p.dim() <= 1], weight_decay=0.0)]
            kw = dict(lr=lr, momentum=0.9, nesterov=nesterov)
            opt = torch_sgd(groups, fused, **kw)
            assert bool(opt.defaults["fused"]) is fused
            return opt
        return make

    lrs = [0.05] * 4 + [0.005] * 4
    fused, loop = _run(factory(True), lrs), _run(factory(False), lrs)
    torch.testing.assert_close(fused, loop, rtol=1e-15, atol=1e-15)
    assert not torch.equal(fused, _run(factory(False), [0.05] * 8))     # the test can see a difference
