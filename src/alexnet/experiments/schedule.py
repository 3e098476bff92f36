"""§5: "divide the learning rate by 10 when the validation error rate stopped improving"
against a fixed step schedule, on the CPU-scale AlexNet.

The paper's schedule reacts to the validation error (`schedule=plateau`: ÷10 after
`patience` epochs without improvement, at most `lr_drops` times); torchvision's recipe
divides by 10 every `step_every` epochs whatever happens (`schedule=step`). The record
holds the learning rate and errors per epoch, so the chapter can plot both side by side.
"""
from __future__ import annotations

import math

from . import presets
from .runner import Outcome, final_summary, run_variants

TITLE = "÷10 on plateau vs step schedule"
SECTION = "§5"
VARIANTS = {"plateau": dict(schedule="plateau"), "step": dict(schedule="step")}
PRESETS = presets.of("schedule")
SEEDS = presets.seeds("schedule")


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    metrics, fingerprint, configs = run_variants("schedule", preset, cfg, VARIANTS, seeds)
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err"))
    for variant in VARIANTS:
        rows = metrics[metrics.variant == variant]
        # Epochs (1-based) whose lr is lower than the previous epoch's, per seed.
        drops = {}
        for seed, r in rows.groupby("seed"):
            lr = r.sort_values("epoch").set_index("epoch").lr
            drops[str(seed)] = [int(e) for e, prev, now in zip(lr.index[1:], lr.values[:-1], lr.values[1:])
                                if now < prev]
        summary[variant]["drop_epochs"] = drops
        summary[variant]["best_val_top1_err"] = float(rows.groupby("seed").val_top1_err.min().mean())
        # Seeds whose net ended at chance (training loss ln 10: every output the same).
        last = rows.sort_values("epoch").groupby("seed").train_loss.last()
        summary[variant]["seeds_at_chance"] = [int(k) for k, v in last.items()
                                               if abs(v - math.log(cfg.num_classes or 10)) < 0.01]
    summary["difference_top1"] = (summary["step"]["val_top1_err"]["mean"]
                                  - summary["plateau"]["val_top1_err"]["mean"])   # > 0: plateau better
    return Outcome(metrics, summary, fingerprint, configs)
