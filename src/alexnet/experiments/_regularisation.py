"""Shared by the §3.4 pooling and §4.2 dropout experiments: the clean training error of a
trained net (the train-test gap), per-layer output sizes, and epochs to converge."""
from __future__ import annotations

import math

import pandas as pd

from .. import records
from ..data.batches import MemoryLoader
from ..evaluate import evaluate


def clean_train_error(result, limit: int = 2000) -> dict:
    """Top-1 error of the trained net on (the first `limit` of) its own training images,
    in test mode: no augmentation, no dropout masks. The `train_err` of the history is
    measured on the fly with dropout on and the weights still moving, so it is not the
    number the gap needs."""
    src, cfg = result.data.train, result.cfg
    n = min(limit, len(src.labels)) if limit else len(src.labels)
    loader = MemoryLoader(src.images[:n], src.labels[:n], cfg.batch_size, src.image_size,
                          src.mean.flatten().tolist(), src.std.flatten().tolist(), train=False)
    out = evaluate(result.model, loader.batches(0), result.device, cfg.precision, cfg.channels_last)
    return dict(train_clean_top1_err=out["top1_err"], train_clean_loss=out["loss"])


def output_sizes(model, input_shape) -> list[dict]:
    """(layer, C x H x W) after every conv, pool, LRN and fc layer for one image."""
    from ..models import layer_table
    table = layer_table(model, input_shape, all_layers=True)
    keep = table[table.type.isin(["Conv2d", "MaxPool2d", "LocalResponseNorm", "Linear"])]
    return [dict(layer=r.layer, type=r.type, output="x".join(map(str, r.output)), params=int(r.params))
            for r in keep.itertuples()]


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
    """variant -> column -> mean/std/n/values over seeds (NaNs, i.e. censored runs, dropped,
    and counted in `censored`)."""
    out = {}
    for variant, rows in last.groupby("variant", sort=False):
        out[variant] = {}
        for c in columns:
            vals = rows[c].dropna()
            out[variant][c] = dict(records.summarize(vals) if len(vals) else dict(mean=math.nan, std=0.0, n=0, values=[]),
                                   censored=int(rows[c].isna().sum()))
    return out


def difference(a: dict, b: dict) -> dict:
    """mean(a) - mean(b) with the standard error of the difference of two independent means
    and whether it lies inside the noise (|diff| < 2 standard errors)."""
    se = math.sqrt((a["std"] ** 2) / max(a["n"], 1) + (b["std"] ** 2) / max(b["n"], 1))
    diff = a["mean"] - b["mean"]
    return dict(mean=diff, se=se, inside_noise=bool(abs(diff) < 2 * se) if se > 0 else None)
