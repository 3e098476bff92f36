"""Figures 3 and 4 (§6.1), drawn from a run record's files (`conv1.npy`, `learned.json`,
`thumbs.jpg`) or from a checkpoint through `alexnet visualize`. They take arrays and records:
the measurements themselves (`colourfulness`, `top5`, fc7 neighbours) are
`alexnet.evaluation.probes`'."""
from __future__ import annotations

import io
import textwrap

import numpy as np

from . import COLORS, CYCLE, caption, figure
from .curves import variant_label


def kernel_grid(kernels: np.ndarray, per_row: int = 8, pad: int = 1) -> np.ndarray:
    """(K, 3, h, w) -> an RGB image (H, W, 3) in [0, 1], each kernel scaled to its own range
    (as in Figure 3), `per_row` kernels per row, `pad` white pixels between them."""
    n, _, h, w = kernels.shape
    rows = -(-n // per_row)
    grid = np.ones((rows * (h + pad) + pad, per_row * (w + pad) + pad, 3), np.float32)
    for i, k in enumerate(kernels):
        lo, hi = k.min(), k.max()
        img = (k - lo) / (hi - lo) if hi > lo else np.full_like(k, 0.5)
        r, c = divmod(i, per_row)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = \
            img.transpose(1, 2, 0)
    return grid


def kernels_figure(kernels: np.ndarray, record=None, text: str = "", colour=None):
    """Figure 3: the conv1 kernels, one panel per column (GPU: kernels 0-47 feed the first
    column's conv2, 48-95 the second's). `colour`: per column, the kernels' colourfulness
    (`learned.json`'s "colourfulness", from `evaluation.probes`); its mean goes in the title."""
    columns = np.split(kernels, 2)
    fig, axes = figure(ncols=len(columns), width=9, height=3.3)
    for i, (ax, ks) in enumerate(zip(np.atleast_1d(axes), columns)):
        ax.imshow(kernel_grid(ks, per_row=8), interpolation="nearest")
        title = f"column {i + 1} (kernels {i * len(ks)}-{(i + 1) * len(ks) - 1})"
        if colour is not None:
            title += f": colourfulness {np.mean(colour[i]):.2f}"
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    caption(fig, record, text)
    return fig


def tile(sheet: np.ndarray, i: int, size: int, per_row: int) -> np.ndarray:
    r, c = divmod(i, per_row)
    return sheet[r * size:(r + 1) * size, c * size:(c + 1) * size]


def read_sheet(data: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def predictions_figure(info: dict, sheet: np.ndarray, record=None, text: str = ""):
    """Figure 4, left: eight validation images, each above its top-5 softmax bars (the label
    written on its bar, as the paper draws them); the correct label's bar is coloured."""
    preds, size, per_row = info["predictions"], info["thumb_size"], info["thumbs_per_row"]
    fig, axes = figure(ncols=4, nrows=4, width=10, height=8.9,
                       gridspec_kw=dict(height_ratios=[1.0, 0.5, 1.0, 0.5], hspace=0.22, wspace=0.1))
    for n, p in enumerate(preds[:8]):
        img_ax, bar_ax = axes[2 * (n // 4), n % 4], axes[2 * (n // 4) + 1, n % 4]
        img_ax.imshow(tile(sheet, n, size, per_row))
        img_ax.set_title(p["label"], fontsize=10)
        img_ax.axis("off")
        y = np.arange(len(p["top5"]))[::-1]
        right = [name == p["label"] for name in p["top5"]]
        bar_ax.barh(y, p["probs"], height=0.8, color=[COLORS["ours"] if r else "#d0d0d0" for r in right])
        for yi, name, r in zip(y, p["top5"], right):
            bar_ax.text(0.02, yi, name, va="center", fontsize=8.5, fontweight="bold" if r else "normal")
        bar_ax.set(xlim=(0, 1), xticks=[0, 0.5, 1], xticklabels=["0", "0.5", "1"], yticks=[], ylim=(-0.5, len(y) - 0.5))
        bar_ax.tick_params(axis="x", labelsize=7, pad=1)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.96, bottom=0.03)
    caption(fig, record, text)
    return fig


def neighbours_figure(info: dict, sheet: np.ndarray, record=None, text: str = ""):
    """Figure 4, right: each query (first column) and its nearest training images in fc7
    space (Euclidean), nearest first; a neighbour's title is its class and distance."""
    queries, size, per_row = info["neighbours"], info["thumb_size"], info["thumbs_per_row"]
    k = len(queries[0]["neighbours"])
    start = len(info["predictions"])
    fig, axes = figure(ncols=k + 1, nrows=len(queries), width=1.45 * (k + 1), height=1.6 * len(queries))
    axes = np.atleast_2d(axes)
    for r, q in enumerate(queries):
        base = start + r * (k + 1)
        for c in range(k + 1):
            ax = axes[r, c]
            ax.imshow(tile(sheet, base + c, size, per_row))
            ax.axis("off")
            if c == 0:
                ax.set_title(f"query: {q['label']}", fontsize=7.5, color=COLORS["paper"], fontweight="bold")
            else:
                nb = q["neighbours"][c - 1]
                same = nb["label"] == q["label"]
                ax.set_title(f"{nb['label']}\n{nb['distance']:.3g}", fontsize=7,
                             color=COLORS["ours"] if same else "#999999")
    fig.tight_layout()
    caption(fig, record, text)
    return fig


# --- §5 and §7: curves and bars from the learning experiments' records -----------------------
def by_epoch(metrics, column: str):
    """Mean and std over seeds of `column` per (variant, epoch): a (variant, epoch) table."""
    return metrics.groupby(["variant", "epoch"], sort=False)[column].agg(["mean", "std"]).fillna(0.0)


def curves(ax, metrics, column: str, label: str | None = None, log: bool = False, experiment: str = ""):
    """One line per variant (mean over seeds), a band of ± one std; an error column in %."""
    from matplotlib.ticker import MaxNLocator
    table = by_epoch(metrics, column) * (100 if column.endswith("_err") else 1)
    for variant in metrics.variant.unique():
        t = table.loc[variant]
        ax.plot(t.index, t["mean"], marker="o", ms=3, label=variant_label(experiment, variant))
        ax.fill_between(t.index, t["mean"] - t["std"], t["mean"] + t["std"], alpha=0.2)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel((label or column) + (" (%)" if column.endswith("_err") else ""))
    if log:
        ax.set_yscale("log")
    return ax


def per_seed(ax, metrics, column: str, label: str | None = None):
    """One step line per (variant, seed), a colour per variant and a line style per seed: a
    learning rate is what one run used, so it is never averaged over seeds. Seeds whose runs
    used the same values share one line (named by all of them), so none hides under another."""
    styles = ["-", "--", ":", "-."]
    for i, variant in enumerate(metrics.variant.unique()):
        runs = {}                                       # the run's values -> its seeds
        for seed, run in metrics[metrics.variant == variant].groupby("seed"):
            run = run.sort_values("epoch")
            runs.setdefault((tuple(run.epoch), tuple(run[column])), []).append(seed)
        for j, ((epochs, values), seeds) in enumerate(runs.items()):
            name = f"{variant}, seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}"
            ax.step(epochs, values, where="post", color=CYCLE[i % len(CYCLE)], ls=styles[j % 4],
                    lw=1.4, alpha=0.85, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(label or column)
    ax.set_yscale("log")
    return ax


def curve_pair(record, left: tuple[str, str], right: tuple[str, str], text: str = "", chance=None):
    """Two panels side by side, each (column, label): `curves` (mean ± std over seeds), except
    the learning rate ("lr"), drawn per seed on a log scale (`per_seed`); `chance`: a dotted line
    at that error in the panels that are not the rate."""
    fig, axes = figure(ncols=2, width=9.5, height=3.6)
    for ax, (column, label) in zip(axes, (left, right)):
        if column == "lr":
            per_seed(ax, record.metrics, column, label)
            ax.legend(fontsize=7.5, ncols=2, loc="lower left")
            continue
        curves(ax, record.metrics, column, label, experiment=record.experiment)
        if chance is not None and column != "lr" and "loss" not in column:
            ax.axhline(100 * chance, color="#999999", ls=":", lw=1, zorder=0)
    axes[-1 if left[0] == "lr" else 0].legend()
    fig.tight_layout()
    caption(fig, record, text)
    return fig


def seed_dots(record, columns=("val_top1_err", "val_top5_err"), text: str = ""):
    """One panel per error column: each seed's final value a dot, the mean a bar, one bar per
    variant; a variant's parameter count (summary's "parameters") under its name."""
    last = record.metrics.sort_values("epoch").groupby(["variant", "seed"]).tail(1)
    variants = list(dict.fromkeys(last.variant))
    fig, axes = figure(ncols=len(columns), width=4.6 * len(columns), height=3.2)
    for ax, column in zip(np.atleast_1d(axes), columns):
        for i, variant in enumerate(variants):
            values = 100 * last[last.variant == variant][column]
            ax.bar(i, values.mean(), color="#c6dbef", width=0.5)
            ax.scatter([i] * len(values), values, color=COLORS["ours"], zorder=3)
        params = [record.summary[v].get("parameters") for v in variants]
        names = [variant_label(record.experiment, v) for v in variants]   # a reader's name, not the record's
        ax.set_xticks(range(len(variants)),
                      [f"{n}\n{p:,} parameters" if p else n for n, p in zip(names, params)])
        ax.set_ylabel({"val_top1_err": "test top-1 error (%)", "val_top5_err": "test top-5 error (%)"}.get(column, column))
    fig.tight_layout()
    caption(fig, record, text)
    return fig


def split_figure(record, text: str = ""):
    """Figure 3's split in numbers (`probes.split_excess`), per variant: each seed's `col_split`
    at initialisation and trained, a line joining the two (the same seed), the mean a bar."""
    last = record.metrics.dropna(subset=["col_split"]).sort_values("epoch").groupby(["variant", "seed"]).tail(1)
    variants = list(dict.fromkeys(last.variant))
    fig, ax = figure(width=6.4, height=3.4)
    for i, variant in enumerate(variants):
        rows = last[last.variant == variant]
        x = (2 * i, 2 * i + 1)
        for when, xi in zip(("col_split_init", "col_split"), x):
            ax.bar(xi, rows[when].mean(), color="#c6dbef", width=0.6)
        ax.plot(x, rows[["col_split_init", "col_split"]].to_numpy().T, color=COLORS["ours"], marker="o", lw=0.8)
    ax.axhline(0, color="#999999", lw=0.8)
    names = [textwrap.fill(variant_label(record.experiment, v), 16) for v in variants]
    ax.set_xticks(range(2 * len(variants)), [f"{n}\n{when}" for n in names for when in ("at init", "trained")],
                  fontsize=8)
    ax.set_ylabel("column gap beyond random halves")
    fig.tight_layout()
    caption(fig, record, text)
    return fig


def update_rule_figure(df, drop_at: int):
    """The weight under §5's rule and torch's SGD on a quadratic, lr ÷10 at `drop_at`."""
    fig, (ax1, ax2) = figure(ncols=2, width=9.5, height=3.2)
    ax1.plot(df.step, df.paper, label="paper's rule (§5)", color=COLORS["paper"])
    ax1.plot(df.step, df.torch, "--", label="torch.optim.SGD", color=COLORS["ours"])
    ax1.axvline(drop_at + 0.5, color="#999999", lw=0.8)
    ax1.set_xlabel("step"), ax1.set_ylabel("w"), ax1.legend()
    ax2.plot(df.step, df.paper - df.torch, label="paper − torch", color=COLORS["paper"])
    ax2.plot(df.step, df.paper_rescaled - df.torch, label="paper, v ÷10 at the drop − torch",
             color=COLORS["ours"])
    ax2.axvline(drop_at + 0.5, color="#999999", lw=0.8)
    ax2.set_xlabel("step"), ax2.set_ylabel("difference in w"), ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def depth_bars(summary: dict, record=None, text: str = ""):
    """§7: top-1 change (error without the layer − error of the full net), mean ± std."""
    names = sorted(k for k in summary if k.startswith("no_"))       # conv3, conv4, conv5
    mean = [summary[k]["top1_change"]["mean"] * 100 for k in names]
    std = [summary[k]["top1_change"]["std"] * 100 for k in names]
    fig, ax = figure(width=5.5, height=3.2)
    ax.bar([n.replace("no_", "without ") for n in names], mean, yerr=std, capsize=4, color=COLORS["ours"])
    ax.axhline(summary["paper_top1_loss"] * 100, color=COLORS["paper"], ls="--", label="paper, ImageNet (§7)")
    ax.axhline(0, color="#333333", lw=0.8)
    ax.set_ylabel("top-1 error change (points)")
    ax.legend()
    fig.tight_layout()
    caption(fig, record, text)
    return fig
