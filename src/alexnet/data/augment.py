"""The augmentations of the two papers, each written once, on whole batches.

- crops and flips (AlexNet §4.1): `random_offsets` and `flip_draws` make the random choices,
  `random_crop` / `random_flip` apply them to in-memory batches; the folder loader uses the
  same choices and crops inside its fused normalisation (`folders.FolderLoader`);
- scale jitter (VGG §3.1): `rescale`, `scale_crop_flip`, and `grid_offsets` for the test grid;
- PCA lighting (AlexNet §4.1): `pca_shift` draws the per-image RGB offsets, `pca_noise_batch`
  adds them to a batch (the statistics themselves come from `data.pca`);
- ten-crop testing (AlexNet §4.1): `ten_crop_boxes`, `ten_crops`.

Randomness always comes from a `torch.Generator` passed in (seeded by (seed, epoch, step) in
the loaders), drawn in a fixed order, so a resumed run sees exactly the same batches.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


# --- crops and flips (§4.1) -----------------------------------------------------------------
def random_offsets(n: int, h: int, w: int, size: int | tuple[int, int],
                   gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(top (n,), left (n,)) of `n` uniformly random windows of `size` (side, or (height,
    width)) in an h x w image: rows drawn first, then columns (the order every loader uses)."""
    sh, sw = (size, size) if isinstance(size, int) else size
    top = torch.randint(0, h - sh + 1, (n,), generator=gen)
    left = torch.randint(0, w - sw + 1, (n,), generator=gen)
    return top, left


def flip_draws(n: int, gen: torch.Generator) -> torch.Tensor:
    """§4.1's horizontal reflections: True for each image flipped, with probability 1/2."""
    return torch.rand(n, generator=gen) < 0.5


def flip_where(x: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """x (B, C, H, W) with the images where `flip` (B,) is True mirrored left-right."""
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def random_crop(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to `pad` pixels (zero padding), one offset per image."""
    if pad == 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))                       # (B, C, H+2p, W+2p)
    oy, ox = random_offsets(b, h + 2 * pad, w + 2 * pad, (h, w), gen)
    # Every window as a view, (B, C, 2p+1, 2p+1, H, W); one pick per image copies only
    # the crops (4x faster here than gathering pixel by pixel with index grids).
    windows = padded.unfold(2, h, 1).unfold(3, w, 1)
    return windows[torch.arange(b), :, oy, ox]                     # (B, C, H, W)


def random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """§4.1: horizontal reflections, each image with probability 1/2."""
    return flip_where(x, flip_draws(x.shape[0], gen))


# --- scale jitter (VGG §3.1) ------------------------------------------------------------------
def rescale(x: torch.Tensor, s: int) -> torch.Tensor:
    """Isotropic rescale of a float batch (B, C, H, W) so that min(H, W) = s (bilinear,
    antialiased when shrinking)."""
    h, w = x.shape[-2:]
    if min(h, w) == s:
        return x
    size = (s, round(w * s / h)) if h <= w else (round(h * s / w), s)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=s < min(h, w))


def scale_crop_flip(x: torch.Tensor, scales: torch.Tensor, crop: int, gen: torch.Generator) -> torch.Tensor:
    """x (B, C, H, W) float; scales (B,) ints: image i rescaled to smallest side scales[i],
    then a random crop x crop and a horizontal flip with probability 1/2 -> (B, C, crop, crop)."""
    if int(scales.min()) < crop:
        raise ValueError(f"scale {int(scales.min())} is smaller than the crop {crop}; use S >= crop")
    out = torch.empty(x.shape[0], x.shape[1], crop, crop, dtype=x.dtype)
    for s in scales.unique().tolist():                        # one resize per distinct S
        idx = (scales == s).nonzero().flatten()
        big = rescale(x[idx], s)                              # (b, C, >=s, >=s)
        oy, ox = random_offsets(len(idx), big.shape[-2], big.shape[-1], crop, gen)
        for j, i in enumerate(idx.tolist()):
            out[i] = big[j, :, oy[j]:oy[j] + crop, ox[j]:ox[j] + crop]
    return flip_where(out, flip_draws(x.shape[0], gen))


def grid_offsets(size: int, crop: int, grid: int) -> list[int]:
    """`grid` evenly spaced crop offsets along a side of `size` (VGG §3.2's regular 5x5 grid)."""
    if grid == 1:
        return [(size - crop) // 2]
    return [math.floor(i * (size - crop) / (grid - 1)) for i in range(grid)]


# --- PCA lighting (§4.1) ----------------------------------------------------------------------
def pca_shift(n: int, eigvals, eigvecs, std: float = 0.1, generator=None) -> torch.Tensor:
    """The per-image RGB offsets sum_i a_i l_i p_i, a_i ~ N(0, std): (n, 3), in [0, 1] pixel
    units. The one draw of §4.1's colour noise; every loader adds these offsets."""
    eigvals = torch.as_tensor(eigvals, dtype=torch.float32)
    eigvecs = torch.as_tensor(eigvecs, dtype=torch.float32)
    alpha = torch.randn(n, 3, generator=generator) * std          # (n, 3), one draw per image
    return (alpha * eigvals) @ eigvecs.T                           # (n, 3): p_i weighted, summed


def pca_noise_batch(x: torch.Tensor, eigvals, eigvecs, std: float = 0.1, generator=None) -> torch.Tensor:
    """x: float (B, 3, H, W) in [0, 1]; every pixel of image b moves by the same RGB offset."""
    shift = pca_shift(x.shape[0], eigvals, eigvecs, std, generator).to(x.device, x.dtype)
    return x + shift[:, :, None, None]


# --- ten-crop testing (§4.1) ------------------------------------------------------------------
def ten_crop_boxes(h: int, w: int, size: int) -> list[tuple[int, int, bool]]:
    """§4.1 test: "the four corner patches and the center patch as well as their horizontal
    reflections", as (top, left, flip) in torchvision's ten_crop order (the second five are
    the five crops of the reflected image)."""
    five = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size), ((h - size) // 2, (w - size) // 2)]
    return [(t, l, False) for t, l in five] + [(t, w - size - l, True) for t, l in five]


def ten_crops(x: torch.Tensor, size: int) -> torch.Tensor:
    """x (B, C, H, W) -> (B, 10, C, size, size)."""
    crops = [x[..., t:t + size, l:l + size] for t, l, _ in ten_crop_boxes(*x.shape[-2:], size)]
    return torch.stack(crops[:5] + [c.flip(-1) for c in crops[5:]], dim=1)
