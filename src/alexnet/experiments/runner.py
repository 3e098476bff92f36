"""What most experiments do: train a few variants of one config over seeds, and tabulate."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .. import records
from ..config import Config
from ..training.loop import TrainResult, train


def scratch_dir(experiment: str, preset: str, variant: str, seed: int) -> Path:
    """Checkpoints of an experiment's runs, so an interrupted experiment resumes."""
    runs = Path(os.environ.get("ALEXNET_RUNS", records.project_root() / "runs"))
    return runs / experiment / preset / f"{variant}-seed{seed}"


def run_variants(experiment: str, preset: str, base: Config, variants: dict[str, dict],
                 seeds: list[int], log=print, on_result=None) -> tuple[pd.DataFrame, dict, dict]:
    """Train every variant (config changes) with every seed.

    Returns the per-epoch metrics (columns variant, seed, epoch, ...), the data
    fingerprint and the resolved config of each variant. `on_result(variant, seed, result)`
    may add measurements of the trained model (its return dict joins the last epoch row).
    """
    frames, configs, fingerprint = [], {}, {}
    for variant, changes in variants.items():
        for seed in seeds:
            cfg = base.replace(seed=seed, **changes)
            configs[variant] = cfg.replace(seed=base.seed).to_dict()
            log(f"[{experiment}/{preset}] {variant}, seed {seed}")
            result: TrainResult = train(cfg, out_dir=scratch_dir(experiment, preset, variant, seed), log=log)
            frame = pd.DataFrame(result.history)
            if on_result is not None:
                for key, value in (on_result(variant, seed, result) or {}).items():
                    frame.loc[frame.index[-1], key] = value
            frames.append(frame.assign(variant=variant, seed=seed))
            fingerprint = result.data.fingerprint
    metrics = pd.concat(frames, ignore_index=True)
    first = ["variant", "seed", "epoch"]
    return metrics[first + [c for c in metrics.columns if c not in first]], fingerprint, configs


def final_summary(metrics: pd.DataFrame, columns=("val_top1_err", "train_err")) -> dict:
    """Per variant: mean/std/n over seeds of the last epoch's values of `columns`."""
    last = metrics.sort_values("epoch").groupby(["variant", "seed"]).tail(1)
    out = {}
    for variant, rows in last.groupby("variant", sort=False):
        out[variant] = {c: records.summarize(rows[c]) for c in columns if c in rows}
    return out
