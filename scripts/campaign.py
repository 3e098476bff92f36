"""The campaign (issue 25): a queue of (experiment, preset, seed) jobs that grows records seed
by seed over days, and commits each seed as it lands.

    nohup python scripts/campaign.py run --workers 2 --threads 1 > campaign.log 2>&1 &
    python scripts/campaign.py status          # done, running, left, with an ETA
    python scripts/campaign.py plan            # the queue as a table: runs, estimated CPU-minutes
    kill <pid of `campaign.py run`>            # stops it: each seed in flight saves its checkpoint

The queue is scripts/campaign-queue.txt: `experiment preset seeds minutes` per line (minutes:
the estimated wall minutes of one seed on one thread; the ETA rescales them by what the
finished seeds took). A job is done when its seed is in the record's provenance; it is running
while its worker holds the job's lock (the kernel drops the lock if the worker dies, and the
next run resumes the seed from its checkpoint in the scratch folder). Each worker runs
`alexnet run E --preset P --seeds S threads=T`; two seeds of one record never run at once
(the record's lock). Records only from a clean commit: the workers run a worktree of HEAD
(detached, in the cache folder), so edits in the checkout meanwhile do not reach them; each
finished seed's record is committed (git add results/E/P; one commit per seed). Where the preset
has a held-out check (results/heldout/P), it then grows by the seed's nets while their
checkpoints are on this machine (`alexnet run heldout --seeds S`), and is committed too.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Overridable for the fault battery, which runs a small queue into a scratch results folder.
QUEUE = Path(os.environ.get("CAMPAIGN_QUEUE", ROOT / "scripts" / "campaign-queue.txt"))
STATE = Path(os.environ.get("CAMPAIGN_STATE", Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                            / "alexnet" / "campaign"))
RESULTS = Path(os.environ.get("ALEXNET_RESULTS", ROOT / "results"))
sys.path.insert(0, str(ROOT / "src"))
import pandas as pd  # noqa: E402
from alexnet import locks, records  # noqa: E402


def jobs() -> list[dict]:
    """One job per (queue line, seed), in the queue's order (`alexnet.claims.campaign.queue`)."""
    from alexnet.claims.campaign import queue
    return [dict(experiment=line["experiment"], preset=line["preset"], seed=s, minutes=line["minutes"])
            for line in queue(QUEUE) for s in line["seeds"]]


def name(job: dict) -> str:
    return f"{job['experiment']}-{job['preset']}-seed{job['seed']}"


def record_seeds(job: dict) -> list[int]:
    path = RESULTS / job["experiment"] / job["preset"] / "provenance.json"
    return json.loads(path.read_text()).get("seeds", []) if path.exists() else []


def running(job: dict) -> bool:
    try:
        with locks.hold(STATE / f"{name(job)}.lock", name(job)):
            return False
    except locks.Busy:
        return True


def state(job: dict) -> str:
    return "done" if job["seed"] in record_seeds(job) else "running" if running(job) else "left"


def seconds_taken(job: dict) -> float | None:
    """The seed's batch by the wall clock or, where it was stopped and resumed in a later batch
    (which starts at the resumption), its epochs' training seconds if those add up to more."""
    path = RESULTS / job["experiment"] / job["preset"] / "provenance.json"
    for b in json.loads(path.read_text()).get("batches", []) if path.exists() else []:
        if b.get("seeds") == [job["seed"]] and b.get("started_utc") and b.get("ended_utc"):
            m = pd.read_csv(path.with_name("metrics.csv"))
            seed = m[m.seed == job["seed"]] if "seed" in m else None
            return records.spent({"started_utc": b["started_utc"], "ended_utc": b["ended_utc"]}, seed)[0] * 3600
    return None


def status(workers: int = 2) -> int:
    rows = [dict(job, state=state(job)) for job in jobs()]
    took = [(seconds_taken(r), r["minutes"]) for r in rows if r["state"] == "done"]
    took = [(s, m) for s, m in took if s]
    scale = sum(s for s, _ in took) / 60 / sum(m for _, m in took) if took else 1.0
    for r in rows:
        print(f"{r['state']:8} {name(r):40} est {r['minutes'] * scale:6.1f} min")
    left = sum(r["minutes"] for r in rows if r["state"] != "done") * scale / max(workers, 1)
    counts = {s: sum(r["state"] == s for r in rows) for s in ("done", "running", "left")}
    print(f"{counts['done']} done, {counts['running']} running, {counts['left']} left; "
          f"ETA {left / 60:.1f} h with {workers} workers (estimates x{scale:.2f}, from the finished seeds)")
    return 0


def code_at_head() -> Path:
    """A worktree of HEAD (detached) that the workers run: records come from a clean commit,
    whatever is being edited in the checkout meanwhile."""
    code = STATE / "code"
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    if not (code / ".git").exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(code), head],
                       check=True, capture_output=True)
    subprocess.run(["git", "-C", str(code), "checkout", "-q", "--detach", head], check=True)
    return code


def commit(job: dict) -> None:
    """Commit the record the seed grew (retried: a developer's own git command may hold the index);
    records written outside the checkout's results/ (a scratch queue) are not committed."""
    if RESULTS.resolve() != (ROOT / "results").resolve():
        return
    folder = f"results/{job['experiment']}/{job['preset']}"
    for _ in range(120):
        try:
            with locks.hold(STATE / "git.lock", "the campaign's git commit"):
                git = ["git", "-C", str(ROOT)]
                if subprocess.run([*git, "add", folder]).returncode == 0 and (
                        subprocess.run([*git, "diff", "--cached", "--quiet", "--", folder]).returncode == 0
                        or subprocess.run([*git, "commit", "-q", "-m", f"record {folder}: seed {job['seed']} "
                                           "(campaign, alexnet run --seeds)", "--", folder]).returncode == 0):
                    return                             # committed, or nothing changed
        except locks.Busy:
            pass
        time.sleep(5)
    print(f"campaign: could not commit {folder}; commit it by hand", flush=True)


CHILDREN: list[subprocess.Popen] = []      # this process's children, which a stop is passed on to
STOPPING: list[int] = []                   # the signal that asked this process to stop


def _pass_on(signum, _frame) -> None:
    """SIGTERM/SIGINT: stop taking jobs and pass the signal on, so the `alexnet run` in flight
    saves its checkpoint and ends (the next campaign resumes it); no worker is left orphaned."""
    STOPPING.append(signum)
    for child in CHILDREN:
        if child.poll() is None:
            child.send_signal(signum)


def _run(cmd: list, **kw) -> int:
    child = subprocess.Popen(cmd, **kw)
    CHILDREN.append(child)
    try:
        return child.wait()
    finally:
        CHILDREN.remove(child)


def record_busy(job: dict) -> bool:
    """Does another process write the job's record now? (Asked here, before a worker starts a
    whole `alexnet run` only to hear it: a torch import a probe, every few seconds.)"""
    path = records.lock_path(job["experiment"], job["preset"], RESULTS)
    if not path.exists():
        return False
    try:
        with locks.hold(path, "a campaign worker's look"):
            return False
    except locks.Busy:
        return True


def work(job: dict, threads: int) -> str:
    """Run one job if nobody holds it: 'done', 'busy' (someone else has it or its record), 'failed'."""
    try:
        with locks.hold(STATE / f"{name(job)}.lock", name(job)):
            if job["seed"] in record_seeds(job):
                return "done"
            if record_busy(job):
                return "busy"
            log = STATE / "logs" / f"{name(job)}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "alexnet", "run", job["experiment"], "--preset", job["preset"],
                   "--seeds", str(job["seed"]), f"threads={threads}", "progress=false"]
            env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(STATE / "code" / "src"),
                   "ALEXNET_RESULTS": str(RESULTS)}
            with open(log, "a") as f:
                code = _run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=STATE / "code", env=env)
            if STOPPING:
                return "stopped"
            if code == 0:
                commit(job)
                follow(job, threads, env, log)
                return "done"
            return "busy" if in_use(log) else "failed"
    except locks.Busy:
        return "busy"


def in_use(log: Path) -> bool:
    """Did the run in `log` stop because another process held its record?"""
    return "is in use by" in log.read_text().splitlines()[-1]


def follow(job: dict, threads: int, env: dict, log: Path) -> None:
    """Grow the held-out check (`alexnet run heldout`) by the seed that landed, while its nets'
    checkpoints are on this machine: they go with the machine, and a check made later on another
    cannot read them. Only where the preset has a check to grow; it reads nothing for a record it
    does not check. Waits while another worker grows it."""
    check = dict(experiment="heldout", preset=job["preset"], seed=job["seed"])
    if not records.record_dir("heldout", job["preset"], RESULTS).exists():
        return
    cmd = [sys.executable, "-m", "alexnet", "run", "heldout", "--preset", job["preset"],
           "--seeds", str(job["seed"]), f"threads={threads}", "progress=false"]
    for _ in range(60):
        if not record_busy(check):
            with open(log, "a") as f:
                code = _run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=STATE / "code", env=env)
            if code == 0:
                return commit(check)
            if STOPPING or not in_use(log):
                break
        time.sleep(10)
    print(f"campaign: the held-out check did not grow by {name(job)}; see {log}", flush=True)


def worker(threads: int) -> int:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _pass_on)
    failed = set()
    while not STOPPING:
        todo = [j for j in jobs() if name(j) not in failed and j["seed"] not in record_seeds(j)]
        if not todo:
            return 1 if failed else 0
        outcomes = []
        for job in todo:
            outcome = work(job, threads)
            print(f"{time.strftime('%H:%M:%S')} {name(job)}: {outcome}", flush=True)
            if outcome == "failed":
                failed.add(name(job))
            outcomes.append(outcome)
            if STOPPING:
                return 128 + STOPPING[0]
            if outcome == "done":
                break                                  # re-read the queue: it may have changed
        if outcomes and all(o == "busy" for o in outcomes):
            time.sleep(30)                             # everything left is someone else's for now
    return 128 + STOPPING[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("run", "status", "plan"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    args = ap.parse_args()
    if args.what != "run":
        return status(args.workers)
    print(f"campaign: running the code of {code_at_head()} (HEAD, clean)", flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _pass_on)
    CHILDREN.extend(subprocess.Popen([sys.executable, __file__, "_worker", str(args.threads)])
                    for _ in range(args.workers))
    return max(child.wait() for child in list(CHILDREN))


if __name__ == "__main__":
    if sys.argv[1:2] == ["_worker"]:
        sys.exit(worker(int(sys.argv[2])))
    sys.exit(main())
