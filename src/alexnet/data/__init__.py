"""Datasets and the paper's preprocessing (§2, §4.1).

`load_data(cfg)` returns a `DataBundle`: training and validation loaders that yield
normalised float batches `(x (B, C, S, S), y (B,))`, plus what a run records about the
data (classes, channels, fingerprint). Datasets live under `cfg.data`, else
`$ALEXNET_DATA`, else `./data`, in torchvision's layout.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


class DataError(RuntimeError):
    """A dataset is missing or malformed; the message says what to put where."""


@dataclass
class DataBundle:
    train: object                 # a loader: .batches(epoch, start=0), len() = steps per epoch
    val: object
    num_classes: int
    in_channels: int
    classes: list[str]
    fingerprint: dict = field(default_factory=dict)   # recorded in every run's provenance
    notes: list[str] = field(default_factory=list)


def data_root(cfg=None) -> Path:
    """--data, else $ALEXNET_DATA, else ./data."""
    if cfg is not None and cfg.data:
        return Path(cfg.data).expanduser()
    return Path(os.environ.get("ALEXNET_DATA", "data")).expanduser()


LOADERS = {}


def register(name: str, fn) -> None:
    """`fn(cfg, root) -> DataBundle` becomes available as `dataset=name`."""
    LOADERS[name] = fn


def load_data(cfg) -> DataBundle:
    if cfg.dataset not in LOADERS:
        raise DataError(f"unknown dataset {cfg.dataset!r}; choose one of {', '.join(sorted(LOADERS))}")
    return LOADERS[cfg.dataset](cfg, data_root(cfg))


from . import small  # noqa: E402  (registers synthetic, fashion_mnist, cifar10)
try:  # the ImageNet-style folder pipeline is optional at import time (PIL/torchvision.io)
    from . import imagenet  # noqa: E402,F401
except ImportError:  # pragma: no cover
    pass
