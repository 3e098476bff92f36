"""The claims of both papers that the book measures, for the scorecard (`scorecard.py`).

Each `Claim` names how to read its per-seed effect from a record, oriented so that a
positive value points the paper's way, and the paper's size of that effect in the same units
where the paper states one; counts and equivalences are checked live (`holds`); a claim with
neither needs ImageNet at full scale ("not run").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .paper_tables import CLAIMS as PAPER


@dataclass(frozen=True)
class Claim:
    claim: str                       # what the paper says, in a few words
    paper: str                       # the paper's value as the paper gives it
    chapter: str                     # the book page that measures it
    experiment: str | None = None    # the record it is read from (None: checked live / not run)
    effect: Callable | None = None   # summary dict -> per-seed effects (positive = the paper's way)
    size: float | None = None        # the paper's effect in the same units (None: no size stated)
    holds: Callable | None = None    # () -> (bool, text) for counts and equivalences
    unit: str = "points"             # how `ours` is shown: points (x100), x (ratio), or plain


def values(summary: dict, *path) -> list[float]:
    """summary[path...]["values"] (per seed, in seed order)."""
    node = summary
    for key in path:
        node = node[key]
    return [float(v) for v in node["values"]]


def paired(summary: dict, worse: tuple, better: tuple) -> list[float]:
    """Per-seed `worse - better` (the variants share seeds and their order)."""
    return [a - b for a, b in zip(values(summary, *worse), values(summary, *better))]


def _parameters():
    from ..models import alexnet_paper, count_parameters
    n = count_parameters(alexnet_paper(1000))
    return n == 60_965_224, f"{n:,}"


def _lrn_formula():
    import torch
    from ..models.lrn import local_response_norm
    x = torch.randn(2, 16, 5, 5, dtype=torch.float64) * 30
    ours = local_response_norm(x, size=5, alpha=1e-4, beta=0.75, k=2.0)
    ref = torch.nn.LocalResponseNorm(5, alpha=1e-4 * 5, beta=0.75, k=2.0)(x)
    ok = torch.allclose(ours, ref, rtol=1e-10, atol=1e-12)
    return ok, "equal to torch's with alpha·n (float64)"


def _update_rule():
    from ..training.optim import compare_on_quadratic
    df = compare_on_quadratic(drop_at=None)
    gap = float((df.paper - df.torch).abs().max())
    return gap < 1e-12, f"max |Δw| = {gap:.1e} at constant lr"


def _dense_equals_fc():
    import torch
    from ..evaluation.vgg_dense import to_dense
    from ..models.vgg import vgg_small
    torch.manual_seed(0)
    net = vgg_small("A").eval()
    x = torch.randn(2, 3, net.input_size, net.input_size)
    with torch.no_grad():
        gap = float((to_dense(net)(x).flatten(1) - net(x)).abs().max())
    return gap < 1e-4, f"max |Δ| = {gap:.1e}"


def _stacks():
    """Receptive fields by the convolution arithmetic, weights counted on real layers."""
    from torch import nn
    from ..models.vgg import receptive_field
    two, three = receptive_field([(3, 1)] * 2), receptive_field([(3, 1)] * 3)
    c = 64
    stack = sum(p.numel() for p in nn.Sequential(*[nn.Conv2d(c, c, 3, bias=False)] * 1).parameters()) * 3
    single = nn.Conv2d(c, c, 7, bias=False).weight.numel()
    ok = two == 5 and three == 7 and stack == 27 * c * c and single == 49 * c * c
    return ok, f"3×3 ×2 sees {two}×{two}, ×3 sees {three}×{three}; {stack:,} vs {single:,} weights (C=64)"


def _ratio_minus_one(summary: dict) -> list[float]:
    return [r - 1.0 for r in summary.get("ratio_epochs_values") or []]


def _depth(summary: dict) -> list[float]:
    """Mean over conv3/4/5 of the per-seed top-1 change when one is removed."""
    per = [values(summary, f"no_{c}", "top1_change") for c in ("conv3", "conv4", "conv5")]
    return [sum(col) / len(col) for col in zip(*per)]


def _colour_split(summary: dict) -> list[float]:
    """Colourfulness of column 2's conv1 kernels minus column 1's (Fig. 3: GPU 2 colour)."""
    chosen = summary.get("chosen")
    col = summary.get("colourfulness_by_column", {}).get(chosen, {}).get("trained")
    return [col[1] - col[0]] if col else []


def _neighbours(summary: dict) -> list[float]:
    """Share of fc7 neighbours of the same class, above chance (1 / classes)."""
    share = summary.get("same_class_neighbours")
    return [share - (1 - summary["chance_top1_err"])] if share is not None else []


def _ten_crop(summary: dict) -> list[float]:
    crops = summary.get("crops", {})
    return [crops["center"]["top1_err"] - crops["ten_crop"]["top1_err"]] if crops else []


def _scale(summary: dict, fixed: str, jitter: str) -> list[float]:
    return paired(summary, (fixed, "dense", "top1_err"), (jitter, "dense", "top1_err"))


CLAIMS = [
    Claim("AlexNet has 60 million parameters (§3.5)", "60,965,224 (Fig. 2)", "architecture", holds=_parameters),
    Claim("LRN as the paper writes it (§3.3)", "b = a / (k + α Σ a²)^β", "lrn", holds=_lrn_formula),
    Claim("ReLU reaches 25% training error ~6× faster than tanh (Fig. 1)", "≈6×", "relu", "relu_vs_tanh",
          _ratio_minus_one, PAPER["relu_vs_tanh"]["ratio_epochs"] - 1, unit="x-1"),
    Claim("LRN lowers the error (§3.3, CIFAR-10 proxy of the ImageNet claim)", "−1.4 top-1 (ImageNet)", "lrn",
          "lrn", lambda s: [-v for v in values(s, "paper_lrn", "delta_vs_none")], PAPER["lrn"]["gain_top1"]),
    Claim("LRN on CIFAR-10: 13% → 11% (§3.3), cuda-convnet's own pair", "13% → 11%", "lrn", "lrn_cifar",
          lambda s: values(s, "gap_val_top1_err_multiview"),
          PAPER["lrn"]["cifar10_without"] - PAPER["lrn"]["cifar10_with"]),
    Claim("Overlapping pooling lowers the error (§3.4)", "−0.4 top-1", "pooling", "pooling",
          lambda s: paired(s, ("variants", "plain", "val_top1_err"), ("variants", "overlap", "val_top1_err")),
          PAPER["pooling"]["gain_top1"]),
    Claim("Overlapping pooling makes overfitting harder (§3.4)", "\"slightly more difficult to overfit\"",
          "pooling", "pooling",
          lambda s: paired(s, ("variants", "plain", "gap"), ("variants", "overlap", "gap"))),
    Claim("Two columns beat one half-width column (§3.2)", "−1.7 top-1", "multi_gpu", "two_columns",
          lambda s: paired(s, ("one_column_half", "val_top1_err"), ("two_columns", "val_top1_err")),
          PAPER["two_columns"]["gain_top1"]),
    Claim("Crops and flips reduce overfitting (§4.1)", "\"substantial overfitting\" without", "augmentation",
          "augmentation", lambda s: paired(s, ("none", "val_top1_err"), ("crop_flip", "val_top1_err"))),
    Claim("PCA lighting lowers top-1 error by over 1% (§4.1)", "> 1 top-1", "augmentation", "augmentation",
          lambda s: paired(s, ("crop_flip", "val_top1_err"), ("crop_flip_pca", "val_top1_err")),
          PAPER["augmentation"]["gain_pca_top1"]),
    Claim("Ten-crop testing beats one centre crop (§4.1, §6 footnote)", "39.0 → 37.5 top-1", "augmentation",
          "imagenet_sample", _ten_crop, 0.015),
    Claim("Dropout reduces overfitting (§4.2)", "\"substantial overfitting\" without", "dropout", "dropout",
          lambda s: paired(s, ("variants", "p0", "gap"), ("variants", "p0.5", "gap"))),
    Claim("Dropout roughly doubles the iterations to converge (§4.2)", "≈2×", "dropout", "dropout",
          lambda s: paired(s, ("variants", "p0.5", "epochs_to_plateau"), ("variants", "p0", "epochs_to_plateau")),
          None, unit="epochs"),
    Claim("Removing a middle conv layer costs ~2% top-1 (§7)", "≈2 top-1", "depth", "depth_ablation", _depth,
          PAPER["depth_ablation"]["top1_loss"]),
    Claim("N(0, 0.01) + biases 1 trains the net from the start (§5)", "\"accelerates the early stages\"",
          "learning", "init",
          lambda s: paired(s, ("kaiming", "val_top1_err"), ("paper", "val_top1_err"))),
    Claim("Weight decay lowers the training error (§5)", "\"reduces the model's training error\"", "learning",
          "weight_decay", lambda s: values(s, "clean_train_err_gain")),
    Claim("conv1 splits by column: colour-agnostic vs colour-specific (Fig. 3)", "qualitative", "learned",
          "imagenet_sample", _colour_split, unit="plain"),
    Claim("fc7 neighbours share the query's class (Fig. 4)", "qualitative", "learned", "imagenet_sample",
          _neighbours, unit="points"),
    Claim("ILSVRC-2010 test error, one CNN (§6)", "37.5 / 17.0", "results"),
    Claim("ILSVRC-2012 val, 1 / 5 CNNs (§6)", "40.7 / 18.2; 38.1 / 16.4", "results"),
    Claim("VGG: A-LRN is no better than A (Table 3)", "29.7 vs 29.6", "vgg", "vgg_lrn",
          lambda s: paired(s, ("A", "val_top1_err"), ("A-LRN", "val_top1_err")), -0.001),
    Claim("VGG: error falls with depth, A → E (Table 3)", "29.6 → 27.3 top-1", "vgg", "vgg_depth",
          lambda s: paired(s, ("A", "val_top1_err"), ("E", "val_top1_err")), 0.023),
    Claim("VGG: two 3×3 = one 5×5 field, fewer parameters (§2.3)", "5×5 / 7×7; 27C² vs 49C²", "vgg", holds=_stacks),
    Claim("VGG: scale jitter S∈[256,512] beats fixed S=256 (Table 3)", "27.0 → 25.6 (D, Q=384)", "vgg",
          "vgg_scale", lambda s: _scale(s, "S=256", "S=[256,512]"), 0.014),
    Claim("VGG: dense + multi-crop beats dense alone (Table 5)", "24.8 → 24.4", "vgg", "vgg_scale",
          lambda s: paired(s, ("S=[256,512]", "dense", "top1_err"), ("S=[256,512]", "dense+multi-crop", "top1_err")),
          0.004),
    Claim("VGG: dense evaluation ≡ the fully connected net at 224 (§3.2)", "equivalence", "vgg", holds=_dense_equals_fc),
    Claim("§5's update rule ≡ torch's SGD at a constant rate", "equivalence", "learning", holds=_update_rule),
]


def select(*starts: str) -> list[Claim]:
    """The claims whose text starts with any of `starts` (how a chapter picks its rows)."""
    return [c for c in CLAIMS if c.claim.startswith(starts)]
