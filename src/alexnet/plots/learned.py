"""Figures 3 and 4 (§6.1), drawn from a run record's files (`conv1.npy`, `learned.json`,
`thumbs.jpg`) or from a checkpoint through `alexnet visualize`."""
from __future__ import annotations

import io

import numpy as np

from .. import visualize as vis
from . import COLORS, caption, figure


def kernels_figure(kernels: np.ndarray, record=None, text: str = ""):
    """Figure 3: the conv1 kernels, one panel per column (GPU), with each column's mean
    colourfulness in its title."""
    columns = vis.by_column(kernels)
    colour = vis.by_column(vis.colourfulness(kernels))
    fig, axes = figure(ncols=len(columns), width=9, height=4.6)
    for i, (ax, ks, c) in enumerate(zip(np.atleast_1d(axes), columns, colour)):
        ax.imshow(vis.kernel_grid(ks, per_row=8), interpolation="nearest")
        ax.set_title(f"column {i + 1} (kernels {i * len(ks)}-{(i + 1) * len(ks) - 1}): "
                     f"colourfulness {c.mean():.2f}", fontsize=9)
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
    """Figure 4, left: eight validation images, each with its top-5 softmax bars; the
    correct label's bar is coloured."""
    preds, size, per_row = info["predictions"], info["thumb_size"], info["thumbs_per_row"]
    fig, axes = figure(ncols=4, nrows=4, width=10, height=7.2,
                       gridspec_kw=dict(height_ratios=[1.0, 0.9, 1.0, 0.9]))
    for n, p in enumerate(preds[:8]):
        img_ax, bar_ax = axes[2 * (n // 4), n % 4], axes[2 * (n // 4) + 1, n % 4]
        img_ax.imshow(tile(sheet, n, size, per_row))
        img_ax.set_title(p["label"], fontsize=9)
        img_ax.axis("off")
        y = np.arange(len(p["top5"]))[::-1]
        colours = [COLORS["ours"] if name == p["label"] else "#bbbbbb" for name in p["top5"]]
        bar_ax.barh(y, p["probs"], color=colours)
        bar_ax.set_yticks(y, p["top5"], fontsize=7)
        bar_ax.set_xlim(0, 1)
        bar_ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
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
