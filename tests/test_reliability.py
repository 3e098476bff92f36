"""Bad input as a hostile user gives it (issue 16): one line, the right exit code, nothing lost.

The checkpoint cases live in tests/test_checkpoint.py, the dataset readers' in
tests/test_data_small.py and tests/test_data_imagenet.py; here: the command's error path,
config ranges, and run records (never overwritten silently, checked before training)."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from alexnet import records
from alexnet.cli import main
from alexnet.config import ConfigError, resolve


@pytest.mark.parametrize("override, words", [
    ("lr=-1", "0.0 < lr"), ("lr=nan", "0.0 < lr"), ("lr=inf", "lr"), ("dropout=1", "dropout < 1.0"),
    ("batch_size=0", "1 <= batch_size"), ("batch_size=-3", "1 <= batch_size"), ("epochs=0", "1 <= epochs"),
    ("epochs=-2", "1 <= epochs"), ("image_size=0", "8 <= image_size"), ("workers=-1", "0 <= workers"),
    ("momentum=1", "momentum <= 0.999"),
])
def test_config_values_outside_their_range_name_key_value_and_range(override, words):
    with pytest.raises(ConfigError, match="out of range") as err:
        resolve("smoke", [override])
    assert words in str(err.value) and override.split("=")[0] in str(err.value)


@pytest.mark.parametrize("argv, code, words", [
    (["train", "--preset", "smoke", "epochs=0"], 2, "epochs"),
    (["train", "--preset", "smoke", "bogus=1"], 2, "unknown config key"),
    (["run", "nope", "--preset", "smoke"], 2, "unknown experiment"),
    (["train", "--preset", "smoke", "model=nope", "progress=false"], 2, "unknown model"),
    (["eval", "--checkpoint", "/does/not/exist.pt"], 1, "no such checkpoint"),
])
def test_every_failure_is_one_line_with_its_exit_code(argv, code, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("alexnet: ") and "\n" not in err and "Traceback" not in err
    assert words in err


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception):
        main(["--debug", "eval", "--checkpoint", "/does/not/exist.pt"])


def test_a_missing_data_root_creates_nothing(tmp_path, capsys, monkeypatch):
    nowhere = tmp_path / "nowhere" / "at" / "all"
    monkeypatch.setenv("ALEXNET_DATA", str(nowhere))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--preset", "smoke", "dataset=cifar10", f"out={tmp_path / 'out'}"]) == 1
    assert not (tmp_path / "nowhere").exists()
    assert "cifar-10-batches-py" in capsys.readouterr().err


def _write(root, summary, force=False, files=None):
    return records.write("x", "smoke", config={"lr": 0.01}, metrics=pd.DataFrame({"epoch": [1]}),
                         summary=summary, provenance={"command": "test"}, root=root, force=force,
                         files=files)


def test_a_record_is_never_overwritten_without_force_and_is_replaced_whole(tmp_path):
    path = _write(tmp_path, {"a": 1}, files={"stale.bin": b"old"})
    with pytest.raises(records.RecordExists, match="--force"):
        _write(tmp_path, {"a": 2})
    assert json.loads((path / "summary.json").read_text()) == {"a": 1}
    _write(tmp_path, {"a": 3}, force=True)
    assert json.loads((path / "summary.json").read_text()) == {"a": 3}
    assert not (path / "stale.bin").exists()                        # replaced whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["smoke"]  # no temp folders left


def test_run_refuses_an_existing_record_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    (tmp_path / "res" / "pooling" / "smoke").mkdir(parents=True)
    assert main(["run", "pooling", "--preset", "smoke", "--results", str(tmp_path / "res")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()                          # nothing trained


def test_records_summarize_is_the_stats_one():
    from alexnet import stats
    assert records.summarize is stats.summarize
    s = records.summarize([0.4, 0.5])
    assert s["n"] == 2 and math.isclose(s["mean"], 0.45)
