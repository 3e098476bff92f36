"""The model registry: `model=NAME` in a config names a factory here.

Each model module registers its own names when it is imported (`register(name, factory)`,
`factory(cfg, num_classes, in_channels)` returning the module); `alexnet.models` imports
them all. Model modules import this file, never the package, so there is no import cycle.
"""
from __future__ import annotations

from ..config import ConfigError
from .init import INITS

MODELS: dict = {}   # name -> factory(cfg, num_classes, in_channels)


def register(name: str, factory) -> None:
    """Make `factory(cfg, num_classes, in_channels)` available as `model=name`."""
    MODELS[name] = factory


def build_model(cfg, num_classes: int, in_channels: int):
    """The network `cfg.model` names, with the config's switches, initialised as `cfg.init`
    from `cfg.seed` (the same seed gives the same weights, whatever ran before); with
    `cfg.compile`, its LRN layers use the fused kernel (`lrn_kernel`)."""
    import torch
    if cfg.model not in MODELS:
        raise ConfigError(f"unknown model {cfg.model!r}; choose one of {', '.join(sorted(MODELS))}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = MODELS[cfg.model](cfg, num_classes, in_channels)
        INITS[cfg.init](model)
    if cfg.compile:
        from .lrn import fuse
        fuse(model)
    return model
