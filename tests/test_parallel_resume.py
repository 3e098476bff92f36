"""SIGTERM (pre-emption) on `alexnet train`: it saves a checkpoint and exits with 143; the same
command resumes it to bitwise the same weights as a run that was never stopped."""
import signal
import subprocess
import time

import torch

from conftest import alexnet_cmd, cli_env, train_cli

SMOKE = ["--preset", "smoke", "threads=1", "dropout=0"]     # no dropout: ranks draw different masks


def _train(out, *extra, nproc=1, parallel="none"):
    return train_cli(out, SMOKE, *extra, nproc=nproc, parallel=parallel)


def test_sigterm_saves_and_the_run_resumes_to_the_same_weights(tmp_path):
    args = ["epochs=12", "checkpoint_every=1"]
    straight = _train(tmp_path / "a", *args)
    assert straight.returncode == 0, straight.stderr[-2000:]

    cmd = [*alexnet_cmd(), "train", *SMOKE, "parallel=none", f"out={tmp_path / 'b'}", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    ckpt = tmp_path / "b" / "checkpoint.pt"
    deadline = time.time() + 60
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)                          # pre-emption, mid-run
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err[-2000:]
    assert "resume" in err
    stopped_at = torch.load(ckpt, weights_only=True)
    assert (stopped_at["epoch"], stopped_at["step"]) < (12, 0)   # it really stopped early

    resumed = _train(tmp_path / "b", *args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout
    a, b = (torch.load(tmp_path / d / "checkpoint.pt", weights_only=True) for d in ("a", "b"))
    assert a["epoch"] == b["epoch"] == 12
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    assert [r["epoch"] for r in b["history"]] == list(range(1, 13))
    rows = (tmp_path / "b" / "metrics.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == list(range(1, 13))   # each epoch once
