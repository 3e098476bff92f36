"""Batched tensor transforms and the in-memory loader for datasets that fit in RAM.

Everything works on whole uint8 batches (B, C, H, W) with tensor ops: no per-image PIL in
the hot path. Randomness comes from a generator seeded by (seed, epoch, step), so a run
resumed at any step sees exactly the batches an uninterrupted run would have seen.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def step_seed(*parts: int) -> int:
    """A 63-bit seed from integers (seed, epoch, step, rank...), stable across runs."""
    h = 1469598103934665603
    for p in parts:
        h = ((h ^ (int(p) & 0xFFFFFFFFFFFFFFFF)) * 1099511628211) % (1 << 64)
    return h % (1 << 63)


def random_crop(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to `pad` pixels (zero padding), one offset per image."""
    if pad == 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))                       # (B, C, H+2p, W+2p)
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    # Every window as a view, (B, C, 2p+1, 2p+1, H, W); one pick per image copies only
    # the crops (4x faster here than gathering pixel by pixel with index grids).
    windows = padded.unfold(2, h, 1).unfold(3, w, 1)
    return windows[torch.arange(b), :, oy, ox]                     # (B, C, H, W)


def random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """§4.1: horizontal reflections, each image with probability 1/2."""
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of a float batch to size x size (what d2l's `Resize` does per image)."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=size < x.shape[-1])


class MemoryLoader:
    """Batches of an in-memory uint8 dataset, transformed on the whole batch.

    images: (N, C, H, W) uint8; labels: (N,) int64. Training loaders shuffle per epoch and
    augment (`augment` in none | crop_flip | crop_flip_pca); evaluation loaders don't.
    """

    def __init__(self, images, labels, batch_size, image_size, mean, std, *, train,
                 augment="none", seed=0, pad=None, pca=None, pca_std=0.1, drop_last=None):
        self.images, self.labels = images, labels
        self.batch_size, self.image_size, self.train = batch_size, image_size, train
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        self.augment, self.seed = (augment if train else "none"), seed
        self.pad = images.shape[-1] // 8 if pad is None else pad   # 4 px on 32x32 images
        self.pca, self.pca_std = pca, pca_std                      # (eigvals, eigvecs) for §4.1 colour noise
        self.drop_last = train if drop_last is None else drop_last

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def order(self, epoch: int) -> torch.Tensor:
        if not self.train:
            return torch.arange(len(self.labels))
        gen = torch.Generator().manual_seed(step_seed(self.seed, epoch, -1))
        return torch.randperm(len(self.labels), generator=gen)

    def transform(self, raw: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        if self.augment != "none":                                 # on uint8: a quarter of the bytes
            raw = random_flip(random_crop(raw, self.pad, gen), gen)
        x = raw.float().div_(255)                                  # (B, C, H, W) in [0, 1]
        if self.augment == "crop_flip_pca" and self.pca is not None:
            from .pca import pca_noise_batch
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
