"""Statistics the book quotes: means over seeds (`summarize`, `per_variant`), differences
(`difference`, `paired_difference`), epochs to converge, intervals, THE verdict rule (one for
the scorecard and every chapter) and the formatting helpers chapters use (`pct`, `pm`).
Bottom layer: imports nothing from the package."""
from __future__ import annotations

import math

import pandas as pd


def summarize(values) -> dict:
    """mean, sample std and n of a list of per-seed numbers (what the text quotes)."""
    s = pd.Series(list(values), dtype=float)
    return dict(mean=float(s.mean()), std=float(s.std()) if len(s) > 1 else 0.0, n=int(len(s)),
                values=[float(v) for v in s])


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
            out[variant][c] = dict(summarize(vals) if len(vals) else dict(mean=math.nan, std=0.0, n=0, values=[]),
                                   censored=int(rows[c].isna().sum()))
    return out


def difference(a: dict, b: dict) -> dict:
    """mean(a) - mean(b) with the standard error of the difference of two independent means
    and whether it lies inside the noise (|diff| < 2 standard errors)."""
    se = math.sqrt((a["std"] ** 2) / max(a["n"], 1) + (b["std"] ** 2) / max(b["n"], 1))
    diff = a["mean"] - b["mean"]
    return dict(mean=diff, se=se, inside_noise=bool(abs(diff) < 2 * se) if se > 0 else None)


def paired_difference(a: dict, b: dict) -> dict:
    """Per seed a - b of two summaries whose values share their seeds' order (same init, same
    batches), summarized: the spread is that of the paired differences."""
    return summarize(x - y for x, y in zip(a["values"], b["values"]))


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
# Student's t, 97.5% quantile, by degrees of freedom (a two-sided 95% interval), to 3 decimals.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
        17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
        25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042}
Z975 = 1.959963984540054     # the normal's 97.5% quantile


def t975(df: int) -> float:
    """The two-sided 95% t quantile for `df` >= 1 degrees of freedom: the table up to 30,
    beyond it the Cornish-Fisher expansion around the normal quantile (error < 1e-4)."""
    if df < 1:
        raise ValueError(f"t975: df={df}; an interval needs at least two values")
    if df in T975:
        return T975[df]
    z = Z975
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


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
    ci = interval(values if values is not None else [])     # NaNs (censored seeds) dropped
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


def regime(rows: pd.DataFrame, gap: float = 0.10, plateau: float = 0.005) -> dict:
    """Is a run in the paper's regime? `rows`: one variant's epoch rows (any seeds). Overfits:
    at the last epoch the test error is at least `gap` above the training error; plateaued:
    the mean test error of the last three epochs spans at most `plateau`."""
    by_epoch = rows.groupby("epoch")[["train_err", "val_top1_err"]].mean().sort_index()
    last3 = by_epoch.val_top1_err.tail(3)
    end = by_epoch.iloc[-1]
    return dict(gap=float(end.val_top1_err - end.train_err), overfits=bool(end.val_top1_err - end.train_err >= gap),
                last3_span=float(last3.max() - last3.min()),
                plateaued=bool(len(last3) == 3 and last3.max() - last3.min() <= plateau))
