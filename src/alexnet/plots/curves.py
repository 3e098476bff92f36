"""Learning curves (loss and accuracy per epoch, one line per variant) and confusion
matrices, drawn from a run record's metrics.csv and summary.json."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import CYCLE, caption, figure
from .activations import LRN_NAMES


def learning_curves(metrics: pd.DataFrame, record=None, variants: list[str] | None = None,
                    text: str = ""):
    """Left: training loss per epoch. Right: test accuracy per epoch, with chance (one class in
    ten) dotted. One colour per variant, one legend under both panels; training accuracy is
    left to the table (drawn here it lay on top of the test line wherever the two agree).
    `metrics` has columns variant, epoch, train_loss, test_acc (seed-averaged here)."""
    fig, (loss_ax, acc_ax) = figure(ncols=2, width=8.0, height=3.3)
    mean = metrics.groupby(["variant", "epoch"], sort=False)[["train_loss", "test_acc"]].mean()
    for i, variant in enumerate(variants or list(dict.fromkeys(metrics.variant))):
        rows = mean.loc[variant]
        color = CYCLE[i % len(CYCLE)]
        loss_ax.plot(rows.index, rows.train_loss, "o-", color=color, label=variant)
        acc_ax.plot(rows.index, rows.test_acc, "o-", color=color)
    acc_ax.axhline(0.1, color="#888888", ls=":", lw=1)
    acc_ax.text(acc_ax.get_xlim()[1], 0.1, "chance ", ha="right", va="bottom", fontsize=8, color="#666666")
    loss_ax.set(xlabel="epoch", ylabel="training loss", title="training loss")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy", ylim=(0, 1))
    for ax in (loss_ax, acc_ax):
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.legend(*loss_ax.get_legend_handles_labels(), loc="lower center", ncols=4, fontsize=8.5,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
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


TITLES = {"pooling": "Overlapping vs plain pooling", "augmentation": "Data augmentation",
          "dropout": "Dropout in fc6 and fc7", "weight_decay": "Weight decay 0.0005 vs none",
          "depth_ablation": "Removing one middle conv layer", "two_columns": "Two columns vs one",
          "lrn_cifar": "LRN on the CIFAR-10 net of §3.3", "vgg_depth": "VGG configurations A–E",
          "vgg_lrn": "VGG A vs A-LRN", "vgg_scale": "VGG fixed vs jittered scale", "lrn": "LRN on cifar4",
          "init": "Biases 1 vs 0", "imagenet_sample": "AlexNet on the ImageNet sample"}
PRESETS = {"long": "longer budget", "regime": "÷10 on plateaus, to the end", "cpu": "a few minutes",
           "paper": "paper scale"}
VARIANTS = {"overlap": "overlapping, z=3 s=2", "plain": "plain, z=s=2", "p0": "no dropout",
            "p0.5": "dropout p=0.5", "none": "no augmentation", "crop_flip": "crops + flips",
            "crop_flip_pca": "crops + flips + PCA colour", "decay": "weight decay", "no_decay": "no weight decay",
            "full": "full network", "no_conv3": "without conv3", "no_conv4": "without conv4",
            "no_conv5": "without conv5", "two_columns": "two columns", "one_column_half": "one half-width column",
            "13pct": "no LRN", "11pct": "with LRN"}
# where one variant name means different things in different experiments ("none")
EXPERIMENT_VARIANTS = {"lrn": LRN_NAMES,
                       "init": {"paper": "biases 1 (§5)", "zero_bias": "biases 0", "kaiming": "Kaiming's",
                                "paper_raw": "biases 1, §2's raw units", "zero_bias_raw": "biases 0, §2's raw units"},
                       "imagenet_sample": {"paper_init": "§5's init", "kaiming": "Kaiming's init"}}


def variant_label(experiment: str, variant: str) -> str:
    return EXPERIMENT_VARIANTS.get(experiment, {}).get(variant) or VARIANTS.get(variant, variant)


def labelled(frame, experiment: str):
    """A table with one column per variant, its columns named for a reader (`variant_label`)."""
    return frame.rename(columns={v: variant_label(experiment, v) for v in frame.columns})


def regime_title(rec) -> str:
    """A reader's title for a record's panel: what it compares, and at which budget."""
    what = TITLES.get(rec.experiment, rec.experiment.replace("_", " "))
    base = rec.config.get("base", rec.config)
    if base.get("schedule", "plateau") != "plateau" and rec.preset == "regime":   # a regime design of fixed length
        return f"{what} ({base.get('epochs')} epochs, {base['schedule']} rate)"
    return f"{what} ({PRESETS.get(rec.preset, rec.preset)})"


def regime_panel(ax, rec) -> None:
    """One record's panel: per variant, the mean training (dashed) and test error (solid) up to
    the last epoch every seed reached (seeds stop at their own plateau, and a mean over the few
    still running would pass for everyone's end), and each seed's test error, thin, to its end."""
    from matplotlib.ticker import MaxNLocator
    m = rec.metrics.dropna(subset=["val_top1_err"])
    common = m.groupby(["variant", "seed"]).epoch.max().groupby("variant").min()
    mean = (m[m.epoch <= m.variant.map(common)]
            .groupby(["variant", "epoch"], sort=False)[["train_err", "val_top1_err"]].mean())
    for i, variant in enumerate(dict.fromkeys(m.variant)):
        rows, color = mean.loc[variant], CYCLE[i % len(CYCLE)]
        for _, one in m[m.variant == variant].groupby("seed"):
            ax.plot(one.epoch, 100 * one.val_top1_err, "-", color=color, lw=0.6, alpha=0.35)
        ax.plot(rows.index, 100 * rows.train_err, "--", color=color, alpha=0.8)
        ax.plot(rows.index, 100 * rows.val_top1_err, "-", color=color, lw=1.8,
                label=variant_label(rec.experiment, variant))
    ax.set(title=regime_title(rec), xlabel="epoch", ylabel="error (%)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8.5, loc="upper right")


def regime_curves(records_: list, text: str = ""):
    """One panel per run record (`regime_panel`): is the record in the paper's regime (the
    unregularised variant overfits, the test error settles)? `records_`: loaded records
    whose metrics have variant, epoch, train_err and val_top1_err. The line-style key sits
    under the panels; each panel's legend names its variants."""
    from matplotlib.lines import Line2D
    n = max(len(records_), 1)
    ncols = min(n, 2)
    nrows = -(-n // ncols)
    fig, axes = figure(ncols=ncols, nrows=nrows, width=7.0 if n == 1 else 10.0, height=3.8 * nrows,
                       squeeze=False)
    for ax, rec in zip(axes.flat, records_):
        regime_panel(ax, rec)
    for ax in list(axes.flat)[len(records_):]:
        ax.set_visible(False)
    key = [Line2D([], [], color="#444444", ls="-", lw=1.8, label="test error"),
           Line2D([], [], color="#444444", ls="-", lw=0.6, alpha=0.5, label="one seed's test error"),
           Line2D([], [], color="#444444", ls="--", label="training error")]
    fig.legend(handles=key, loc="lower center", ncols=3, fontsize=9, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.06 / nrows, 1, 1))
    caption(fig, None, text)
    return fig
