"""The networks of the book: AlexNet variants, LRN, initialisation, layer tables."""
from .alexnet import (AlexNet, AlexNetSpec, alexnet_d2l, alexnet_paper, alexnet_small,
                      alexnet_torchvision, one_column_half)
from .init import INITS, init_kaiming, init_paper, init_xavier
from .lrn import LocalResponseNorm, local_response_norm
from .summary import count_parameters, forward_flops, layer_table


def _switches(cfg) -> dict:
    return dict(activation=cfg.activation, lrn=cfg.lrn, pool=cfg.pool, dropout=cfg.dropout,
                columns=cfg.columns)


# name -> factory(cfg, num_classes, in_channels); each takes the config switches that apply.
MODELS = {
    "alexnet_paper": lambda cfg, nc, ic: alexnet_paper(nc, in_channels=ic, input_size=cfg.image_size,
                                                       **_switches(cfg)),
    "alexnet_small": lambda cfg, nc, ic: alexnet_small(nc, ic, cfg.image_size, cfg.width, **_switches(cfg)),
    # d2l's net is defined without LRN and with one column: only these switches apply.
    "alexnet_d2l": lambda cfg, nc, ic: alexnet_d2l(nc, ic, cfg.image_size, activation=cfg.activation,
                                                   pool=cfg.pool, dropout=cfg.dropout),
    "alexnet_torchvision": lambda cfg, nc, ic: alexnet_torchvision(nc),
}


from .vgg import VGG_MODELS, init_vgg  # noqa: E402  (the sequel: VGG configs A-E, vgg_a ... vgg_e_small)
MODELS.update(VGG_MODELS); INITS["vgg"] = init_vgg


def register(name: str, factory) -> None:
    """Add a model family (VGG, the CIFAR-10 nets of §3.1, ...) under a config name;
    `factory(cfg, num_classes, in_channels)` returns the module."""
    MODELS[name] = factory


def build_model(cfg, num_classes: int, in_channels: int):
    """The network `cfg.model` names, with the config's switches, initialised as `cfg.init`
    from `cfg.seed` (the same seed gives the same weights, whatever ran before)."""
    import torch
    if cfg.model not in MODELS:
        raise ValueError(f"unknown model {cfg.model!r}; choose one of {', '.join(sorted(MODELS))}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = MODELS[cfg.model](cfg, num_classes, in_channels)
        INITS[cfg.init](model)
    return model


from .cifar4 import CIFAR_MODELS, cifar4  # noqa: E402,F401  (§3.1/§3.3: the four-layer CIFAR-10 net)
MODELS.update(CIFAR_MODELS)

from .cifar_alexnet import from_config as _cifar_alexnet  # noqa: E402  (§3.4/§4.2 ablations)
register("cifar_alexnet", _cifar_alexnet)

from .depth import register_models as _register_depth  # noqa: E402  (§7: alexnet_*_no_conv3..5)
_register_depth()
