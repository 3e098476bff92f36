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
    `cfg.fused`, its LRN layers use the fused kernel (`lrn_kernel`)."""
    import torch
    if cfg.model not in MODELS:
        raise ConfigError(f"unknown model {cfg.model!r}; choose one of {', '.join(sorted(MODELS))}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = MODELS[cfg.model](cfg, num_classes, in_channels)
        INITS[cfg.init](model)
    if cfg.fused:
        from .lrn import fuse
        fuse(model)
    return model


def compiled(net, cfg):
    """`net` under torch.compile with `cfg.torch_compile` (its forward traced into fused graphs
    on the first call), else `net`. Call it on what runs the forward pass, not on what a
    checkpoint saves: the compiled wrapper's state_dict keys carry an `_orig_mod.` prefix."""
    if not cfg.torch_compile:
        return net
    import torch
    return torch.compile(net)
