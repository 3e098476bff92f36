"""VGG (Simonyan & Zisserman 2014): configurations A, A-LRN, B, C, D and E of Table 1.

Every configuration is five blocks of convolutions, each block ended by a 2x2 max-pool of
stride 2, then fc6 (4096), fc7 (4096) and fc8 (1000) with dropout 0.5 after fc6 and fc7
(§2.1, §3.1). All convolutions have stride 1 and "same" padding, so only the pools shrink
the image: 224 -> 7 after five of them. Layers are named as the paper's Caffe release names
them: conv1_1 ... conv5_4, pool1 ... pool5, fc6 ... fc8.

    vgg("D")                     # 138,357,544 parameters at 224x224x3, 1,000 classes
    vgg_small("D", 10, 3, 32)    # the same depth, narrow, for CIFAR-10 on a CPU
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from .dropout import Dropout
from .init import INITS
from .lrn import LocalResponseNorm
from .pooling import pool_layer
from .registry import register

# Table 1, column by column, in the paper's notation: conv<receptive field>-<channels>.
_B12 = ["conv3-64", "conv3-64", "maxpool", "conv3-128", "conv3-128", "maxpool"]
CONFIGS: dict[str, list[str]] = {
    "A": ["conv3-64", "maxpool", "conv3-128", "maxpool", "conv3-256", "conv3-256", "maxpool",
          "conv3-512", "conv3-512", "maxpool", "conv3-512", "conv3-512", "maxpool"],
    # A-LRN: A with the §3.3 AlexNet normalisation after the first layer (k=2, n=5, alpha=1e-4, beta=0.75)
    "A-LRN": ["conv3-64", "LRN", "maxpool", "conv3-128", "maxpool", "conv3-256", "conv3-256", "maxpool",
              "conv3-512", "conv3-512", "maxpool", "conv3-512", "conv3-512", "maxpool"],
    "B": _B12 + ["conv3-256", "conv3-256", "maxpool", "conv3-512", "conv3-512", "maxpool",
                 "conv3-512", "conv3-512", "maxpool"],
    # C: B plus a 1x1 convolution at the end of blocks 3-5 ("a linear projection ... followed by
    # the rectification", §2.3): more non-linearity without changing the receptive field.
    "C": _B12 + ["conv3-256", "conv3-256", "conv1-256", "maxpool", "conv3-512", "conv3-512", "conv1-512",
                 "maxpool", "conv3-512", "conv3-512", "conv1-512", "maxpool"],
    "D": _B12 + ["conv3-256"] * 3 + ["maxpool"] + ["conv3-512"] * 3 + ["maxpool"]
    + ["conv3-512"] * 3 + ["maxpool"],
    "E": _B12 + ["conv3-256"] * 4 + ["maxpool"] + ["conv3-512"] * 4 + ["maxpool"]
    + ["conv3-512"] * 4 + ["maxpool"],
}
WEIGHT_LAYERS = {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}   # Table 1's headings
POOLS = 5                          # §2.1: five max-pools, 2x2 window, stride 2
FC = 4096                          # §2.1: fc6 and fc7 have 4096 channels each


def parse(item: str) -> tuple[int, int]:
    """'conv3-256' -> (kernel 3, channels 256)."""
    kind, channels = item.split("-")
    return int(kind.removeprefix("conv")), int(channels)


def conv_names(config: str) -> list[str]:
    """conv1_1, conv2_1, ... in order: the paper's (and Caffe's) layer names."""
    names, block, index = [], 1, 1
    for item in CONFIGS[config]:
        if item == "maxpool":
            block, index = block + 1, 1
        elif item.startswith("conv"):
            names.append(f"conv{block}_{index}")
            index += 1
    return names


def _features(spec: VGGSpec) -> tuple[nn.Sequential, int]:
    """conv1_1 ... pool5 as named layers, and the channels pool5 puts out."""
    layers, c, names = OrderedDict(), spec.in_channels, iter(conv_names(spec.config))
    block = 1
    for item in CONFIGS[spec.config]:
        if item == "maxpool":
            layers[f"pool{block}"] = pool_layer("plain")              # 2x2, stride 2 (§2.1)
            block += 1
        elif item == "LRN":
            layers[f"norm{block}"] = LocalResponseNorm()              # AlexNet's §3.3 constants
        else:
            k, channels = parse(item)
            name, out = next(names), max(1, round(channels * spec.width))
            layers[name] = nn.Conv2d(c, out, k, padding=k // 2)       # stride 1, "same" padding (§2.1)
            layers[name.replace("conv", "relu")] = nn.ReLU(inplace=True)
            c = out
    return nn.Sequential(layers), c


@dataclass(frozen=True)
class VGGSpec:
    config: str = "D"
    num_classes: int = 1000
    in_channels: int = 3
    input_size: int = 224              # fixes fc6's input: (input / 32)^2 positions
    width: float = 1.0                 # multiplies every conv's channels (the CPU-scale nets)
    fc: int = FC                       # width of fc6 and fc7
    dropout: float = 0.5               # §3.1: dropout 0.5 after fc6 and fc7
    dropout_style: str = "inverted"    # torch.nn.Dropout's form; the registry passes cfg.dropout_style


class VGG(nn.Module):
    """One of Table 1's networks: `VGG(VGGSpec(...))`, or `VGG("A", fc=32, ...)` for short."""

    def __init__(self, spec: VGGSpec | str = VGGSpec(), **fields):
        super().__init__()
        spec = VGGSpec(spec, **fields) if isinstance(spec, str) else spec
        if spec.config not in CONFIGS:
            raise ValueError(f"unknown VGG configuration {spec.config!r}; choose one of {', '.join(CONFIGS)}")
        side = spec.input_size // 2 ** POOLS
        if side < 1:
            raise ValueError(f"input {spec.input_size} is too small for VGG's five 2x2 pools; use >= 32")
        self.spec, self.config, self.input_size = spec, spec.config, spec.input_size
        self.features, c = _features(spec)
        self.fc6 = nn.Linear(c * side * side, spec.fc)
        self.fc7 = nn.Linear(spec.fc, spec.fc)
        self.fc8 = nn.Linear(spec.fc, spec.num_classes)
        self.relu = nn.ReLU(inplace=True)
        self.drop6 = Dropout(spec.dropout, spec.dropout_style)
        self.drop7 = Dropout(spec.dropout, spec.dropout_style)

    def head(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)                               # (B, 512*7*7 = 25088)
        x = self.drop6(self.relu(self.fc6(x)))                # (B, 4096)
        x = self.drop7(self.relu(self.fc7(x)))                # (B, 4096)
        return self.fc8(x)                                    # (B, 1000) logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))                    # (B, 3, 224, 224) -> (B, 512, 7, 7) -> (B, 1000)


def vgg(config: str = "D", num_classes: int = 1000, in_channels: int = 3, input_size: int = 224,
        width: float = 1.0, dropout: float = 0.5) -> VGG:
    """Table 1's network at the paper's size (width 1.0: 64 ... 512 channels, 4096-wide FC)."""
    return VGG(VGGSpec(config, num_classes, in_channels, input_size, width, FC, dropout))


# CPU scale: 1/8 of the channels (8 ... 64) and 256-wide fc6/fc7, for 32x32 images (one pixel
# left after the five pools). `width` scales these further.
SMALL_WIDTH, SMALL_FC = 1 / 8, 256


def small_widths(width: float = 1.0) -> tuple[float, int]:
    """(conv width multiplier, fc6/fc7 width) of the CPU-scale nets for a given `width`."""
    return SMALL_WIDTH * width, max(16, round(SMALL_FC * width))


def vgg_small(config: str = "A", num_classes: int = 10, in_channels: int = 3, input_size: int = 32,
              width: float = 1.0, dropout: float = 0.5) -> VGG:
    return VGG(VGGSpec(config, num_classes, in_channels, input_size, *small_widths(width), dropout))


# --- initialisation (§3.1) -------------------------------------------------------------
def init_vgg(model: nn.Module, std: float = 0.01) -> nn.Module:
    """§3.1: weights from a zero-mean normal, biases zero. The text says "10^-2 variance"
    (std 0.1); the released Caffe models and most reimplementations use std 0.01, which is
    what we take (std 0.1 makes an 11-layer ReLU net's activations explode)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)
    return model


def init_from_a(deep: VGG, a: VGG) -> VGG:
    """§3.1: "we initialised the first four convolutional layers and the last three fully-
    connected layers with the layers of net A (the intermediate layers were initialised
    randomly)". A's first four convs are conv1_1, conv2_1, conv3_1 and conv3_2; the deeper
    nets have layers of the same names and shapes, so they are copied by name."""
    first_four = conv_names(a.config)[:4]
    for name in first_four:
        getattr(deep.features, name).load_state_dict(getattr(a.features, name).state_dict())
    for name in ("fc6", "fc7", "fc8"):
        getattr(deep, name).load_state_dict(getattr(a, name).state_dict())
    return deep


# --- receptive fields of stacked 3x3 convolutions (§2.3) -----------------------------------
def receptive_field(layers: list[tuple[int, int]]) -> int:
    """Receptive field (pixels on a side) of a stack of (kernel, stride) layers, in order:
    each layer adds (k - 1) times the product of the strides below it."""
    field, jump = 1, 1
    for k, s in layers:
        field += (k - 1) * jump
        jump *= s
    return field


def stack_cost(n: int, channels: int) -> dict:
    """§2.3: n stacked 3x3 convs (C channels in and out, biases ignored) vs one conv with
    the same receptive field: n = 3 gives 3 (3^2 C^2) = 27 C^2 against 7^2 C^2 = 49 C^2."""
    field = receptive_field([(3, 1)] * n)
    stacked, single = n * 9 * channels ** 2, field ** 2 * channels ** 2
    return dict(layers=n, field=field, stacked=stacked, single=single, saving=1 - stacked / single)


# --- registry entries: vgg_a ... vgg_e at paper scale, vgg_a_small ... at CPU scale -------------
def _key(config: str) -> str:
    return config.lower().replace("-", "_")


def from_config(cfg, num_classes: int, in_channels: int, config: str, small: bool) -> VGG:
    """The registry's factory: configuration `config` at paper or CPU scale, cfg's switches."""
    width, fc = small_widths(cfg.width) if small else (cfg.width, FC)
    return VGG(VGGSpec(config, num_classes, in_channels, cfg.image_size, width, fc, cfg.dropout,
                       cfg.dropout_style))


VGG_MODELS = {}
for _c in CONFIGS:
    VGG_MODELS[f"vgg_{_key(_c)}"] = (lambda c: lambda cfg, nc, ic: from_config(cfg, nc, ic, c, False))(_c)
    VGG_MODELS[f"vgg_{_key(_c)}_small"] = (lambda c: lambda cfg, nc, ic: from_config(cfg, nc, ic, c, True))(_c)
for _name, _factory in VGG_MODELS.items():
    register(_name, _factory)
INITS["vgg"] = init_vgg


def config_table() -> "pd.DataFrame":
    """Table 1's configurations, measured: weight layers, conv layers (1×1 among them),
    parameters and forward GFLOPs of one 224×224×3 image (built on the meta device, so
    only shapes and counts are read, never 140M initialised weights)."""
    import pandas as pd

    from .summary import layer_table
    rows = []
    for config in CONFIGS:
        with torch.device("meta"):
            net = vgg(config)
        table = layer_table(net.to_empty(device="cpu"), (3, 224, 224))
        convs = [item for item in CONFIGS[config] if item.startswith("conv")]
        rows.append({"config": config, "weight layers": WEIGHT_LAYERS[config],
                     "conv layers": f"{len(convs)} ({sum(i.startswith('conv1') for i in convs)} of them 1×1)",
                     "parameters": int(table.params.sum()), "forward GFLOPs": table.gflops.sum()})
    return pd.DataFrame(rows).set_index("config")
