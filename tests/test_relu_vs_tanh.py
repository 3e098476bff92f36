"""Figure 1's experiment (issue 25): the crossing of 25% interpolated within the epoch, the rate
grid growing past an edge, and a summary derived from metrics.csv alone (records grow by seed)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from alexnet import records
from alexnet.experiments import relu_vs_tanh as rvt
from alexnet.harness import resummarize, run_experiment
from alexnet.harness.runner import resolved

ROOT = Path(__file__).resolve().parents[1]


def test_the_crossing_is_interpolated_within_the_epoch():
    hist = pd.DataFrame(dict(epoch=[1, 2, 3, 4], train_err=[0.6, 0.3, 0.24, 0.2], seconds=[2.0, 2.0, 3.0, 2.0]))
    r = rvt._reach(hist, 0.25)
    # epoch 3 crosses: 0.30 at the end of epoch 2, 0.24 at the end of epoch 3, 25% is 5/6 of the way
    assert (r["epochs_to_target"], r["seconds_to_target"]) == (3, 7.0)
    assert r["epochs_to_target_interp"] == pytest.approx(2 + 5 / 6)
    assert r["seconds_to_target_interp"] == pytest.approx(4 + 3 * 5 / 6)
    # a crossing in the first epoch starts from chance (0.9) at epoch 0
    first = rvt._reach(pd.DataFrame(dict(epoch=[1], train_err=[0.2], seconds=[10.0])), 0.25)
    assert first["epochs_to_target_interp"] == pytest.approx(0.65 / 0.7)
    assert first["seconds_to_target_interp"] == pytest.approx(10 * 0.65 / 0.7)
    never = rvt._reach(hist.assign(train_err=0.5), 0.25)
    assert not never["reached"] and never["epochs_to_target_interp"] is None


def test_the_ratio_uses_interpolated_epochs_when_both_got_there():
    relu = rvt._reach(pd.DataFrame(dict(epoch=[1, 2], train_err=[0.5, 0.2], seconds=[1.0, 1.0])), 0.25)
    tanh = rvt._reach(pd.DataFrame(dict(epoch=[1, 2, 3], train_err=[0.6, 0.35, 0.15], seconds=[2.0] * 3)), 0.25)
    out = rvt._ratios(dict(relu=relu, tanh=tanh))
    # relu crosses at 1 + 0.25/0.3, tanh at 2 + 0.1/0.2
    assert out["ratio_epochs"] == pytest.approx(2.5 / (1 + 0.25 / 0.3))
    assert out["ratio_seconds"] == pytest.approx(5.0 / (1 + 0.25 / 0.3))
    assert (out["ratio_epochs_whole"], out["ratio_seconds_whole"]) == (1.5, 3.0)
    slow = rvt._reach(pd.DataFrame(dict(epoch=[1, 2, 3], train_err=[0.6] * 3, seconds=[2.0] * 3)), 0.25)
    bound = rvt._ratios(dict(relu=relu, tanh=slow))          # a lower bound, in whole epochs
    assert bound["ratio_epochs"] == bound["ratio_epochs_whole"] == 1.5 and bound["ratio_kind"].startswith("lower")


def made_up(best: float, diverge_above: float = 1.0):
    """`_train_to` stand-in: a history whose error grows with |log2(lr / best)|, falling by
    epoch; non-finite (empty) above `diverge_above`."""
    import math

    def train_to(cfg, out_dir, data, epochs):
        if cfg.lr > diverge_above:
            return pd.DataFrame()
        err = [0.3 + 0.05 * abs(math.log2(cfg.lr / best)) - 0.05 * e for e in range(1, epochs + 1)]
        return pd.DataFrame(dict(epoch=range(1, epochs + 1), train_err=err, seconds=1.0))
    return train_to


@pytest.mark.parametrize("best, grid, inside", [
    (0.16, [0.01, 0.04, 0.08, 0.16, 0.32], True),                   # two rates above the top
    (10.0, [0.01, 0.04, 0.08, 0.16, 0.32], False),                  # three, still at the top: stop
    (0.005, [0.0025, 0.005, 0.01, 0.04], True),                      # below the bottom
])
def test_the_grid_grows_while_the_best_rate_is_at_an_edge(best, grid, inside, tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path))
    monkeypatch.setattr(rvt, "_train_to", made_up(best))
    settings = dict(rvt.SETTINGS["smoke"], extend=3)
    cfg = resolved("relu_vs_tanh", "smoke")
    rows, chosen = rvt._sweep(cfg, "smoke", None, 0, settings, log=lambda _: None)
    for act in rvt.ACTIVATIONS:
        mine = rows[rows.activation == act]
        assert sorted(mine.lr) == pytest.approx(grid) and (mine.extension > 0).sum() == len(grid) - 2
        assert (min(grid) < chosen[act] < max(grid)) == inside
    assert rvt._sweep(cfg, "smoke", None, 0, dict(settings, extend=0), print)[0].lr.nunique() == 2


def test_a_diverged_rate_stays_in_the_record_and_ends_the_grid(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(rvt, "_train_to", made_up(10.0, diverge_above=0.1))
    monkeypatch.setitem(rvt.SETTINGS, "smoke", dict(rvt.SETTINGS["smoke"], extend=3))
    cfg = resolved("relu_vs_tanh", "smoke")
    out = rvt.run(cfg, "smoke", [0, 1], log=lambda _: None)
    s = out.summary
    for act in rvt.ACTIVATIONS:                      # 0.08 is the best; 0.16 diverged: inside
        assert s["seed1"][act]["grid"] == pytest.approx([0.01, 0.04, 0.08, 0.16])
        assert s["seed1"][act]["lr"] == pytest.approx(0.08) and s["seed1"][act]["best_inside"]
        assert s["seed1"]["sweep"][act]["0.16"] is None
    assert s["best_inside"] and s["lrs"] == [0.01, 0.04] and s["n_seeds"] == 2
    assert s["ratio_epochs"] is None and s["ratio_kind"] == "relu did not reach the target"
    # run() returns exactly the summary its metrics give (and the images, which they do not hold)
    assert {k: v for k, v in s.items() if k != "train_images"} == rvt.summarize_metrics(out.metrics, cfg)
    path = tmp_path / "m.csv"
    out.metrics.to_csv(path, index=False)
    assert rvt.summarize_metrics(pd.read_csv(path), cfg) == rvt.summarize_metrics(out.metrics, cfg)


@pytest.mark.parametrize("preset", ["cpu", "paper"])
def test_the_committed_records_resummarize_to_their_summary(preset, tmp_path):
    committed = ROOT / "results" / "relu_vs_tanh" / preset
    if not committed.exists():
        pytest.skip(f"no committed relu_vs_tanh/{preset} record")
    shutil.copytree(committed, tmp_path / "relu_vs_tanh" / preset)
    resummarize("relu_vs_tanh", preset, tmp_path)
    old = json.loads((committed / "summary.json").read_text())
    new = records.load("relu_vs_tanh", preset, root=tmp_path).summary
    assert new == old                    # the committed summary is its metrics' (re-derived at 2 commits)
    for seed in records.load("relu_vs_tanh", preset, root=tmp_path).provenance["seeds"]:
        r = new[f"seed{seed}"]
        assert r["ratio_epochs"] == pytest.approx(r["tanh"]["epochs_to_target_interp"] /
                                                  r["relu"]["epochs_to_target_interp"])
        assert r["relu"]["epochs_to_target"] - 1 < r["relu"]["epochs_to_target_interp"] <= r["relu"]["epochs_to_target"]


def _strip(obj):
    """A summary without its timings (seconds differ between two runs of the same seeds)."""
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if "seconds" not in k}
    return [_strip(v) for v in obj] if isinstance(obj, list) else obj


def test_growing_a_smoke_record_seed_by_seed_equals_running_the_seeds_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    grown, whole = tmp_path / "grown", tmp_path / "whole"
    run_experiment("relu_vs_tanh", "smoke", results=grown, seeds=[0])
    run_experiment("relu_vs_tanh", "smoke", results=grown, seeds=[0, 1])       # only seed 1 runs
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs2"))
    run_experiment("relu_vs_tanh", "smoke", results=whole, seeds=[0, 1])
    a, b = (records.load("relu_vs_tanh", "smoke", root=r) for r in (grown, whole))
    assert a.provenance["seeds"] == [0, 1] and _strip(a.summary) == _strip(b.summary)
    assert a.summary["n_seeds"] == 2 and set(a.summary) >= {"seed0", "seed1", "train_images"}


def test_a_resumed_seed_reads_its_sweep_back_without_retraining_it(tmp_path, monkeypatch):
    """A seed stopped after its chosen rate trained past the sweep, in the same folder: run
    again, the sweep reads the same scores and rows from the runs' checkpoints, and no sweep
    epoch is trained twice."""
    from alexnet.training import loop
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    cfg = resolved("relu_vs_tanh", "smoke", dict(dataset="synthetic", train_limit=256, val_limit=64))
    settings = rvt.SETTINGS["smoke"]
    first, best = rvt._sweep(cfg, "smoke", None, 0, settings, log=lambda _: None)
    for act in rvt.ACTIVATIONS:                                   # the chosen runs go on past the sweep
        out = rvt.scratch_dir("relu_vs_tanh", "smoke", f"{act}-lr{best[act]:g}", 0)
        assert len(rvt._train_to(cfg.replace(activation=act, lr=best[act]), out, None, 3)) == 3
    trained = []
    real = loop.run_epoch
    monkeypatch.setattr(loop, "run_epoch", lambda *a, **k: trained.append(a[1]) or real(*a, **k))
    again, best_again = rvt._sweep(cfg, "smoke", None, 0, settings, log=lambda _: None)
    assert trained == [] and best_again == best
    pd.testing.assert_frame_equal(again.reset_index(drop=True), first.reset_index(drop=True))
