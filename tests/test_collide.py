"""Issue 23: nothing lost when runs collide or die — one writer per run folder and per record
folder (an OS lock the kernel drops with its holder), records swapped in whole, damaged files
named in one line."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from alexnet import locks, records
from alexnet.config import resolve
from alexnet.training.loop import train
from conftest import alexnet_cmd, cli_env

SMOKE = ["--preset", "smoke", "dataset=synthetic", "progress=false"]


def _record(root, value: float, preset: str = "long"):
    return records.write("pooling", preset, config={"base": {"epochs": 1}},
                         metrics=pd.DataFrame({"epoch": [1], "v": [value]}), summary={"v": value},
                         provenance={"n": value}, root=root, force=True)


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path):
    lock = tmp_path / ".lock"
    with locks.hold(lock, "the run folder x"):
        with pytest.raises(locks.Busy, match=rf"in use by PID {os.getpid()}"):
            with locks.hold(lock, "the run folder x"):
                pass
    with locks.hold(lock, "the run folder x"):                 # released on leaving the block
        pass


def test_a_run_into_a_busy_folder_writes_nothing(tmp_path):
    out = tmp_path / "run"
    cfg = resolve("smoke", ["dataset=synthetic", "epochs=1", "progress=false"])
    with locks.hold(out / ".lock", "the run folder"):
        with pytest.raises(locks.Busy):
            train(cfg, out_dir=out, log=lambda *a: None)
    assert sorted(p.name for p in out.iterdir()) == [".lock"]   # no metrics.csv, no checkpoint


def test_the_lock_dies_with_its_holder(tmp_path):
    lock = tmp_path / ".lock"
    code = ("import sys, time; from alexnet import locks\n"
            f"with locks.hold(__import__('pathlib').Path({str(lock)!r}), 'x'):\n"
            "    print('held', flush=True); time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=cli_env())
    assert p.stdout.readline().strip() == "held"
    with pytest.raises(locks.Busy, match=f"PID {p.pid}"):
        with locks.hold(lock, "x"):
            pass
    p.kill()                                                   # kill -9: no cleanup code runs
    p.wait()
    with locks.hold(lock, "x"):                                # the kernel released it
        pass


def test_two_runs_at_once_into_one_folder(tmp_path):
    """Must show: one runs; the other refuses with one line; metrics.csv has each epoch once."""
    out = tmp_path / "twin"
    cmd = [*alexnet_cmd(), "train", *SMOKE, "epochs=15", f"out={out}"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli_env())
    deadline = time.time() + 60
    while not (out / "metrics.csv").exists() and time.time() < deadline:    # the first one is writing
        time.sleep(0.2)
    second = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=120)
    first.wait(timeout=300)
    assert first.returncode == 0 and second.returncode != 0
    line = second.stderr.strip().splitlines()[-1]
    assert f"PID {first.pid}" in line and "in use" in line and "Traceback" not in second.stderr
    epochs = pd.read_csv(out / "metrics.csv").epoch.tolist()
    assert epochs == list(range(1, 16))


def test_a_record_swap_leaves_old_or_new_whole(tmp_path, monkeypatch):
    _record(tmp_path, 1.0)
    _record(tmp_path, 2.0)                                     # the atomic exchange
    assert records.load("pooling", "long", root=tmp_path).summary == {"v": 2.0}
    # The fallback (no renameat2): a crash between its two renames leaves the old record beside
    # the place; readers read it there, and the next writer puts it back before anything else.
    monkeypatch.setattr(records, "_exchange", lambda a, b: False)
    real = os.replace
    calls = []

    def crash_on_second(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed mid-swap")
        return real(src, dst)
    monkeypatch.setattr(records.os, "replace", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        _record(tmp_path, 3.0)
    monkeypatch.setattr(records.os, "replace", real)
    assert records.load("pooling", "long", root=tmp_path).summary == {"v": 2.0}   # the old one, whole
    with pytest.raises(records.RecordExists):                  # put back, so not replaced silently
        records.write("pooling", "long", config={}, metrics=pd.DataFrame({"a": [1]}), summary={},
                      provenance={}, root=tmp_path)
    assert records.load("pooling", "long", root=tmp_path).summary == {"v": 2.0}


@pytest.mark.parametrize("name, damage", [("summary.json", b'{"v": 1'), ("config.json", b"[1, 2]"),
                                          ("metrics.csv", b"epoch,v\n1,0.5\n2,0.")])
def test_a_damaged_record_file_is_one_line_naming_it(tmp_path, name, damage):
    path = _record(tmp_path, 1.0)
    (path / name).write_bytes(damage)
    with pytest.raises(records.CorruptRecord, match=str(path / name)):
        records.load("pooling", "long", root=tmp_path)
    from alexnet.claims import evidence, scorecard
    os.environ["ALEXNET_RESULTS"] = str(tmp_path)             # the book's reader: a note, not a traceback
    ev = evidence("pooling_error")
    assert ev.record is None and ev.missing.startswith("Damaged record:") and name in ev.missing
    assert "damaged record" in scorecard.row(scorecard.claim("pooling_error"))["scale"]


def test_the_cli_names_a_damaged_record_and_checkpoint(tmp_path):
    path = _record(tmp_path, 1.0)
    (path / "summary.json").write_text("{")
    env = {**cli_env(), "ALEXNET_RESULTS": str(tmp_path)}
    r = subprocess.run([*alexnet_cmd(), "run", "pooling", "--preset", "long", "--resummarize"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1 and "summary.json is damaged" in r.stderr and "Traceback" not in r.stderr
    ckpt = tmp_path / "run" / "checkpoint.pt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"PK\x03\x04 not a zip")
    r = subprocess.run([*alexnet_cmd(), "eval", "--checkpoint", str(ckpt)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 1 and str(ckpt) in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_kill_9_mid_run_then_the_same_command_finishes_equal(tmp_path):
    """Two kills at different moments; each time the rerun ends equal to an uninterrupted run."""
    cmd = lambda out: [*alexnet_cmd(), "train", *SMOKE, "epochs=4", f"out={out}"]   # noqa: E731
    subprocess.run(cmd(tmp_path / "whole"), check=True, capture_output=True, env=cli_env(), timeout=300)
    whole = pd.read_csv(tmp_path / "whole" / "metrics.csv").drop(columns=["seconds", "images_per_s"])
    for i, delay in enumerate((3.0, 5.0)):
        out = tmp_path / f"killed{i}"
        p = subprocess.Popen(cmd(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env())
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        subprocess.run(cmd(out), check=True, capture_output=True, env=cli_env(), timeout=300)
        got = pd.read_csv(out / "metrics.csv").drop(columns=["seconds", "images_per_s"])
        pd.testing.assert_frame_equal(got, whole)
        assert json.loads((out / "status.json").read_text())["state"] == "finished"
