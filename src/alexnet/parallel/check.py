"""Is a parallel form the same function as the one-device model? Run on every rank of a
gloo group (`launch.spawn(compare, 2, mode, ...)`): the rank builds the reference model
from the same seed, runs it on the whole batch, runs its parallel form on its share, and
reports the largest relative differences of the logits and of every gradient, and the
bytes it sent against the bytes derived from the shapes."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from ..models import alexnet_paper, alexnet_small
from . import Dist, wrap
from .comm import LOG, derived_bytes

SIZES = {"alexnet_paper": 227, "alexnet_small": 32}


def _model(name: str, classes: int, seed: int):
    torch.manual_seed(seed)
    make = alexnet_paper if name == "alexnet_paper" else alexnet_small
    return make(classes, dropout=0.0)          # no dropout: the forms must agree exactly


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


def _reference_grad(name: str, ref, world: int, rank: int, mode: str) -> torch.Tensor:
    """The slice of the reference gradient that this rank's parameter `name` holds."""
    layer, what = name.rsplit(".", 1)
    layer = layer.split(".")[-1]
    g = getattr(getattr(ref, layer), what).grad
    split = (mode == "columns" and layer in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")) \
        or (mode == "weird_trick" and layer in ("fc6", "fc7", "fc8"))
    if not split:
        return g
    n = g.shape[0] // world
    return g[rank * n:(rank + 1) * n]


def compare(mode: str, model_name: str = "alexnet_small", batch: int = 4, classes: int = 10,
            seed: int = 0) -> dict:
    """Largest relative differences (logits, gradients) of `mode` vs the one-device model."""
    rank, world = dist.get_rank(), dist.get_world_size()
    side = SIZES[model_name]
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, 3, side, side, generator=gen)
    y = torch.randint(0, classes, (batch,), generator=gen)

    ref = _model(model_name, classes, seed)
    ref_logits = ref(x)
    F.cross_entropy(ref_logits, y).backward()

    net = wrap(_model(model_name, classes, seed), Dist(mode, rank, world, torch.device("cpu")))
    rows = slice(None) if mode == "columns" else slice(rank * batch // world, (rank + 1) * batch // world)
    LOG.reset()
    logits = net(x[rows])
    F.cross_entropy(logits, y[rows]).backward()
    measured = LOG.total_bytes()
    grads = {n: _rel(p.grad, _reference_grad(n, ref, world, rank, mode))
             for n, p in net.named_parameters()}
    derived = sum(r["bytes"] for r in derived_bytes(ref, mode, batch, world, (3, side, side)))
    return dict(mode=mode, model=model_name, rank=rank, logits=_rel(logits, ref_logits[rows]),
                max_grad=max(grads.values()), grads=grads, bytes_measured=measured,
                bytes_derived=derived, params=sum(p.numel() for p in net.parameters()))


def compare_many(cases: list[tuple]) -> list[dict]:
    """`compare(*case)` for each case, in one process group (one start-up for a test)."""
    return [compare(*case) for case in cases]
