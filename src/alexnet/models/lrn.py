"""Local response normalisation exactly as §3.3 writes it.

    b[i] = a[i] / (k + alpha * sum_{j = max(0, i - n/2)}^{min(N - 1, i + n/2)} a[j]^2) ** beta

with k=2, n=5, alpha=1e-4, beta=0.75. `torch.nn.LocalResponseNorm` divides alpha by n
(it averages the squares rather than summing them), so the same numbers there need
`alpha * n`. The LRN chapter compares the conventions.
"""
import functools

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from . import lrn_kernel


def window_sum(x: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """sum_{j=i-lo}^{i+hi} x[:, :, j] over dim 2 of (B, G, C, H, W), zeros beyond the ends.

    As shifted slices: cheap elementwise adds, much faster on a CPU than a pooling op
    (the LRN chapter measures it)."""
    channels = x.shape[2]
    padded = F.pad(x, (0, 0, 0, 0, lo, hi))                    # (B, G, C + lo + hi, H, W)
    out = padded[:, :, 0:channels].clone()
    for j in range(1, lo + hi + 1):
        out += padded[:, :, j:j + channels]
    return out


@functools.lru_cache(maxsize=64)
def band(channels: int, groups: int, lo: int, hi: int) -> torch.Tensor:
    """(C, C) 0/1 matrix M with M[j, i] = 1 when input channel j is in output channel i's
    window [i - lo, i + hi] and in its group: x @ M is the window sum over channels."""
    i = torch.arange(channels)
    width = channels // groups
    same_group = (i[:, None] // width) == (i[None, :] // width)
    offset = i[:, None] - i[None, :]                            # j - i
    return (same_group & (offset >= -lo) & (offset <= hi)).float()


def channel_window_sum(x: torch.Tensor, lo: int, hi: int, groups: int) -> torch.Tensor:
    """The window sum over the channels of (B, C, H, W), within each of `groups`.

    channels_last tensors hold a pixel's channels side by side, so the sum is one matmul
    with the banded matrix (B*H*W, C) @ (C, C) — about three times as fast as shifted
    slices there, which stride across memory; NCHW tensors take the shifted slices."""
    c = x.shape[1]
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        m = band(c, groups, lo, hi).to(device=x.device, dtype=x.dtype)   # on x's device (GPU too)
        return torch.matmul(x.permute(0, 2, 3, 1), m).permute(0, 3, 1, 2)   # (B, C, H, W), channels_last
    return window_sum(x.unflatten(1, (groups, c // groups)), lo, hi).flatten(1, 2)


class _LRN(torch.autograd.Function):
    """b = a * d^-beta with d = k + alpha * S(a^2), S the window sum; the backward pass is
    written out, so autograd does not record (and replay) the pad, slices and pow:

        da[j] = g[j] d[j]^-beta - 2 alpha beta a[j] * sum_{i: j in window(i)} g[i] a[i] d[i]^(-beta-1)

    and the sum over the windows that contain j is the window sum with lo and hi swapped."""

    @staticmethod
    def forward(ctx, a, size, alpha, beta, k, groups):
        lo, hi = size // 2, (size - 1) // 2
        d = channel_window_sum(a * a, lo, hi, groups).mul_(alpha).add_(k)   # k + alpha * sum a^2
        scale = d.pow(-beta)
        ctx.save_for_backward(a, d, scale)
        ctx.lo, ctx.hi, ctx.alpha, ctx.beta, ctx.groups = lo, hi, alpha, beta, groups
        return a * scale

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        a, d, scale = ctx.saved_tensors
        t = (g * a).mul_(scale).div_(d)                         # g a d^(-beta-1)
        grad = channel_window_sum(t, ctx.hi, ctx.lo, ctx.groups).mul_(a).mul_(-2 * ctx.alpha * ctx.beta)
        return grad.addcmul_(g, scale), None, None, None, None, None


def local_response_norm(a: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 2.0, groups: int = 1) -> torch.Tensor:
    """The paper's formula on a (B, C, H, W) tensor; with `groups`, channels are normalised
    within their group only (the two columns of §3.2 each normalise their own 48 maps)."""
    if a.dim() != 4 or a.shape[1] % groups:
        raise ValueError(f"local_response_norm wants (B, C, H, W) with C divisible by groups={groups}; "
                         f"got shape {tuple(a.shape)}")
    return _LRN.apply(a, size, alpha, beta, k, groups)


def local_response_norm_fused(a: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75,
                              k: float = 2.0, groups: int = 1) -> torch.Tensor:
    """The same, one C++ kernel per direction (`lrn_kernel`, fused=true) where it applies:
    channels_last CPU tensors, the kernel built; `local_response_norm` otherwise."""
    return _normalise(a, (size, alpha, beta, k, groups), fused=True)


def _normalise(a: torch.Tensor, params: tuple, relu: bool = False, fused: bool = False) -> torch.Tensor:
    """LRN(a), or LRN(max(a, 0)) with `relu`; `params` = (size, alpha, beta, k, groups). With
    `fused`, the C++ kernel where it applies (the ReLU then read inside it), else the eager path."""
    if fused and lrn_kernel.applies(a, params[-1]):
        return lrn_kernel.FusedLRN.apply(a, params, relu)
    return local_response_norm(torch.relu(a) if relu else a, *params)


def local_response_norm_autograd(a: torch.Tensor, size: int = 5, alpha: float = 1e-4,
                                 beta: float = 0.75, k: float = 2.0) -> torch.Tensor:
    """The same formula left to autograd (the earlier implementation): the reference the
    tests and the LRN chapter's timing compare `local_response_norm` with."""
    lo, hi = size // 2, (size - 1) // 2
    return a / (k + alpha * window_sum((a * a).unsqueeze(1), lo, hi).squeeze(1)).pow(beta)


class LocalResponseNorm(nn.Module):
    """§3.3 response normalisation; defaults are the paper's hyper-parameters."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                 groups: int = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k, self.groups = size, alpha, beta, k, groups
        self.fused = False            # `fuse(model)` (fused=true): the C++ kernel

    def forward(self, a: torch.Tensor, relu: bool = False) -> torch.Tensor:
        """LRN(a); with `relu`, LRN(max(a, 0)) — in one kernel when fused (`act_then_norm`)."""
        return _normalise(a, (self.size, self.alpha, self.beta, self.k, self.groups), relu, self.fused)

    def extra_repr(self) -> str:
        return (f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
                + (f", groups={self.groups}" if self.groups > 1 else ""))


def fuse(model: nn.Module) -> nn.Module:
    """fused=true: every LocalResponseNorm in `model` runs the fused kernel where it applies."""
    for m in model.modules():
        if isinstance(m, LocalResponseNorm):
            m.fused = True
    return model


def act_then_norm(act: nn.Module, norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """norm(act(x)); a ReLU followed by a fused LRN is one kernel call (the ReLU applied as the
    kernel reads x, its gradient mask applied as it writes): bitwise the same, one pass over
    memory fewer in each direction."""
    if isinstance(act, nn.ReLU) and isinstance(norm, LocalResponseNorm) and norm.fused:
        return norm(x, relu=True)
    return norm(act(x))
