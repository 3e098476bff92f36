"""The four-layer CIFAR-10 net of §3.1/§3.3 and the relu_vs_tanh experiment."""
import json

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alexnet.config import resolve
from alexnet.experiments import run_experiment
from alexnet.experiments.relu_vs_tanh import _over_seeds, _ratios, _reach
from alexnet.models import LocalResponseNorm, build_model, cifar4, count_parameters
from alexnet.models.cifar4 import CUDA_CONVNET_LRN


def test_parameters_counted_by_hand():
    # conv 5x5: in*25*out + out; fc10 sees 64 maps of 4x4 (32 -> 16 -> 8 -> 4)
    expected = (3 * 25 * 32 + 32) + (32 * 25 * 32 + 32) + (32 * 25 * 64 + 64) + (64 * 16 * 10 + 10)
    assert count_parameters(cifar4()) == expected == 89_578
    assert cifar4()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def reference(model, x, act, lrn=None):
    """The same net in torch.nn.functional, LRN by torch's module (which averages: alpha * n)."""
    norm = (lambda t: nn.LocalResponseNorm(lrn["size"], lrn["alpha"] * lrn["size"], lrn["beta"], lrn["k"])(t)
            ) if lrn else (lambda t: t)
    x = norm(F.max_pool2d(act(model.conv1(x)), 3, 2, ceil_mode=True))
    x = norm(F.avg_pool2d(act(model.conv2(x)), 3, 2, ceil_mode=True))
    x = F.avg_pool2d(act(model.conv3(x)), 3, 2, ceil_mode=True)
    return model.fc10(x.flatten(1))


@pytest.mark.parametrize("activation,lrn", [("relu", False), ("tanh", False), ("relu", True),
                                            ("tanh", CUDA_CONVNET_LRN)])
def test_same_function_as_a_functional_reference(activation, lrn):
    torch.manual_seed(0)
    model = cifar4(activation=activation, lrn=lrn).double()
    x = torch.randn(3, 3, 32, 32, dtype=torch.float64) * 3
    act = torch.relu if activation == "relu" else torch.tanh
    params = dict(size=5, alpha=1e-4, beta=0.75, k=2.0) if lrn is True else lrn
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(model, x, act, params))
    assert isinstance(model.act, nn.ReLU if activation == "relu" else nn.Tanh)
    assert isinstance(model.norm1, LocalResponseNorm if lrn else nn.Identity)


def test_cuda_convnet_constants_in_the_papers_convention():
    # cuda-convnet's scale=0.001 is divided by size=9 (cmrnorm, 11pct config); our inputs are ~64 grey levels per unit
    assert CUDA_CONVNET_LRN["alpha"] == pytest.approx(0.001 / 9 * 64 ** 2)
    assert CUDA_CONVNET_LRN["k"] == 1.0 and CUDA_CONVNET_LRN["size"] == 9


def test_registered_and_built_from_the_config():
    cfg = resolve("smoke", dict(model="cifar4", activation="tanh", lrn=True))
    model = build_model(cfg, 10, 3)
    assert isinstance(model.act, nn.Tanh) and model.norm2.alpha == 1e-4
    ccn = build_model(cfg.replace(model="cifar4_ccn"), 10, 3)
    assert ccn.norm1.k == 1.0
    assert isinstance(build_model(cfg.replace(model="cifar4_ccn", lrn=False), 10, 3).norm1, nn.Identity)


def test_reach_and_ratio_from_a_history():
    hist = pd.DataFrame(dict(epoch=[1, 2, 3, 4], train_err=[0.6, 0.3, 0.24, 0.2], seconds=[2.0] * 4))
    r = _reach(hist, 0.25)
    assert (r["epochs_to_target"], r["seconds_to_target"], r["reached"]) == (3, 6.0, True)
    slow = pd.DataFrame(dict(epoch=range(1, 13), train_err=[0.5] * 12, seconds=[1.0] * 12))
    out = _ratios(dict(relu=r, tanh=_reach(slow, 0.25)))
    assert out["ratio_epochs"] == 4.0 and out["ratio_kind"].startswith("lower bound")
    assert _ratios(dict(relu=r, tanh=_reach(hist.assign(seconds=4.0), 0.25)))["ratio_seconds"] == 2.0


def test_ratios_over_seeds_mean_spread_and_lower_bounds():
    measured = [dict(ratio_epochs=e, ratio_seconds=2 * e, ratio_kind="measured") for e in (2.0, 4.0)]
    out = _over_seeds(measured)
    assert (out["ratio_epochs"], out["ratio_seconds"], out["ratio_kind"]) == (3.0, 6.0, "measured")
    assert out["ratio_epochs_std"] == pytest.approx(2 ** 0.5) and out["ratio_epochs_values"] == [2.0, 4.0]
    bound = dict(ratio_epochs=5.0, ratio_seconds=5.0, ratio_kind="lower bound: tanh not there")
    assert _over_seeds(measured + [bound])["ratio_kind"].startswith("lower bound")
    assert _over_seeds(measured + [dict(ratio_epochs=None, ratio_seconds=None, ratio_kind="x")])["ratio_epochs"] is None


def test_relu_vs_tanh_smoke_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    out = run_experiment("relu_vs_tanh", "smoke", results=tmp_path)
    summary = json.loads((out / "summary.json").read_text())
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics.activation) == {"relu", "tanh"} and set(metrics.phase) == {"sweep", "chosen"}
    seed = summary["seed0"]
    for act in ("relu", "tanh"):
        assert seed[act]["lr"] in summary["lrs"] and set(seed["sweep"][act]) == {"0.01", "0.04"}
        assert 1 <= seed[act]["epochs_trained"] <= 3
