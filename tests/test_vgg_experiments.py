"""Each VGG experiment runs end to end at the smoke preset (synthetic data, seconds)."""
import json

import pytest

from alexnet.experiments import get, run_experiment


@pytest.mark.parametrize("name", ["vgg_lrn", "vgg_depth", "vgg_scale"])
def test_vgg_experiment_smoke(name, tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    module = get(name)
    assert set(module.EXPERIMENT.presets) == {"smoke", "cpu", "regime", "paper"}
    out = run_experiment(name, "smoke", results=tmp_path / "results")
    summary = json.loads((out / "summary.json").read_text())
    if name == "vgg_scale":
        assert set(summary["S=256"]) == {"dense", "multi-crop", "dense+multi-crop"}
        assert 0 <= summary["S=256 + S=[256,512]"]["fusion"]["top1_err"]["mean"] <= 1
    else:
        variants = {"vgg_lrn": ["A", "A-LRN"], "vgg_depth": ["A", "B", "C", "D", "E"]}[name]
        assert [v for v in summary if v in variants] == variants
        assert all(0 <= summary[v]["val_top1_err"]["mean"] <= 1 for v in variants)


SMALL = ["dataset=synthetic", "train_limit=64", "val_limit=32", "epochs=1", "batch_size=16", "progress=false"]


@pytest.mark.parametrize("name, trained", [("vgg_depth", {"A", "E"}), ("vgg_lrn", {"A", "A-LRN"}),
                                           ("vgg_scale", {"S=256", "S=[256,512]"})])
def test_a_vgg_regime_record_trains_only_the_pair_its_claim_compares(name, trained, tmp_path, monkeypatch):
    """The `regime` design (issue 25): §5's schedule on the claim's two nets, the chapter's
    facts still readable from it (rows of the other nets simply absent)."""
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    assert get(name).EXPERIMENT.presets["regime"]["schedule"] == "plateau"
    run_experiment(name, "regime", SMALL, results=tmp_path / "results", seeds=[0])
    from alexnet.records import load
    rec = load(name, "regime", root=tmp_path / "results")
    assert set(rec.metrics.variant.dropna()) - {"S=256 + S=[256,512]"} == trained
    assert get(name).facts(rec)["seeds"] == "1"


def test_the_q_sweep_tests_every_trained_net_at_each_q_and_agrees_with_table_3s_rows(tmp_path, monkeypatch):
    """The sweep (the VGG chapter's dense-vs-Q figure) holds each net's top-1 at four Q; at Q =
    the crop both methods see the one whole image, so they agree; at the net's Table 3 Q the
    sweep is the claim's own number."""
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    run_experiment("vgg_scale", "regime", SMALL, results=tmp_path / "results", seeds=[0])
    from alexnet.records import load
    s = load("vgg_scale", "regime", root=tmp_path / "results").summary
    assert s["q_paper"] == {"32": 224, "37": 256, "55": 384, "73": 512}
    for variant, q in s["test_scales"].items():
        sweep = s["q_sweep"][variant]
        assert set(sweep["dense"]) == set(sweep["multi-crop"]) == set(s["q_paper"])
        assert sweep["dense"]["32"]["mean"] == sweep["multi-crop"]["32"]["mean"]
        assert sweep["dense"][str(q)]["mean"] == s[variant]["dense"]["top1_err"]["mean"]
    assert {k for k in get("vgg_scale").facts(load("vgg_scale", "regime", root=tmp_path / "results"))
            if k.startswith("jitter_dense_q")} == {"jitter_dense_q32", "jitter_dense_q37", "jitter_dense_q55",
                                                   "jitter_dense_q73"}


def test_how_each_net_ended_its_schedule():
    """The VGG chapter's reading of a failed gate: ÷10 drops per run, and runs at the epoch ceiling."""
    import pandas as pd
    from alexnet.experiments.vgg_depth import _schedule_ends
    from alexnet.records import Record
    m = pd.DataFrame(dict(variant=["E"] * 6, seed=[0, 0, 0, 1, 1, 1], epoch=[1, 2, 3, 1, 2, 3],
                          lr=[0.02, 0.002, 0.0002, 0.02, 0.02, 0.002]))
    rec = Record("vgg_depth", "regime", None, {"base": {"epochs": 3}}, {}, m, {})
    assert _schedule_ends(rec, "E", "E") == {"E_drops": "1.5", "E_ended": "epoch 3", "E_ceiling": "2 of 2", "ceiling": "3"}
    rec = Record("vgg_depth", "regime", None, {"base": {"epochs": 120}}, {}, m[m.epoch < 3], {})
    assert _schedule_ends(rec, "E", "E") == {"E_drops": "0.5", "E_ended": "epoch 2", "E_ceiling": "none of the 2", "ceiling": "120"}
    one = m[(m.seed == 0) | (m.epoch < 3)]
    rec = Record("vgg_depth", "regime", None, {"base": {"epochs": 120}}, {}, one, {})
    assert _schedule_ends(rec, "E", "E")["E_ended"] == "epochs 2–3"
