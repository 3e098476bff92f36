"""VGG's multi-scale training (Simonyan & Zisserman 2014, §3.1): rescale each training image
isotropically so its smallest side is S, then take a random crop (224x224 in the paper) and
flip it. S is fixed (256 or 384) or, for "scale jittering", drawn per image from [256, 512].

Works on in-memory uint8 batches with tensor ops, like `data.batches.MemoryLoader`, and is
seeded by (seed, epoch, step) in the same way so a resumed run sees the same batches.

    bundle = scale_bundle(load_data(cfg), crop=32, scale=cpu_scale((256, 512)))
"""
from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F

from .loader import step_seed

PAPER_CROP = 224                    # §3.1: "the input to our ConvNets is a fixed-size 224 x 224 RGB image"


def cpu_scale(paper: tuple[int, int] | int, crop: int = 32) -> tuple[int, int]:
    """The paper's S (in pixels for a 224 crop) at the same ratio S/crop for a smaller crop:
    S=256 -> 37 and [256, 512] -> [37, 73] for 32x32 CIFAR-10 crops."""
    lo, hi = (paper, paper) if isinstance(paper, int) else paper
    return round(lo * crop / PAPER_CROP), round(hi * crop / PAPER_CROP)


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
        oy = torch.randint(0, big.shape[-2] - crop + 1, (len(idx),), generator=gen)
        ox = torch.randint(0, big.shape[-1] - crop + 1, (len(idx),), generator=gen)
        for j, i in enumerate(idx.tolist()):
            out[i] = big[j, :, oy[j]:oy[j] + crop, ox[j]:ox[j] + crop]
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


class ScaleLoader:
    """Training batches of an in-memory uint8 set (N, C, H, W) with VGG's scale augmentation:
    S uniform in [scale[0], scale[1]] per image (scale[0] == scale[1]: fixed S)."""

    def __init__(self, images, labels, batch_size: int, crop: int, scale: tuple[int, int],
                 mean, std, seed: int = 0):
        if scale[0] > scale[1]:
            raise ValueError(f"scale range {scale} is empty; give (S_min, S_max) with S_min <= S_max")
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.crop, self.scale, self.seed = crop, tuple(scale), seed
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        self.train = True

    def __len__(self) -> int:
        return len(self.labels) // self.batch_size            # drop the last partial batch, as training does

    def batches(self, epoch: int = 0, start: int = 0):
        order = torch.randperm(len(self.labels), generator=torch.Generator().manual_seed(
            step_seed(self.seed, epoch, -1)))
        for step in range(start, len(self)):
            idx = order[step * self.batch_size:(step + 1) * self.batch_size]
            gen = torch.Generator().manual_seed(step_seed(self.seed, epoch, step))
            scales = torch.randint(self.scale[0], self.scale[1] + 1, (len(idx),), generator=gen)
            x = scale_crop_flip(self.images[idx].float().div_(255), scales, self.crop, gen)
            yield (x - self.mean) / self.std, self.labels[idx]

    def __iter__(self):
        return self.batches(0)


def scale_bundle(bundle, crop: int, scale: tuple[int, int] | int):
    """A copy of a `DataBundle` from `load_data` (in-memory sets) whose training loader
    applies VGG's scale augmentation instead of its own; validation is left as it was."""
    train = bundle.train
    if not hasattr(train, "images"):
        raise TypeError("scale_bundle needs an in-memory training loader (cifar10, fashion_mnist, "
                        "synthetic); folder datasets rescale per image in their own pipeline")
    scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
    loader = ScaleLoader(train.images, train.labels, train.batch_size, crop, scale,
                         train.mean.flatten(), train.std.flatten(), seed=train.seed)
    note = f"VGG scale augmentation: S in [{scale[0]}, {scale[1]}], crop {crop}"
    return dataclasses.replace(bundle, train=loader, notes=[*bundle.notes, note])


def grid_offsets(size: int, crop: int, grid: int) -> list[int]:
    """`grid` evenly spaced crop offsets along a side of `size` (§3.2's regular 5x5 grid)."""
    if grid == 1:
        return [(size - crop) // 2]
    return [math.floor(i * (size - crop) / (grid - 1)) for i in range(grid)]
