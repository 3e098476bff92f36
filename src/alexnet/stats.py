"""Statistics the book quotes: means over seeds (`summarize`, `per_variant`), differences
(`difference`, `paired`), epochs to converge, intervals, THE verdict rule (one for
the scorecard and every chapter) and the formatting helpers chapters use (`pct`, `pm`).
Bottom layer: imports nothing from the package."""
from __future__ import annotations

import math

import pandas as pd


class PairingError(ValueError):
    """Two per-seed lists that cannot be paired: their seeds differ, or a list has none."""


def summarize(values, seeds=None) -> dict:
    """mean, sample std and n of per-seed numbers (what the text quotes), keyed by seed so two
    summaries pair by seed id, never by position: the seeds are `seeds`, else the "seed" level
    of a Series' index; values are kept in seed order. Without either, no seeds are recorded
    (a list of numbers that is not per seed: `paired` refuses it)."""
    if seeds is None and isinstance(values, pd.Series) and "seed" in values.index.names:
        seeds = values.index.get_level_values("seed")
    s = pd.Series(list(values), dtype=float)
    out = {}
    if seeds is not None:
        s.index = [int(x) for x in seeds]
        if s.index.has_duplicates:
            raise PairingError(f"summarize: repeated seeds {sorted(set(s.index[s.index.duplicated()]))}")
        s = s.sort_index(kind="stable")
        out = dict(seeds=[int(i) for i in s.index])
    return dict(mean=float(s.mean()), std=float(s.std()) if len(s) > 1 else 0.0, n=int(len(s)),
                values=[float(v) for v in s], **out)


def by_seed(d: dict, what: str = "values") -> dict[int, float]:
    """seed -> value of a summary from `summarize` (refuses one without seeds: re-derive it)."""
    if "seeds" not in d or len(d["seeds"]) != len(d["values"]):
        raise PairingError(f"{what} has no seed ids; re-derive its record with "
                           "`alexnet run EXPERIMENT --preset P --resummarize`")
    return dict(zip((int(s) for s in d["seeds"]), (float(v) for v in d["values"])))


def paired(a: dict, b: dict, what: str = "the effect") -> dict:
    """Per seed a - b of two summaries (same init, same batches), joined on the seed id;
    summarized, so the spread is that of the paired differences. Refuses different seeds."""
    x, y = by_seed(a, what), by_seed(b, what)
    if set(x) != set(y):
        raise PairingError(f"{what}: the variants ran different seeds ({sorted(x)} vs {sorted(y)}); "
                           "run the missing seeds with `alexnet run ... --seeds`")
    return summarize([x[s] - y[s] for s in sorted(x)], sorted(x))


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
    """variant -> column -> mean/std/n/values/seeds over seeds (`last`: one row per variant
    and seed; NaNs, i.e. censored runs, dropped and counted in `censored`)."""
    out = {}
    for variant, rows in last.groupby("variant", sort=False):
        out[variant] = {}
        rows = rows.set_index("seed")
        for c in columns:
            vals = rows[c].dropna()
            out[variant][c] = dict(summarize(vals) if len(vals) else dict(mean=math.nan, std=0.0, n=0, values=[],
                                                                          seeds=[]),
                                   censored=int(rows[c].isna().sum()))
    return out


def difference(a: dict, b: dict) -> dict:
    """mean(a) - mean(b) with the standard error of the difference of two independent means
    and whether it lies inside the noise (|diff| < 2 standard errors)."""
    se = math.sqrt((a["std"] ** 2) / max(a["n"], 1) + (b["std"] ** 2) / max(b["n"], 1))
    diff = a["mean"] - b["mean"]
    return dict(mean=diff, se=se, inside_noise=bool(abs(diff) < 2 * se) if se > 0 else None)


# --- The one verdict rule, version 2 (the scorecard and, through its rows, every chapter) ---
# A claim of the paper is either a code check (a count, a formula, an equivalence: it holds or
# not) or an effect. Ours is a list of per-seed values of the effect, paired by seed id and
# oriented so that a positive value points the paper's way (e.g. "error without LRN minus
# error with LRN"); the paper's size is in the same units and so, where stated, positive.
#
#   exact           a code check holds (counted apart from the empirical claims)
#   reproduced      the 95% interval over seeds excludes 0 and the mean is within 2x of the
#                   paper's size (or the paper states none); for a "no better than" claim,
#                   the interval lies above -margin (any gain is smaller than the margin)
#   direction       the interval excludes 0 but the mean is more than 2x off the paper's size
#   not reproduced  the interval includes 0 and excludes the paper's size: any effect is
#                   smaller than the paper says
#   inconclusive    the interval covers both 0 and the paper's size (or the paper states no
#                   size), or one seed, or the record fails the regime its claim needs
#                   ("inconclusive (regime)", "inconclusive (one seed)")
#   opposite        the interval excludes 0 on the other side (a "no better than" claim: lies
#                   below -margin); a code check that fails
#   not run         no record at a scale that can test it (ImageNet, a GPU)
VERDICTS = ("exact", "reproduced", "direction", "not reproduced", "inconclusive", "opposite", "not run")
DECISIVE = ("reproduced", "direction", "not reproduced", "opposite")     # what issue 25 asks every CPU claim for
EMPIRICAL = VERDICTS[1:]         # every verdict but the code checks'
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


def seeds_to_decide(values, paper: float | None = None, margin: float | None = None,
                    cap: int = 1000) -> int | None:
    """How many seeds in all an inconclusive claim would need for a decisive verdict if its
    per-seed effects kept their measured mean and standard deviation: the smallest n at which
    the 95% interval (half-width t(n-1) sd / sqrt(n)) would clear a boundary of `verdict`
    (zero; the paper's size for "not reproduced"; -margin for a "no better than" claim).
    None: fewer than two values, or no n up to `cap` (a mean at a boundary)."""
    ci = interval(values)
    if ci["n"] < 2:
        return None
    m, sd = ci["mean"], ci["std"]
    # either side of the interval may decide: lo > 0 or hi < 0 (room |m|); hi < paper, "not
    # reproduced" (room paper - m); for a margin claim, clearing -margin (room |m + margin|)
    rooms = [abs(m + margin)] if margin is not None else [abs(m)] + ([paper - m] if paper is not None else [])
    room = max(rooms)
    if sd == 0:
        return ci["n"]
    for n in range(ci["n"], cap + 1):
        if t975(n - 1) * sd / math.sqrt(n) < room:
            return n
    return None


def verdict(values=None, paper: float | None = None, *, holds: bool | None = None,
            margin: float | None = None, regime: bool = True) -> str:
    """THE rule (version 2, above): a verdict from per-seed effects (`values`, positive = the
    paper's way), the paper's size (`paper`, same units, positive) or, for a "no better than"
    claim, its equivalence `margin` (fixed before any record is read); `regime` False when
    the record fails the gate its claim declares; `holds` for a code check."""
    if holds is not None:
        return "exact" if holds else "opposite"
    if paper is not None and not paper > 0:
        raise ValueError(f"verdict: the paper's size {paper} must be positive (orient the effect "
                         "the paper's way; a claim with no size passes None)")
    ci = interval(values if values is not None else [])     # NaNs (censored seeds) dropped
    if ci["n"] == 0:
        return "not run"
    if not regime:
        return "inconclusive (regime)"
    if ci["n"] == 1:
        return "inconclusive (one seed)"
    if margin is not None:
        return "reproduced" if ci["lo"] > -margin else "opposite" if ci["hi"] < -margin else "inconclusive"
    if ci["lo"] > 0:
        return "reproduced" if paper is None or 0.5 <= ci["mean"] / paper <= 2.0 else "direction"
    if ci["hi"] < 0:
        return "opposite"
    return "not reproduced" if paper is not None and ci["hi"] < paper else "inconclusive"


def word(v: str) -> str:
    """A verdict's category: 'inconclusive (regime)' -> 'inconclusive'."""
    return v.split(" (")[0]


def pct(x, digits: int = 1) -> str:
    """0.1234 -> '12.3%' (a fraction as a percentage); NaN/None -> '–'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%"


def moves(gain: float, what: str = "the test error", digits: int = 1, one: bool = False) -> str:
    """A paired gain in the paper's direction (worse arm minus better arm, a fraction) as words,
    so that a negative one is never read as a fall: 'lower the test error by 1.2 points',
    'raise the test error by 0.4 points' ('lowers', 'raises' for one subject: `one`)."""
    points, s = round(100 * abs(gain), digits), "s" if one else ""
    if points == 0:
        return f"leave{s} {what} unchanged"
    return f"{'lower' if gain > 0 else 'raise'}{s} {what} by {points:.{digits}f} points"


def pm(d: dict, scale: float = 100.0, digits: int = 1, unit: str = "", signed: bool = False) -> str:
    """A summary {mean, std, n} as 'mean ± std' (scaled: 100 turns fractions into points;
    `signed`: '+1.2' for a change); one seed has no spread: 'mean (1 seed)'."""
    if d is None or d.get("n", 1) == 0 or d.get("mean") is None:
        return "–"
    mean, std, sign = scale * d["mean"], scale * (d.get("std") or 0.0), "+" if signed else ""
    if d.get("n", 2) < 2:
        return f"{mean:{sign}.{digits}f}{unit} (1 seed)"
    return f"{mean:{sign}.{digits}f} ± {std:.{digits}f}{unit}"


def epochs_trained(metrics: pd.DataFrame, planned: int | None = None) -> str:
    """The epochs a record's runs trained, from its metrics: "46", or "≤ 46" where §5's schedule
    stopped them at different epochs (46 the longest); `planned` where the metrics have none."""
    if "epoch" not in metrics or metrics.epoch.isna().all():
        return str(planned)
    runs = [c for c in ("variant", "seed") if c in metrics]
    ends = metrics.groupby(runs).epoch.max() if runs else metrics.epoch.agg(["max"])
    return f"≤ {int(ends.max())}" if ends.nunique() > 1 else str(int(ends.max()))


# --- The regime gate: what a record must show before its interval counts -----------------
SETTLED = 0.005      # converged: the mean test error moved < 0.5 points over the last 3 epochs
OVERFIT = 0.10       # overfits: the final test error >= 10 points above the training error


def _train_error(rows: pd.DataFrame) -> pd.Series:
    """The training error a regime is judged by: in test mode where the record measured it
    (dropout off, no augmentation), else the running one SGD saw."""
    if "train_clean_top1_err" in rows and rows.train_clean_top1_err.notna().any():
        return rows.train_clean_top1_err
    return rows.train_err


def drops_made(rows: pd.DataFrame) -> pd.Series:
    """Per seed, how many times the rate fell over its epoch rows (sorted by epoch)."""
    return rows.sort_values("epoch").groupby("seed").lr.apply(lambda lr: int((lr.diff() < 0).sum()))


def regime(rows: pd.DataFrame, epochs: int | None = None, drops: int | None = None) -> dict:
    """One variant's epoch rows (any seeds) against the gate.
    converged: every seed trained all `epochs` or, for a plateau schedule that stops after its
      `drops` (§5), made them all (the schedule finished), and over its last 3
      epochs each seed ran at one rate that is not 0 (so the plateau is the net's, not a
      rate annealed to ~0, as cosine's is) while the test error, averaged over seeds epoch by
      epoch counted from each seed's end, moved < 0.5 points;
    overfits: at each seed's last epoch, test - training error >= 10 points (mean over seeds)."""
    rows = rows.dropna(subset=["val_top1_err"]).sort_values(["seed", "epoch"], kind="stable")
    finished = epochs is None or bool((rows.groupby("seed").epoch.max() >= epochs).all())
    if drops is not None and not finished:             # §5: "reduced three times prior to termination"
        finished = bool((drops_made(rows) >= drops).all())
    one_rate = "lr" in rows and all(
        len(lr) == 3 and lr.iloc[-1] > 0 and (lr - lr.iloc[-1]).abs().max() <= 1e-9 * lr.iloc[-1]
        for _, lr in rows.groupby("seed").lr.apply(lambda s: s.tail(3)).groupby(level=0))
    # Each seed's epochs counted from its own end (0 = its last), so runs that stopped at
    # different epochs (§5's schedule) are compared end to end, then averaged over seeds.
    ends = rows.assign(train=_train_error(rows), from_end=rows.groupby("seed").cumcount(ascending=False)) \
        .groupby("from_end")[["train", "val_top1_err"]].mean()
    last3 = ends.val_top1_err.reindex([2, 1, 0]).dropna()
    span = float(last3.max() - last3.min())
    gap = float(ends.val_top1_err[0] - ends.train[0])
    return dict(finished=finished, one_rate=bool(one_rate), last3_span=span, gap=gap,
                converged=bool(finished and one_rate and len(last3) == 3 and span < SETTLED),
                overfits=bool(gap >= OVERFIT - 1e-9))      # 10 points, not 9.999...: float noise forgiven
