"""Collectives that count what they send, and the autograd-aware gather the splits use.

Every exchange in `alexnet.parallel` goes through this module, so one `CommLog` sees all
of a step's traffic: the bytes each rank sends (ring algorithms, what NCCL and gloo use
for large tensors) and the seconds spent blocked in the collective.

Bytes one rank sends for a tensor of B bytes among W ranks (ring):
    all_gather of its own B bytes            (W - 1) * B
    reduce_scatter of a full B-byte tensor   (W - 1) / W * B
    all_reduce of B bytes                    2 (W - 1) / W * B
With W = 2 each is B, B/2, B: a two-GPU all-reduce sends as much as the tensor holds.
"""
from __future__ import annotations

import time
from collections import defaultdict

import torch
import torch.distributed as dist


def ring_bytes(op: str, nbytes: int, world: int) -> float:
    """Bytes one rank sends in `op` on a `nbytes` tensor (see the module docstring)."""
    factor = {"all_gather": world - 1, "reduce_scatter": (world - 1) / world,
              "all_reduce": 2 * (world - 1) / world}
    if op not in factor:
        raise ValueError(f"unknown collective {op!r}; choose one of {', '.join(factor)}")
    return factor[op] * nbytes


class CommLog:
    """Bytes sent and seconds spent, per (collective, tag), since the last `reset`."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.bytes = defaultdict(float)
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)

    def add(self, op: str, tag: str, nbytes: float, seconds: float) -> None:
        self.bytes[(op, tag)] += nbytes
        self.seconds[(op, tag)] += seconds
        self.calls[(op, tag)] += 1

    def total_bytes(self) -> float:
        return float(sum(self.bytes.values()))

    def total_seconds(self) -> float:
        return float(sum(self.seconds.values()))

    def rows(self) -> list[dict]:
        return [dict(op=op, tag=tag, calls=self.calls[(op, tag)], bytes=self.bytes[(op, tag)],
                     seconds=self.seconds[(op, tag)]) for op, tag in sorted(self.bytes)]


LOG = CommLog()          # one per process: what this rank sent

# Recent torch (2.14) names the single-tensor collectives *_single and warns (FutureWarning) on the
# old names, all_gather_into_tensor and reduce_scatter_tensor; older torch has only the old.
_ALL_GATHER = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
_REDUCE_SCATTER = getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor


def _timed(op: str, tag: str, nbytes: int, fn):
    world = dist.get_world_size()
    t0 = time.perf_counter()
    result = fn()
    LOG.add(op, tag, ring_bytes(op, nbytes, world), time.perf_counter() - t0)
    return result


def all_reduce(t: torch.Tensor, tag: str = "", op=dist.ReduceOp.SUM) -> torch.Tensor:
    """In-place all-reduce of `t`, counted."""
    _timed("all_reduce", tag, t.numel() * t.element_size(), lambda: dist.all_reduce(t, op=op))
    return t


def all_gather_cat(x: torch.Tensor, dim: int, tag: str = "") -> torch.Tensor:
    """Concatenate every rank's `x` along `dim` (equal shapes), counted; no autograd."""
    world = dist.get_world_size()
    x0 = x.movedim(dim, 0).contiguous()                      # gather along the first dim
    out = x0.new_empty((world * x0.shape[0], *x0.shape[1:]))
    _timed("all_gather", tag, x0.numel() * x0.element_size(),
           lambda: _ALL_GATHER(out, x0))
    return out.movedim(0, dim)


def reduce_scatter(full: torch.Tensor, dim: int, tag: str = "") -> torch.Tensor:
    """Sum `full` over ranks and keep this rank's equal slice along `dim`, counted."""
    world = dist.get_world_size()
    f0 = full.movedim(dim, 0).contiguous()
    out = f0.new_empty((f0.shape[0] // world, *f0.shape[1:]))
    _timed("reduce_scatter", tag, f0.numel() * f0.element_size(),
           lambda: _REDUCE_SCATTER(out, f0))
    return out.movedim(0, dim)


class _Gather(torch.autograd.Function):
    """all_gather forward; backward sums every rank's gradient for this rank's slice.

    Each rank feeds the gathered tensor into *its own* layers (its half of conv3, of fc6 ...),
    so the gradient of the whole network w.r.t. this rank's slice is the sum of what every
    rank's layers send back: a reduce-scatter. With `replicated=True` every rank computes
    the same function of the result (the loss on the gathered logits), so the gradients are
    identical copies and this rank just takes its slice (summing would count it W times).
    """

    @staticmethod
    def forward(ctx, x, dim, tag, replicated):
        ctx.dim, ctx.tag, ctx.replicated = dim, tag, replicated
        ctx.rank, ctx.n = dist.get_rank(), x.shape[dim]
        return all_gather_cat(x, dim, tag)

    @staticmethod
    def backward(ctx, grad):
        if ctx.replicated:
            return grad.narrow(ctx.dim, ctx.rank * ctx.n, ctx.n).contiguous(), None, None, None
        return reduce_scatter(grad, ctx.dim, ctx.tag + ".grad"), None, None, None


def gather(x: torch.Tensor, dim: int, tag: str = "", replicated: bool = False) -> torch.Tensor:
    """Autograd-aware all-gather: every rank's `x` concatenated along `dim` (rank order)."""
    return _Gather.apply(x, dim, tag, replicated)


def gather_sizes(n: int, device) -> list[int]:
    """Every rank's `n` (e.g. its batch size), in rank order."""
    t = torch.tensor([n], device=device)
    out = [torch.zeros_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(out, t)
    return [int(v) for v in out]


def gather_ragged(x: torch.Tensor, sizes: list[int], tag: str = "") -> torch.Tensor:
    """Autograd-aware gather along dim 0 when ranks hold different numbers of rows
    (`sizes`, in rank order): pad to the largest, gather, drop the padding."""
    most = max(sizes)
    padded = torch.nn.functional.pad(x, (0, 0) * (x.dim() - 1) + (0, most - x.shape[0]))
    full = gather(padded, 0, tag)                            # (W * most, ...)
    return torch.cat([full[r * most:r * most + n] for r, n in enumerate(sizes)])


# --- the same bytes, derived from the layer shapes -------------------------------------

def derived_bytes(model, mode: str, batch: int, world: int = 2, image=(3, 227, 227),
                  dtype_bytes: int = 4) -> list[dict]:
    """Bytes one rank sends per training step of `mode` (ddp | columns | weird_trick) for a
    global batch of `batch` images, from the output shapes of `layer_table` and the
    parameter counts: what `LOG` should count when the step runs (tests check they agree)."""
    from ..models.summary import layer_table
    table = layer_table(model, image, all_layers=True).drop_duplicates("layer").set_index("layer")
    per_image = {name: int(torch.tensor(table.loc[name, "output"]).prod()) for name in
                 ("pool2", "pool5", "drop6", "drop7", "fc8")}
    params = sum(p.numel() for p in model.parameters())
    fc_params = sum(p.numel() for n in ("fc6", "fc7", "fc8") for p in getattr(model, n).parameters())
    rows = []

    def exchange(tag, full, gathered_dim_share, backward=True):
        # all_gather of this rank's share forward, reduce-scatter of the whole tensor backward
        rows.append(dict(mode=mode, exchange=tag, op="all_gather", direction="forward",
                         bytes=ring_bytes("all_gather", full // gathered_dim_share * dtype_bytes, world)))
        if backward:
            rows.append(dict(mode=mode, exchange=tag, op="reduce_scatter", direction="backward",
                             bytes=ring_bytes("reduce_scatter", full * dtype_bytes, world)))

    if mode == "ddp":
        rows.append(dict(mode=mode, exchange="gradients", op="all_reduce", direction="backward",
                         bytes=ring_bytes("all_reduce", params * dtype_bytes, world)))
    elif mode == "columns":
        for tag, src in (("conv3", "pool2"), ("fc6", "pool5"), ("fc7", "drop6"), ("fc8", "drop7")):
            exchange(tag, batch * per_image[src], world)
        exchange("logits", batch * per_image["fc8"], world, backward=False)
    elif mode == "weird_trick":
        rows.append(dict(mode=mode, exchange="gradients", op="all_reduce", direction="backward",
                         bytes=ring_bytes("all_reduce", (params - fc_params) * dtype_bytes, world)))
        for tag, src in (("features", "pool5"), ("fc7", "drop6"), ("fc8", "drop7"), ("logits", "fc8")):
            exchange(tag, batch * per_image[src], world)
    else:
        raise ValueError(f"mode {mode!r}: choose ddp, columns or weird_trick")
    return rows
