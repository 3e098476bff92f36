"""Figures of §3.4 (overlapping pooling) and §4.2 (dropout): the pooling grids, the masks,
and the measured curves of the two ablations, mean over seeds with the spread shaded."""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from .. import stats
from . import CYCLE, figure

PALETTE = {"overlap": CYCLE[0], "plain": CYCLE[1], "p0": CYCLE[0], "p0.5": CYCLE[1]}   # as regime_curves colours them
LABELS = {"overlap": "overlapping, z=3 s=2", "plain": "plain, z=s=2", "p0": "no dropout",
          "p0.5": "dropout p=0.5"}


def pool_grid(width: int = 9):
    """The windows of one row of pooling units over `width` input columns: z=s=2 tiles the
    row, z=3 s=2 makes neighbouring windows share a column (§3.4)."""
    fig, axes = figure(nrows=2, width=6.4, height=2.6)
    for ax, (name, z, s) in zip(axes, (("plain", 2, 2), ("overlap", 3, 2))):
        for i in range(width):
            ax.add_patch(Rectangle((i, 0), 1, 1, fc="#f2f2f2", ec="#999999"))
            ax.text(i + 0.5, 0.5, str(i), ha="center", va="center", fontsize=8)
        for k, start in enumerate(range(0, width - z + 1, s)):
            y = 1.15 + 0.35 * (k % 2)                     # stagger so overlaps are visible
            ax.plot([start + 0.08, start + z - 0.08], [y, y], lw=4, color=PALETTE[name],
                    solid_capstyle="butt", alpha=0.85)
        ax.set_title(f"{LABELS[name]}", fontsize=9, loc="left")
        ax.set_xlim(-0.2, width + 0.2)
        ax.set_ylim(-0.1, 1.8)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def _band(ax, metrics, variant, column, **kw):
    """Mean over seeds per epoch, with the min-max range of the seeds shaded."""
    rows = metrics[metrics.variant == variant].groupby("epoch")[column]
    mean, lo, hi = rows.mean(), rows.min(), rows.max()
    ax.plot(mean.index, mean.values, color=PALETTE[variant], label=LABELS[variant], **kw)
    ax.fill_between(mean.index, lo.values, hi.values, color=PALETTE[variant], alpha=0.15, lw=0)


def pooling_curves(record):
    """Left: test error per epoch. Right: final test error and train-test gap per seed."""
    m = record.metrics
    fig, (ax1, ax2) = figure(ncols=2, width=9.5, height=3.8)
    for variant in ("overlap", "plain"):
        _band(ax1, m, variant, "val_top1_err")
    ax1.set(xlabel="epoch", ylabel="test top-1 error", title="test error")
    _final_points(ax2, record, ("overlap", "plain"), ("val_top1_err", "gap"),
                  ("test error", "train-test gap"))
    _shared_legend(fig, ax1)
    return fig


def _shared_legend(fig, ax):
    """One legend of the variants under all panels (none inside a panel, over the data)."""
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncols=4, fontsize=9,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.08, 1, 1))


def _final_points(ax, record, variants, keys, names):
    """One dot per seed and a bar for the mean, per variant and quantity."""
    summary = record.summary["variants"]
    width = 0.8 / len(variants)
    for j, variant in enumerate(variants):
        for i, key in enumerate(keys):
            vals = summary[variant][key]["values"]
            x = i + (j - (len(variants) - 1) / 2) * width
            ax.bar(x, np.mean(vals), width * 0.9, color=PALETTE[variant], alpha=0.35,
                   label=LABELS[variant] if i == 0 else None)
            ax.scatter([x] * len(vals), vals, color=PALETTE[variant], s=14, zorder=3)
    ax.set_xticks(range(len(keys)), names)
    ax.set(ylabel="error (one dot per seed)", title="at the end, per seed")


def dropout_curves(record):
    """Left: training loss per epoch (dropout on, as SGD sees it) with the loss threshold
    (dashed). Middle: test error per epoch, dotted where each variant reached its plateau.
    Right: final test error and gap per seed."""
    m, d = record.metrics, record.summary["definitions"]
    fig, (ax1, ax2, ax3) = figure(ncols=3, width=11, height=3.8)
    for variant in ("p0", "p0.5"):
        _band(ax1, m, variant, "train_loss")
        _band(ax2, m, variant, "val_top1_err")
        when = record.summary["variants"][variant]["epochs_to_plateau"]["mean"]
        if np.isfinite(when):
            ax2.axvline(when, color=PALETTE[variant], ls=":", lw=1)
    ax1.axhline(d["loss_threshold"], color="#444444", ls="--", lw=0.8)
    ax1.set(xlabel="epoch", ylabel="training loss", title="training loss")
    ax2.set(xlabel="epoch", ylabel="test top-1 error", title="test error")
    _final_points(ax3, record, ("p0", "p0.5"), ("val_top1_err", "gap"), ("test error", "train-test gap"))
    _shared_legend(fig, ax1)
    return fig


def dropout_masks(masks, p: float = 0.5):
    """Which of fc7's units are kept (dark) at each training step, `masks` (steps, units) as
    `models.dropout.dropout_mask` draws them: each step trains a different "thinned" network;
    at test time all units work, scaled by 1 - p."""
    masks = np.asarray(masks)
    steps, units = masks.shape
    test = np.full((1, units), 1 - p)
    fig, (ax1, ax2) = figure(nrows=2, width=7, height=3.2, gridspec_kw=dict(height_ratios=[steps, 1.6]))
    ax1.imshow(masks, cmap="Greys", vmin=0, vmax=1, aspect="auto")
    ax1.set(ylabel="training step", xticks=[], title=f"training: each unit kept with probability {1 - p:g}")
    ax2.imshow(test, cmap="Greys", vmin=0, vmax=1, aspect="auto")
    ax2.set(yticks=[], xlabel="unit", title=f"test: every unit, output x{1 - p:g}")
    for ax in (ax1, ax2):
        ax.grid(False)
    fig.tight_layout()
    return fig


def missing_line(experiment: str, preset: str = "long", fallback: str = "cpu") -> str:
    """The note a figure shows while its record is not committed."""
    then = f" Until then the curves read the quick `{fallback}` record." if fallback else ""
    return (f"No `{experiment}/{preset}` record is committed yet; make it with "
            f"`alexnet run {experiment} --preset {preset}`.{then}")


def placeholder(text: str):
    """A figure that says what is missing (a chapter still executes without a record)."""
    fig, ax = figure(width=6.4, height=1.2)
    ax.set_axis_off()
    ax.text(0.0, 0.5, text, ha="left", va="center", fontsize=9, wrap=True, transform=ax.transAxes)
    return fig
