"""What a chapter reads, through one call: `evidence(name)`, where `name` is a claim's id
(`evidence("lrn_cifar_13_11")`) or an experiment's name (`evidence("schedule")`).

It owns what every chapter used to spell out for itself:
- which record: the scorecard's order (paper -> regime -> long -> cpu) or the `preset` asked for;
- the RETRAIN switch: with ALEXNET_RETRAIN=1 the experiment is rerun at the chapter's preset
  (`ALEXNET_PRESET`, else paper on a GPU, cpu otherwise) into a scratch folder, once per
  process, and read from there;
- the scorecard's row for each claim, THE verdict included (a chapter never words one itself);
- the message shown when no record is committed, with the command that makes one.

    ev = evidence("pooling_error")
    ev.row          the scorecard's row (claim, paper, ours, scale, regime, verdict, chapter)
    ev.record       the run record read (None: ev.missing says why and how to make one)
    ev.summary, ev.metrics, ev.config, ev.line (the provenance line for a caption)
    ev.glue()       glue the prose's numbers: the experiment's `facts(record)` and the row's
                    ours / per_seed / regime / scale / line as {glue:text}`<name>_<key>`, the
                    verdict as {glue:md}`<name>_verdict`
    rows("pooling_error", "pooling_overfit")   the chapter's "paper vs ours" table, with the
                    reasons of those still undecided under it
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import records
from ..config import default_preset
from ..harness import registry
from ..harness.declare import Claim
from . import reasons, scorecard
from .scorecard import tag

_SCRATCH: dict[str, Path] = {}          # experiment -> the folder this process retrained it into


def retrain() -> bool:
    """ALEXNET_RETRAIN=1: chapters rerun their experiments instead of reading the records."""
    return os.environ.get("ALEXNET_RETRAIN") == "1"


def _retrained(experiment: str) -> records.Record:
    from ..harness.runner import run_experiment
    preset = default_preset()
    if experiment not in _SCRATCH:
        _SCRATCH[experiment] = Path(tempfile.mkdtemp(prefix="alexnet-"))
        run_experiment(experiment, preset, results=_SCRATCH[experiment])
    return records.load(experiment, preset, root=_SCRATCH[experiment])


@dataclass
class Evidence:
    name: str                          # the claim id or experiment asked for
    experiment: str | None
    claim: Claim | None
    record: records.Record | None
    row: dict | None                   # the scorecard's row (claims only)
    missing: str = ""                  # why there is no record, and the command that makes one

    @property
    def summary(self) -> dict:
        return self.record.summary if self.record else {}

    @property
    def metrics(self) -> pd.DataFrame:
        return self.record.metrics if self.record else pd.DataFrame()

    @property
    def config(self) -> dict:
        return self.record.config.get("base", self.record.config) if self.record else {}

    @property
    def line(self) -> str:
        return self.record.line() if self.record else self.missing

    @property
    def per_seed(self) -> str:
        """The claim's per-seed effects as the scorecard counts them ('+1.35, +0.60 points')."""
        if self.record is None or self.claim is None or self.claim.effect is None:
            return ""
        try:
            return scorecard.per_seed(scorecard.effects(self.claim, self.record), self.claim.unit)
        except KeyError:              # a record made before the claim's design: its row says "not run"
            return "–"

    @property
    def verdict(self) -> str:
        return self.row["verdict"] if self.row else ""

    @property
    def verdict_md(self):
        """THE verdict for prose, marked with its claim (the built-page test reads the mark):
        `glue("x", ev.verdict_md, display=False)`, then {glue:md}`x` in the text."""
        from IPython.display import Markdown
        return Markdown(tag(self.name, self.verdict))

    def facts(self) -> dict[str, str]:
        """The strings the prose quotes, from the experiment's `facts(record)` (if it has one)
        and, for a claim, its row: `ours`, `per_seed`, `regime`, `scale`, `verdict` (marked)."""
        out = {}
        module = registry.get(self.experiment) if self.experiment else None
        if self.record is not None and hasattr(module, "facts"):
            out.update(module.facts(self.record))
        if self.row is not None:
            out.update(ours=self.row["ours"], regime=self.row["regime"] or "–", scale=self.row["scale"],
                       per_seed=self.per_seed, line=self.line)
        if self.record is not None:          # the record read here (a chapter's quick one too), not the row's
            n = len(self.record.provenance.get("seeds") or [])
            out.update(scale=scorecard.scale_text(self.record), seeds_n=f"{n} seed{'s' * (n != 1)}")
        return out

    def glue(self, name: str | None = None) -> "Evidence":
        """Glue `facts()` for the prose, each as `{name}_{key}` ({glue:text}), and the verdict as
        `{name}_verdict` ({glue:md}, marked with its claim). `name` (default: the one asked for)
        tells apart two records of one experiment on a page, e.g. a grid and the claim's record.
        Returns itself."""
        name = name or self.name
        from myst_nb import glue
        if self.record is None and self.missing:            # the page says why, in one short note
            from IPython.display import Markdown, display
            display(Markdown(f"> **Note.** {self.missing}"))
        for key, text in self.facts().items():
            glue(f"{name}_{key}", text, display=False)
        if self.row is not None:
            glue(f"{name}_verdict", self.verdict_md, display=False)
        return self

    def __bool__(self) -> bool:
        return self.record is not None


def _missing(experiment: str, presets) -> str:
    wanted = presets[0] if len(presets) == 1 else "long"
    if wanted not in registry.declared(experiment).presets:
        wanted = "cpu"
    return (f"No `{'` or `'.join(presets)}` record of `{experiment}` is committed yet: "
            f"`alexnet run {experiment} --preset {wanted}` makes one.")


def evidence(name: str, preset: str | None = None) -> Evidence:
    """The record and the scorecard row behind claim id or experiment `name` (see above); a
    benchmark's record (`bench_*`, preset `cpu` unless given) is read the same way."""
    if name.startswith("bench_"):
        return _bench(name, preset or "cpu")
    found = {c.id: c for c in scorecard.claims()}
    is_experiment = name in registry.names() and name not in found      # a claim id wins (vgg_depth is both)
    claim = None if is_experiment else found.get(name) or scorecard.claim(name)   # the latter: its error
    experiment = name if is_experiment else claim.experiment
    if experiment is None:                                  # a code check or an ImageNet-scale claim
        return Evidence(name, None, claim, None, scorecard.row(claim))
    order = (preset,) if preset else scorecard.PRESET_ORDER
    try:
        rec = _retrained(experiment) if retrain() else scorecard.record(experiment, order)
    except records.CorruptRecord as err:                   # a short note on the page, not a traceback
        return Evidence(name, experiment, claim, None, claim and scorecard.row(claim), f"Damaged record: {err}")
    # The row is always the scorecard's: from the scorecard's record (or the reader's retrained one).
    row = None
    if claim is not None:
        row = scorecard.row(claim, rec=rec) if retrain() else scorecard.row(claim)
    return Evidence(name, experiment, claim, rec, row, "" if rec else _missing(experiment, order))


def _bench(name: str, preset: str) -> Evidence:
    """A benchmark's record (`alexnet bench WHAT`): read, never retrained by a chapter."""
    try:
        rec = scorecard.record(name, (preset,))
    except records.CorruptRecord as err:
        return Evidence(name, None, None, None, None, f"Damaged record: {err}")
    what = name.removeprefix("bench_")
    return Evidence(name, None, None, rec, None, "" if rec else
                    f"No `{name}/{preset}` record is committed yet: `alexnet bench {what}` makes one.")


def marked(held: pd.DataFrame | None = None) -> dict[str, dict[str, str]]:
    """The claims whose verdict carries a mark on a page, by the mark's anchor
    (`scorecard.MARKS`), each with the other verdict: seeds added after a look changed it (†),
    or the held-out check changes it (‡; `held`: `heldout.table()` where the page has it already).
    None when retraining: both read the committed records."""
    if retrain():
        return {}
    from . import campaign, heldout
    held = heldout.table() if held is None else held
    return {"after-look": campaign.moved_after_look(), "heldout-check": heldout.moved(held)}


def frame(*ids: str) -> pd.DataFrame:
    """The scorecard's rows of these claims, verdicts marked (`tag`, and the scorecard's †/‡
    linking to it), indexed by claim."""
    shown = pd.DataFrame([evidence(i).row for i in ids])
    marks = scorecard.marks(marked(), page="scorecard.html")
    shown["verdict"] = [tag(i, v) + marks.get(i, "") for i, v in zip(shown.id, shown.verdict)]
    shown = shown.drop(columns=["id", "chapter"]).set_index("claim")
    return shown[["verdict", *[c for c in shown.columns if c != "verdict"]]]   # in sight on a narrow page


def rows(*ids: str):
    """A chapter's "paper vs ours" table: the scorecard's rows of these claims, as HTML; under it,
    the closing chapter's reasons for those still undecided (`undecided`)."""
    from IPython.display import HTML
    table = frame(*ids).reset_index().to_html(index=False, escape=False, border=0, classes="scorecard")
    return HTML(table + undecided(*ids))


def undecided(*ids: str) -> str:
    """The `reasons` rows of these claims whose verdict is inconclusive or not yet measured: why,
    the command that would decide each and the CPU-hours its record cost, as HTML ('' if none).
    Not when retraining: the reasons read the committed records."""
    if retrain():
        return ""
    why = reasons.reasons(pd.DataFrame([evidence(i).row for i in ids]))
    open_ = why[why.verdict.str.startswith("inconclusive") | (why.reason == reasons.GROUPS["not run yet"][0])]
    if open_.empty:
        return ""
    return ('<p class="undecided">Not decided yet: why, and what would decide it '
            "(the scorecard's reasons):</p>" + reasons.html(open_, chapter=False))
