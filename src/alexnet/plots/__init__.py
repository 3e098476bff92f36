"""The book's figures, one style. Each topic has its own module (architecture, curves,
images ...); all of them draw through `figure()` and end their caption with the run
record's provenance line (`caption`)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() == "" else None
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"relu": "#1f77b4", "tanh": "#d62728", "paper": "#444444", "ours": "#1f77b4",
          "d2l": "#ff7f0e", "column0": "#4c72b0", "column1": "#dd8452", "grid": "#dddddd"}
CYCLE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

STYLE = {
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 10, "axes.titlesize": 11,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.color": COLORS["grid"], "grid.linewidth": 0.6, "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
}


def figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 3.6, **kw):
    """A figure in the book's style: (fig, axes)."""
    # The figure is made outside rc_context: pyplot loads the notebook's inline backend at
    # the first figure, and that backend switches matplotlib to interactive mode; inside
    # rc_context the switch would be undone on exit and no later figure would be shown.
    fig_kw = {k: kw.pop(k) for k in ("layout", "constrained_layout", "facecolor", "dpi") if k in kw}
    fig = plt.figure(figsize=(width, height), **{"dpi": STYLE["figure.dpi"], **fig_kw})
    with plt.rc_context(STYLE):
        axes = fig.subplots(nrows, ncols, **kw)
    for ax in (axes.flat if hasattr(axes, "flat") else [axes]):
        ax.set_axisbelow(True)
    return fig, axes


def caption(fig, record=None, text: str = "") -> None:
    """Put `text` and the run record's provenance line under the figure."""
    line = " ".join(t for t in (text, record.line() if record is not None else "") if t)
    if line:
        fig.text(0.01, -0.02, line, ha="left", va="top", fontsize=7.5, color="#555555", wrap=True)
