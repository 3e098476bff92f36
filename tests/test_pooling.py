"""§3.4 overlapping pooling: the grids, the output sizes, and the experiment's smoke run."""
import json

import pytest
import torch

from alexnet.models import alexnet_paper, build_model, layer_table
from alexnet.models.cifar_alexnet import CifarAlexNetSpec, cifar_alexnet
from alexnet.models.pooling import POOLS, pool_layer
from alexnet.config import resolve


def test_pool_windows_overlap_only_with_z3_s2():
    """A 1-D check by hand: with z=3, s=2 neighbouring windows share a column; with z=s=2
    they tile. Put one large value on a shared column: two outputs see it, not one."""
    x = torch.zeros(1, 1, 1, 8)
    x[..., 2] = 5.0                                    # column 2: the edge of windows 0-2 and 2-4
    overlap = torch.nn.MaxPool2d((1, 3), (1, 2))(x)    # windows [0:3], [2:5], [4:7]
    plain = torch.nn.MaxPool2d((1, 2), (1, 2))(x)      # windows [0:2], [2:4], [4:6], [6:8]
    assert overlap.flatten().tolist() == [5.0, 5.0, 0.0]
    assert plain.flatten().tolist() == [0.0, 5.0, 0.0, 0.0]


@pytest.mark.parametrize("pool", ["overlap", "plain"])
def test_both_pools_give_equal_output_sizes(pool):
    """The paper compares grids "which produce output of equivalent dimensions"; our
    CIFAR-10 net keeps that (32 -> 16 -> 8, fc6 4096 inputs) and so does alexnet_paper
    (55 -> 27 -> 13 -> 6)."""
    net = cifar_alexnet(pool=pool)
    rows = layer_table(net, (3, 32, 32), all_layers=True).set_index("layer")
    assert rows.loc["pool1", "output"] == (64, 16, 16) and rows.loc["pool2", "output"] == (64, 8, 8)
    assert net.fc6.in_features == 64 * 8 * 8 and CifarAlexNetSpec(pool=pool).sides() == (16, 8)
    paper = layer_table(alexnet_paper(pool=pool), (3, 227, 227), all_layers=True).set_index("layer")
    assert [paper.loc[p, "output"][1] for p in ("pool1", "pool2", "pool5")] == [27, 13, 6]


def test_overlapping_pool_padding_never_wins_the_max():
    """The one-pixel padding of the z=3 pool on even sides pads with -inf: an all-negative
    input stays negative at the borders."""
    x = -torch.rand(1, 1, 6, 6) - 1.0
    assert (pool_layer("overlap", padded=True)(x) < 0).all()
    with pytest.raises(ValueError, match="overlap .* or plain"):
        pool_layer("average")


def test_one_grid_table_serves_both_networks():
    """§3.4's (z, s) pairs are written once (models/pooling.py): AlexNet's pools use them
    unpadded, the CIFAR-10 net's padded on the overlapping grid (even sides)."""
    assert POOLS == {"overlap": (3, 2), "plain": (2, 2)}
    for pool, (z, s) in POOLS.items():
        paper, cifar = alexnet_paper(pool=pool), cifar_alexnet(pool=pool)
        for layer in (paper.pool1, paper.pool2, paper.pool5, cifar.pool1, cifar.pool2):
            assert (layer.kernel_size, layer.stride) == (z, s)
        assert paper.pool1.padding == 0 and cifar.pool1.padding == (1 if pool == "overlap" else 0)


def test_registered_model_reads_the_config_switches():
    cfg = resolve("smoke", dict(model="cifar_alexnet", pool="plain", dropout=0.25, dropout_style="inverted"))
    net = build_model(cfg, 10, 3)
    assert net.pool1.kernel_size == 2 and net.drop6.p == 0.25 and net.drop7.style == "inverted"
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_pooling_experiment_smoke(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))      # no resuming old checkpoints
    from alexnet.experiments import run_experiment
    out = run_experiment("pooling", "smoke", results=tmp_path)
    summary = json.loads((out / "summary.json").read_text())
    over, plain = summary["variants"]["overlap"], summary["variants"]["plain"]
    assert [r["output"] for r in over["output_sizes"]] == [r["output"] for r in plain["output_sizes"]]
    assert 0.0 <= over["train_clean_top1_err"]["mean"] <= 1.0
    assert "inside_noise" in summary["gain_top1"]
