"""Each VGG experiment runs end to end at the smoke preset (synthetic data, seconds)."""
import json

import pytest

from alexnet.experiments import get, run_experiment


@pytest.mark.parametrize("name", ["vgg_lrn", "vgg_depth", "vgg_scale"])
def test_vgg_experiment_smoke(name, tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    module = get(name)
    assert set(module.EXPERIMENT.presets) == {"smoke", "cpu", "paper"}
    out = run_experiment(name, "smoke", results=tmp_path / "results")
    summary = json.loads((out / "summary.json").read_text())
    if name == "vgg_scale":
        assert set(summary["S=256"]) == {"dense", "multi-crop", "dense+multi-crop"}
        assert 0 <= summary["S=256 + S=[256,512]"]["fusion"]["top1_err"]["mean"] <= 1
    else:
        variants = {"vgg_lrn": ["A", "A-LRN"], "vgg_depth": ["A", "B", "C", "D", "E"]}[name]
        assert [v for v in summary if v in variants] == variants
        assert all(0 <= summary[v]["val_top1_err"]["mean"] <= 1 for v in variants)
