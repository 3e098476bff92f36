"""§3.4 overlapping pooling: the two pooling grids the paper compares, written once.

"A pooling layer can be thought of as consisting of a grid of pooling units spaced s pixels
apart, each summarizing a neighborhood of size z x z ... If we set s < z, we obtain
overlapping pooling. This is what we use throughout our network, with s = 2 and z = 3.
This scheme reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as
compared with the non-overlapping scheme s = 2, z = 2, which produces output of equivalent
dimensions." (§3.4)
"""
from __future__ import annotations

from torch import nn

POOLS = {"overlap": (3, 2), "plain": (2, 2)}        # §3.4: (z, s) = (3, 2) vs z = s = 2


def pool_layer(pool: str, padded: bool = False) -> nn.MaxPool2d:
    """The max-pool of grid `pool` (overlap | plain). On AlexNet's odd sides both grids give
    equal outputs (55 -> 27), as the paper says. On CIFAR-10's even sides z=3, s=2 without
    padding would shrink more (32 -> 15) than z=s=2 (32 -> 16); `padded` adds one pixel of
    padding to the overlapping grid (never the max: it pads with -inf), which restores equal
    dimensions, so the two grids then differ only in the overlap, not in fc6's size."""
    if pool not in POOLS:
        raise ValueError(f"pool={pool!r}; choose overlap (z=3, s=2) or plain (z=s=2)")
    z, s = POOLS[pool]
    return nn.MaxPool2d(z, s, padding=1 if padded and z > s else 0)


def pooled_side(side: int, pool: nn.MaxPool2d) -> int:
    """Spatial side after `pool`, by the convolution arithmetic (floor mode)."""
    return (side + 2 * pool.padding - pool.kernel_size) // pool.stride + 1
