"""Why each measured claim that did not reproduce did not, and what it would take: the closing
chapter's second table, built from the scorecard's rows and the records' provenance.

    reasons(card)     one row per claim whose verdict is not `reproduced`, grouped by reason:
                      the verdict (the scorecard's, marked), why, what it would take, and the
                      CPU-hours the record it reads cost (from its provenance)
    html(table)       the same as an HTML table, the chapter names linked (each chapter shows its
                      own undecided rows under its "paper vs ours" table: `evidence.undecided`)

The reason follows from the verdict's category (a "(regime)" verdict: the record fails its gate;
"(one seed)": no interval); where the record's design is the reason (a claim measured against
something other than the paper's comparison, a proxy at another size), a note names it.
"""
from __future__ import annotations

import pandas as pd

from .. import records, stats
from ..harness import registry
from . import scorecard
from .scorecard import tag

# verdict -> (the group's reason, what it would take), in the order the chapter shows them.
GROUPS = {
    "not run": ("Needs ImageNet and GPUs",
                "ILSVRC-2012 and the `paper` preset on GPUs (the results and ImageNet chapters give the commands)"),
    "not run yet": ("Not measured yet: its CPU record is still to come",
                    "the command in its row (the campaign's queue, scripts/campaign-queue.txt, holds it)"),
    "inconclusive (regime)": ("Regime not reached: the runs stopped too early",
                              "the paper's schedule on CIFAR-10 to its last drop, seed by seed (the `regime` "
                              "preset); at full scale, ImageNet on GPUs"),
    "not begun": ("Not begun: what the claim is about never left its starting point",
                  "training far longer than this campaign can (the chapter says what is known of the cost); "
                  "at full scale, the paper's own run on GPUs"),
    "inconclusive (one seed)": ("One seed: no interval", "more seeds of the same record"),
    "inconclusive": ("Too few seeds for the effect's size", "more seeds of the same record"),
    "not reproduced": ("Smaller than the paper says", "a record at the paper's scale, or the check its chapter proposes"),
    "direction": ("The effect is there, at another size", "the paper's scale: ImageNet on GPUs"),
    "opposite": ("The other way", "a record of the paper's own comparison"),
}
# The command that would move each verdict, by category ({exp}: the claim's experiment).
COMMANDS = {"inconclusive (regime)": "alexnet run {exp} --preset regime",
            "inconclusive (one seed)": "alexnet run {exp} --preset {preset} --seeds {more}",
            "inconclusive": "alexnet run {exp} --preset {preset} --seeds {more}"}

# Where the record's design, not its length, explains the verdict.
NOTES = {
    "init": "biases 1 against biases 0, both N(0, 0.01), in §2's raw pixel units, on a CPU-scale net without LRN: "
            "the biases-1 arm never left chance; its logits start almost the same for every image, which is "
            "consistent with that (the learning chapter measures it); the paper's wider network is not measured",
    "pooling_error": "a CIFAR-10 proxy at 32×32 on a subset (the scorecard's scale), where the paper measured "
                     "ImageNet at 224×224: the size of an effect need not carry over",
    "two_columns": "both nets fit their 8,000-image training subset almost entirely, in test mode, and far better "
                   "than they generalise (measured in the multi-GPU chapter): the likely reason is that they are "
                   "short of data, not of kernels",
    "colour_split_proxy": "a CIFAR-10 proxy: 24 kernels of 5×5 per column on 32×32 images, where the paper's 48 "
                          "of 11×11 per column saw ImageNet: the size of the split need not carry over",
    "relu_6x": "the paper gives no details of its four-layer network or its rates; ours is a reconstruction",
    "vgg_jitter": "at CPU scale dense testing at Table 3's Q = 55 is one score from the top-left of the rescaled "
                  "image (fc6 is a 1×1 convolution and the poolings round down); the VGG chapter's Q sweep "
                  "measures that loss, and the two nets at one Q",
    "vgg_multicrop": "most of the gain is dense testing's loss at Q = 55 recovered, where at CPU scale it is one "
                     "off-centre score: the VGG chapter's Q sweep",
    "ten_crop": "ten views of a 32×32 CIFAR-10 image, where the paper's were 224-pixel crops of 256-pixel "
                "ImageNet images: the size of the gain need not carry over",
}


COLUMNS = ["reason", "claim", "verdict", "why", "command", "cpu_hours", "chapter", "id"]


def _hours(card: pd.DataFrame) -> dict[str, float]:
    """CPU-hours of the record each row reads (`experiment/preset`), from its provenance."""
    spent = scorecard.cpu_hours()
    hours = spent.set_index("record").cpu_hours if len(spent) else pd.Series(dtype=float)
    out = {}
    for row in card.itertuples():
        exp = scorecard.claim(row.id).experiment
        preset = row.scale.rsplit(", ", 1)[-1] if exp else ""
        out[row.id] = hours.get(f"{exp}/{preset}", float("nan"))
    return out


def group(claim_id: str, verdict: str, regime: str = "") -> str:
    """The GROUPS key of a row: its verdict, except that a claim with a CPU experiment whose
    record is missing or predates the claim is "not run yet", not "needs ImageNet", and one
    whose record fails its `learned` gate (`regime`: the row's text) is "not begun"."""
    if verdict == "inconclusive (regime)" and "learned ✗" in regime:
        return "not begun"
    return "not run yet" if verdict == "not run" and scorecard.claim(claim_id).experiment else verdict


def _command(claim_id: str, verdict: str, scale: str, extra: int | None = None) -> str:
    """The command that would move this verdict ('' where none exists yet); `extra`: the seeds
    it needs beyond the record's (`to_decide`: exactly those), else the next three."""
    exp = scorecard.claim(claim_id).experiment
    if verdict == "not run yet":                       # missing, or made before the claim's design
        try:
            rec = scorecard.record(exp)
        except records.CorruptRecord:                  # its row names the damage; a new record mends it
            rec = None
        return f"`{scorecard.remake(scorecard.claim(claim_id), rec)}`"
    if verdict == "not begun":
        return "none within this campaign (the chapter says what is known of the cost)"
    if verdict not in COMMANDS or exp is None:
        return ""
    preset = scale.rsplit(", ", 1)[-1]
    if verdict == "inconclusive (regime)" and "regime" not in registry.declared(exp).presets:
        return "none within this campaign: no `regime` design fits its budget (the chapter gives the cost)"
    if verdict == "inconclusive (regime)" and preset == "regime":
        return "none within this campaign: its `regime` record misses the gate too (the chapter says why)"
    rec = scorecard.record(exp, (preset,))
    last = max((int(s) for s in rec.provenance.get("seeds", [])), default=-1) if rec else -1
    count = extra or 3
    more = f"{last + 1}-{last + count}" if count > 3 else ",".join(str(last + i) for i in range(1, count + 1))
    return "`" + COMMANDS[verdict].format(exp=exp, preset=preset, more=more) + "`"


def to_decide(claim_id: str, hours: float) -> tuple[str, int | None]:
    """For an inconclusive claim: the seeds in all that would decide it if its effects kept their
    measured mean and spread (`stats.seeds_to_decide`), and their CPU cost at the record's
    measured hours per seed; and how many seeds that is beyond the record's (None: too many)."""
    c = scorecard.claim(claim_id)
    rec = scorecard.record(c.experiment)
    values = scorecard.effects(c, rec)
    n = stats.seeds_to_decide(values, c.size, c.margin)
    if n is None:
        return "more than 1,000 seeds: the mean sits on a boundary", None
    per_seed = hours / len(values) if hours == hours else float("nan")
    cost = "" if per_seed != per_seed else f", ~{(n - len(values)) * per_seed:.1f} CPU-h more"
    return f"{n} seeds in all if the mean and spread hold (+{n - len(values)}{cost})", n - len(values)


def reasons(card: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every measured claim that is not `reproduced`, grouped in GROUPS' order."""
    card = scorecard.empirical(scorecard.table() if card is None else card)
    card = card[card.verdict != "reproduced"]
    hours = _hours(card)
    rows = []
    for row in card.itertuples():
        key = group(row.id, row.verdict, row.regime)
        measured = {"inconclusive (regime)": row.regime, "not begun": row.regime, "not run": row.scale, "not run yet": row.scale,
                    "inconclusive (one seed)": "the record holds one seed"}.get(key, "")
        extra = None
        if key == "inconclusive":                              # no size in the paper: only zero to clear
            c = scorecard.claim(row.id)
            covers = ("zero" if c.size is None else "both zero and the paper's size") if not c.margin else \
                f"−{100 * c.margin:g} points, the claim's margin"   # "no better than": the bound is the margin
            needs, extra = to_decide(row.id, hours[row.id])
            measured = f"the interval covers {covers}; {needs}"
        why = "; ".join(t for t in (measured, NOTES.get(row.id, "")) if t)
        rows.append(dict(reason=GROUPS[key][0], claim=row.claim, verdict=row.verdict, why=why or "–",
                         command=_command(row.id, key, row.scale, extra), cpu_hours=hours[row.id],
                         chapter=row.chapter, id=row.id, order=list(GROUPS).index(key)))
    out = pd.DataFrame(rows, columns=[*COLUMNS, "order"])
    return out.sort_values("order", kind="stable").drop(columns="order").reset_index(drop=True)


def by_group(table: pd.DataFrame) -> dict[str, int]:
    """Claims per GROUPS key ("inconclusive (regime)", "not begun", ...), 0 where none."""
    found = table.reason.value_counts()
    return {key: int(found.get(reason, 0)) for key, (reason, _) in GROUPS.items()}


def html(table: pd.DataFrame, base: str = "", chapter: bool = True) -> str:
    """The reasons as an HTML table, one header row per reason saying what it would take;
    verdicts marked with their claim, chapters linked (`chapter=False`: no chapter column, for
    the claim's own page), commands as code."""
    cols = ["claim", "verdict", "why", "command", "CPU-hours so far"] + ["chapter"] * chapter
    head = "".join(f"<th>{c}</th>" for c in cols)
    body = []
    for reason, rows in table.groupby("reason", sort=False):
        takes = next(t for r, t in GROUPS.values() if r == reason)
        body.append(f'<tr class="reason"><th colspan="{len(cols)}">{reason}. <em>What it would take:</em> '
                    f"{_code(takes)}</th></tr>")
        body += [f"<tr><td>{r.claim}</td><td>{tag(r.id, r.verdict)}</td><td>{r.why}</td><td>{_code(r.command)}</td>"
                 f"<td>{'–' if r.cpu_hours != r.cpu_hours else f'{r.cpu_hours:.2f}'}</td>"
                 + (f'<td><a href="{base}{r.chapter}.html">{r.chapter}</a></td>' if chapter else "") + "</tr>"
                 for r in rows.itertuples()]
    return (f'<table class="scorecard reasons"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            "</tbody></table>")


def _code(text: str) -> str:
    """`x` -> <code>x</code> (the few backticks these strings hold)."""
    parts = text.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
