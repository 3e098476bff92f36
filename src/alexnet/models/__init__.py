"""The networks of the book: AlexNet variants, LRN, pooling, dropout, initialisation, the
CIFAR-10 nets, VGG, layer tables, and the registry `model=` names.

Each model module registers its names in `registry.MODELS` when imported; importing them
here makes the registry complete. Model modules import `registry`, never this package.
"""
from .alexnet import (AlexNet, AlexNetSpec, alexnet_d2l, alexnet_paper, alexnet_small,
                      alexnet_torchvision, one_column_half)
from .dropout import Dropout
from .init import INITS, init_kaiming, init_paper, init_xavier
from .lrn import LocalResponseNorm, local_response_norm
from .pooling import POOLS, pool_layer
from .registry import MODELS, build_model, compiled, register
from .summary import count_parameters, forward_flops, layer_table
from .vgg import VGG_MODELS, init_vgg                 # the sequel: VGG configs A-E, vgg_a ... vgg_e_small
from .cifar4 import CIFAR_MODELS, cifar4              # §3.1/§3.3: the four-layer CIFAR-10 net
from .cifar_alexnet import cifar_alexnet              # §3.4/§4.2 ablations
from .depth import register_models                    # §7: alexnet_*_no_conv3..5

__all__ = ["AlexNet", "AlexNetSpec", "alexnet_d2l", "alexnet_paper", "alexnet_small", "alexnet_torchvision",
           "one_column_half", "Dropout", "INITS", "init_kaiming", "init_paper", "init_xavier",
           "LocalResponseNorm", "local_response_norm", "POOLS", "pool_layer", "MODELS", "build_model", "compiled",
           "register", "count_parameters", "forward_flops", "layer_table", "VGG_MODELS", "init_vgg",
           "CIFAR_MODELS", "cifar4", "cifar_alexnet", "register_models"]
from . import cuda_convnet  # noqa: E402,F401  (§3.3: cuda-convnet's CIFAR-10 pair, model=cuda_convnet)
