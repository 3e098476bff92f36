"""The loader interface every loader of the package implements (`Loader`), and the
in-memory loader for datasets that fit in RAM (`MemoryLoader`).

Everything works on whole uint8 batches (B, C, H, W) with tensor ops: no per-image PIL in
the hot path. Randomness comes from a generator seeded by (seed, epoch, step), so a run
resumed at any step sees exactly the batches an uninterrupted run would have seen.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F

from .augment import pca_noise_batch, random_crop, random_flip, ten_crops


@runtime_checkable
class Loader(Protocol):
    """What training, evaluation and the parallel wrappers use of a loader. `batches(epoch,
    start)` yields the (x, y) batches of `epoch` from step `start` on, the same ones whenever
    it is asked (so a resumed run is exact); `len()` is the number of steps per epoch.
    Implemented by MemoryLoader, folders.FolderLoader, scale.ScaleLoader,
    parallel.ShardedLoader and bench's d2l adapter."""

    batch_size: int

    def __len__(self) -> int: ...

    def batches(self, epoch: int = 0, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...


# `pixel_scale=raw` (§2: "the (centred) raw RGB values of the pixels"): the loaders divide [0, 1]
# units by this "std", which gives 0-255 units; §5's N(0, 0.01) weights were used with inputs that size.
RAW_STD = 1 / 255


def step_seed(*parts: int) -> int:
    """A 63-bit seed from integers (seed, epoch, step, rank...), stable across runs."""
    h = 1469598103934665603
    for p in parts:
        h = ((h ^ (int(p) & 0xFFFFFFFFFFFFFFFF)) * 1099511628211) % (1 << 64)
    return h % (1 << 63)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of a float batch to size x size (what d2l's `Resize` does per image).

    Enlarging (Fashion-MNIST's 28 -> 224 for d2l's net) is two small matmuls with the
    interpolation matrices, rows then columns: the same numbers as `F.interpolate` to a unit
    in the last place (tested) and ~3.5x faster here; shrinking keeps F.interpolate's antialias."""
    h, w = x.shape[-2:]
    if h == size and w == size:
        return x
    if size > h and size > w:
        return bilinear_matrix(h, size) @ x @ bilinear_matrix(w, size).T     # (B, C, size, size)
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=size < x.shape[-1])


@functools.lru_cache(maxsize=16)
def bilinear_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) weights of bilinear enlargement along one side, align_corners=False:
    output i samples the input at (i + 0.5) n_in / n_out - 0.5, clamped to the ends."""
    i = torch.arange(n_out, dtype=torch.float64)
    src = ((i + 0.5) * n_in / n_out - 0.5).clamp(min=0)
    lo = src.floor().long().clamp(max=n_in - 1)
    hi = (lo + 1).clamp(max=n_in - 1)
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    m.index_put_((i.long(), lo), 1 - (src - lo), accumulate=True)
    m.index_put_((i.long(), hi), src - lo, accumulate=True)
    return m.float()


@dataclass(eq=False, repr=False)   # a plain object: no field-by-field equality or repr of the tensors
class MemoryLoader:
    """Batches of an in-memory uint8 dataset, transformed on the whole batch.

    images: (N, C, H, W) uint8; labels: (N,) int64. Training loaders shuffle per epoch and
    augment (`augment` in none | crop_flip | crop_flip_pca); evaluation loaders don't.
    Under data parallelism every rank makes the whole batch and keeps its rows
    (`parallel.ShardedLoader`): nothing is decoded, and the transform of a CIFAR-10 batch is
    cheap next to a step, so there is no share loading (the folder loader has it).
    """
    images: torch.Tensor
    labels: torch.Tensor
    batch_size: int
    image_size: int
    mean: object                   # per-channel, [0, 1] units; a (1, C, 1, 1) tensor after init
    std: object
    _: KW_ONLY
    train: bool
    augment: str = "none"
    seed: int = 0
    pad: int | None = None         # crop translation; None: 1/8 of the side (4 px on 32x32)
    pca: tuple | None = None       # (eigvals, eigvecs) for §4.1 colour noise
    pca_std: float = 0.1
    drop_last: bool | None = None  # None: drop the last partial batch when training
    ten_crop: bool = False         # evaluation: §4.1's ten views (see `views`)

    def __post_init__(self):
        self.mean = torch.as_tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.as_tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        self.augment = self.augment if self.train else "none"
        self.ten_crop = self.ten_crop and not self.train
        self.pad = self.images.shape[-1] // 8 if self.pad is None else self.pad
        self.drop_last = self.train if self.drop_last is None else self.drop_last

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def order(self, epoch: int) -> torch.Tensor:
        if not self.train:
            return torch.arange(len(self.labels))
        gen = torch.Generator().manual_seed(step_seed(self.seed, epoch, -1))
        return torch.randperm(len(self.labels), generator=gen)

    def views(self, raw: torch.Tensor) -> torch.Tensor:
        """§4.1's ten test patches in the form training crops take here: the image and its
        four corner translations by `pad` (windows of the zero-padded image, as `random_crop`
        draws them), each also reflected. (B, C, H, W) -> (B, 10, C, H, W)."""
        return ten_crops(F.pad(raw, (self.pad,) * 4), raw.shape[-1])

    def transform(self, raw: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        if self.ten_crop:
            views = self.views(raw)                                # (B, 10, C, H, W)
            return self.normalise(views.flatten(0, 1)).unflatten(0, views.shape[:2])
        if self.augment != "none":                                 # on uint8: a quarter of the bytes
            raw = random_flip(random_crop(raw, self.pad, gen), gen)
        return self.normalise(raw, gen)

    def normalise(self, raw: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        """uint8 (B, C, H, W) -> float (B, C, S, S): [0, 1], §4.1 colour noise when training
        with it, standardised per channel, resized to `image_size`."""
        x = raw.float().div_(255)                                  # (B, C, H, W) in [0, 1]
        if self.augment == "crop_flip_pca" and self.pca is not None:
            x = pca_noise_batch(x, *self.pca, std=self.pca_std, generator=gen)
        # Normalise before resizing: bilinear weights sum to 1, so the two commute, and at
        # 28 -> 224 (Fashion-MNIST for d2l's net) this touches 64x fewer pixels.
        return resize(x.sub_(self.mean).div_(self.std), self.image_size)

    def batches(self, epoch: int = 0, start: int = 0):
        """Yield (x, y) for `epoch`, beginning at step `start` (for exact resume)."""
        order = self.order(epoch)
        for step in range(start, len(self)):
            idx = order[step * self.batch_size:(step + 1) * self.batch_size]
            gen = torch.Generator().manual_seed(step_seed(self.seed, epoch, step))
            yield self.transform(self.images[idx], gen), self.labels[idx]

    def __iter__(self):
        return self.batches(0)
