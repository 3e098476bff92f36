"""Pre-emption in the recommended configuration (issue 24): torchrun, 2 ranks over gloo, loader
workers decoding a folder of real JPEGs. A SIGTERM sent to torchrun, to every process group of
the job (as a scheduler does), or to one rank, and a Ctrl-C, each stop every rank at the same
step with the checkpoint saved there, and the launcher exits 143 (Ctrl-C: 130) with no
traceback; the same command then finishes with the metrics of a run that never stopped.

torchrun itself turns any signal or failed rank into a traceback and exit 1, so the ranks are
launched by `python -m alexnet.parallel.torchrun`, torchrun's own code with the exit status
mapped (see its docstring); the ranks' side is the same under either launcher.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from alexnet.data.folders import one_thread, quiet_workers
from alexnet.parallel.launch import free_port
from alexnet.training.checkpoint import load_checkpoint_file, save_checkpoint
from conftest import cli_env

WNIDS = ["n00000001", "n00000002", "n00000003", "n00000004"]
EPOCHS, STEPS = 2, 12                       # 192 training images / batch 16
ARGS = ["--preset", "smoke", "dataset=imagenet_sample", "image_size=32", "train_limit=0", "val_limit=0",
        "cache_images=0", "workers=2", "threads=1", "dropout=0", f"epochs={EPOCHS}", "log_every=1"]
TIMING = ["seconds", "images_per_s"]
STOPS = {  # how the stop is sent: (signal, to whom)
    "sigterm-torchrun": (signal.SIGTERM, "launcher"),
    "sigterm-group": (signal.SIGTERM, "every group"),     # a scheduler: every process of the job
    "sigterm-rank1": (signal.SIGTERM, "rank 1"),
    "ctrl-c": (signal.SIGINT, "launcher's group"),        # what a terminal sends to its foreground
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """An ImageNet-style folder of 4 classes: 48 training and 8 validation JPEGs each, 320x240
    (decoded and resized by the workers like any photo)."""
    root = tmp_path_factory.mktemp("data")
    folder, rng = root / "imagenet-sample", np.random.default_rng(0)
    for split, n in (("train", 48), ("val", 8)):
        for c, wnid in enumerate(WNIDS):
            (folder / split / wnid).mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 120, (240, 320, 3)) + np.array([[[120 * (c == k) for k in range(3)]]])
                Image.fromarray(img.astype(np.uint8)).save(folder / split / wnid / f"{wnid}_{i}.JPEG")
    (folder / "classes.tsv").write_text("wnid\tname\n" + "".join(f"{w}\tclass {i}\n" for i, w in enumerate(WNIDS)))
    return root


def _env(data: Path) -> dict:
    return {**cli_env(), "ALEXNET_DATA": str(data), "ALEXNET_CACHE": str(data / "cache"),
            "ALEXNET_DIST_TIMEOUT_MIN": "1"}      # a hang fails in a minute, not ten


def _cmd(out: Path, nproc: int, *extra) -> list[str]:
    launcher = [sys.executable, "-m", "alexnet"] if nproc == 1 else \
        [sys.executable, "-m", "alexnet.parallel.torchrun", "--nproc_per_node=2", f"--master_port={free_port()}",
         "-m", "alexnet"]
    return [*launcher, "train", *ARGS, f"parallel={'ddp' if nproc > 1 else 'none'}", f"out={out}", *extra]


def _run(out: Path, data: Path, nproc: int = 2, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(_cmd(out, nproc, *extra), capture_output=True, text=True, env=_env(data), timeout=150)


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """The run that is never stopped (with the bar on, which changes nothing it computes)."""
    out = tmp_path_factory.mktemp("runs") / "straight"
    done = _run(out, data, 2, "progress=true")
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def _metrics(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "metrics.csv")


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def _ranks(launcher: int) -> dict[int, int]:
    """{RANK: pid} of the processes torchrun started (read from their environments)."""
    ranks = {}
    for pid in _children(launcher):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        ranks.update({int(item[5:]): pid for item in env if item.startswith(b"RANK=")})
    return ranks


def _position(out: Path) -> tuple[int, int]:
    """(epochs done, steps of the next) from status.json, or (-1, -1) before it is written."""
    try:
        info = json.loads((out / "status.json").read_text())
        return info["epochs_done"], info["step"]
    except (OSError, ValueError, KeyError):
        return -1, -1


def _start_and_wait(out: Path, data: Path, nproc: int) -> subprocess.Popen:
    """Start the run in its own session (so a Ctrl-C to its group reaches no one else) and
    return once it is 3 steps into the first epoch, its workers decoding."""
    proc = subprocess.Popen(_cmd(out, nproc), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(data), start_new_session=True)
    deadline = time.time() + 90
    while _position(out) < (0, 3) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be stopped: " + proc.communicate()[1][-2000:]
    assert _position(out) < (EPOCHS, 0), "no progress in 90 s"
    return proc


def _send(proc: subprocess.Popen, how: str, sig: int, ranks: dict[int, int]) -> None:
    if how == "launcher":
        os.kill(proc.pid, sig)
    elif how == "launcher's group":
        os.killpg(proc.pid, sig)
    elif how == "rank 1":
        os.kill(ranks[1], sig)
    else:                                  # torchrun starts each rank in a session of its own
        for group in (proc.pid, *ranks.values()):
            os.killpg(group, sig)


def _alive(pids: list[int], wait: float = 10.0) -> list[int]:
    """The pids still running after up to `wait` s (a worker whose rank was ended by torchrun's
    SIGTERM after the save notices its parent is gone at its next poll, within 5 s)."""
    def running(pid):
        try:                                                  # a zombie has ended: only unreaped
            return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
        except OSError:
            return False
    deadline = time.time() + wait
    while (left := [p for p in pids if running(p)]) and time.time() < deadline:
        time.sleep(0.1)
    return left


def _check_stopped(out: Path, err: str, sig: int, sent_at: tuple[int, int]) -> None:
    """One line, no traceback, and the checkpoint at the step that line names."""
    assert "Traceback" not in err and "DataLoader worker" not in err, err[-3000:]
    lines = [line for line in err.splitlines() if line.startswith("alexnet: stopped by")]
    assert len(lines) == 1, err[-3000:]                      # rank 0 alone says it
    assert signal.Signals(sig).name in lines[0] and "resume" in lines[0]
    state = load_checkpoint_file(out / "checkpoint.pt")
    at = re.search(r"at epoch (\d+), step (\d+)", lines[0])
    where = (int(at[1]) - 1, int(at[2])) if at else (int(re.search(r"end of epoch (\d+)", lines[0])[1]), 0)
    assert (state["epoch"], state["step"]) == where, lines[0]
    assert sent_at <= where < (EPOCHS, 0)                    # after the signal, before the end


@pytest.mark.slow
@pytest.mark.parametrize("stop", list(STOPS))
def test_a_stop_under_torchrun_saves_exits_and_resumes_equal(stop, data, reference, tmp_path):
    sig, how = STOPS[stop]
    out = tmp_path / "run"
    proc = _start_and_wait(out, data, nproc=2)
    ranks = _ranks(proc.pid)
    assert set(ranks) == {0, 1}, ranks
    workers = [w for pid in ranks.values() for w in _children(pid)]
    assert len(workers) == 4, workers                        # 2 decoding workers per rank
    sent_at = _position(out)
    _send(proc, how, sig, ranks)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err[-3000:]         # 143, or 130 for Ctrl-C
    _check_stopped(out, err, sig, sent_at)
    assert not _alive([*ranks.values(), *workers])            # nothing left behind

    again = _run(out, data)                                  # the same command
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resumed from" in again.stdout and "nan" not in again.stdout   # images/s of the steps it ran
    pd.testing.assert_frame_equal(_metrics(out).drop(columns=TIMING),
                                  _metrics(reference[0]).drop(columns=TIMING), check_exact=True)
    assert np.isfinite(_metrics(out).images_per_s).all()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_stop_to_the_group_of_one_process_and_its_workers(sig, data, tmp_path):
    """Without torchrun, a scheduler's SIGTERM and a terminal's Ctrl-C reach the loader workers
    too (one process group): the workers carry on until the checkpoint is saved."""
    out = tmp_path / "run"
    proc = _start_and_wait(out, data, nproc=1)
    assert len(_children(proc.pid)) == 2
    sent_at = _position(out)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err[-3000:]
    _check_stopped(out, err, sig, sent_at)


@pytest.mark.slow
def test_rank_0_alone_draws_the_bar(reference):
    """One bar per epoch, and its loss set after steps 1 and 11 only (every 10 steps): a bar
    on each rank would show each rank's own loss for the same steps, four values an epoch."""
    err = reference[1].stderr.replace("\r", "\n")
    for epoch in range(1, EPOCHS + 1):
        assert err.count(f"epoch {epoch}/{EPOCHS}:   0%") == 1, err[-3000:]
        shown = set(re.findall(rf"epoch {epoch}/{EPOCHS}:.*loss=([\d.]+)", err))
        assert len(shown) == 2, shown


def test_the_bar_shows_the_loss_averaged_over_the_ranks():
    from alexnet.config import resolve
    from alexnet.training.monitor import Monitor
    cfg = resolve("smoke", ["progress=true"])
    means = []
    rank0 = Monitor(cfg, None, 4, main=True, mean=lambda x: means.append(x) or 2.5)
    rank1 = Monitor(cfg, None, 4, main=False, mean=lambda x: means.append(x) or 2.5)
    totals = dict(loss=torch.tensor(0.0), wrong=torch.tensor(0), n=torch.tensor(1))
    for monitor, loss in ((rank0, 2.0), (rank1, 3.0)):
        monitor.begin_epoch(0, 0)
        monitor.step(0, 0, torch.tensor(loss), totals)
    assert means == [2.0, 3.0]                               # every rank joins the mean
    assert "loss=2.500" in rank0.bar.postfix and not rank0.bar.disable
    assert rank1.bar.disable                                 # no second bar


class _SignalsItself(torch.utils.data.Dataset):
    """Each item sends its worker a SIGTERM and a SIGINT from the worker itself (not the parent)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        return i


def test_loader_workers_ignore_stop_signals_from_others():
    torch.set_num_threads(2)                                 # a parent whose OpenMP pool is up (the workers
    torch.randn(256, 256) @ torch.randn(256, 256)            # then start threads before one_thread runs)
    loader = torch.utils.data.DataLoader(_SignalsItself(), batch_size=2, num_workers=2, worker_init_fn=one_thread)
    assert torch.cat(list(quiet_workers(loader))).tolist() == list(range(8))


def _decode_forever(ready):
    one_thread(0)
    ready.set()
    time.sleep(60)


def test_a_worker_still_ends_when_its_parent_terminates_it():
    """multiprocessing and the DataLoader end workers with SIGTERM; one that ignored its parent
    too would hang the main process at exit (join)."""
    import multiprocessing
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    worker = ctx.Process(target=_decode_forever, args=(ready,), daemon=True)
    worker.start()
    assert ready.wait(30)                                    # past one_thread (a busy machine is slow)
    subprocess.run(["kill", "-TERM", str(worker.pid)], check=True)   # from another process: ignored
    worker.join(1.0)
    assert worker.is_alive()
    worker.terminate()                                       # from the parent: obeyed
    worker.join(10)
    assert not worker.is_alive() and worker.exitcode == 128 + signal.SIGTERM


def test_a_signal_during_a_save_waits_until_the_checkpoint_is_whole(tmp_path, monkeypatch):
    """A handler that raises mid-write (Ctrl-C's KeyboardInterrupt, the DataLoader's SIGCHLD
    check) used to abort torch.save halfway; now it runs once the file is renamed into place."""
    state = dict(model={"w": torch.arange(10.0)}, epoch=1, step=3)
    real_save = torch.save

    def interrupted_save(obj, f):
        f.write(b"PK")                                       # part of the file is out
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)                                     # the handler would run here
        f.seek(0)
        real_save(obj, f)

    def boom(*_):
        raise RuntimeError("boom")
    monkeypatch.setattr(torch, "save", interrupted_save)
    previous = signal.signal(signal.SIGTERM, boom)
    try:
        with pytest.raises(RuntimeError, match="^boom$"):    # delivered, after the save
            save_checkpoint(tmp_path / "checkpoint.pt", state)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert torch.equal(load_checkpoint_file(tmp_path / "checkpoint.pt")["model"]["w"], state["model"]["w"])
