"""Dropout as §4.2 writes it ("vanilla") and as libraries do it today ("inverted").

§4.2: "setting to zero the output of each hidden neuron with probability 0.5 ... At test
time, we use all the neurons but multiply their outputs by 0.5, which is a reasonable
approximation to taking the geometric mean of the predictive distributions produced by
the exponentially-many dropout networks."

    vanilla   train: y = m * x              test: y = (1 - p) * x
    inverted  train: y = m * x / (1 - p)    test: y = x             (torch.nn.Dropout)

with m ~ Bernoulli(1 - p) per unit. Both have E[y_train] = y_test: they differ by the
constant 1/(1 - p), which the next layer's weights absorb. So a network trained one way
is the other way's network with the next layer's weights scaled (the dropout chapter and
tests/test_dropout.py check both statements).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

STYLES = ("vanilla", "inverted")


def dropout_mask(shape, p: float, generator: torch.Generator | None = None,
                 device=None) -> torch.Tensor:
    """1 where a unit is kept (probability 1 - p), 0 where it is dropped; float32."""
    return (torch.rand(shape, generator=generator, device=device) >= p).float()


def dropout(x: torch.Tensor, p: float = 0.5, training: bool = True, style: str = "vanilla",
            mask: torch.Tensor | None = None) -> torch.Tensor:
    """Drop units of `x` with probability `p`; `style` says where the 1/(1-p) goes."""
    if style not in STYLES:
        raise ValueError(f"dropout style {style!r}; choose one of {', '.join(STYLES)}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout p={p}: must be in [0, 1) (p is the probability of dropping)")
    if style == "inverted" and mask is None:
        # torch's own op: the same random numbers as torch.nn.Dropout, so a net built with
        # this layer computes bit for bit what it computed with nn.Dropout
        return F.dropout(x, p, training)
    if p == 0.0:
        return x
    if not training:
        return x * (1.0 - p) if style == "vanilla" else x          # §4.2: "multiply by 0.5"
    if mask is None:
        mask = dropout_mask(x.shape, p, device=x.device)
    kept = x * mask.to(x.dtype)
    return kept if style == "vanilla" else kept / (1.0 - p)


class Dropout(nn.Module):
    """`dropout` as a layer, used by every network of the book that has dropout; the
    registry passes `cfg.dropout_style`. `style="inverted"` is `torch.nn.Dropout`, bit for bit."""

    def __init__(self, p: float = 0.5, style: str = "vanilla"):
        super().__init__()
        if style not in STYLES:
            raise ValueError(f"dropout style {style!r}; choose one of {', '.join(STYLES)}")
        self.p, self.style = p, style

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training, self.style)

    def extra_repr(self) -> str:
        return f"p={self.p}, style={self.style}"
