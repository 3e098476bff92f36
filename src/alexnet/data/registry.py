"""What a dataset loader returns (`DataBundle`), its one error type (`DataError`), where the
data lives (`data_root`) and the registry `dataset=` names (`LOADERS`, `register`,
`load_data`). Dataset modules register themselves by importing this file, never the package
`alexnet.data`, so there is no import cycle; `alexnet.data` imports them all.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


class DataError(RuntimeError):
    """A dataset is missing or malformed; the message says what to put where."""


@dataclass
class DataBundle:
    train: object                 # a data.loader.Loader: .batches(epoch, start=0), len() = steps per epoch
    val: object
    num_classes: int
    in_channels: int
    classes: list[str]
    fingerprint: dict = field(default_factory=dict)   # recorded in every run's provenance
    notes: list[str] = field(default_factory=list)


def data_root(cfg=None) -> Path:
    """--data, else $ALEXNET_DATA, else the repository's data/ from any working directory
    (as results/ is: `records.project_root`)."""
    if cfg is not None and cfg.data:
        return Path(cfg.data).expanduser()
    if os.environ.get("ALEXNET_DATA"):
        return Path(os.environ["ALEXNET_DATA"]).expanduser()
    from ..records import project_root        # here, not at the top: records loads pandas
    return project_root() / "data"


LOADERS: dict = {}   # dataset name -> fn(cfg, root) -> DataBundle


def register(name: str, fn) -> None:
    """`fn(cfg, root) -> DataBundle` becomes available as `dataset=name`."""
    LOADERS[name] = fn


def load_data(cfg) -> DataBundle:
    if cfg.dataset not in LOADERS:
        raise DataError(f"unknown dataset {cfg.dataset!r}; choose one of {', '.join(sorted(LOADERS))}")
    return LOADERS[cfg.dataset](cfg, data_root(cfg))
