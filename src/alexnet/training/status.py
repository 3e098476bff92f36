"""`alexnet status RUN_DIR [--png FILE]`: one screen about a run, from its directory alone.

Reads what the run writes as it goes (`config.json`, `metrics.csv`, `status.json`, the
checkpoints), so it works from another shell while the run trains and after it ended:

    run         runs/x: running (updated 2026-05-01T10:00:00+0000)
    config      model=alexnet_paper dataset=imagenet optimizer=paper lr=0.01 ...
    reached     epoch 12/90, step 3000/10009
    last val    top-1 48.10 %  top-5 24.30 %  (epoch 12; best top-1 48.10 % at epoch 12)
    speed       1850 images/s; 12m05s per epoch (median of 12)
    to the end  13h40m
    checkpoint  checkpoint.pt whole (epoch 12, step 0); checkpoint.prev.pt whole (epoch 11, step 0)
"""
from __future__ import annotations

import json
import math
import os
import socket
from pathlib import Path

from .checkpoint import CheckpointError, kept, load_checkpoint_file
from .progress import hms

KEYS = ("model", "dataset", "optimizer", "lr", "batch_size", "epochs", "schedule", "augment",
        "dropout", "precision", "parallel", "seed")


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _metrics(run_dir: Path):
    import pandas as pd
    try:
        return pd.read_csv(run_dir / "metrics.csv")
    except (OSError, ValueError):                           # missing, empty or being replaced
        return pd.DataFrame()


def _checkpoints(run_dir: Path) -> tuple[str, dict]:
    """('checkpoint.pt whole (epoch 3, step 0); ...', the newest whole state or {})."""
    parts, newest = [], {}
    for path in kept(run_dir / "checkpoint.pt", 3):
        if not path.exists():
            continue
        try:
            state = load_checkpoint_file(path, mmap=True)   # mmap: the tensors are not read
        except CheckpointError:
            parts.append(f"{path.name} NOT whole (it does not load with weights_only=True)")
            continue
        parts.append(f"{path.name} whole (epoch {state['epoch']}, step {state['step']})")
        newest = newest or state
    return "; ".join(parts) or "none yet", newest


def _state(info: dict) -> str:
    """The run's state; 'running' whose process is gone (on this machine) says so."""
    state = info.get("state", "unknown")
    if state == "running" and info.get("host") == socket.gethostname() and info.get("pid"):
        try:
            os.kill(int(info["pid"]), 0)
        except ProcessLookupError:
            return "ended without a word (its process is gone): rerun the command to resume"
        except OSError:
            pass
    return state


def status(run_dir) -> str:
    """The run in `run_dir`, one screen (see the module docstring)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir} is not a run directory (the out= of `alexnet train`)")
    cfg, info, rows = _json(run_dir / "config.json"), _json(run_dir / "status.json"), _metrics(run_dir)
    ckpt_line, state = _checkpoints(run_dir)
    epochs = cfg.get("epochs", "?")
    done, step = info.get("epochs_done", state.get("epoch", len(rows))), info.get("step", state.get("step", 0))
    lines = [f"run         {run_dir}: {_state(info)}" + (f" (updated {info['updated']})" if info.get("updated") else ""),
             "config      " + " ".join(f"{k}={cfg[k]}" for k in KEYS if k in cfg),
             f"reached     {done}/{epochs} epochs done" + (f", step {step}/{info.get('steps', '?')} of the next" if step else ""),
             _last_val(rows), _speed(rows, info)]
    if info.get("state") != "finished":
        eta = info.get("eta_seconds")
        lines.append(f"to the end  {hms(eta) if eta is not None else '?'} (as of the update above)")
    lines.append(f"checkpoint  {ckpt_line}")
    return "\n".join(lines)


def _last_val(rows) -> str:
    if rows.empty:
        return "last val    no epoch finished yet"
    last, best = rows.iloc[-1], rows.loc[rows.val_top1_err.idxmin()]
    return (f"last val    top-1 {100 * last.val_top1_err:.2f} %  top-5 {100 * last.val_top5_err:.2f} %  "
            f"(epoch {int(last.epoch)}; best top-1 {100 * best.val_top1_err:.2f} % at epoch {int(best.epoch)})")


def _speed(rows, info: dict) -> str:
    rate = info.get("images_per_s")
    if rate is None and not rows.empty:
        rate = rows.images_per_s.dropna().median()
    text = f"speed       {rate:.0f} images/s" if rate is not None and math.isfinite(rate) else "speed       ?"
    if not rows.empty:
        text += f"; {hms(rows.seconds.median())} of training per epoch (median of {len(rows)})"
    return text


def plot_status(run_dir, png) -> Path:
    """A small PNG of the run's curves: losses and errors per epoch (from metrics.csv)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    run_dir, png = Path(run_dir), Path(png)
    rows = _metrics(run_dir)
    if rows.empty:
        raise FileNotFoundError(f"{run_dir / 'metrics.csv'} has no finished epoch yet; nothing to plot")
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3), constrained_layout=True)
    for col, label in (("train_loss", "train"), ("val_loss", "val")):
        left.plot(rows.epoch, rows[col], marker=".", label=label)
    for col, label in (("train_err", "train (on the fly)"), ("val_top1_err", "val top-1"), ("val_top5_err", "val top-5")):
        right.plot(rows.epoch, 100 * rows[col], marker=".", label=label)
    left.set(xlabel="epoch", ylabel="loss", title=run_dir.name)
    right.set(xlabel="epoch", ylabel="error (%)")
    for ax in (left, right):
        ax.legend(fontsize=8)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png
