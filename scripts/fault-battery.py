"""The fault battery (issue 23): run it before each submission (`make faults`, ~3 minutes).

    python scripts/fault-battery.py [--kills N]

Each case prints one line, PASS / FAIL / SKIP and what it saw:
- two writers into one run folder, and two `alexnet run` into one record folder;
- kill -9 at N random moments of a run, then the same command: metrics equal to an
  uninterrupted run's (the smoke run is deterministic);
- kill -9 at N random moments of a record being swapped: the record is always whole,
  the old one or the new one;
- SIGINT mid-run: exit 130, then the same command finishes equal;
- a full disk (a 1 MiB tmpfs) during a checkpoint and during a record swap: one line, and
  the previous checkpoint / record intact; a read-only results folder: refused before training.
- the campaign: two workers on one queue (each seed runs once), and a worker killed mid-seed
  (the rerun finishes it; the seed is in its record once).
Cases that need a tmpfs mount say SKIP where mounting is not allowed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

PY = sys.executable
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
SMOKE = ["--preset", "smoke", "dataset=synthetic", "progress=false", "epochs=4"]
TIMING = ["seconds", "images_per_s"]


def alexnet(*args, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "alexnet", *args], capture_output=True, text=True, env=env or ENV,
                          timeout=300, **kw)


def last_line(p) -> str:
    err = p.stderr if isinstance(p.stderr, str) else ""
    return (err.strip().splitlines() or [""])[-1][:160]


def metrics(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "metrics.csv").drop(columns=TIMING)


def report(ok, case: str, seen: str) -> bool:
    print(f"{'PASS' if ok else 'SKIP' if ok is None else 'FAIL'}  {case}: {seen}", flush=True)
    return ok is not False


def two_writers(tmp: Path) -> bool:
    out = tmp / "twin"
    cmd = [PY, "-m", "alexnet", "train", *SMOKE[:-1], "epochs=12", f"out={out}"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    while not (out / "metrics.csv").exists() and first.poll() is None:
        time.sleep(0.1)
    second = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)
    first.wait()
    epochs = pd.read_csv(out / "metrics.csv").epoch.tolist()
    ok = first.returncode == 0 and second.returncode != 0 and epochs == list(range(1, 13))
    return report(ok, "two runs into one run folder", f"second exit {second.returncode}: {last_line(second)}; "
                  f"metrics.csv epochs {epochs[0]}..{epochs[-1]}, {len(epochs)} rows")


def two_records(tmp: Path) -> bool:
    env = {**ENV, "ALEXNET_RESULTS": str(tmp / "results"), "ALEXNET_RUNS": str(tmp / "runs")}
    cmd = [PY, "-m", "alexnet", "run", "init", "--preset", "smoke", "epochs=20"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    lock = tmp / "results" / "init" / ".smoke.lock"
    while not (lock.exists() and lock.read_text()) and first.poll() is None:
        time.sleep(0.1)
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    first.wait()
    ok = first.returncode == 0 and second.returncode != 0 and "in use by PID" in second.stderr
    return report(ok, "two `alexnet run` into one record", f"second exit {second.returncode}: {last_line(second)}")


def kills_mid_run(tmp: Path, n: int) -> bool:
    alexnet("train", *SMOKE, f"out={tmp / 'whole'}")
    whole, equal = metrics(tmp / "whole"), 0
    for i in range(n):
        out = tmp / f"killed{i}"
        p = subprocess.Popen([PY, "-m", "alexnet", "train", *SMOKE, f"out={out}"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=ENV)
        time.sleep(random.uniform(1.0, 6.0))
        p.send_signal(signal.SIGKILL)
        p.wait()
        done = alexnet("train", *SMOKE, f"out={out}")
        equal += done.returncode == 0 and metrics(out).equals(whole)
    return report(equal == n, f"kill -9 at {n} random moments of a run, then the same command",
                  f"{equal} of {n} finished equal to the uninterrupted run")


WRITER = """
import sys, pandas as pd
from pathlib import Path
from alexnet import records
root = Path(sys.argv[1])
for i in range(10**6):
    records.write("pooling", "long", config={"i": i}, metrics=pd.DataFrame({"i": [i] * 2000}),
                  summary={"i": i}, provenance={"i": i}, root=root, force=True)
"""


def kills_mid_swap(tmp: Path, n: int) -> bool:
    from alexnet import records
    whole = 0
    for k in range(n):
        root = tmp / f"swap{k}"
        p = subprocess.Popen([PY, "-c", WRITER, str(root)], env=ENV)
        while not (root / "pooling" / "long").exists():
            time.sleep(0.05)
        time.sleep(random.uniform(0.0, 0.5))
        p.send_signal(signal.SIGKILL)
        p.wait()
        rec = records.load("pooling", "long", root=root)
        i = rec.summary["i"]
        whole += rec.config["i"] == rec.provenance["i"] == i and (rec.metrics.i == i).all() and len(rec.metrics) == 2000
    return report(whole == n, f"kill -9 at {n} random moments of a record swap",
                  f"{whole} of {n} records whole (one write's config, provenance, metrics and summary)")


def sigint(tmp: Path) -> bool:
    out = tmp / "ctrl-c"
    p = subprocess.Popen([PY, "-m", "alexnet", "train", *SMOKE, f"out={out}"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, env=ENV)
    time.sleep(3.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate()
    p.stderr = err
    done = alexnet("train", *SMOKE, f"out={out}")
    equal = done.returncode == 0 and metrics(out).equals(metrics(tmp / "whole"))
    ok = p.returncode == 130 and "Traceback" not in err and equal
    return report(ok, "SIGINT mid-run, then the same command", f"exit {p.returncode} ({last_line(p)}), "
                  f"rerun exit {done.returncode} ({last_line(done)}), metrics equal: {equal}")


@contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def full_disk(tmp: Path) -> bool:
    with tmpfs(tmp / "full", "1m") as mounted:
        if not mounted:
            return report(None, "full disk", "cannot mount a tmpfs here (needs root)")
        out = tmp / "full" / "run"                            # alexnet_small's checkpoint is > 1 MiB
        p = alexnet("train", *SMOKE, f"out={out}")
        run_ok = p.returncode != 0 and "Traceback" not in p.stderr and not list(out.glob("*.tmp*"))
        root = tmp / "full" / "results"
        big = "import pandas as pd, sys; from alexnet import records; records.write('pooling', 'long', " \
              "config={}, metrics=pd.DataFrame({'i': range(%d)}), summary={'n': %d}, provenance={}, " \
              "root=sys.argv[1], force=True)"
        subprocess.run([PY, "-c", big % (10, 10), str(root)], env=ENV, capture_output=True)
        q = subprocess.run([PY, "-c", big % (200_000, 200_000), str(root)], env=ENV, capture_output=True, text=True)
        from alexnet import records
        kept = records.load("pooling", "long", root=root).summary == {"n": 10}
    return report(run_ok and q.returncode != 0 and kept, "full disk during a checkpoint and a record swap",
                  f"run exit {p.returncode}: {last_line(p)}; swap failed={q.returncode != 0}, old record whole={kept}")


def read_only(tmp: Path) -> bool:
    with tmpfs(tmp / "ro", "1m") as mounted:
        if not mounted:
            return report(None, "read-only results folder", "cannot mount here (needs root)")
        subprocess.run(["mount", "-o", "remount,ro", str(tmp / "ro")], capture_output=True)
        env = {**ENV, "ALEXNET_RESULTS": str(tmp / "ro" / "results"), "ALEXNET_RUNS": str(tmp / "runs-ro")}
        start = time.time()
        p = alexnet("run", "init", "--preset", "smoke", env=env)
        ok = p.returncode != 0 and not (tmp / "runs-ro").exists() and "Traceback" not in p.stderr
    return report(ok, "read-only results folder", f"exit {p.returncode} after {time.time() - start:.0f} s, "
                  f"nothing trained: {last_line(p)}")


def campaign(tmp: Path) -> bool:
    """Two workers on one queue, then a worker killed mid-seed: every seed ends in its record once."""
    queue = tmp / "queue.txt"
    queue.write_text("init smoke 0 1\nschedule smoke 0 1\npooling smoke 0 1\n")
    env = {**ENV, "CAMPAIGN_QUEUE": str(queue), "CAMPAIGN_STATE": str(tmp / "campaign"),
           "ALEXNET_RESULTS": str(tmp / "c-results"), "ALEXNET_RUNS": str(tmp / "c-runs")}
    script = str(Path(__file__).parent / "campaign.py")
    two = subprocess.run([PY, script, "run", "--workers", "2"], capture_output=True, text=True, env=env, timeout=600)
    seeds = {e: json.loads((tmp / "c-results" / e / "smoke" / "provenance.json").read_text())["seeds"]
             for e in ("init", "schedule", "pooling")}
    ran = sum(1 for line in two.stdout.splitlines() if line.endswith(": done"))
    queue.write_text("two_columns smoke 0 1\n")
    p = subprocess.Popen([PY, script, "run", "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env, start_new_session=True)
    time.sleep(random.uniform(6.0, 10.0))
    os.killpg(p.pid, signal.SIGKILL)                             # the worker and its alexnet run, mid-seed
    p.wait()
    again = subprocess.run([PY, script, "run", "--workers", "1"], capture_output=True, text=True, env=env, timeout=600)
    rec = json.loads((tmp / "c-results" / "two_columns" / "smoke" / "provenance.json").read_text())
    # `kill PID` of the campaign alone (not its group): every worker and run stops, none is orphaned
    queue.write_text("lrn smoke 0 1\n")
    p = subprocess.Popen([PY, script, "run", "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env, start_new_session=True)
    time.sleep(random.uniform(6.0, 10.0))
    p.send_signal(signal.SIGTERM)
    stopped = p.wait(timeout=120)
    time.sleep(1)
    orphans = _session(p.pid)
    for pid in orphans:
        os.kill(pid, signal.SIGKILL)
    third = subprocess.run([PY, script, "run", "--workers", "1"], capture_output=True, text=True, env=env, timeout=600)
    lrn = json.loads((tmp / "c-results" / "lrn" / "smoke" / "provenance.json").read_text())
    ok = two.returncode == 0 and all(s == [0] for s in seeds.values()) and ran == 3 and again.returncode == 0 \
        and rec["seeds"] == [0] and stopped == 128 + signal.SIGTERM and not orphans and third.returncode == 0 \
        and lrn["seeds"] == [0]
    subprocess.run(["git", "-C", str(Path(__file__).resolve().parents[1]), "worktree", "prune"], capture_output=True)
    return report(ok, "campaign: two workers on one queue, a worker killed mid-seed, the campaign stopped",
                  f"3 jobs done once each by 2 workers: {ran == 3}; seeds {seeds}; after the kill, "
                  f"the rerun finished the seed (exit {again.returncode}, seeds {rec['seeds']}); SIGTERM to the "
                  f"campaign: exit {stopped}, {len(orphans)} processes left, then resumed (seeds {lrn['seeds']})")


def _session(sid: int) -> list[int]:
    """The live processes of session `sid` (a process started with start_new_session leads one)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":         # after the comm: state, ppid, pgrp, session
            pids.append(int(stat.parent.name))
    return pids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=8, help="random kill -9 moments per case (default 8)")
    args = ap.parse_args()
    # Started in the background (nohup ... &), this process and its children would ignore Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    random.seed(int(time.time()))
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="faults-") as d:
        tmp = Path(d)
        results = [two_writers(tmp), two_records(tmp), kills_mid_run(tmp, args.kills),
                   kills_mid_swap(tmp, 2 * args.kills), sigint(tmp), full_disk(tmp), read_only(tmp), campaign(tmp)]
    print(f"{sum(results)} of {len(results)} cases passed or skipped in {time.time() - start:.0f} s")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
