"""Figure 2 redrawn from a model: the two columns of the paper's network, layer by layer."""
from __future__ import annotations

from matplotlib.patches import FancyBboxPatch

from . import COLORS, figure


def column_diagram(table, columns: int = 2):
    """Boxes for conv1..fc8 (rows of `layer_table`), split into `columns` columns wherever
    the layer's kernels are split; arrows that cross columns mark the communication."""
    crossing = {"conv3", "fc6", "fc7", "fc8"}               # inputs from both columns (hatched)
    rows = ((0, 0.55), (1, 0.08)) if columns == 2 else ((0, 0.3),)
    fig, ax = figure(width=9.5, height=3.4)
    ax.set_axis_off()
    n = len(table)
    for i, row in enumerate(table.itertuples()):
        x = i / n
        shape = (row.output[0] // columns,) + tuple(row.output[1:])     # one column's share
        for col, y in rows:
            _box(ax, x, y, f"{row.layer}\n{'x'.join(map(str, shape))}", COLORS[f"column{col}"],
                 hatch=row.layer in crossing)
        if i and columns == 2 and row.layer in crossing:                # the columns talk here
            for y_from, y_to in ((0.3, 0.52), (0.68, 0.3)):
                ax.annotate("", xy=(x, y_to), xytext=(x - 1 / n + 0.09, y_from),
                            arrowprops=dict(arrowstyle="->", color="#333333", lw=0.8))
    ax.set_xlim(-0.01, 1.0)
    ax.set_ylim(0, 0.95)
    ax.text(0, 0.9, "column 0 (GPU 1)", color=COLORS["column0"], fontsize=9)
    if columns == 2:
        ax.text(0, 0.43, "column 1 (GPU 2)", color=COLORS["column1"], fontsize=9)
    return fig


def _box(ax, x, y, label, color, hatch=False):
    ax.add_patch(FancyBboxPatch((x, y), 0.09, 0.3, boxstyle="round,pad=0.005", fc=color, ec="#333333",
                                alpha=0.85, lw=0.8, hatch="//" if hatch else None))
    # the label on a white box: legible over the hatching of the layers that cross columns
    ax.text(x + 0.045, y + 0.15, label, ha="center", va="center", fontsize=7, color="#222222",
            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9))
