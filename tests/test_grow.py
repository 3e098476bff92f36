"""Records grow by seed (issue 25): adding seeds never redoes or rewrites the seeds a record has;
the summary is recomputed from every seed; provenance lists each batch of seeds."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from alexnet import records
from alexnet.config import ConfigError
from alexnet.harness import run_experiment

TIMING = ["seconds", "images_per_s", "wall_seconds"]


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if not any(t in k for t in ("seconds", "images_per_s"))}
    return [_strip(v) for v in obj] if isinstance(obj, list) else obj


def test_adding_a_seed_equals_running_both_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    grown, whole = tmp_path / "grown", tmp_path / "whole"
    run_experiment("pooling", "smoke", results=grown, seeds=[1])
    first = (grown / "pooling" / "smoke" / "metrics.csv").read_text()
    run_experiment("pooling", "smoke", results=grown, seeds=[0, 1])       # only seed 0 runs
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs2"))
    run_experiment("pooling", "smoke", results=whole, seeds=[0, 1])
    a, b = (records.load("pooling", "smoke", root=r) for r in (grown, whole))
    assert (grown / "pooling" / "smoke" / "metrics.csv").read_text().startswith(first)   # seed 1 untouched
    key = ["variant", "seed", "epoch"]
    pd.testing.assert_frame_equal(a.metrics.drop(columns=TIMING, errors="ignore").sort_values(key).reset_index(drop=True),
                                  b.metrics.drop(columns=TIMING, errors="ignore").sort_values(key).reset_index(drop=True))
    assert _strip(a.summary) == _strip(b.summary)
    assert a.provenance["seeds"] == [0, 1] and [x["seeds"] for x in a.provenance["batches"]] == [[1], [0]]


def test_a_seed_already_there_is_not_rerun_and_other_settings_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    path = run_experiment("pooling", "smoke", results=tmp_path, seeds=[0])
    before = (path / "summary.json").read_text()
    run_experiment("pooling", "smoke", results=tmp_path, seeds=[0])
    assert "nothing to run" in capsys.readouterr().out and (path / "summary.json").read_text() == before
    with pytest.raises(ConfigError, match="other settings"):
        run_experiment("pooling", "smoke", ["lr=0.5"], results=tmp_path, seeds=[1])
    assert json.loads((path / "provenance.json").read_text())["seeds"] == [0]


def test_a_record_older_than_a_key_grows_only_with_the_value_it_was_made_with(tmp_path, monkeypatch):
    """A record made before `pixel_scale` existed divided by the channel std: `raw` seeds are refused."""
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    path = run_experiment("pooling", "smoke", results=tmp_path, seeds=[0])
    config = json.loads((path / "config.json").read_text())
    del config["base"]["pixel_scale"]
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="other settings \\(pixel_scale\\)"):
        run_experiment("pooling", "smoke", ["pixel_scale=raw"], results=tmp_path, seeds=[1])


def test_a_forced_rerun_that_reads_its_runs_back_keeps_the_batches_that_trained_them(tmp_path, monkeypatch):
    """`--force` over a record whose scratch runs are finished reads them back (no training): the
    new provenance keeps the replaced record's batches, so neither the commit that trained the
    runs nor their hours are lost."""
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    path = run_experiment("pooling", "smoke", results=tmp_path, seeds=[0])
    first = records.load("pooling", "smoke", root=tmp_path).provenance
    run_experiment("pooling", "smoke", results=tmp_path, seeds=[0], force=True)
    again = json.loads((path / "provenance.json").read_text())
    assert again["reused_checkpoints"] and again["replaced_batches"] == first["batches"]
    assert records.spent(again)[1] == pytest.approx(records.spent(first)[1] + records.spent({**again, "replaced_batches": []})[1])
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "fresh"))                    # nothing to read back
    run_experiment("pooling", "smoke", results=tmp_path, seeds=[0], force=True)
    assert "replaced_batches" not in json.loads((path / "provenance.json").read_text())
