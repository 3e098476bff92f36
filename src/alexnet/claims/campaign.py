"""The campaign's plan beside what it has done (issue 25): one row per record its queue grows.

The queue (`scripts/campaign-queue.txt`, read by `scripts/campaign.py`) lists, cheapest first,
`experiment preset seeds minutes`: the seeds a record should hold and the estimated wall
minutes of one seed on one thread. `table()` sets each line beside its record: the claims it
decides, its design (images and the ceiling on epochs, from the experiment's declaration), the
seeds committed so far and the CPU-hours they took (measured, from the provenance).

    table()          the plan and the progress, a row per record (its queue lines merged)
    totals(table())  planned and spent CPU-hours, seeds done of seeds planned
    after_look()     the records that later lines grew after a verdict was read, with their claims'
                     verdicts now (seeds added until the rule decides: sequential testing)
    moved_after_look()  the claims whose verdict those added seeds changed (the scorecard marks them)
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import records
from ..config import ConfigError
from ..harness import registry
from . import scorecard


def queue_path() -> Path:
    return records.project_root() / "scripts" / "campaign-queue.txt"


def queue(path: Path | None = None) -> list[dict]:
    """The queue's lines: experiment, preset, seeds (ints), minutes (per seed, one thread)."""
    path = path or queue_path()
    if not path.exists():
        raise ConfigError(f"no campaign queue at {path}: the campaign's plan lives in scripts/campaign-queue.txt")
    out = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            exp, preset, seeds, minutes = line.split()[:4]
            out.append(dict(experiment=exp, preset=preset, seeds=[int(s) for s in seeds.split(",")],
                            minutes=float(minutes)))
    return out


def _design(experiment: str, preset: str) -> str:
    """'8,000 images, ≤ 60 epochs' from the preset as the experiment declares it."""
    from ..harness.runner import resolved
    cfg = resolved(experiment, preset)
    images = f"{cfg.train_limit:,} images" if cfg.train_limit else "all training images"
    return f"{images}, ≤ {cfg.epochs} epochs"


def _by_record(lines: list[dict]) -> list[dict]:
    """Queue lines merged per record, in the order each record first appears (a later line that
    adds seeds to a record is one row with it, its CPU-hours counted once); `minutes`: all the
    record's seeds together."""
    merged: dict[tuple[str, str], dict] = {}
    for line in lines:
        row = merged.setdefault((line["experiment"], line["preset"]), dict(line, seeds=[], minutes=0.0))
        row["seeds"] += [s for s in line["seeds"] if s not in row["seeds"]]
        row["minutes"] += len(line["seeds"]) * line["minutes"]
    return list(merged.values())


def table(path: Path | None = None, root: Path | None = None) -> pd.DataFrame:
    """A row per record the queue grows: record, claims, design, seeds planned (the queue's and any
    the record held before) and done, the queue's estimate and the measured CPU-hours (NaN where no
    seed is committed yet)."""
    claims = {}
    for c in scorecard.claims():
        if c.experiment:
            claims.setdefault(c.experiment, []).append(c.id)
    rows = []
    for line in _by_record(queue(path)):
        exp, preset = line["experiment"], line["preset"]
        rec = records.load(exp, preset, root=root) if records.record_dir(exp, preset, root).exists() else None
        have = sorted(int(s) for s in rec.provenance.get("seeds", [])) if rec else []
        planned = line["seeds"] + [s for s in have if s not in line["seeds"]]   # and seeds made before the queue
        done = [s for s in planned if s in have]
        spent = records.spent(rec.provenance, rec.metrics)[1] if rec else float("nan")
        rows.append({"record": f"{exp}/{preset}", "seeds planned": len(planned), "seeds done": len(done),
                     "est. CPU-h": round(line["minutes"] / 60, 1),
                     "CPU-h spent": round(spent, 2),       # the numbers first: in sight on a narrow page
                     "design": _design(exp, preset) if preset in registry.declared(exp).presets else "–",
                     "claims": ", ".join(claims.get(exp, [])) or "–"})
    return pd.DataFrame(rows).set_index("record")


def totals(t: pd.DataFrame) -> dict:
    """Planned (the queue's estimates) and spent (measured) CPU-hours, seeds done of seeds
    planned, and the hours still to come: the estimate of the seeds left, rescaled by how the
    finished lines' measured hours compare with their estimates."""
    done = t[t["seeds done"] == t["seeds planned"]]
    scale = float(done["CPU-h spent"].sum() / done["est. CPU-h"].sum()) if len(done) else 1.0
    left = float((t["est. CPU-h"] * (1 - t["seeds done"] / t["seeds planned"])).sum())
    return {"planned": float(t["est. CPU-h"].sum()), "spent": float(t["CPU-h spent"].fillna(0).sum()),
            "seeds_done": int(t["seeds done"].sum()), "seeds_planned": int(t["seeds planned"].sum()),
            "scale": scale, "to_come": left * scale}


def _looks(path: Path | None, root: Path | None):
    """(experiment, preset, seeds first planned, seeds added, the record, the record at those
    first seeds) for each record a later queue line grew."""
    from ..harness.runner import at_seeds
    firsts: dict[tuple[str, str], list[int]] = {}
    added: dict[tuple[str, str], list[int]] = {}
    for line in queue(path):
        key = (line["experiment"], line["preset"])
        if key in firsts:
            added[key] += [s for s in line["seeds"] if s not in firsts[key] + added[key]]
        else:
            firsts[key], added[key] = line["seeds"], []
    for (exp, preset), more in added.items():
        if more and records.record_dir(exp, preset, root).exists():
            rec = records.load(exp, preset, root=root)
            yield exp, preset, firsts[exp, preset], more, rec, at_seeds(rec, firsts[exp, preset])


def after_look(path: Path | None = None, marked: bool = False, root: Path | None = None) -> pd.DataFrame:
    """A row per record whose seeds a later queue line added, once its first line's seeds had
    given an undecided verdict: the seeds first planned and the verdicts they give alone (the
    record re-read at those seeds, `runner.at_seeds`), the seeds added, those committed, and
    the verdicts now. An interval tested again after each look excludes zero by chance more
    often than its nominal 5%, so a verdict decided after more looks is less sure.
    `marked`: each verdict now as a page shows it (`scorecard.tag`, HTML)."""
    rows = []
    for exp, preset, first, more, rec, then in _looks(path, root):
        ids = [c for c in scorecard.claims() if c.experiment == exp]
        now = {c.id: scorecard.row(c, rec=rec)["verdict"] for c in ids}
        rows.append({"record": f"{exp}/{preset}", "seeds first planned": _seeds(first),
                     "verdicts at those seeds": "; ".join(f"{c.id}: {scorecard.row(c, rec=then)['verdict']}"
                                                          for c in ids),
                     "seeds added after a look": _seeds(more),
                     "seeds committed": _seeds(rec.provenance.get("seeds", [])),
                     "verdicts now": "; ".join(f"{i}: {scorecard.tag(i, v) if marked else v}" for i, v in now.items())})
    return pd.DataFrame(rows).set_index("record") if rows else pd.DataFrame()


def moved_after_look(path: Path | None = None, root: Path | None = None) -> dict[str, str]:
    """claim id -> its verdict at the seeds first planned, for each claim whose verdict now (the
    scorecard's) differs from it: a verdict the seeds added after a look changed, either way."""
    out = {}
    for exp, _, _, _, rec, then in _looks(path, root):
        for c in (c for c in scorecard.claims() if c.experiment == exp):
            before, now = scorecard.row(c, rec=then)["verdict"], scorecard.row(c, rec=rec)["verdict"]
            if before != now:
                out[c.id] = before
    return out


def _seeds(seeds: list[int]) -> str:
    return ", ".join(map(str, sorted(seeds)))


def spent_text(t: pd.DataFrame, root: Path | None = None) -> str:
    """The campaign's cost so far, measured: the CPU-hours of the records its queue grows (all
    their seeds), the seeds committed of those planned, and beside them all committed records'."""
    done, every = totals(t), scorecard.cpu_hours(root)
    return (f"{done['spent']:.1f} CPU-hours for the records it grows, {done['seeds_done']} of its "
            f"{done['seeds_planned']} seeds committed ({every.cpu_hours.sum():.1f} CPU-hours for all "
            f"{len(every)} committed records)")

