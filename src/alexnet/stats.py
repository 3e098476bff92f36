"""Statistics the book quotes: means over seeds, differences, epochs to converge, intervals,
THE verdict rule (one for the scorecard and every chapter) and the formatting helpers
chapters use (`pct`, `pm`)."""
from __future__ import annotations

import math

import pandas as pd

from . import records


def first_epoch(values, epochs, test) -> float:
    """The first epoch whose value passes `test`; NaN when none does (censored)."""
    for value, epoch in zip(values, epochs):
        if test(value):
            return float(epoch)
    return math.nan


def convergence(rows: pd.DataFrame, plateau: float, loss_threshold: float) -> dict:
    """Two definitions of "converged" for one run's epoch rows (sorted by epoch):
    - epochs_to_plateau: first epoch whose test error is within `plateau` of the lowest
      test error the run reaches (later epochs buy less than `plateau`);
    - epochs_to_loss: first epoch whose training loss (as SGD sees it, dropout on) is at
      or below `loss_threshold`; NaN if it never gets there within the budget."""
    rows = rows.sort_values("epoch")
    best = rows.val_top1_err.min()
    return dict(epochs_to_plateau=first_epoch(rows.val_top1_err, rows.epoch, lambda v: v <= best + plateau),
                epochs_to_loss=first_epoch(rows.train_loss, rows.epoch, lambda v: v <= loss_threshold))


def per_variant(last: pd.DataFrame, columns) -> dict:
    """variant -> column -> mean/std/n/values over seeds (NaNs, i.e. censored runs, dropped,
    and counted in `censored`)."""
    out = {}
    for variant, rows in last.groupby("variant", sort=False):
        out[variant] = {}
        for c in columns:
            vals = rows[c].dropna()
            out[variant][c] = dict(records.summarize(vals) if len(vals) else dict(mean=math.nan, std=0.0, n=0, values=[]),
                                   censored=int(rows[c].isna().sum()))
    return out


def difference(a: dict, b: dict) -> dict:
    """mean(a) - mean(b) with the standard error of the difference of two independent means
    and whether it lies inside the noise (|diff| < 2 standard errors)."""
    se = math.sqrt((a["std"] ** 2) / max(a["n"], 1) + (b["std"] ** 2) / max(b["n"], 1))
    diff = a["mean"] - b["mean"]
    return dict(mean=diff, se=se, inside_noise=bool(abs(diff) < 2 * se) if se > 0 else None)


# --- The one verdict rule (the scorecard page and every chapter's "Paper vs ours") --------
# A claim of the paper is either a count/equivalence (it holds or it does not) or an effect
# with a direction (and often a size). Ours is a list of per-seed values of the same effect,
# oriented so that a positive value points the paper's way (e.g. "error without LRN minus
# error with LRN"); paired per seed where the variants share a seed.
#
#   exact         a count or an equivalence holds (to the stated tolerance)
#   reproduced    same sign, the 95% interval over seeds excludes zero, and the size is within
#                 a factor of two of the paper's (or the paper states no size)
#   direction     same sign, the interval excludes zero, the size is off by more than 2x
#   inside noise  the interval includes zero (one seed: no interval, always inside noise)
#   opposite      the interval excludes zero on the other side (or an equivalence fails)
#   not run       no record at this scale (needs ImageNet or a GPU)
VERDICTS = ("exact", "reproduced", "direction", "inside noise", "opposite", "not run")
# Student's t, 97.5% quantile, by degrees of freedom (a two-sided 95% interval).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 15: 2.131, 20: 2.086, 30: 2.042}


def t975(df: int) -> float:
    """The two-sided 95% t quantile for `df` degrees of freedom (1.96 beyond 30)."""
    if df in T975:
        return T975[df]
    below = [d for d in T975 if d <= df]
    return T975[max(below)] if df <= 30 else 1.96


def interval(values) -> dict:
    """mean, standard error and the 95% t interval of per-seed values (NaNs dropped)."""
    v = [float(x) for x in values if x is not None and not math.isnan(float(x))]
    n = len(v)
    mean = sum(v) / n if n else math.nan
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1)) if n > 1 else math.nan
    half = t975(n - 1) * sd / math.sqrt(n) if n > 1 else math.inf
    return dict(mean=mean, std=sd, n=n, se=sd / math.sqrt(n) if n > 1 else math.nan,
                lo=mean - half, hi=mean + half, values=v)


def verdict(values=None, paper: float | None = None, *, holds: bool | None = None) -> str:
    """THE rule: a verdict from per-seed effects (`values`, positive = the paper's way) and
    the paper's size (`paper`, same units and sign), or from `holds` for a count or an
    equivalence. No values and no `holds`: "not run"."""
    if holds is not None:
        return "exact" if holds else "opposite"
    if values is None or len(list(values)) == 0:
        return "not run"
    ci = interval(values)
    if ci["n"] == 0:
        return "not run"
    if not ci["lo"] > 0 and not ci["hi"] < 0:
        return "inside noise"
    if ci["hi"] < 0:
        return "opposite"
    if paper is None or paper == 0:
        return "reproduced"
    ratio = ci["mean"] / paper
    return "reproduced" if 0.5 <= ratio <= 2.0 else "direction"


def pct(x, digits: int = 1) -> str:
    """0.1234 -> '12.3%' (a fraction as a percentage); NaN/None -> '–'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%"


def pm(d: dict, scale: float = 100.0, digits: int = 1, unit: str = "") -> str:
    """A summary {mean, std, n} as 'mean ± std' (scaled: 100 turns fractions into points)."""
    if d is None or d.get("n", 1) == 0 or d.get("mean") is None:
        return "–"
    mean, std = scale * d["mean"], scale * (d.get("std") or 0.0)
    if d.get("n", 2) < 2:
        return f"{mean:.{digits}f}{unit} (1 seed)"
    return f"{mean:.{digits}f} ± {std:.{digits}f}{unit}"
