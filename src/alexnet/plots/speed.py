"""Where a training step's time goes, drawn from `alexnet.bench.report.profile_table`."""
from __future__ import annotations

from . import caption, figure


def profile_figure(table, record=None):
    """Stacked horizontal bars: ms per training step by layer kind (the table's rows), one bar
    per option (its columns); the rows 'whole step' and '% of the measured peak' are left out."""
    parts = table.drop(["whole step", "% of the measured peak"], errors="ignore")
    fig, ax = figure(width=7.0, height=3.4)
    parts.T.plot.barh(stacked=True, ax=ax, width=0.6)
    ax.set_xlabel("ms per training step (batch 128)")
    ax.set_ylabel("")
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="lower right")
    caption(fig, record, "alexnet_paper's training step by layer kind, each layer timed alone.")
    return fig
