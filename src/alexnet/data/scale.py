"""VGG's multi-scale training (Simonyan & Zisserman 2014, §3.1): rescale each training image
isotropically so its smallest side is S, then take a random crop (224x224 in the paper) and
flip it. S is fixed (256 or 384) or, for "scale jittering", drawn per image from [256, 512].

Works on in-memory uint8 batches with tensor ops, like `data.loader.MemoryLoader`, and is
seeded by (seed, epoch, step) in the same way so a resumed run sees the same batches.

    bundle = scale_bundle(load_data(cfg), crop=32, scale=cpu_scale((256, 512)))
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from .augment import grid_offsets, rescale, scale_crop_flip  # noqa: F401  (VGG's scale jitter, written there)
from .loader import step_seed

PAPER_CROP = 224                    # §3.1: "the input to our ConvNets is a fixed-size 224 x 224 RGB image"


def cpu_scale(paper: tuple[int, int] | int, crop: int = 32) -> tuple[int, int]:
    """The paper's S (in pixels for a 224 crop) at the same ratio S/crop for a smaller crop:
    S=256 -> 37 and [256, 512] -> [37, 73] for 32x32 CIFAR-10 crops."""
    lo, hi = (paper, paper) if isinstance(paper, int) else paper
    return round(lo * crop / PAPER_CROP), round(hi * crop / PAPER_CROP)


@dataclass(eq=False, repr=False)   # a plain object: no field-by-field equality or repr of the tensors
class ScaleLoader:
    """Training batches of an in-memory uint8 set (N, C, H, W) with VGG's scale augmentation:
    S uniform in [scale[0], scale[1]] per image (scale[0] == scale[1]: fixed S)."""
    images: torch.Tensor
    labels: torch.Tensor
    batch_size: int
    crop: int
    scale: tuple[int, int]
    mean: object                   # per-channel, [0, 1] units; a (1, C, 1, 1) tensor after init
    std: object
    seed: int = 0
    train: bool = True             # a training loader only (evaluation stays the bundle's own)

    def __post_init__(self):
        if self.scale[0] > self.scale[1]:
            raise ValueError(f"scale range {self.scale} is empty; give (S_min, S_max) with S_min <= S_max")
        self.scale = tuple(self.scale)
        self.mean = torch.as_tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.as_tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)

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
