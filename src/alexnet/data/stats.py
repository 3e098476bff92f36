"""Training-set statistics of an ImageNet-style folder, computed once and cached (§2, §4.1).

- the per-pixel mean image (3, 256, 256): §2 "subtracting the mean activity over the
  training set from each pixel";
- the per-channel mean and std (the other convention readers meet: [124, 117, 104] / 255
  on ImageNet);
- the RGB covariance's eigenvalues and eigenvectors for §4.1's colour noise.

All in [0, 1] pixel units. The cache file is named by a hash of the training files' names
and sizes, so a changed folder is recomputed, never silently reused.

    python -m alexnet.data stats [--data ROOT] [--workers N]   # compute, cache, print
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from .pca import pca_from_moments

STATS_VERSION = 1   # bump when what is stored changes


def cache_dir() -> Path:
    return Path(os.environ.get("ALEXNET_CACHE", Path.home() / ".cache" / "alexnet")).expanduser()


class StatsAccumulator:
    """Running sums over uint8 (B, 3, 256, 256) batches, in float64."""

    def __init__(self):
        self.image_sum, self.s1, self.s2, self.n_images, self.n_pixels = None, 0, 0, 0, 0

    def add(self, batch: torch.Tensor) -> None:
        x = batch.to(torch.float64).div_(255)                       # (B, 3, H, W)
        self.image_sum = x.sum(0) if self.image_sum is None else self.image_sum + x.sum(0)
        flat = x.transpose(0, 1).reshape(3, -1)                     # (3, pixels)
        self.s1 = self.s1 + flat.sum(1)
        self.s2 = self.s2 + flat @ flat.T
        self.n_images += batch.shape[0]
        self.n_pixels += flat.shape[1]

    def result(self) -> dict:
        if not self.n_images:
            raise ValueError("no training images could be read: nothing to compute statistics from")
        mean = self.s1 / self.n_pixels
        var = torch.diagonal(self.s2) / self.n_pixels - mean ** 2
        eigvals, eigvecs = pca_from_moments(self.s1, self.s2, self.n_pixels)
        return dict(version=STATS_VERSION, n_images=self.n_images,
                    mean_image=(self.image_sum / self.n_images).float(),          # (3, 256, 256)
                    channel_mean=mean.float(), channel_std=var.clamp_min(0).sqrt().float(),
                    eigvals=eigvals, eigvecs=eigvecs)


def stats_of(batches) -> dict:
    """Statistics of an iterable of uint8 (B, 3, 256, 256) batches."""
    acc = StatsAccumulator()
    for batch in batches:
        acc.add(batch)
    return acc.result()


def cached_stats(key: str, compute, log=print) -> tuple[dict, Path]:
    """Load the statistics cached under `key`, else `compute()` them and cache them."""
    path = cache_dir() / f"imagenet-stats-{key[:16]}.pt"
    if path.exists():
        stats = torch.load(path, weights_only=True)
        if stats.get("version") == STATS_VERSION:
            return stats, path
    # No path in the line: chapters print it, and a page never shows the building machine's paths.
    log("computing the training set's mean image and RGB PCA, once (cached for later runs; "
        "ALEXNET_CACHE sets where) ...")
    stats = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(stats, tmp)
        tmp.replace(path)                                            # atomic: concurrent runs
    except OSError as err:  # a read-only home still trains; it just recomputes next time
        log(f"could not cache the statistics in {path} ({err}); they will be recomputed")
    return stats, path


def summary(stats: dict) -> dict:
    """The numbers a run records (JSON-able): channel mean/std in [0, 1] and x255, PCA."""
    r = lambda t, d=5: [round(float(v), d) for v in t]   # noqa: E731
    return dict(n_images=int(stats["n_images"]), channel_mean=r(stats["channel_mean"]),
                channel_mean_255=r(stats["channel_mean"] * 255, 2),
                channel_std=r(stats["channel_std"]), eigvals=r(stats["eigvals"], 6),
                eigvecs=[r(row, 4) for row in stats["eigvecs"]])
