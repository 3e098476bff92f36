"""Where a training step's time goes, drawn from `alexnet.bench.report.profile_table`."""
from __future__ import annotations

import numpy as np

from . import caption, figure


REMAINDER = "optimizer, casts, loss"     # the step minus its layers: the difference of the two bars
STEP = "whole step"


def profile_figure(table, record=None):
    """Per option (the table's columns) two horizontal bars: the layers, each timed alone,
    stacked by kind (the table's rows), and beneath it the whole step timed at once. Where the
    step bar is longer, the difference is what the step spends beyond its layers (optimizer,
    casts, loss); where it is shorter, the layers timed apart added up to more than the step,
    which is the timing's noise, not a saving."""
    parts = table.drop([STEP, "% of the measured peak", REMAINDER], errors="ignore")
    options = list(table.columns)
    y = np.arange(len(options), dtype=float)
    fig, ax = figure(width=7.0, height=1.4 + 0.85 * len(options))
    left = np.zeros(len(options))
    for kind, ms in parts.iterrows():
        ax.barh(y, ms.values, left=left, height=0.36, label=kind)
        left += ms.values
    ends = [(y, left, "layers, each timed alone")]
    if STEP in table.index:
        ax.barh(y + 0.4, table.loc[STEP].values, height=0.36, color="#444444", label="whole step, timed at once")
        ends.append((y + 0.4, table.loc[STEP].values, "whole step"))
    for rows, widths, what in ends:
        for row, width in zip(rows, widths):
            ax.text(width, row, f"  {what}: {width:,.0f} ms", va="center", fontsize=7.5)
    ax.set_yticks(y + (0.2 if STEP in table.index else 0), options)
    ax.set_xlim(0, 1.45 * max(left.max(), table.loc[STEP].max() if STEP in table.index else 0))
    ax.set_xlabel("ms per training step (batch 128)")
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.legend(fontsize=8, ncol=4, loc="lower center", bbox_to_anchor=(0.45, 1.0))
    caption(fig, record)
    return fig
