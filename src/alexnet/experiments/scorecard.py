"""The scorecard: every claim of both papers the book addresses, the paper's value, ours,
the scale we measured it at, and THE verdict (`alexnet.stats.verdict`), from the records.

    table()                 one row per claim, reading the `long` record where one is
                            committed and the `cpu` record otherwise
    table(presets=("cpu",)) the same from the quick `cpu` records only (the "before")
    counts(table())         verdict -> number of claims

Each claim names how to read its per-seed effect from a record, oriented so that a positive
value points the paper's way (e.g. "error without LRN minus error with LRN"), and the
paper's size of that effect in the same units where the paper states one. Counts and
equivalences are checked live (`holds`), claims that need ImageNet at full scale are
"not run" and name the command.
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pandas as pd

from .. import records, stats
from .claims import CLAIMS, Claim

PRESET_ORDER = ("paper", "long", "cpu")   # the paper-scale record where one was made on this CPU


def _record(experiment: str, order) -> records.Record | None:
    for preset in order:
        try:
            return records.load(experiment, preset)
        except FileNotFoundError:
            continue
    return None


def _scale_text(rec: records.Record) -> str:
    """Dataset, training images, epochs actually trained (from the metrics) and the preset."""
    base = rec.config.get("base", rec.config)
    images = base.get("train_limit") or "all"
    images = f"{images:,}" if isinstance(images, int) else images
    epochs = base.get("epochs")
    if "epoch" in rec.metrics and rec.metrics.epoch.notna().any():
        epochs = int(rec.metrics.epoch.max())
    data = rec.provenance.get("data", {})
    dataset = "ImageNet 10-class sample" if data.get("folder") == "imagenet-sample" else base.get("dataset")
    return f"{dataset}, {images} images, {epochs} epochs, {rec.preset}"


def _ours(effects: list[float], unit: str) -> str:
    ci = stats.interval(effects)
    if ci["n"] == 0:
        return "–"
    scale = {"points": 100.0, "x-1": 1.0, "plain": 1.0, "epochs": 1.0}[unit]
    offset = 1.0 if unit == "x-1" else 0.0
    mean = scale * ci["mean"] + offset
    spread = f" ± {scale * ci['std']:.2f}" if ci["n"] > 1 else ""
    suffix = {"points": " points", "x-1": "×", "plain": "", "epochs": " epochs"}[unit]
    return f"{mean:.2f}{spread}{suffix} (n={ci['n']})"


def row(c: Claim, order=PRESET_ORDER) -> dict:
    """One scorecard row for claim `c`."""
    out = dict(claim=c.claim, paper=c.paper, ours="–", scale="", verdict="not run", chapter=c.chapter)
    if c.holds is not None:
        ok, text = c.holds()
        return {**out, "ours": text, "scale": "computed live", "verdict": stats.verdict(holds=ok)}
    rec = _record(c.experiment, order) if c.experiment else None
    if rec is None or c.effect is None:
        return {**out, "scale": "needs ImageNet / a GPU" if not c.experiment else "no record yet"}
    try:
        effects = [v for v in c.effect(rec.summary) if v is not None and not math.isnan(v)]
    except (KeyError, TypeError, IndexError):
        effects = []
    return {**out, "ours": _ours(effects, c.unit), "scale": _scale_text(rec),
            "verdict": stats.verdict(effects, c.size)}


def table(presets=PRESET_ORDER) -> pd.DataFrame:
    """The scorecard, one row per claim."""
    return pd.DataFrame([row(c, presets) for c in CLAIMS])


def counts(card: pd.DataFrame) -> dict:
    """verdict -> number of claims, in the rule's order."""
    return {v: int((card.verdict == v).sum()) for v in stats.VERDICTS}


def regimes(experiments=("dropout", "pooling", "augmentation", "weight_decay", "lrn_cifar"),
            preset: str = "long") -> pd.DataFrame:
    """Per `long` record: is its least regularised variant in the paper's regime?"""
    least = {"dropout": "p0", "pooling": "plain", "augmentation": "none", "weight_decay": "no_decay",
             "lrn_cifar": "13pct"}
    rows = []
    for name in experiments:
        rec = _record(name, (preset,))
        if rec is None:
            rows.append(dict(experiment=name, variant=least[name], overfits=None, plateaued=None))
            continue
        m = rec.metrics
        r = stats.regime(m[m.variant == least[name]])
        rows.append(dict(experiment=name, variant=least[name], **r))
    return pd.DataFrame(rows)


def cpu_hours(root=None) -> pd.DataFrame:
    """Wall-clock hours and CPU-hours (hours x torch threads) of every committed record, from
    its provenance (start and end times, threads)."""
    rows = []
    for path in sorted(Path(root or records.results_root()).glob("*/*/provenance.json")):
        p = json.loads(path.read_text())
        start, end = (datetime.strptime(p[k], "%Y-%m-%dT%H:%M:%SZ") for k in ("started_utc", "ended_utc"))
        hours = (end - start).total_seconds() / 3600
        threads = p.get("hardware", {}).get("torch_threads") or 1
        rows.append(dict(record=f"{path.parent.parent.name}/{path.parent.name}", hours=hours,
                         threads=threads, cpu_hours=hours * threads))
    return pd.DataFrame(rows)


def html(card: pd.DataFrame, base: str = "") -> str:
    """The scorecard as an HTML table, each chapter name a link to its page (`base`: the
    chapters' folder relative to the page that shows it)."""
    shown = card.assign(chapter=[f'<a href="{base}{c}.html">{c}</a>' for c in card.chapter])
    return shown.to_html(index=False, escape=False, border=0, classes="scorecard")


def regime_table() -> pd.DataFrame:
    """`regimes()` for reading: gaps and spans in points."""
    r = regimes()
    for col in ("gap", "last3_span"):
        if col in r:
            r[col] = (100 * r[col]).round(2)
    return r.rename(columns={"gap": "test − train error (points)",
                             "last3_span": "last 3 epochs' span (points)"}).set_index("experiment")


HEADLINE = ("AlexNet has 60 million", "ReLU reaches 25%", "LRN on CIFAR-10", "Dropout reduces overfitting",
            "VGG: error falls with depth")


def headline(card: pd.DataFrame) -> pd.DataFrame:
    """Five rows for the book's first page, and one more with the verdict counts."""
    rows = card[[any(c.startswith(h) for h in HEADLINE) for c in card.claim]]
    tally = ", ".join(f"{n} {v}" for v, n in counts(card).items() if n)
    total = pd.DataFrame([dict(claim=f"All {len(card)} claims", paper="", ours=tally, scale="",
                               verdict="", chapter="scorecard")])
    return pd.concat([rows, total], ignore_index=True)[["claim", "paper", "ours", "verdict", "chapter"]]


LONG_RECORDS = ("dropout", "pooling", "augmentation", "weight_decay", "two_columns", "depth_ablation", "lrn_cifar")


def long_records(preset: str = "long") -> list:
    """The committed `long` records, in the order the scorecard lists their claims."""
    return [r for r in (_record(name, (preset,)) for name in LONG_RECORDS) if r is not None]
