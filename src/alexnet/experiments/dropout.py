"""§4.2: dropout p=0.5 in fc6 and fc7 against no dropout.

"Without dropout, our network exhibits substantial overfitting. Dropout roughly doubles
the number of iterations required to converge."

The `cpu` preset trains the AlexNet-shaped CIFAR-10 net (`cifar_alexnet`) with p=0 and
with the paper's vanilla dropout (p=0.5, outputs x0.5 at test) at a constant learning rate
and without augmentation, so the only regulariser that differs is dropout and "converged"
is not blurred by a schedule. It records the train-test gap (clean training error, test
mode, vs test error) and epochs to converge under two stated definitions
(`alexnet.stats.convergence`): test error within PLATEAU of its best, and training loss
at or below LOSS_THRESHOLD. The `paper` preset is the ImageNet ablation on `alexnet_paper`.
"""
from __future__ import annotations

import math

import pandas as pd

from ..config import Config
from ..evaluation.metrics import clean_train_error
from ..stats import convergence, difference, per_variant
from .. import stats
from ..harness import presets
from ..harness.declare import Claim, Experiment, paired, Regime
from ..harness.paper_tables import CLAIMS
from ..harness.runner import Outcome, run_variants

VARIANTS = {"p0": dict(dropout=0.0), "p0.5": dict(dropout=0.5)}
PLATEAU = 0.01          # "converged": test error within 1 point of the run's lowest
LOSS_THRESHOLD = 1.0    # "converged": training loss <= 1.0 nats (about 35% training error)

COLUMNS = ("val_top1_err", "best_val_top1_err", "train_clean_top1_err", "gap", "train_loss",
           "epochs_to_plateau", "epochs_to_loss", "seconds")


def run(cfg: Config, preset: str, seeds: list[int]) -> Outcome:
    metrics, fingerprint, configs = run_variants(
        "dropout", preset, cfg, VARIANTS, seeds,
        on_result=lambda variant, seed, result: clean_train_error(result))
    return Outcome(metrics, summarize_metrics(metrics, cfg), fingerprint, configs)


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    rows = []
    for (variant, seed), run_rows in metrics.groupby(["variant", "seed"], sort=False):
        last = run_rows.sort_values("epoch").iloc[-1]
        rows.append(dict(variant=variant, seed=seed, val_top1_err=last.val_top1_err,
                         best_val_top1_err=run_rows.val_top1_err.min(),
                         train_clean_top1_err=last.train_clean_top1_err,
                         gap=last.val_top1_err - last.train_clean_top1_err, train_loss=last.train_loss,
                         seconds=run_rows.seconds.sum(),
                         **convergence(run_rows, PLATEAU, LOSS_THRESHOLD)))
    last = pd.DataFrame(rows)
    summary = dict(variants=per_variant(last, COLUMNS), epochs=cfg.epochs, paper=dict(CLAIMS["dropout"]),
                   definitions=dict(plateau=PLATEAU, loss_threshold=LOSS_THRESHOLD))
    off, on = summary["variants"]["p0"], summary["variants"]["p0.5"]
    summary["gap_reduction"] = difference(off["gap"], on["gap"])            # > 0: dropout overfits less
    summary["test_gain"] = difference(off["val_top1_err"], on["val_top1_err"])
    for key in ("epochs_to_plateau", "epochs_to_loss"):
        a, b = on[key], off[key]
        summary[f"ratio_{key}"] = (a["mean"] / b["mean"] if b["n"] and a["n"] and b["mean"] > 0
                                   else math.nan)
    return summary


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
def _ratio_minus_one(summary: dict) -> list[float]:
    """Per seed: epochs to plateau with dropout over without, minus 1 (the paper: 2x - 1)."""
    on = stats.by_seed(summary["variants"]["p0.5"]["epochs_to_plateau"])
    off = stats.by_seed(summary["variants"]["p0"]["epochs_to_plateau"])
    return [on[s] / off[s] - 1.0 for s in sorted(set(on) & set(off)) if off[s] > 0]


EXPERIMENT = Experiment(
    title="Dropout p=0.5 in fc6/fc7 vs none: overfitting and time to converge", section="§4.2",
    # cpu: 6 runs of 4,000 images x 16 epochs, ~1,000 images/s: ~7 minutes; 2,000 test images. A
    # constant rate and no augmentation: dropout is the only regulariser that differs, and
    # "converged" is not blurred by a schedule.
    presets=dict(smoke=dict(presets.SMOKE_CIFAR_ALEXNET, epochs=3), paper=presets.IMAGENET,
                 cpu=dict(presets.CIFAR_ALEXNET, augment="none", schedule="constant", epochs=16,
                          train_limit=4000, val_limit=2000),
                 long=dict(presets.LONG_ALEXNET, augment="none", schedule="constant")),
    seeds=presets.THREE, variants=VARIANTS,
    claims=(Claim("dropout_overfit", "Dropout reduces overfitting (§4.2)", "\"substantial overfitting\" without",
                  "dropout", paired(("variants", "p0", "gap"), ("variants", "p0.5", "gap")),
                  regime=Regime(overfits="p0")),
            Claim("dropout_iterations", "Dropout roughly doubles the iterations to converge (§4.2)", "≈2×",
                  "dropout", _ratio_minus_one, CLAIMS["dropout"]["iterations_ratio"] - 1, regime=Regime(),
                  unit="x-1")))
