"""Checkpoints: written whole, kept in pairs, read as data (never run as code), resumed exactly.

    save_checkpoint(path, state, keep=2)   # temp file + fsync + rename; checkpoint.prev.pt kept
    state = load_checkpoint_file(path)          # torch.load(weights_only=True); CheckpointError if bad
    cfg, model = load_checkpoint(path)     # the trained model, on the CPU

A checkpoint holds tensors, numbers, strings, lists and dicts only, so it loads with
`weights_only=True`: a file with a pickle payload (an object that would run code when
unpickled) is refused, not executed. A SIGTERM or Ctrl-C that arrives while a checkpoint
is written is held until the file is whole and renamed. A checkpoint that cannot be read
(truncated, empty, random bytes) is a one-line `CheckpointError` naming the file, and a
resume falls back to the previous checkpoint (`checkpoint.prev.pt`) when that one is whole.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from ..config import Config, renamed
from .progress import signals_held


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used; the message names the file and what to do."""


class ResumeMismatch(ValueError):
    """The run directory holds a run made with another configuration."""


# Keys that may differ between a run and its resumption without changing the result.
RESUMABLE_CHANGES = {"progress", "workers", "out", "epochs", "checkpoint_every", "data", "download",
                     "keep_checkpoints", "max_loss_ratio", "tensorboard", "log_every"}
DIVERGED = "diverged.json"      # written when a run stops on a bad loss: then `lr` may change


def kept(path: Path, keep: int) -> list[Path]:
    """checkpoint.pt, checkpoint.prev.pt, checkpoint.prev2.pt ... (`keep` names, newest first)."""
    path = Path(path)
    return [path] + [path.with_name(f"{path.stem}.prev{'' if i == 1 else i}{path.suffix}")
                     for i in range(1, keep)]


def save_checkpoint(path: Path, state: dict, keep: int = 2) -> None:
    """Write `state` to `path` whole: a uniquely named temp file, flushed to disk, renamed over
    `path`; the checkpoint it replaces becomes checkpoint.prev.pt (the last `keep` are kept).
    SIGTERM, Ctrl-C and SIGCHLD wait until it is done (`progress.signals_held`)."""
    with signals_held():
        _save(Path(path), state, keep)


def _save(path: Path, state: dict, keep: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())                            # on disk before the rename
        os.chmod(tmp, 0o644)
        _rotate(kept(path, keep))
        os.replace(tmp, path)                               # never a half-written checkpoint
    except (OSError, RuntimeError) as err:                  # torch reports a full disk as RuntimeError
        Path(tmp).unlink(missing_ok=True)
        free = shutil.disk_usage(path.parent).free
        raise CheckpointError(f"could not write the checkpoint {path} ({free / 2**20:.1f} MiB free there: "
                              f"{' '.join(str(err).split())[:80]}); the previous checkpoint is intact — "
                              "free some space and rerun the same command to resume") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _rotate(names: list[Path]) -> None:
    """prev -> prev2 ..., then checkpoint.pt -> checkpoint.prev.pt as a hard link, so that
    checkpoint.pt never goes missing (a rename where the file system has no hard links)."""
    for older, newer in zip(reversed(names[1:-1]), reversed(names[2:])):
        if older.exists():
            os.replace(older, newer)
    if len(names) > 1 and names[0].exists():
        link = names[1].with_name(f".{names[1].name}.link")
        try:
            link.unlink(missing_ok=True)
            os.link(names[0], link)
            os.replace(link, names[1])
        except OSError:
            os.replace(names[0], names[1])


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:                                         # e.g. Windows: no directory fds
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint_file(path, map_location="cpu", mmap: bool = False) -> dict:
    """The state saved by `save_checkpoint`, loaded as data only (`weights_only=True`)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as err:                                # torch, zip and pickle errors alike
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        if "Weights only load failed" in str(err) and "GLOBAL" in str(err):   # a class or function inside
            raise CheckpointError(f"{path} holds objects other than tensors and numbers and was refused "
                                  "(checkpoints load with weights_only=True, never as code); "
                                  "use a checkpoint written by alexnet") from None
        detail = next((line.strip() for line in str(err).splitlines() if "Unsupported operand" in line), first)
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt: "
                              f"{type(err).__name__}: {detail[:120]}); delete it to start afresh") from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(f"{path} is not an alexnet checkpoint (no model weights in it)")
    return state


def load_checkpoint(path, overrides: list[str] | None = None, state: dict | None = None):
    """(cfg, model) from a checkpoint of `alexnet train` / an experiment, on the CPU, eval mode
    (`state`: the checkpoint already read, e.g. a column split's shares joined)."""
    from ..config import parse_overrides, resolve
    from ..models import build_model
    state = state or load_checkpoint_file(path)
    # a key added since the run was saved takes the value the run had (`config.ADDED`), not the
    # paper preset's: a run from before `pixel_scale` fed its net std-scaled pixels, not raw ones
    cfg = resolve("paper", {**renamed(state["config"], made=True), **parse_overrides(overrides or []),
                            "device": "cpu"})
    weights = state["model"]
    first_conv = next(v for k, v in weights.items() if k.endswith("weight") and v.dim() == 4)   # conv1, conv1_1 (VGG)
    model = build_model(cfg, weights["fc8.weight"].shape[0], first_conv.shape[1])
    model.load_state_dict(weights)
    return cfg, model.eval()


def rank_totals(saved: dict, rank: int, world: int) -> dict:
    """Rank `rank`'s running sums of the epoch (loss, wrong, n) from a checkpoint's, which keeps
    one per rank, in rank order (DDP ranks sum different images). A checkpoint written before
    that keeps one for all: rank 0 carries it and the others start from 0, so the sums over
    the ranks stay right."""
    def mine(v):
        v = torch.as_tensor(v)
        if v.dim() and len(v) == world:
            return v[rank]
        return v.sum() if rank == 0 else torch.zeros_like(v.sum())
    return {k: mine(v) for k, v in saved.items()}


def allowed_changes(run_dir: Path, saved: dict) -> set[str]:
    """RESUMABLE_CHANGES, plus `lr` when this run stopped on a bad loss with the rate it was
    saved with (the advice of NonFiniteLoss and DivergedLoss: rerun with a lower lr)."""
    marker = Path(run_dir) / DIVERGED
    try:
        stopped_at = json.loads(marker.read_text())["lr"]
    except (OSError, ValueError, KeyError, TypeError):
        return set(RESUMABLE_CHANGES)
    return RESUMABLE_CHANGES | ({"lr"} if saved.get("lr") == stopped_at else set())


def check_same_run(saved: dict, cfg: Config, path: Path, allowed: set[str] = RESUMABLE_CHANGES) -> None:
    """ResumeMismatch naming every key (outside `allowed`) whose value differs. A key the
    saved config lacks is an option added since: the value every run before it had
    (`config.ADDED`), else not compared (the presets keep such options' old behaviour).
    A key saved under its old name is compared under its new one (`config.renamed`)."""
    saved = renamed(saved, made=True)
    diff = {k: (saved[k], v) for k, v in cfg.to_dict().items()
            if k not in allowed and k in saved and saved[k] != v}
    if diff:
        detail = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in diff.items())
        raise ResumeMismatch(f"{path} was written by a different configuration ({detail}); "
                             f"use another out directory, or empty {Path(path).parent} to start afresh")


def resume(path: Path | None, cfg: Config, parts: dict, device, log, writer: bool = True) -> dict | None:
    """Load the newest whole checkpoint among `path` and the ones kept before it into `parts`
    (name -> object with `load_state_dict`: model, optimizer, schedule); its state, or None
    when there is none (a fresh start). An unreadable checkpoint is skipped with a message and
    (by the rank that writes it) renamed *.broken, so that the next save keeps the good one."""
    if path is None:
        return None
    broken = []
    for name in [p for p in kept(path, max(cfg.keep_checkpoints, 2)) if p.exists()]:
        try:
            state = load_checkpoint_file(name, map_location=device)
        except CheckpointError as err:
            broken.append((name, err))
            log(f"warning: {err}; trying the checkpoint before it")
            continue
        check_same_run(state["config"], cfg, name, allowed_changes(path.parent, state["config"]))
        for key, part in parts.items():
            part.load_state_dict(state[key])
        for bad, _ in broken if writer else ():
            os.replace(bad, bad.with_name(bad.name + ".broken"))
        log(f"resumed from {name}: epoch {state['epoch'] + 1}, step {state['step']}")
        return state
    if broken:
        raise CheckpointError(f"{broken[0][1]}" + ("; no earlier checkpoint is whole" if len(broken) > 1 else ""))
    return None
