"""Figures of the ReLU and LRN chapters (§3.1, §3.3): activations and their gradients,
Figure 1 from the relu_vs_tanh record, the sweep table, and LRN's layer times."""
from __future__ import annotations

import pandas as pd
import torch

from ..stats import pm
from . import COLORS, CYCLE, caption, figure
from .regularisation import missing_line, placeholder

ACTS = {"ReLU  max(0, x)": torch.relu, "tanh": torch.tanh, "logistic  1/(1+e^-x)": torch.sigmoid}


def activations_figure(lo: float = -5.0, hi: float = 5.0):
    """f(x) and f'(x) (by autograd) for ReLU, tanh and the logistic sigmoid; the shaded band
    is where tanh's gradient is below 0.1 of its peak: a saturated unit barely learns."""
    x = torch.linspace(lo, hi, 401, requires_grad=True)
    fig, (ax1, ax2) = figure(ncols=2, width=9, height=3.2)
    for (name, fn), color in zip(ACTS.items(), (COLORS["relu"], COLORS["tanh"], "#7f7f7f")):
        y = fn(x)
        grad, = torch.autograd.grad(y.sum(), x)
        ax1.plot(x.detach(), y.detach(), color=color, label=name)
        ax2.plot(x.detach(), grad, color=color, label=name)
    for ax in (ax1, ax2):
        for side in (-1, 1):                          # |x| > 1.82: tanh'(x) < 0.1
            ax.axvspan(*sorted((side * 1.82, side * hi)), color=COLORS["tanh"], alpha=0.06, lw=0)
        ax.set_xlabel("x (the unit's input)")
    ax1.set_title("activation f(x)"), ax2.set_title("gradient f'(x)")
    ax1.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def gradient_table(points=(0.0, 0.5, 1.0, 2.0, 3.0, 5.0)) -> pd.DataFrame:
    """f'(x) at a few inputs: ReLU's stays 1 for every positive input, tanh's decays ~e^-2x."""
    x = torch.tensor(points, requires_grad=True)
    rows = {}
    for name, fn in (("relu", torch.relu), ("tanh", torch.tanh), ("logistic", torch.sigmoid)):
        grad, = torch.autograd.grad(fn(x).sum(), x)
        rows[f"{name}'(x)"] = grad.tolist()
    return pd.DataFrame(rows, index=pd.Index(points, name="x"))


def figure1(record, ax=None):
    """Training error per epoch of the chosen rate of each activation, linear axes, the 25%
    line: §3.1's Figure 1 from the relu_vs_tanh record."""
    m, s = record.metrics, record.summary
    chosen = m[m.phase == "chosen"]
    fig = None
    if ax is None:
        fig, ax = figure(width=6.4, height=3.8)
    for i, (seed, runs) in enumerate(chosen.groupby("seed")):          # one line per seed
        for act, label in (("relu", "ReLU (solid)"), ("tanh", "tanh (dashed)")):
            rows = runs[runs.activation == act].sort_values("epoch")
            ax.plot(rows.epoch, rows.train_err, "-" if act == "relu" else "--", color=COLORS[act],
                    label=label if i == 0 else None, marker="o", ms=2.5, alpha=1.0 if i == 0 else 0.5)
    ax.axhline(s["target"], color=COLORS["paper"], lw=0.8, ls=":")
    ax.text(ax.get_xlim()[1], s["target"], f" {s['target']:.0%}", va="center", fontsize=8)
    ax.set_xlabel(f"epochs (passes over {s['train_images']:,} CIFAR-10 training images)")
    ax.set_ylabel("training error rate")
    ax.set_ylim(0, None)
    ax.legend()
    if fig is not None:
        caption(fig, record)
        fig.tight_layout()
    return fig


def sweep_table(record) -> pd.DataFrame:
    """Training error after the sweep epochs, per seed, rate and activation (NaN: diverged)."""
    s = record.summary
    table = pd.concat({seed: pd.DataFrame(s[f"seed{seed}"]["sweep"]) for seed in record.provenance["seeds"]},
                      names=["seed", "learning rate"])
    return table.rename(columns=lambda a: f"{a}: error after {s['sweep_epochs']} epoch{'' if s['sweep_epochs'] == 1 else 's'}")


def seeds_table(record):
    """Per seed: each activation's chosen rate, epochs to the target, and the ratios (a styled
    table: rates as given, epochs to one decimal, ratios to two; 'not reached' where none)."""
    s, rows = record.summary, []
    for seed in record.provenance["seeds"]:
        r = s[f"seed{seed}"]
        rows.append({"seed": seed, "ReLU lr": r["relu"]["lr"], "tanh lr": r["tanh"]["lr"],
                     # epochs to 25%, interpolated within the crossing epoch where the record has it
                     "ReLU epochs": r["relu"].get("epochs_to_target_interp", r["relu"]["epochs_to_target"]),
                     "tanh epochs": r["tanh"].get("epochs_to_target_interp", r["tanh"]["epochs_to_target"]),
                     "tanh / ReLU (epochs)": r["ratio_epochs"], "tanh / ReLU (seconds)": r["ratio_seconds"]})
    return pd.DataFrame(rows).set_index("seed").style.format(
        {"ReLU lr": "{:g}", "tanh lr": "{:g}", "ReLU epochs": "{:.1f}", "tanh epochs": "{:.1f}",
         "tanh / ReLU (epochs)": "{:.2f}", "tanh / ReLU (seconds)": "{:.2f}"}, na_rep="not reached")


def lrn_response_figure(local_response_norm, k=2.0, n=5, alpha=1e-4, beta=0.75, hi=1000.0):
    """§3.3's output b for an input a of one unit, alone among silent neighbours and among
    n - 1 neighbours as active as itself: LRN damps a unit whose neighbours are busy.
    `local_response_norm`: the function drawn (`models.lrn.local_response_norm`)."""
    a = torch.linspace(0, hi, 501)
    alone = torch.zeros(len(a), n, 1, 1)
    alone[:, n // 2, 0, 0] = a
    crowd = a.view(-1, 1, 1, 1).expand(-1, n, 1, 1).contiguous()
    fig, ax = figure(width=6.4, height=3.4)
    kw = dict(size=n, alpha=alpha, beta=beta, k=k)
    ax.plot(a, local_response_norm(alone, **kw)[:, n // 2, 0, 0], color=COLORS["relu"],
            label="neighbours silent")
    ax.plot(a, local_response_norm(crowd, **kw)[:, n // 2, 0, 0], color=COLORS["tanh"],
            label=f"{n - 1} neighbours as active")
    ax.plot(a, a / k ** beta, color="#7f7f7f", ls=":", lw=0.8, label="a / k^β (no neighbours' term)")
    ax.set_ylim(0, 1.3 * float(local_response_norm(alone, **kw).max()))
    ax.set_xlabel("input a (activity of the unit)"), ax.set_ylabel("output b")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


LRN_NAMES = {"none": "no LRN", "paper_lrn": "LRN, §3.3 constants", "ccn_lrn": "LRN, cuda-convnet's CIFAR-10 constants"}


def lrn_table(record) -> pd.DataFrame:
    """The `lrn` record per network: test and running training error (mean ± std over seeds)
    and the gain over no LRN, paired by seed (positive: LRN lowers the error)."""
    s, rows = record.summary, []
    for variant, name in LRN_NAMES.items():
        gain = s[variant].get("delta_vs_none")
        rows.append({"network": name, "test error": pm(s[variant]["val_top1_err"], digits=2, unit="%"),
                     "running train error": pm(s[variant]["train_err"], digits=2, unit="%"),
                     "gain vs no LRN (paired)": pm(dict(gain, mean=-gain["mean"]), digits=2, unit=" points") if gain else "",
                     "seeds": s[variant]["val_top1_err"]["n"]})
    return pd.DataFrame(rows).set_index("network")


def lrn_time_table(record) -> pd.DataFrame:
    """Forward+backward ms per model and layer, ours and (LRN layers) the autograd reference."""
    t = pd.DataFrame(record.summary["timing"])
    return t.pivot_table(index=["model", "layer"], columns="impl", values="ms", sort=False)


def lrn_time_figure(record):
    """Forward+backward ms per layer with the analytic-backward LRN and the autograd one."""
    t = pd.DataFrame(record.summary["timing"])
    models = list(dict.fromkeys(t.model))
    fig, axes = figure(ncols=len(models), width=4.6 * len(models), height=3.2)
    for ax, model in zip(axes, models):
        rows = t[t.model == model]
        ours = rows[rows.impl == "ours"]
        colors = ["#dd8452" if layer.startswith("norm") else "#4c72b0" for layer in ours.layer]
        ax.bar(ours.layer, ours.ms, color=colors)
        auto = rows[rows.impl == "autograd"]
        ax.bar(auto.layer, auto.ms, color="none", edgecolor="#dd8452", hatch="//", lw=0.8,
               label="LRN left to autograd")
        ax.set_title(model, fontsize=9), ax.set_ylabel("ms, forward + backward")
        ax.legend(fontsize=8)
    caption(fig, record)
    fig.tight_layout()
    return fig


# §3.1, Figure 1 read off the paper's figure: epochs to 25% training error (solid ReLU line
# at about 6 epochs, dashed tanh line at about 35; "six times faster").
PAPER_FIGURE1 = {"relu": 6, "tanh": 35}


def figure1_vs_paper(record):
    """Figure 1 from the record (one line per seed), with the epochs at which the paper's
    lines reach 25% marked on the 25% line (Figure 1, read off the figure)."""
    fig, ax = figure(width=7.2, height=3.8)
    ax.set_xlim(0, max(PAPER_FIGURE1.values()) + 2)
    figure1(record, ax=ax)
    target = record.summary["target"]
    for act, epochs in PAPER_FIGURE1.items():
        ax.plot([epochs], [target], marker="v", ms=9, color=COLORS[act], ls="none",
                label=f"paper: {'ReLU' if act == 'relu' else 'tanh'} reaches {target:.0%} (~{epochs} epochs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    caption(fig, record)
    return fig


SAT_LABELS = {"tanh-xavier": "tanh, Glorot init (Figure 1's)", "tanh-paper": "tanh, N(0, 0.01) (§5's)",
              "tanh-kaiming": "tanh, He init (2× Glorot's variance)", "relu-xavier": "ReLU, Glorot init"}


def saturation_figure(record):
    """Left: share of tanh pre-activations beyond ±2 (mean of conv1-3) per epoch, per
    initialisation. Middle: ReLU's share of units off (x <= 0). Right: running training error.
    No record: a note saying how to make it."""
    if record is None:
        return placeholder(missing_line("saturation", "cpu", None))
    m = record.metrics.groupby(["variant", "epoch"], sort=False)[["mean_share", "train_err"]].mean()
    fig, (ax1, ax2, ax3) = figure(ncols=3, width=11.5, height=3.4)
    for i, variant in enumerate(dict.fromkeys(record.metrics.variant)):
        rows, color = m.loc[variant], CYCLE[i % len(CYCLE)]
        (ax2 if variant.startswith("relu") else ax1).plot(rows.index, 100 * rows.mean_share, "o-", ms=3,
                                                           color=color, label=SAT_LABELS.get(variant, variant))
        ax3.plot(rows.index, 100 * rows.train_err, "o-", ms=3, color=color, label=SAT_LABELS.get(variant, variant))
    ax1.set(xlabel="epoch", ylabel="% of units with |x| > 2", title="tanh units saturated")
    ax2.set(xlabel="epoch", ylabel="% of units with x ≤ 0", title="ReLU units off")
    ax3.set(xlabel="epoch", ylabel="running training error %", title="training error")
    ax1.legend(fontsize=7), ax3.legend(fontsize=7)
    for ax in (ax1, ax2, ax3):
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    caption(fig, record)
    return fig


def saturation_table(record) -> pd.DataFrame:
    """Per variant and layer: the share (%) at initialisation, after one epoch and at the end."""
    m = record.metrics
    layers = [c for c in ("conv1", "conv2", "conv3", "mean_share") if c in m]
    at = lambda e: (100 * m[m.epoch == e].groupby("variant", sort=False)[layers].mean()).round(1)
    return pd.concat({"at init": at(0), "after epoch 1": at(min(1, m.epoch.max())), f"after epoch {m.epoch.max()}":
                      at(m.epoch.max())}, axis=1).rename(index=SAT_LABELS, columns={"mean_share": "mean"})


def lrn_cifar_figure(record):
    """cuda-convnet's 13pct / 11pct pair: left, training (dashed) and centre-crop test (solid)
    error per epoch, mean over seeds; right, the test-error gap 13pct - 11pct at equal epochs,
    one dot per seed, and at the end the gap of the 10-view test error. No record: a note."""
    if record is None:
        return placeholder(missing_line("lrn_cifar", "long", None))
    m, s = record.metrics, record.summary
    fig, (ax1, ax2) = figure(ncols=2, width=10, height=3.5)
    mean = m.groupby(["variant", "epoch"])[["train_err", "val_top1_err"]].mean()
    for variant, color in (("13pct", COLORS["tanh"]), ("11pct", COLORS["relu"])):
        rows = mean.loc[variant]
        ax1.plot(rows.index, 100 * rows.train_err, "--", color=color, alpha=0.7)
        ax1.plot(rows.index, 100 * rows.val_top1_err, "o-", ms=3, color=color, label=f"{variant} (test; dashed: train)")
    ax1.set(xlabel="epoch", ylabel="error %", title="13pct vs 11pct, centre-crop test error")
    ax1.legend(fontsize=8)
    gap = pd.DataFrame(s["gap_by_epoch"])
    ax2.plot(gap.epoch, 100 * gap["mean"], "o-", ms=3, color="#444444", label="mean over seeds")
    ax2.plot(gap.epoch.repeat(gap["values"].str.len()), 100 * gap["values"].explode().astype(float), ".",
             color="#999999", label="one seed")
    ax2.scatter([gap.epoch.max() + 0.5] * len(s["gap_val_top1_err_multiview"]["values"]),
                [100 * v for v in s["gap_val_top1_err_multiview"]["values"]], marker="D", color=COLORS["relu"],
                label="10-view test, after the last epoch")
    ax2.axhline(100 * s["paper"]["gap"], color=COLORS["paper"], ls=":", lw=1, label="the paper: 13% − 11%")
    ax2.axhline(0, color="#999999", lw=0.6)
    ax2.set(xlabel="epoch", ylabel="points", title="test error 13pct − 11pct (positive: LRN's way)")
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    caption(fig, record)
    return fig
