"""Run records: what the book shows, with where it came from.

    results/<experiment>/<preset>/
        config.json      the resolved configuration(s)
        provenance.json  git commit and dirty flag, command, versions, hardware, times, seeds, data
        metrics.csv      one row per epoch or evaluation
        summary.json     the numbers the text quotes (mean, spread, n seeds)

Only `alexnet run` writes them; chapters read them back with `load`.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .stats import summarize  # noqa: F401  (the per-seed summary; re-exported for callers)

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout holding this package (src/alexnet -> ..), else the working directory."""
    root = PACKAGE_DIR.parents[1]
    return root if (root / "pyproject.toml").exists() else Path.cwd()


def results_root() -> Path:
    return Path(os.environ.get("ALEXNET_RESULTS", project_root() / "results"))


UTC = "%Y-%m-%dT%H:%M:%SZ"        # provenance times


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime(UTC)


def git_state(where: Path = PACKAGE_DIR) -> dict:
    """The commit of the code that is running and whether its tree differs from it."""
    def git(*args):
        return subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "."))
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", True
    return dict(commit=commit or "unknown", dirty=dirty)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict:
    import torch
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return dict(cpu=cpu_model(), cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(),
                gpus=gpus, cuda=torch.version.cuda if gpus else None)


def provenance(*, command: str, started: str, seeds: list[int], data: dict | None = None,
               world_size: int = 1, extra: dict | None = None) -> dict:
    import torch
    import torchvision
    return dict(git=git_state(), command=command, python=sys.version.split()[0],
                torch=torch.__version__, torchvision=torchvision.__version__,
                platform=platform.platform(), hardware=hardware(), world_size=world_size,
                started_utc=started, ended_utc=utc_now(), seeds=seeds, data=data or {},
                **(extra or {}))


class RecordExists(FileExistsError):
    """A record is already at the path; the message says how to replace it."""


def spent(prov: dict, metrics: pd.DataFrame | None = None) -> tuple[float, float]:
    """(wall-clock hours, CPU-hours = hours x torch threads) a record took: its provenance's
    batches of seeds summed (not the gaps between them), else its start to end, with those of a
    record it replaced and read back (`replaced_batches`); or, where a seed
    resumed in a later batch (counted from its resumption) makes the `metrics`' epoch seconds
    add up to more, those (a lower bound: evaluation and start-up left out)."""
    threads = prov.get("hardware", {}).get("torch_threads") or 1
    own = prov.get("batches") or [dict(started_utc=prov["started_utc"], ended_utc=prov["ended_utc"])]
    batches = [(b["started_utc"], b["ended_utc"], b.get("threads") or threads)
               for b in [*own, *prov.get("replaced_batches", [])]]
    hours = [((datetime.strptime(b, UTC) - datetime.strptime(a, UTC)).total_seconds() / 3600, t) for a, b, t in batches]
    wall, cpu = sum(h for h, _ in hours), sum(h * t for h, t in hours)
    trained = float(metrics.seconds.sum()) / 3600 if metrics is not None and {"epoch", "seconds"} <= set(metrics) else 0.0
    return (trained, trained * threads) if trained > wall else (wall, cpu)


def record_dir(experiment: str, preset: str, root: Path | None = None) -> Path:
    return Path(root or results_root()) / experiment / preset


def check_writable(experiment: str, preset: str, root: Path | None = None, force: bool = False) -> Path:
    """The record's folder, checked BEFORE any training: not there yet (or `force`), and its
    parent can be created and written. Raises RecordExists / PermissionError with the fix."""
    out = record_dir(experiment, preset, root)
    _restore(out)                                # a record a crash left half-swapped is put back first
    force = force or os.environ.get("ALEXNET_FORCE") == "1"      # `alexnet run|bench --force`
    if out.exists() and not force:
        raise RecordExists(f"a run record already exists at {out}; pass --force to replace it "
                           "whole, or --results DIR to write elsewhere")
    parent = out.parent
    probe = parent
    while not probe.exists():                    # the nearest existing ancestor must be writable
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise PermissionError(f"cannot write a run record under {parent} ({probe} is not writable); "
                              "pass --results DIR")
    return out


PARTS = ("config", "metrics", "summary", "provenance")


class CorruptRecord(ValueError):
    """A record file that cannot be read: the message names the file and what is wrong."""


def lock_path(experiment: str, preset: str, root: Path | None = None) -> Path:
    """The lock a writer of results/<experiment>/<preset>/ holds (`locks.hold`): beside the
    folder, not in it, since the folder itself is swapped whole."""
    out = record_dir(experiment, preset, root)
    return out.with_name(f".{preset}.lock")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where the
    system cannot, and the caller falls back to two renames."""
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), exchange) == 0


def _swap_in(tmp: Path, out: Path) -> None:
    """Put the checked record `tmp` at `out`. With an existing record the two are exchanged
    in one step, so a crash at any moment leaves the old record or the new one, whole."""
    if out.exists() and _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)                # tmp now holds the old record
        return
    old = out.with_name(f".{out.name}-replaced-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def _restore(out: Path) -> None:
    """A record left half-swapped by a crash in the two-rename fallback: put the old one back."""
    if not out.exists():
        for old in sorted(out.parent.glob(f".{out.name}-replaced-*")):
            os.replace(old, out)
            break


def write(experiment: str, preset: str, *, root: Path | None = None, force: bool = False,
          files: dict | None = None, **parts) -> Path:
    """Write the record whole: `parts` are config (dict), metrics (DataFrame), summary (dict)
    and provenance (dict), plus small extra `files` (name -> bytes). Written into a temporary
    sibling folder, read back and checked, then swapped into place in one step, so a reader
    never sees half a record and a crash leaves the old record or the new one."""
    if sorted(parts) != sorted(PARTS):
        raise TypeError(f"records.write needs exactly {', '.join(PARTS)}; got {', '.join(sorted(parts))}")
    config, metrics, summary, provenance = (parts[k] for k in PARTS)
    out = check_writable(experiment, preset, root, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{preset}-", dir=out.parent))
    try:
        _dump(tmp / "config.json", config, indent=2, sort_keys=True)
        _dump(tmp / "provenance.json", provenance, indent=2)
        metrics.to_csv(tmp / "metrics.csv", index=False)
        _dump(tmp / "summary.json", summary, indent=2)
        for name, content in (files or {}).items():   # e.g. §6.1's kernels, so the book needs no checkpoint
            (tmp / name).write_bytes(content)
        _read(tmp, experiment, preset)                 # the new record reads back whole
        _swap_in(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def extra_files(rec: "Record") -> dict:
    """The record's files beyond its four parts (e.g. conv1.npy), name -> bytes."""
    parts = {f"{p}.json" for p in PARTS} | {"metrics.csv"}
    return {p.name: p.read_bytes() for p in sorted(rec.path.iterdir()) if p.is_file() and p.name not in parts}


def _dump(path: Path, obj, **kw) -> None:
    with open(path, "w") as f:
        f.write(json.dumps(obj, **kw) + "\n")
        f.flush()
        os.fsync(f.fileno())


@dataclass
class Record:
    experiment: str
    preset: str
    path: Path
    config: dict
    provenance: dict
    metrics: pd.DataFrame
    summary: dict

    def line(self) -> str:
        return provenance_line(self)


def load(experiment: str, preset: str | None = None, root: Path | None = None) -> Record:
    """The committed record of `experiment` at `preset` (default: the chapter's preset,
    falling back to `cpu` when none was committed for it)."""
    from .config import default_preset
    base = Path(root or results_root()) / experiment
    wanted = preset or default_preset()
    path = base / wanted
    if not path.exists() and preset is None:
        path = base / "cpu"
    path = _swapped_out(path)
    if not (path / "summary.json").exists():
        have = sorted(p.name for p in base.iterdir() if not p.name.startswith(".")) if base.exists() else []
        raise FileNotFoundError(
            f"no run record at {path} (committed presets: {', '.join(have) or 'none'}); make it with "
            f"`alexnet run {experiment} --preset {wanted}`")
    return _read(path, experiment, path.name.split("-replaced-")[0].lstrip("."))


def _swapped_out(path: Path) -> Path:
    """Where a record lies: `path`, or, after a crash between the two renames of the fallback
    swap, the old record beside it (read as it is; the next writer puts it back)."""
    if path.exists():
        return path
    return next(iter(sorted(path.parent.glob(f".{path.name}-replaced-*"))), path)


def _json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise CorruptRecord(f"{path} is damaged ({type(err).__name__}: {err}); restore it with "
                            f"`git checkout -- {path.name}` in its folder, or remake the record") from None
    if not isinstance(obj, dict):
        raise CorruptRecord(f"{path} holds a {type(obj).__name__}, not a JSON object; restore or remake it")
    return obj


def _csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise CorruptRecord(f"{path} is damaged ({type(err).__name__}: {' '.join(str(err).split())}); "
                            "restore it from git, or remake the record") from None


def _read(path: Path, experiment: str, preset: str) -> Record:
    """A record folder read and checked: every JSON an object, metrics.csv a table with a
    header and no torn last row (each row has every column). Raises CorruptRecord."""
    metrics = _csv(path / "metrics.csv")
    text = (path / "metrics.csv").read_text()
    if text and not text.endswith("\n"):
        raise CorruptRecord(f"{path / 'metrics.csv'} ends in a torn row (no final newline); restore it from "
                            "git, or remake the record")
    return Record(experiment, preset, path, _json(path / "config.json"), _json(path / "provenance.json"),
                  metrics, _json(path / "summary.json"))


def provenance_line(rec: Record) -> str:
    """One line for a caption: hardware, preset, commit, seeds, date."""
    p, hw = rec.provenance, rec.provenance.get("hardware", {})
    n = hw.get("torch_threads")                                  # '1 thread', '2 threads', '? threads'
    where = ", ".join(hw.get("gpus") or []) or f"{hw.get('cpu', '?')} ({'?' if n is None else n} thread{'s' * (n != 1)})"
    seeds = p.get("seeds") or []
    seed_txt = (f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {', '.join(map(str, seeds))}") if seeds else ""
    commit = p.get("git", {}).get("commit", "unknown")[:7] + ("+dirty" if p.get("git", {}).get("dirty") else "")
    data = p.get("data", {}).get("dataset", "")
    return (f"Run record {rec.experiment}/{rec.preset}: {where}; torch {p.get('torch')}; "
            f"{data + '; ' if data else ''}{seed_txt}; commit {commit}; {p.get('ended_utc', '')[:10]}.")
