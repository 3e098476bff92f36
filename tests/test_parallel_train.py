"""`alexnet train` as a command: under torchrun with 2 gloo processes it trains the same
network as one process; SIGTERM saves a checkpoint and the run resumes to the same weights."""
import json
import subprocess

import pandas as pd
import pytest

from alexnet.parallel import merge_checkpoints
from conftest import alexnet_cmd, cli_env, train_cli

# No dropout: ranks draw different masks. 27 validation images: the last batch (11) splits
# unevenly over 2 ranks, where a padding sampler would count an image twice.
SMOKE = ["--preset", "smoke", "threads=1", "dropout=0", "val_limit=27"]


def _train(out, *extra, nproc=1, parallel="none"):
    return train_cli(out, SMOKE, *extra, nproc=nproc, parallel=parallel)


COLS = ["train_loss", "train_err", "val_loss", "val_top1_err", "val_top5_err"]


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("one")
    run = _train(out, "epochs=2")
    assert run.returncode == 0, run.stderr[-2000:]
    return pd.read_csv(out / "metrics.csv")


def test_torchrun_two_processes_train_like_one(tmp_path, one_process):
    two = _train(tmp_path / "ddp", "epochs=2", nproc=2, parallel="ddp")
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stdout.count("epoch=1 ") == 1                  # rank 0 alone logs
    assert "estimate:" in two.stdout and "images/s" in two.stdout
    b = pd.read_csv(tmp_path / "ddp" / "metrics.csv")
    pd.testing.assert_frame_equal(one_process[COLS], b[COLS], rtol=1e-4)
    assert not (tmp_path / "ddp" / "checkpoint.rank1.pt").exists()   # replicated weights: one file


def test_torchrun_column_split_trains_like_one_and_merges(tmp_path, one_process):
    out = tmp_path / "columns"
    run = _train(out, "epochs=2", nproc=2, parallel="columns")
    assert run.returncode == 0, run.stderr[-2000:]
    pd.testing.assert_frame_equal(one_process[COLS], pd.read_csv(out / "metrics.csv")[COLS], rtol=1e-4)
    merged = merge_checkpoints(out)                            # each rank saved its column
    ev = subprocess.run([*alexnet_cmd(), "eval", "--checkpoint", str(merged)],
                        capture_output=True, text=True, env=cli_env(), timeout=120)
    assert ev.returncode == 0, ev.stderr[-2000:]
    assert json.loads(ev.stdout)["loss"] == pytest.approx(one_process.val_loss.iloc[-1], rel=1e-4)
