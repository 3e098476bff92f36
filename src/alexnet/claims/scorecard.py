"""The scorecard: every claim of both papers the book addresses, the paper's value, ours, the
scale we measured it at, the regime gate, and THE verdict (`alexnet.stats.verdict`).

    claims()                every claim: the code checks, each experiment's declared claims, and
                            the ImageNet-scale ones, in the book's chapter order
    row(claim)              one row, from the record the claim reads (paper -> regime -> long -> cpu)
    table()                 all rows; `empirical(table())` and `checks(table())` split them
    counts(rows)            verdict category -> number of claims

A claim reads its per-seed effect from a record (paired by seed id, positive = the paper's
way), checks the record against the regime it declares (`stats.regime`), and the rule turns
the effect, the paper's size (or a "no better than" margin) and the gate into a verdict.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from .. import records, stats
from ..harness import registry
from ..harness.declare import Claim
from .checks import CODE_CHECKS, NOT_RUN

PRESET_ORDER = ("paper", "regime", "long", "cpu")   # the paper-scale record where one was made, then the rest
# The book's order, which the scorecard follows (a claim sits with the chapter that discusses it).
CHAPTERS = ("architecture", "relu", "lrn", "pooling", "multi_gpu", "augmentation", "dropout", "learning",
            "depth", "learned", "results", "vgg")


def claims() -> list[Claim]:
    """Every claim, in chapter order (within a chapter: code checks, then by experiment)."""
    declared = [c for name in registry.names() for c in registry.declared(name).claims]
    every = [*CODE_CHECKS, *declared, *NOT_RUN]
    return sorted(every, key=lambda c: CHAPTERS.index(c.chapter))


def claim(claim_id: str) -> Claim:
    found = {c.id: c for c in claims()}
    if claim_id not in found:
        raise KeyError(f"no claim {claim_id!r}; the claims are {', '.join(found)}")
    return found[claim_id]


def record(experiment: str, order=PRESET_ORDER, root: Path | None = None) -> records.Record | None:
    """The first committed record of `experiment` in `order`, or None."""
    for preset in order:
        try:
            return records.load(experiment, preset, root=root)
        except FileNotFoundError:
            continue
    return None


def scale_text(rec: records.Record) -> str:
    """Dataset, training images, epochs actually trained (`stats.epochs_trained`: "≤ N" where
    §5's schedule stopped its runs at different epochs) and the preset."""
    base = rec.config.get("base", rec.config)
    images = base.get("train_limit") or "all"
    images = f"{images:,}" if isinstance(images, int) else images
    epochs = stats.epochs_trained(rec.metrics, base.get("epochs"))
    data = rec.provenance.get("data", {})
    dataset = "ImageNet 10-class sample" if data.get("folder") == "imagenet-sample" else base.get("dataset")
    return f"{dataset}, {images} images, {epochs} epochs, {rec.preset}"


def gate(c: Claim, rec: records.Record) -> tuple[bool, str]:
    """Does `rec` pass the regime `c` declares? (passes, text for the regime column)."""
    r = c.regime
    if not r.gated:
        return True, "none needed"
    m = rec.metrics.dropna(subset=["epoch", "val_top1_err"])
    base = rec.config.get("base", rec.config)
    epochs = base.get("epochs")
    drops = base.get("lr_drops") if base.get("schedule") == "plateau" and base.get("stop_after_drops") else None
    parts, ok = [], True
    if r.converged:
        per = {v: stats.regime(rows, epochs, drops) for v, rows in m.groupby("variant", sort=False)}
        conv = bool(per) and all(p["converged"] for p in per.values())
        failed = [p for p in per.values() if not p["converged"]]
        spans = [f"{100 * p['last3_span']:.1f}" for p in failed if p["finished"] and p["one_rate"]]
        reasons = sorted({"unfinished" if not p["finished"] else "rate not constant" for p in failed
                          if not (p["finished"] and p["one_rate"])})
        reasons += [f"last 3 epochs moved {' / '.join(spans)} pts{' per arm' * (len(spans) > 1)}"] if spans else []
        why = "" if conv else f" ({', '.join(reasons)})"
        parts.append(f"converged {'✓' if conv else '✗'}{why}")
        ok = ok and conv
    if r.overfits:
        rows = m[m.variant == r.overfits]
        over = stats.regime(rows, epochs, drops) if len(rows) else dict(overfits=False, gap=math.nan)
        parts.append(f"the {r.overfits} arm overfits {'✓' if over['overfits'] else '✗'} (gap {100 * over['gap']:.1f} pts)")
        ok = ok and over["overfits"]
    if r.learned:
        learned, why = r.learned(rec.summary)
        parts.append(f"learned {'✓' if learned else '✗'} ({why})")
        ok = ok and learned
    return ok, "; ".join(parts)


# How a claim's effect is shown, by its unit: (scale, offset, suffix). "x-1" is a ratio stored
# as ratio - 1 (so that 0 means no effect), shown as the ratio.
UNITS = {"points": (100.0, 0.0, " points"), "x-1": (1.0, 1.0, "×"), "plain": (1.0, 0.0, ""),
         "epochs": (1.0, 0.0, " epochs")}
DIGITS = {"plain": 3}        # decimals shown (2 unless named): colourfulness differs in the third


def ours(effects: list[float], unit: str) -> str:
    """Mean ± std of the per-seed effect, in the claim's unit, and n."""
    ci = stats.interval(effects)
    if ci["n"] == 0:
        return "–"
    scale, offset, suffix = UNITS[unit]
    d = DIGITS.get(unit, 2)
    spread = f" ± {scale * ci['std']:.{d}f}" if ci["n"] > 1 else ""
    return f"{scale * ci['mean'] + offset:.{d}f}{spread}{suffix} (n={ci['n']})"


def per_seed(effects: list[float], unit: str) -> str:
    """Each seed's effect in the claim's unit ('+1.35, +0.60 points'; a ratio as '1.67×, 2.00×')."""
    scale, offset, suffix = UNITS[unit]
    if unit == "x-1":
        return ", ".join(f"{scale * v + offset:.2f}{suffix}" for v in effects)
    return ", ".join(f"{scale * v + offset:+.{DIGITS.get(unit, 2)}f}" for v in effects) + suffix


def effects(c: Claim, rec: records.Record) -> list[float]:
    """The claim's per-seed effects in `rec` (NaNs of censored seeds dropped)."""
    return [v for v in c.effect(rec.summary) if v is not None and not math.isnan(v)]


def row(c: Claim, order=PRESET_ORDER, rec: records.Record | None = None) -> dict:
    """One scorecard row for claim `c` (from `rec` when given, else the first record in `order`)."""
    out = dict(claim=c.claim, paper=c.paper, ours="–", scale="", regime="", verdict="not run",
               chapter=c.chapter, id=c.id)
    if c.holds is not None:
        ok, text = c.holds()
        return {**out, "ours": text, "scale": "computed live", "regime": "code check",
                "verdict": stats.verdict(holds=ok)}
    try:
        rec = rec or (record(c.experiment, order) if c.experiment else None)
    except records.CorruptRecord as err:                   # named, shown in the row, never a traceback
        return {**out, "scale": f"damaged record: {err}"}
    if rec is None or c.effect is None:
        return {**out, "scale": "needs ImageNet / a GPU" if not c.experiment else "no record yet"}
    try:
        values = effects(c, rec)
    except KeyError as err:                                # a record made before the claim's design
        return {**out, "scale": f"its {rec.preset} record predates the claim's measurement (no {err}); "
                                f"{remake(c, rec)} makes one"}
    passed, regime = gate(c, rec)
    return {**out, "ours": ours(values, c.unit), "scale": scale_text(rec), "regime": regime,
            "verdict": stats.verdict(values, c.size, margin=c.margin, regime=passed)}


def remake(c: Claim, rec: records.Record | None) -> str:
    """The command that makes the record claim `c` needs where `rec` (None: none) cannot serve
    it: the `regime` preset where the experiment declares one, else `rec`'s preset again."""
    if rec is None:
        return f"alexnet run {c.experiment}"
    if "regime" in registry.declared(c.experiment).presets and rec.preset != "regime":
        return f"alexnet run {c.experiment} --preset regime"
    return f"alexnet run {c.experiment} --preset {rec.preset} --force"


def table(presets=PRESET_ORDER) -> pd.DataFrame:
    """The scorecard, one row per claim."""
    return pd.DataFrame([row(c, presets) for c in claims()])


def checks(card: pd.DataFrame) -> pd.DataFrame:
    return card[card.verdict.map(stats.word) == "exact"].reset_index(drop=True)


def empirical(card: pd.DataFrame) -> pd.DataFrame:
    return card[card.verdict.map(stats.word) != "exact"].reset_index(drop=True)


def counts(card: pd.DataFrame) -> dict:
    """verdict category -> number of claims, in the rule's order (categories with none kept)."""
    words = card.verdict.map(stats.word)
    return {v: int((words == v).sum()) for v in stats.VERDICTS}


def counts_table() -> pd.DataFrame:
    """Verdict counts of the measured claims: from the `cpu` records alone, and from the best
    record of each claim (the scorecard's order)."""
    then, now = empirical(table(presets=("cpu",))), empirical(table())
    out = pd.DataFrame({"cpu records only": counts(then), "best record of each claim": counts(now)})
    out.index.name = "verdict"
    return out.drop(index="exact")


def tally(card: pd.DataFrame) -> str:
    """'20 empirical claims: 2 reproduced, ...; 5 code checks exact' (the headline's numbers)."""
    emp, chk = empirical(card), checks(card)
    parts = ", ".join(f"{n} {v}" for v, n in counts(emp).items() if n)
    return f"{len(emp)} empirical claims: {parts}; {len(chk)} code checks exact"


def tally_md(card: pd.DataFrame):
    """The tally for a page's prose ({glue:md}), marked as the scorecard's own count so that a
    test of the built book can hold it against `tally` (it names verdict categories)."""
    from IPython.display import Markdown
    return Markdown(f'<span class="tally">{tally(card)}</span>')


def cpu_hours(root=None) -> pd.DataFrame:
    """Wall-clock hours and CPU-hours (hours x torch threads) of every committed record, from
    its provenance and metrics (`records.spent`: summed over the batches of a record grown by
    seed, or its epochs' training seconds where a resumed seed makes those more)."""
    rows = []
    for path in sorted(Path(root or records.results_root()).glob("*/*/provenance.json")):
        p = json.loads(path.read_text())
        metrics = path.with_name("metrics.csv")
        hours, cpu = records.spent(p, pd.read_csv(metrics) if metrics.exists() else None)
        rows.append(dict(record=f"{path.parent.parent.name}/{path.parent.name}", hours=hours,
                         threads=p.get("hardware", {}).get("torch_threads") or 1, cpu_hours=cpu))
    return pd.DataFrame(rows)


def tag(claim_id: str, verdict: str) -> str:
    """A verdict as it appears on a page: marked with its claim, so a test of the built book
    can hold every verdict word against the scorecard's row."""
    return f'<span class="verdict" data-claim="{claim_id}">{verdict}</span>'


# The marks a verdict may carry on a page: anchor of the paragraph that explains it -> (symbol,
# hover text with the other verdict). Marks sit beside the verdict; they never change it.
MARKS = {"after-look": ("†", "at the seeds first planned: {}"),
         "heldout-check": ("‡", "on the test images their schedule did not read: {}")}


def marks(by_anchor: dict[str, dict[str, str]], page: str = "") -> dict[str, str]:
    """claim id -> its marks as HTML, from {anchor of MARKS: {claim id: the other verdict}}
    (`evidence.marked()`), each a link to the paragraph that explains it (`page`: the
    scorecard's, relative to the page that shows the mark; "" on the scorecard itself)."""
    out: dict[str, str] = {}
    for anchor, claims_ in by_anchor.items():
        symbol, title = MARKS[anchor]
        for i, other in claims_.items():
            out[i] = out.get(i, "") + f' <a class="mark" href="{page}#{anchor}" title="{title.format(other)}">{symbol}</a>'
    return out


def html(card: pd.DataFrame, base: str = "", marks: dict[str, str] | None = None) -> str:
    """The scorecard as an HTML table, each chapter name a link to its page (`base`: the
    chapters' folder relative to the page that shows it); `marks` (claim id -> HTML, `marks()`)
    set beside a verdict."""
    ids = card.id if "id" in card else [""] * len(card)
    marks = marks or {}
    shown = card.assign(verdict=[tag(i, v) + marks.get(i, "") if isinstance(i, str) and i else v
                                 for i, v in zip(ids, card.verdict)])
    shown = shown.drop(columns=["id"], errors="ignore")
    shown = shown.assign(chapter=[f'<a href="{base}{c}.html">{c}</a>' for c in shown.chapter])
    first = [c for c in ("claim", "verdict") if c in shown]          # the verdict in sight, beside its claim
    shown = shown[first + [c for c in shown.columns if c not in first]]
    return shown.to_html(index=False, escape=False, border=0, classes="scorecard")


HEADLINE = ("parameters", "relu_6x", "lrn_cifar_13_11", "dropout_overfit", "vgg_depth")


def headline(card: pd.DataFrame) -> pd.DataFrame:
    """Five rows for the book's first page, and one more with the verdict counts."""
    rows = card[card.id.isin(HEADLINE)]
    total = pd.DataFrame([dict(claim=f"All {len(card)} claims", paper="", ours=tally(card), verdict="",
                               chapter="scorecard")])
    return pd.concat([rows, total], ignore_index=True)[["claim", "paper", "ours", "verdict", "chapter", "id"]]
