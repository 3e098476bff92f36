"""The claims no experiment measures: code checks (a count, a formula, an equivalence, checked
live when the scorecard is built: "exact") and the claims that need ImageNet at full scale
("not run" until a record exists). Every other claim is declared by its experiment
(`EXPERIMENT.claims`, `alexnet.harness.declare`).
"""
from __future__ import annotations

from ..harness.declare import Claim


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
    return ok, (f"3×3 ×2 sees {two}×{two}, ×3 sees {three}×{three}; three 3×3 layers {stack:,} weights, "
                f"one 7×7 {single:,} (C=64)")


CODE_CHECKS = (
    Claim("parameters", "AlexNet has 60 million parameters (abstract, §4)", "60 million; 60,965,224 counted",
          "architecture", holds=_parameters),
    Claim("lrn_formula", "LRN as the paper writes it (§3.3)", "b = a / (k + α Σ a²)^β", "lrn", holds=_lrn_formula),
    Claim("vgg_stacks", "VGG: stacked 3×3 layers see a 5×5 / 7×7 field with fewer parameters (§2.3)", "5×5 / 7×7; 27C² vs 49C²", "vgg",
          holds=_stacks),
    Claim("vgg_dense", "VGG: dense evaluation ≡ the fully connected net at 224 (§3.2)", "equivalence", "vgg",
          holds=_dense_equals_fc),
    Claim("update_rule", "§5's update rule ≡ torch's SGD at a constant rate", "equivalence", "learning",
          holds=_update_rule),
)

# Full-scale ImageNet results: no record on a CPU; the results chapter gives the commands.
NOT_RUN = (
    Claim("ilsvrc2010", "ILSVRC-2010 test error, one CNN (§6)", "37.5 / 17.0", "results"),
    Claim("ilsvrc2012", "ILSVRC-2012 val, 1 / 5 CNNs (§6)", "40.7 / 18.2; 38.1 / 16.4", "results"),
)
