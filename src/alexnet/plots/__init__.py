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

# One width and one density for the whole book. At DPI a figure's inch is DPI CSS pixels on the
# page, so WIDTH inches (880 px) fits the main column (56rem = 896 px, _static/custom.css) and a
# 10-pt label is the same size (12 px) in every figure; a wider request is scaled down to WIDTH,
# its fonts keeping their size. Every PNG carries DENSITY x that many pixels: sharp on a
# high-DPI screen.
DPI, WIDTH, DENSITY = 88, 10.0, 2
STYLE = {
    "figure.dpi": DPI, "savefig.dpi": DENSITY * DPI, "font.size": 10, "axes.titlesize": 11,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.color": COLORS["grid"], "grid.linewidth": 0.6, "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
}


def figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 3.6, **kw):
    """A figure in the book's style: (fig, axes). At most WIDTH wide: a wider request keeps its
    shape at WIDTH."""
    if width > WIDTH:
        width, height = WIDTH, height * WIDTH / width
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


def _sharp_in_notebooks() -> None:
    """In a Jupyter kernel (a chapter in the book build or in JupyterLab), show figures as 2x
    PNGs ('retina': twice the pixels, drawn at the 1x size). Set on the inline backend's
    config, which the backend reads again when pyplot first activates it."""
    import sys
    if "ipykernel" not in sys.modules:
        return
    from IPython import get_ipython
    from matplotlib_inline.config import InlineBackend
    InlineBackend.instance(parent=get_ipython()).figure_formats = {"retina"}


_sharp_in_notebooks()


def caption(fig, record=None, text: str = "") -> None:
    """Put `text` and the run record's provenance line under the figure."""
    line = " ".join(t for t in (text, record.line() if record is not None else "") if t)
    if line:
        fig.text(0.01, -0.02, line, ha="left", va="top", fontsize=7.5, color="#555555", wrap=True)
