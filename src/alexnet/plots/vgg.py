"""Figures of the VGG chapter: receptive fields of stacked 3x3 convolutions, and depth."""
from __future__ import annotations

from matplotlib.patches import Rectangle

from ..harness.paper_tables import PAPER_TABLE3
from . import COLORS, CYCLE, caption, figure


def receptive_fields(costs: list[dict]):
    """Left: the input pixels that one output of 1, 2, 3 stacked 3x3 convs sees (nested
    squares 3, 5, 7). Right: weights per C^2 of n stacked 3x3 layers vs one k x k layer
    with the same receptive field (§2.3: three 3x3 = 27 C^2 against 7x7 = 49 C^2).
    `costs[n - 1]`: `models.vgg.stack_cost(n, 1)` for n = 1, 2, ... (field, stacked, single)."""
    max_layers = len(costs)
    fig, (ax1, ax2) = figure(ncols=2, width=9, height=3.6)
    side = 2 * max_layers + 1
    for i in range(side):
        for j in range(side):
            ax1.add_patch(Rectangle((i, j), 1, 1, fc="white", ec=COLORS["grid"], lw=0.6))
    for n in range(max_layers, 0, -1):
        f = costs[n - 1]["field"]
        lo = (side - f) / 2
        ax1.add_patch(Rectangle((lo, lo), f, f, fc=CYCLE[n - 1], alpha=0.25, ec=CYCLE[n - 1], lw=1.5,
                                label=f"{n} layer{'s' * (n > 1)}: {f}x{f}"))
    ax1.add_patch(Rectangle((max_layers, max_layers), 1, 1, fc="#333333"))
    ax1.set_xlim(0, side), ax1.set_ylim(0, side), ax1.set_aspect("equal"), ax1.set_axis_off()
    ax1.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax1.set_title("input pixels seen by one output")
    x = [c["field"] for c in costs]
    ax2.plot(x, [c["stacked"] for c in costs], "o-", label="stack of 3x3 layers (9 n C²)")
    ax2.plot(x, [c["single"] for c in costs], "s-", label="one k x k layer (k² C²)")
    for c in costs:
        ax2.annotate(f"{c['stacked']}:{c['single']}", (c["field"], c["single"]), textcoords="offset points",
                     xytext=(-10, 6), fontsize=8)
    ax2.set_xticks(x), ax2.set_xlabel("receptive field k"), ax2.set_ylabel("weights / C²")
    ax2.legend(fontsize=8)
    ax2.set_title("parameters for the same receptive field")
    fig.tight_layout()
    return fig


def depth_errors(summary: dict, configs=("A", "B", "C", "D", "E"), column: str = "val_top1_err",
                 paper: bool = True):
    """Top-1 error change from configuration A, in points, per configuration in Table 1's order
    (C and D both have 16 weight layers), on ONE axis: ours (mean over seeds, bars ± the
    configuration's std) and, where `paper`, the paper's ImageNet top-1 error (Table 3,
    S = Q = 256). One axis, so a fall of 2 points and a rise of 6 look their sizes."""
    fig, ax = figure(width=6.8, height=3.8)
    x = list(range(len(configs)))
    base = 100 * summary[configs[0]][column]["mean"]
    mean = [100 * summary[c][column]["mean"] - base for c in configs]
    std = [100 * summary[c][column]["std"] for c in configs]
    ax.errorbar(x, mean, yerr=std, fmt="o-", color=COLORS["ours"], capsize=3,
                label="ours, CIFAR-10 at CPU scale (± std over seeds)")
    if paper:
        ref = PAPER_TABLE3[(configs[0], "256", "256")][0]
        ax.plot(x, [PAPER_TABLE3[(c, "256", "256")][0] - ref for c in configs], "s--", color=COLORS["paper"],
                label="paper, ImageNet (Table 3, S = Q = 256)")
    ax.axhline(0, color="#333333", lw=0.8)
    ax.set_xticks(x, [f"{c}\n{summary[c]['weight_layers']} layers" for c in configs])
    ax.set_ylabel(f"top-1 error − {configs[0]}'s (points)")
    ax.legend(fontsize=8.5, loc="upper left")
    fig.tight_layout()
    return fig


def q_sweep(summary: dict, record=None):
    """Top-1 error of each trained net against the test scale Q (px; in brackets the paper's Q
    it stands for, `summary["q_paper"]`), dense (solid) and multi-crop (dashed), mean over seeds; a ring marks
    the Q at which Table 3 tests that net, the one the claim reads."""
    fig, ax = figure(width=6.8, height=3.6)
    for (variant, methods), color in zip(summary["q_sweep"].items(), CYCLE):
        for method, style in (("dense", "o-"), ("multi-crop", "s--")):
            qs = sorted(methods[method], key=int)
            ax.plot([int(q) for q in qs], [100 * methods[method][q]["mean"] for q in qs], style, color=color,
                    label=f"trained at {variant}, {method}")
        q = str(summary["test_scales"][variant])
        ax.plot(int(q), 100 * methods["dense"][q]["mean"], "o", ms=13, mfc="none", color=color)
    qs = sorted({int(q) for m in summary["q_sweep"].values() for q in m["dense"]})
    ax.set_xticks(qs, [f"{q}\n({summary['q_paper'][str(q)]})" for q in qs])
    ax.set_xlabel("test scale Q, px (the paper's Q for a 224 crop)")
    ax.set_ylabel("top-1 error (%)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    caption(fig, record)
    return fig
