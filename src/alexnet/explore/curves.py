"""Every run record's training curves in one figure with a record picker: training and test
error per epoch, one line per variant and seed (click the legend to hide or show a seed, or a
variant's group title for all its seeds), hover for the values; the regime gate each claim on
the record declares, as the scorecard judges it (`claims.scorecard.gate`), in the note, and
the last three epochs of every seed (the ones the converged test reads) marked.

    explore.curves()
"""
from __future__ import annotations

import numpy as np

from .. import records
from ..claims import scorecard
from ..plots import CYCLE
from . import page

KEYS = ("phase", "activation", "lr")     # what tells runs apart in records without a `variant` column


def training_records() -> list[records.Record]:
    """The committed records with curves (an epoch and a test error per row), by experiment."""
    root, found = records.results_root(), []
    for exp in sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        presets = sorted((p.name for p in (root / exp).iterdir() if (p / "summary.json").is_file()),
                         key=lambda p: scorecard.PRESET_ORDER.index(p) if p in scorecard.PRESET_ORDER else 9)
        for preset in presets:
            rec = records.load(exp, preset)
            if {"epoch", "val_top1_err", "seed"} <= set(rec.metrics) and rec.metrics.epoch.notna().any():
                found.append(rec)
    return found


def runs(rec: records.Record):
    """((variant name, seed), rows by epoch) for every run in the record."""
    m = rec.metrics.dropna(subset=["epoch", "val_top1_err"])
    keys = ["variant"] if "variant" in m else [k for k in KEYS if k in m]
    names = m[keys].astype(str).agg(" ".join, axis=1) if keys else "run"
    for (name, seed), rows in m.assign(_name=names).groupby(["_name", "seed"], sort=False):
        yield (name, int(seed)), rows.sort_values("epoch")


def traces(rec: records.Record) -> list[dict]:
    out, colour = [], {}
    for (name, seed), rows in runs(rec):
        c = colour.setdefault(name, CYCLE[len(colour) % len(CYCLE)])
        train = rows.get("train_clean_top1_err", rows.train_err) if "train_err" in rows else None
        for what, y, dash in (("test", rows.val_top1_err, "solid"), ("train", train, "dot")):
            if y is None or y.isna().all():
                continue
            marks = [8 if what == "test" and i >= len(rows) - 3 else 3 for i in range(len(rows))]
            out.append(dict(type="scatter", mode="lines+markers", x=rows.epoch, y=np.round(100 * y, 2),
                            name=f"seed {seed}, {what}", legendgroup=name, legendgrouptitle=dict(text=name),
                            line=dict(color=c, dash=dash, width=1.5), marker=dict(size=marks, color=c),
                            hovertemplate=f"{name}, seed {seed}<br>epoch %{{x}}: {what} error %{{y:.2f}}%<extra></extra>"))
    return out


def gates(rec: records.Record) -> list[str]:
    """Each gated claim's regime on this record, as the scorecard words it."""
    read = scorecard.record(rec.experiment)
    out = []
    for c in scorecard.claims():
        if c.experiment == rec.experiment and c.regime.gated:
            passed, text = scorecard.gate(c, rec)
            where = " (the record the scorecard reads)" if read is not None and read.path == rec.path else ""
            out.append(f"“{c.claim}”{where}: {text} — {'passes' if passed else 'fails'} its gate.")
    return out


def entry(rec: records.Record) -> dict:
    lay = page.layout(height=460, xaxis=page.axis("epoch"), yaxis=page.axis("top-1 error (%)"),
                      legend=dict(groupclick="toggleitem", font=dict(size=10)),
                      title=dict(text=f"{rec.experiment}/{rec.preset}: {scorecard.scale_text(rec)}", x=0.02,
                                 font=dict(size=13)))
    gate = gates(rec) or ["No claim on this record declares a regime gate."]
    return dict(name=f"{rec.experiment}/{rec.preset}", figure=dict(data=traces(rec), layout=lay),
                note=" ".join(gate) + " Big markers: each seed's last 3 epochs, which the converged test reads. "
                + rec.line().replace("`", ""))


def curves() -> page.Explorer:
    entries = [entry(r) for r in training_records()]
    return page.Explorer("curves", dict(records=entries), "Every run's curves: pick a record", lambda: widget(entries))


def widget(entries: list[dict]):
    import ipywidgets as w
    pick = w.Dropdown(options=[(e["name"], i) for i, e in enumerate(entries)], description="record")
    out, note = w.Output(), w.HTML()

    def draw(_=None):
        page.show_figure(out, entries[pick.value]["figure"])
        note.value = entries[pick.value]["note"]
    pick.observe(draw, "value")
    draw()
    return w.VBox([pick, out, note])
