"""SIGTERM (pre-emption) on `alexnet train`: it saves a checkpoint and exits with 143; the same
command resumes it to bitwise the same weights as a run that was never stopped."""
import os
import signal
import subprocess
import sys
import time

import torch

from alexnet.parallel.launch import free_port

SMOKE = ["--preset", "smoke", "threads=1", "dropout=0"]     # no dropout: ranks draw different masks


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def _train(out, *extra, nproc=1, parallel="none"):
    cmd = ([sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
            f"--master_port={free_port()}", "-m", "alexnet"] if nproc > 1 else [sys.executable, "-m", "alexnet"])
    return subprocess.run([*cmd, "train", *SMOKE, f"parallel={parallel}", f"out={out}", *extra],
                          capture_output=True, text=True, env=_env(), timeout=120)


def test_sigterm_saves_and_the_run_resumes_to_the_same_weights(tmp_path):
    args = ["epochs=12", "checkpoint_every=1"]
    straight = _train(tmp_path / "a", *args)
    assert straight.returncode == 0, straight.stderr[-2000:]

    cmd = [sys.executable, "-m", "alexnet", "train", *SMOKE, "parallel=none", f"out={tmp_path / 'b'}", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    ckpt = tmp_path / "b" / "checkpoint.pt"
    deadline = time.time() + 60
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)                          # pre-emption, mid-run
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err[-2000:]
    assert "resume" in err
    stopped_at = torch.load(ckpt, weights_only=False)
    assert (stopped_at["epoch"], stopped_at["step"]) < (12, 0)   # it really stopped early

    resumed = _train(tmp_path / "b", *args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout
    a, b = (torch.load(tmp_path / d / "checkpoint.pt", weights_only=False) for d in ("a", "b"))
    assert a["epoch"] == b["epoch"] == 12
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    assert [r["epoch"] for r in b["history"]] == list(range(1, 13))
