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
from ..stats import convergence, difference, interval, per_variant, pm
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


# --- What the chapter quotes from a record (`facts`) ---
LEVEL = 0.50            # a third reading, chosen after seeing the cpu curves: epochs to 50% test error


def _epochs(d: dict) -> str:
    """Epochs to converge over seeds, '6.7 ± 0.6', saying how many runs never got there."""
    text = f"{d['mean']:.1f} ± {d['std']:.1f}" if d["n"] else "not reached"
    if d.get("censored"):
        text += f" ({d['censored']} of {d['n'] + d['censored']} runs never reached it)"
    return text


def _ratio(on: dict, off: dict, budget: int, bound: str) -> str:
    """Mean over seeds of epochs with dropout / without (a dropout run that never got there
    counts as the whole budget); `bound`, if any, says why the ratio is a lower bound."""
    slow, fast = stats.by_seed(on), stats.by_seed(off)
    ratios = [slow.get(s, budget) / fast[s] for s in sorted(fast) if fast[s] > 0]
    return (f"{sum(ratios) / len(ratios):.1f}×" if ratios else "–") + (f" (a lower bound: {bound})" if bound else "")


def _spread(x: pd.Series) -> str:
    return "not reached" if x.empty else f"{x.mean():.1f}" + (f" ± {x.std():.1f}" if len(x) > 1 else " (1 seed)")


def _level(metrics: pd.DataFrame) -> dict[str, str]:
    """Epochs until the test error first reaches LEVEL, per variant, and their ratio."""
    first = metrics[metrics.val_top1_err <= LEVEL].groupby(["variant", "seed"]).epoch.min()
    off, on = (first.get(v, pd.Series(dtype=float)) for v in VARIANTS)
    every = len(off) == len(on) == metrics.seed.nunique()
    ratio = "–" if off.empty or on.empty else f"{on.mean() / off.mean():.1f}×"
    return dict(level=f"{LEVEL:.0%}", level_off=_spread(off), level_on=_spread(on),
                level_ratio=ratio + ("" if every else f" (not every run reached {LEVEL:.0%})"))


def facts(record) -> dict[str, str]:
    """The strings the chapter quotes from a record: means ± std over seeds per variant, the
    paired gap reduction (without - with) and the slowdowns under each definition."""
    s = record.summary
    off, on, budget = s["variants"]["p0"], s["variants"]["p0.5"], s["epochs"]
    red = interval(stats.paired(off["gap"], on["gap"])["values"])
    trained = record.metrics.groupby(["variant", "seed"]).epoch.max()     # §5's schedule stops each run itself
    epochs = f"{trained.min():.0f}" if trained.min() == trained.max() else f"{trained.min():.0f}–{trained.max():.0f}"
    return dict(n=str(off["gap"]["n"]), epochs=epochs,
                gap_off=pm(off["gap"], unit="%"), gap_on=pm(on["gap"], unit="%"),
                gap_reduction=f"{100 * red['mean']:.1f} points" + (
                    f" (95% interval over the seeds {100 * red['lo']:.1f} to {100 * red['hi']:.1f})" if red["n"] > 1 else ""),
                test_off=pm(off["val_top1_err"], unit="%"), test_on=pm(on["val_top1_err"], unit="%"),
                train_off=pm(off["train_clean_top1_err"], unit="%"), train_on=pm(on["train_clean_top1_err"], unit="%"),
                loss_off=_epochs(off["epochs_to_loss"]), loss_on=_epochs(on["epochs_to_loss"]),
                plateau_off=_epochs(off["epochs_to_plateau"]), plateau_on=_epochs(on["epochs_to_plateau"]),
                ratio_loss=_ratio(on["epochs_to_loss"], off["epochs_to_loss"], budget, on["epochs_to_loss"]["censored"] and
                                  "a dropout run that never reached the threshold counts as the whole budget"),
                ratio_plateau=_ratio(on["epochs_to_plateau"], off["epochs_to_plateau"], budget,
                                     max(on["epochs_to_plateau"]["values"], default=budget) >= budget - 1 and
                                     "a dropout run's lowest test error came in the budget's last two epochs"),
                **_level(record.metrics))


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
                 long=dict(presets.LONG_ALEXNET, augment="none", schedule="constant"),
                 # regime (issue 25): both arms converged under §5's schedule (÷10 on a plateau,
                 # three drops, stop), so the ratio compares two finished runs
                 regime=dict(presets.REGIME_ALEXNET, augment="none")),
    seeds=dict(presets.THREE, regime=[0, 1, 2, 3, 4]), variants=VARIANTS,
    claims=(Claim("dropout_overfit", "Dropout reduces overfitting (§4.2)", "\"substantial overfitting\" without",
                  "dropout", paired(("variants", "p0", "gap"), ("variants", "p0.5", "gap")),
                  regime=Regime(overfits="p0")),
            Claim("dropout_iterations", "Dropout roughly doubles the iterations to converge (§4.2)", "≈2×",
                  "dropout", _ratio_minus_one, CLAIMS["dropout"]["iterations_ratio"] - 1, regime=Regime(),
                  unit="x-1")))
