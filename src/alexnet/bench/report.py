"""Tables and a figure from a `bench_train` record, for the chapters (no timing here).

    speed_table(record)            training images/s: a row per (model, input, batch), a column per option
    speed_table(record, "train_pct_of_peak")   the same as a share of the measured peak
    profile_table(record)          the paper net's step by layer kind, ms, one column per option
    targets_table(record)          issue 13's targets: measured, wanted, met
    loop_table(record)             `bench loop`: the campaign's nets, 1 and 2 threads, % of peak
    side_by_side(record)           the same nets' speed in the campaign's own records (two jobs at once)
(`alexnet.plots.speed.profile_figure` draws profile_table as stacked bars.)
"""
from __future__ import annotations

import pandas as pd

# layer-name prefix -> the kind it is counted under (conv1..conv5, act1.., norm1/2, pool1/2/5, fc6..8, drop6/7)
KINDS = {"conv": "convolutions", "fc": "fully connected", "norm": "LRN", "act": "ReLU", "pool": "max pooling",
         "drop": "dropout", "other": "optimizer, casts, loss"}


def option_label(precision: str, channels_last: bool, compile_: bool = False, threads: int = 0) -> str:
    """'bf16 CL fused, 1 thread' and the like (CL: channels_last): one short column name per option."""
    return (f"{precision} {'CL' if channels_last else 'NCHW'}" + (" fused" if compile_ else "")
            + (f", {threads} thread{'s' * (threads > 1)}" if threads else ""))


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    column = lambda name, default: frame[name].fillna(default) if name in frame else [default] * len(frame)  # older records
    return frame.assign(option=[option_label(p, c, bool(f), int(t)) for p, c, f, t in
                                zip(frame.precision, frame.channels_last, column("compile", False), column("threads", 0))])


def speed_table(record, value: str = "train_images_per_s") -> pd.DataFrame:
    """`value` for every net and batch (rows) under every option (columns) of the record."""
    rows = _labelled(record.metrics)
    options, models = list(dict.fromkeys(rows.option)), list(dict.fromkeys(rows.model))
    table = rows.pivot_table(index=["model", "input", "batch"], columns="option", values=value, sort=False)[options]
    return table.iloc[sorted(range(len(table)), key=lambda i: (models.index(table.index[i][0]), table.index[i][2]))]


def profile_table(record) -> pd.DataFrame:
    """The profiled net's training step in ms by layer kind (rows) under each option (columns),
    forward and backward together, with the whole step and its share of the peak below."""
    layers = _labelled(pd.DataFrame(record.summary["layer_profile"]))
    step = layers[layers.layer == "step"].set_index("option")
    parts = layers[~layers.layer.isin(["step"])]
    kind = parts.layer.str.extract(r"^([a-z]+)")[0].map(KINDS)
    table = parts.assign(kind=kind).pivot_table(index="kind", columns="option", values="ms", aggfunc="sum", sort=False)
    table = table.reindex([k for k in KINDS.values() if k in table.index])[list(step.index)]
    table.loc["whole step"] = step.ms
    table.loc["% of the measured peak"] = step.pct_of_peak
    return table


def targets_table(record) -> pd.DataFrame:
    """Issue 13's targets as this record measured them (empty for records made before them)."""
    names = {"paper_train_pct": "alexnet_paper training, % of bf16 peak (batch 128)",
             "paper_eval_pct": "alexnet_paper evaluation, % of bf16 peak (batch 128)",
             "alexnet_small_fused_speedup": "alexnet_small: fused kernels / without (batch 128, same run)",
             "cifar4_fused_speedup": "cifar4: fused kernels / without (batch 128, same run)"}
    got = record.summary.get("targets", {})
    return pd.DataFrame([dict(target=names.get(k, k), measured=v["value"], wanted=v["target"], met=v["met"])
                         for k, v in got.items()]).set_index("target") if got else pd.DataFrame()



def loop_table(record) -> pd.DataFrame:
    """`bench loop`: per campaign net, images/s and % of the bf16 peak on one thread and on two
    (two column levels), and two one-thread jobs against one two-thread job (above 1: two jobs
    do more)."""
    m = record.metrics
    order = list(dict.fromkeys(m.model))
    cols = {}
    for t in sorted(m.threads.unique()):
        rows = m[m.threads == t].set_index("model")
        label = f"{t} thread{'s' if t > 1 else ''}"
        cols[(label, "images/s")] = rows.images_per_s.round(0).astype(int)
        cols[(label, "% of peak")] = rows.pct_of_peak.round(1)
    cols[("two 1-thread jobs ÷ one 2-thread job", "")] = m.groupby("model").two_jobs_vs_one.first().round(2)
    return pd.DataFrame(cols).loc[order].rename_axis("network")


def training_hours(record, model: str, epochs: float, images: int, runs: int = 1, threads: int = 1) -> float:
    """CPU-hours of `runs` trainings of `epochs` x `images` at the loop's measured speed for
    `model` on `threads` thread(s) (`bench loop`): training alone, so a lower bound (evaluation
    after each epoch comes on top); NaN without a record."""
    if record is None:
        return float("nan")
    m = record.metrics
    rate = float(m[(m.model == model) & (m.threads == threads)].images_per_s.iloc[0])
    return runs * epochs * images / rate / 3600 * threads


def _epoch_speeds(rec, cpu: str) -> list[dict]:
    """Every training epoch's images/s of a one-thread record made on `cpu`, with its net and batch."""
    base, hw = rec.config.get("base", rec.config), rec.provenance.get("hardware", {})
    if hw.get("torch_threads") != 1 or hw.get("cpu") != cpu or "images_per_s" not in rec.metrics:
        return []
    m = rec.metrics.dropna(subset=["images_per_s"])
    m = m if "variant" in m else m.assign(variant="")
    variants = rec.config.get("variants", {})
    return [dict(network=(variants.get(v) or {}).get("model", base.get("model")), batch=base.get("batch_size"),
                 record=f"{rec.experiment}/{rec.preset}", images_per_s=x) for v, x in zip(m.variant, m.images_per_s)]


def side_by_side(record, root=None) -> pd.DataFrame:
    """The campaign's choice of two one-thread jobs, as its own records measured it: per
    committed `regime` record (one thread; two ran at once, beside the builds and tests the
    machine also ran), a net benchmarked at the record's batch, the median images/s of its
    training epochs, that speed against the benchmark's one thread alone, and two such jobs
    against the benchmark's one two-thread job. Only records made on the benchmark's CPU."""
    from pathlib import Path
    from .. import records
    bench = record.metrics.set_index(["model", "batch", "threads"]).images_per_s
    cpu = record.provenance.get("hardware", {}).get("cpu")
    rows = pd.DataFrame([r for path in sorted(Path(root or records.results_root()).glob("*/regime/metrics.csv"))
                         for r in _epoch_speeds(records.load(path.parent.parent.name, "regime", root), cpu)],
                        columns=["network", "batch", "record", "images_per_s"])
    rows = rows[[(n, b, 1) in bench.index for n, b in zip(rows.network, rows.batch)]]
    if rows.empty:
        return pd.DataFrame()
    out = rows.groupby(["record", "network", "batch"]).images_per_s.agg(["median", "size"]).reset_index()
    alone = [bench[(n, b, 1)] for n, b in zip(out.network, out.batch)]
    both = [bench.get((n, b, 2), float("nan")) for n, b in zip(out.network, out.batch)]
    return pd.DataFrame({"record": out.record, "network": out.network, "epochs (all arms and seeds)": out["size"],
                         "images/s per job (median)": out["median"].round(0).astype(int),
                         "÷ one thread alone": (out["median"] / alone).round(2),
                         "2 jobs ÷ one 2-thread job": (2 * out["median"] / both).round(2)}).set_index("record")
