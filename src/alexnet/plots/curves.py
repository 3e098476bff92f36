"""Learning curves (loss and accuracy per epoch, one line per variant) and confusion
matrices, drawn from a run record's metrics.csv and summary.json."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import CYCLE, caption, figure


def learning_curves(metrics: pd.DataFrame, record=None, variants: list[str] | None = None,
                    text: str = ""):
    """Left: training loss per epoch. Right: training (dashed) and test (solid) accuracy.
    `metrics` has columns variant, epoch, train_loss, train_acc, test_acc (seed-averaged here)."""
    fig, (loss_ax, acc_ax) = figure(ncols=2, width=9.5, height=3.4)
    mean = metrics.groupby(["variant", "epoch"], sort=False)[["train_loss", "train_acc", "test_acc"]].mean()
    for i, variant in enumerate(variants or list(dict.fromkeys(metrics.variant))):
        rows = mean.loc[variant]
        color = CYCLE[i % len(CYCLE)]
        loss_ax.plot(rows.index, rows.train_loss, "o-", color=color, label=variant)
        acc_ax.plot(rows.index, rows.train_acc, "o--", color=color, alpha=0.7, label=f"{variant} train")
        acc_ax.plot(rows.index, rows.test_acc, "o-", color=color, label=f"{variant} test")
    loss_ax.set(xlabel="epoch", ylabel="training loss", title="training loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy (dashed: train, solid: test)")
    loss_ax.set_yscale("log")
    for ax in (loss_ax, acc_ax):
        ax.xaxis.get_major_locator().set_params(integer=True)
    acc_ax.legend(fontsize=7.5, ncols=2)
    fig.tight_layout()
    caption(fig, record, text)
    return fig


def confusion(matrix, classes: list[str], record=None, text: str = "", title: str = ""):
    """Row-normalised confusion matrix: row = true class, column = prediction, cell = the
    fraction of that class's test images given that prediction (the diagonal is recall)."""
    counts = np.asarray(matrix, dtype=float)
    share = counts / counts.sum(1, keepdims=True).clip(min=1)
    fig, ax = figure(width=6.2, height=5.4)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.grid(False)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if share[i, j] >= 0.01:
                ax.text(j, i, f"{share[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    ax.set(xlabel="predicted", ylabel="true class", title=title)
    fig.tight_layout()
    caption(fig, record, text)
    return fig


def regime_curves(records_: list, text: str = ""):
    """One panel per run record: training error (dashed) and test error (solid) per epoch,
    one colour per variant, averaged over seeds — is the record in the paper's regime (the
    unregularised variant overfits, the test error settles)? `records_`: loaded records
    whose metrics have variant, epoch, train_err and val_top1_err."""
    n = max(len(records_), 1)
    ncols = min(n, 3)
    fig, axes = figure(ncols=ncols, nrows=-(-n // ncols), width=4.0 * ncols, height=3.0 * -(-n // ncols),
                       squeeze=False)
    for ax, rec in zip(axes.flat, records_):
        m = rec.metrics.dropna(subset=["val_top1_err"])
        mean = m.groupby(["variant", "epoch"], sort=False)[["train_err", "val_top1_err"]].mean()
        for i, variant in enumerate(dict.fromkeys(m.variant)):
            rows, color = mean.loc[variant], CYCLE[i % len(CYCLE)]
            ax.plot(rows.index, 100 * rows.train_err, "--", color=color, alpha=0.7)
            ax.plot(rows.index, 100 * rows.val_top1_err, "-", color=color, label=variant)
        ax.set(title=f"{rec.experiment}/{rec.preset}", xlabel="epoch", ylabel="error %")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(records_):]:
        ax.set_visible(False)
    fig.tight_layout()
    caption(fig, None, text)
    return fig
