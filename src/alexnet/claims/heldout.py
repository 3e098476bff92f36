"""Each claim read again on test images its schedule never saw (the record `heldout`, made by
`alexnet run heldout --preset regime`: nothing trains).

A source record's last-epoch test errors are replaced by those of the same nets on CIFAR-10's
other test images, its summary is re-derived from those metrics (as `--resummarize` does), and
the claim's row comes from the one rule (`scorecard.row`) beside the row of the same seeds as
recorded. The gate reads the record's curves as they ran: only the number the verdict reads
moves to the other images. A claim whose per-seed effects do not change reads no test error
(ten-crop's views, dropout's epochs, conv1's colours) and is left out.

    table()        a row per claim: seeds, effect and verdict on the schedule's images, and on the rest
    shift(check)   per record, the mean held-out error minus the schedule's images' error (points)
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from .. import records
from ..harness.runner import at_seeds, last_epochs, summary_from
from . import scorecard

PRESET = "regime"
SWAPPED = {"val_top1_err": "heldout_top1_err", "val_top5_err": "heldout_top5_err"}   # record column <- check's


def check(root: Path | None = None, preset: str = PRESET) -> records.Record | None:
    """The committed check (None: not made yet)."""
    return records.load("heldout", preset, root=root) if records.record_dir("heldout", preset, root).exists() else None


def on_heldout(rec: records.Record, runs: pd.DataFrame) -> records.Record:
    """`rec` at the seeds the check read, its last-epoch test errors those of the held-out images
    (`runs`: the check's metrics of this record) and its summary re-derived from them; its
    metrics (the curves the gate reads) as they ran."""
    seen = at_seeds(rec, sorted(int(s) for s in runs.seed.unique()))
    metrics = seen.metrics.copy()
    last = last_epochs(metrics)
    by_run = runs.set_index(["variant", "seed"])
    for column, theirs in SWAPPED.items():
        metrics.loc[last.index, column] = [by_run.at[(v, s), theirs] for v, s in zip(last.variant, last.seed)]
    return dataclasses.replace(seen, summary=summary_from(seen, metrics))


def table(root: Path | None = None, preset: str = PRESET) -> pd.DataFrame:
    """A row per claim that reads a test error: the seeds read, and on each part of the test set
    the effect (mean ± std over seeds) and the verdict; the verdict the scorecard gives now (all
    the record's seeds) beside them."""
    made, rows = check(root, preset), []
    for experiment, runs in (made.metrics.groupby("experiment", sort=False) if made else []):
        rec = records.load(experiment, preset, root=root)
        seeds = sorted(int(s) for s in runs.seed.unique())
        seen, unseen = at_seeds(rec, seeds), on_heldout(rec, runs)
        for c in (c for c in scorecard.claims() if c.experiment == experiment and c.effect is not None):
            if scorecard.effects(c, seen) == scorecard.effects(c, unseen):
                continue
            a, b = scorecard.row(c, rec=seen), scorecard.row(c, rec=unseen)
            rows.append({"claim": c.id, "seeds read": f"{len(seeds)} of {len(rec.provenance.get('seeds', []))}",
                         "schedule's images": a["ours"], "verdict there": a["verdict"],
                         "held-out images": b["ours"], "verdict on them": b["verdict"],
                         "scorecard now": scorecard.row(c, rec=rec)["verdict"]})
    return pd.DataFrame(rows).set_index("claim") if rows else pd.DataFrame()


def shift(made: records.Record) -> pd.Series:
    """Per source record: mean over its nets of the held-out top-1 error minus the schedule's
    images' (points; > 0: the schedule's images read lower). The two parts are different images,
    so this mixes how hard each part is with any leaning of the schedule on its own."""
    m = made.metrics
    return (100 * (m.heldout_top1_err - m.schedule_top1_err)).groupby(m.experiment, sort=False).mean()
