"""Each claim read again on test images its schedule never saw (the record `heldout`, made by
`alexnet run heldout --preset regime`: nothing trains).

A source record's last-epoch test errors are replaced by those of the same nets on CIFAR-10's
other test images, its summary is re-derived from those metrics (as `--resummarize` does), and
the claim's row comes from the one rule (`scorecard.row`) beside the row of the same seeds as
recorded. The gate reads the record's curves as they ran: only the number the verdict reads
moves to the other images. A claim whose per-seed effects do not change reads nothing the check
re-measures (ten-crop's ten views, dropout's epochs, conv1's colours) and is left out.

    table()        a row per claim: seeds, effect and verdict on the schedule's images, and on the rest
    moved(t)       the claims whose verdict there differs from the schedule's images' at the same
                   seeds (the scorecard marks them ‡)
    glue()         a chapter's sentences on its claims there (`facts`)
    kept(t)        how many keep their verdict ('7 of the 9')
    agreement(t)   how many keep their verdict, and how the others move (for the prose)
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
    the effect (mean ± std over seeds) and the verdict (the scorecard's own row reads all the
    record's seeds; the seeds column says how many of them the check read)."""
    made, rows = check(root, preset), []
    for experiment, runs in (made.metrics.groupby("experiment", sort=False) if made else []):
        rec = records.load(experiment, preset, root=root)
        seeds = sorted(int(s) for s in runs.seed.unique())
        seen, unseen = at_seeds(rec, seeds), on_heldout(rec, runs)
        for c in (c for c in scorecard.claims() if c.experiment == experiment and c.effect is not None):
            if scorecard.effects(c, seen) == scorecard.effects(c, unseen):
                continue
            a, b = scorecard.row(c, rec=seen), scorecard.row(c, rec=unseen)
            rows.append({"claim": c.id, "seeds read": read_of(seeds, rec.provenance.get("seeds", [])),
                         "schedule's images": a["ours"], "verdict there": a["verdict"],
                         "held-out images": b["ours"], "verdict on them": b["verdict"]})
    return pd.DataFrame(rows).set_index("claim") if rows else pd.DataFrame()


def read_of(seeds: list[int], planned: list[int]) -> str:
    """'7 of 10 (not 6, 7, 8)': the seeds the check read of a record's, naming those it did not."""
    left = [str(s) for s in planned if s not in seeds]
    return f"{len(seeds)} of {len(planned)}" + (f" (not {', '.join(left)})" if left else "")


def moved(t: pd.DataFrame) -> dict[str, str]:
    """claim id -> its verdict on the held-out images, where that differs from its verdict on the
    schedule's images at the same seeds (the seeds the check read; `table()` shows how many of
    the record's)."""
    return {i: r["verdict on them"] for i, r in t.iterrows() if r["verdict on them"] != r["verdict there"]} \
        if not t.empty else {}


def kept(t: pd.DataFrame) -> str:
    """'7 of the 9': the claims of `table()` whose verdict is the same on both parts of the test set."""
    return f"{int((t['verdict there'] == t['verdict on them']).sum())} of the {len(t)}" if not t.empty else "none of the 0"


def agreement(t: pd.DataFrame) -> str:
    """'7 of 9 claims keep their verdict on the held-out images; pooling_error moves from
    direction to reproduced' (from `table()`)."""
    if t.empty:
        return "no claim is read on held-out images yet"
    return f"{kept(t)} claims keep their verdict on the held-out images" + "".join(
        f"; {i} moves from {t.at[i, 'verdict there']} to {now}" for i, now in moved(t).items())


def facts(t: pd.DataFrame) -> dict[str, str]:
    """Per claim of `table()`: `<id>_ours`, its effect on the held-out images, `<id>_there`, on
    the schedule's images at the same seeds, `<id>_seeds`, which of the record's seeds it read, and `<id>_same`,
    whether its verdict at those seeds holds there, in words that name no verdict (a chapter's
    verdict is the scorecard's alone; the scorecard page shows the other one)."""
    out, moves = {}, moved(t)
    for i, r in t.iterrows():
        out[f"{i}_ours"], out[f"{i}_there"] = r["held-out images"], r["schedule's images"]
        out[f"{i}_seeds"] = r["seeds read"]
        out[f"{i}_same"] = ("the rule gives another verdict there (the scorecard's ‡)" if i in moves
                            else "the rule gives the same verdict there")
    return out


def glue(t: pd.DataFrame | None = None) -> pd.DataFrame:
    """Glue `facts` for a chapter's prose as {glue:text}`heldout_<id>_ours` / `_same`; the table."""
    from myst_nb import glue as glue_
    t = table() if t is None else t
    for key, text in facts(t).items():
        glue_(f"heldout_{key}", text, display=False)
    return t
