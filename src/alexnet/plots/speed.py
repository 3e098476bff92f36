"""Where a training step's time goes, drawn from `alexnet.bench.report.profile_table`."""
from __future__ import annotations

from . import caption, figure


REMAINDER = "optimizer, casts, loss"     # the step minus its layers: drawn as the gap to the step's mark


def profile_figure(table, record=None):
    """Stacked horizontal bars: ms per training step by layer kind (the table's rows), one bar
    per option (its columns), and a black mark at the whole step as timed: the gap between the
    bar's end and the mark is what the step spends beyond its layers (a mark inside the bar:
    the layers timed alone added up to more than the step, by the machine's noise)."""
    parts = table.drop(["whole step", "% of the measured peak", REMAINDER], errors="ignore")
    fig, ax = figure(width=7.0, height=3.4)
    parts.T.plot.barh(stacked=True, ax=ax, width=0.6)
    if "whole step" in table.index:
        ax.scatter(table.loc["whole step"], range(len(table.columns)), marker="|", s=900, color="black",
                   zorder=3, label="whole step")
    ax.set_xlabel("ms per training step (batch 128)")
    ax.set_ylabel("")
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="lower right")
    caption(fig, record, "alexnet_paper's training step by layer kind, each layer timed alone.")
    return fig
