"""One rank dying ends the others cleanly: under torchrun, kill rank 1 mid-run; rank 0 must
not hang in its next collective, torchrun exits non-zero, and the last checkpoint is whole."""
import subprocess
import time
from pathlib import Path

import torch

from conftest import alexnet_cmd, cli_env

SMOKE = ["--preset", "smoke", "threads=1", "dropout=0", "epochs=400", "checkpoint_every=1"]


def _workers(launcher: int) -> dict[int, int]:
    """{RANK: pid} of the processes torchrun started (read from their environments)."""
    out = subprocess.run(["pgrep", "-P", str(launcher)], capture_output=True, text=True).stdout.split()
    ranks = {}
    for pid in map(int, out):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in env:
            if item.startswith(b"RANK="):
                ranks[int(item[5:])] = pid
    return ranks


def test_killing_one_rank_ends_the_run_without_a_hang(tmp_path):
    out = tmp_path / "ddp"
    # A short collective timeout: should the survivor wait on a dead peer, it gives up in 60 s
    # (the default is 10 minutes), and the test's own limit below still catches a hang.
    env = {**cli_env(), "ALEXNET_DIST_TIMEOUT_MIN": "1"}
    proc = subprocess.Popen([*alexnet_cmd(2), "train", *SMOKE, "parallel=ddp", f"out={out}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ckpt = out / "checkpoint.pt"
    deadline = time.time() + 90
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    ranks = _workers(proc.pid)
    assert set(ranks) == {0, 1}, ranks
    time.sleep(0.5)                                           # mid-epoch, past a checkpoint
    started = time.time()
    subprocess.run(["kill", "-9", str(ranks[1])], check=True)  # a crash: no chance to clean up
    _, err = proc.communicate(timeout=150)
    assert proc.returncode != 0, err[-2000:]
    assert time.time() - started < 120                        # ended, not hung on the dead peer
    assert all(not Path(f"/proc/{pid}").exists() for pid in ranks.values())   # no orphan rank
    state = torch.load(ckpt, weights_only=True)             # the last checkpoint is whole
    assert {"model", "epoch", "step"} <= set(state) and (state["epoch"], state["step"]) > (0, 0)
