import json
import subprocess
import sys

import pandas as pd
import pytest

from alexnet import records


def test_write_and_load_roundtrip(tmp_path):
    prov = records.provenance(command="alexnet run x --preset smoke", started=records.utc_now(), seeds=[0, 1],
                              data={"dataset": "synthetic"})
    assert prov["git"]["commit"] and "torch" in prov and prov["hardware"]["cpu_count"] >= 1
    metrics = pd.DataFrame({"epoch": [1, 2], "val_top1_err": [0.5, 0.4]})
    summary = {"err": records.summarize([0.4, 0.5])}
    records.write("x", "smoke", config={"lr": 0.01}, metrics=metrics, summary=summary, provenance=prov,
                  root=tmp_path)
    rec = records.load("x", "smoke", root=tmp_path)
    assert rec.config == {"lr": 0.01} and rec.summary["err"]["n"] == 2
    assert rec.summary["err"]["mean"] == pytest.approx(0.45)
    assert rec.summary["err"]["std"] == pytest.approx(0.0707106781)
    pd.testing.assert_frame_equal(rec.metrics, metrics)
    line = rec.line()
    assert "x/smoke" in line and "seeds 0, 1" in line and prov["git"]["commit"][:7] in line


def test_missing_record_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="alexnet run nothing --preset cpu"):
        records.load("nothing", "cpu", root=tmp_path)


def test_cli_train_then_eval_a_checkpoint(tmp_path):
    out = tmp_path / "run"
    train = subprocess.run([sys.executable, "-m", "alexnet", "train", "--preset", "smoke", "epochs=1",
                            f"out={out}"], capture_output=True, text=True)
    assert train.returncode == 0, train.stderr
    ev = subprocess.run([sys.executable, "-m", "alexnet", "eval", "--checkpoint", str(out / "checkpoint.pt"),
                         "--center"], capture_output=True, text=True)
    assert ev.returncode == 0, ev.stderr
    result = json.loads(ev.stdout[ev.stdout.index("{"):])
    assert result["n"] == 32 and 0 <= result["top1_err"] <= 1
    hist = pd.read_csv(out / "metrics.csv")
    assert hist.val_top1_err.iloc[-1] == pytest.approx(result["top1_err"])
