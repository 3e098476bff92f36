"""An AlexNet-shaped network small enough to train on CIFAR-10 on a CPU in minutes:

    conv1 -> ReLU -> pool1 -> LRN -> conv2 -> ReLU -> LRN -> pool2 -> fc6 -> fc7 -> fc8

The layer order and widths are those of TensorFlow's CIFAR-10 tutorial network (conv
64@5x5, pool 3/2, LRN, conv 64@5x5, LRN, pool 3/2, fc 384, fc 192, softmax), a descendant
of the cuda-convnet CIFAR-10 nets §3.3 refers to, with AlexNet's head: two
hidden fully connected layers with §4.2's dropout and an fc8 classifier. It keeps exactly
the two parts of AlexNet that §3.4 and §4.2 ablate (max pools after LRN'd convolutions,
dropout in fc6/fc7) at ~2.5x fewer multiply-adds than `alexnet_small`, so the ablations can
run three seeds each in minutes.

Switches: `pool` overlap (z=3, s=2) | plain (z=s=2); `dropout` p in fc6 and fc7;
`dropout_style` vanilla (§4.2, x(1-p) at test) | inverted (torch.nn.Dropout).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .alexnet import ACTIVATIONS, act_then_pool
from .dropout import Dropout
from .lrn import LocalResponseNorm
from .pooling import pool_layer, pooled_side
from .registry import register


@dataclass(frozen=True)
class CifarAlexNetSpec:
    in_channels: int = 3
    num_classes: int = 10
    input_size: int = 32
    widths: tuple[int, int] = (64, 64)     # conv1, conv2 kernels (TF CIFAR-10 tutorial)
    fc: tuple[int, int] = (384, 192)       # fc6, fc7 neurons (TF CIFAR-10 tutorial)
    activation: str = "relu"               # §3.1
    lrn: bool = True                       # §3.3, paper's k=2, n=5, alpha=1e-4, beta=0.75
    pool: str = "overlap"                  # §3.4
    dropout: float = 0.5                   # §4.2, fc6 and fc7
    dropout_style: str = "vanilla"         # §4.2 scales by 0.5 at test

    def sides(self) -> tuple[int, int]:
        """Spatial side after pool1 and after pool2 (convs keep the size: 5x5, padding 2)."""
        pool = pool_layer(self.pool, padded=True)
        side1 = pooled_side(self.input_size, pool)
        side2 = pooled_side(side1, pool)
        if side2 < 1:
            raise ValueError(f"input {self.input_size} is too small for two {self.pool} pools")
        return side1, side2


class CifarAlexNet(nn.Module):
    def __init__(self, spec: CifarAlexNetSpec = CifarAlexNetSpec()):
        super().__init__()
        self.spec = spec
        (w1, w2), (f6, f7) = spec.widths, spec.fc
        norm = LocalResponseNorm if spec.lrn else nn.Identity
        self.conv1 = nn.Conv2d(spec.in_channels, w1, 5, padding=2)
        # §3.4's grids padded so that both halve CIFAR-10's even sides (models/pooling.py)
        self.pool1, self.norm1 = pool_layer(spec.pool, padded=True), norm()
        self.conv2 = nn.Conv2d(w1, w2, 5, padding=2)
        self.norm2, self.pool2 = norm(), pool_layer(spec.pool, padded=True)
        side = spec.sides()[1]
        self.fc6 = nn.Linear(w2 * side * side, f6)
        self.fc7 = nn.Linear(f6, f7)
        self.fc8 = nn.Linear(f7, spec.num_classes)
        self.act = ACTIVATIONS[spec.activation]()
        self.drop6 = Dropout(spec.dropout, spec.dropout_style)
        self.drop7 = Dropout(spec.dropout, spec.dropout_style)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        # Shapes for 32x32 CIFAR-10 (both pool variants): x (B, 3, 32, 32).
        x = self.norm1(act_then_pool(self.act, self.pool1, self.conv1(x)))  # (B, 64, 32, 32) -> (B, 64, 16, 16)
        x = self.pool2(self.norm2(self.act(self.conv2(x))))   # (B, 64, 16, 16) -> (B, 64, 8, 8)
        return x

    def head(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)                               # (B, 4096)
        x = self.drop6(self.act(self.fc6(x)))                 # (B, 384)
        x = self.drop7(self.act(self.fc7(x)))                 # (B, 192)
        return self.fc8(x)                                    # (B, 10) logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def cifar_alexnet(num_classes: int = 10, in_channels: int = 3, input_size: int = 32,
                  width: float = 1.0, **switches) -> CifarAlexNet:
    """The AlexNet-shaped CIFAR-10 net; `width` scales the conv and fc widths."""
    def scale(n: int) -> int:
        return max(2, int(round(n * width)))
    base = CifarAlexNetSpec()
    return CifarAlexNet(CifarAlexNetSpec(
        in_channels=in_channels, num_classes=num_classes, input_size=input_size,
        widths=tuple(scale(w) for w in base.widths), fc=tuple(scale(f) for f in base.fc), **switches))


def from_config(cfg, num_classes: int, in_channels: int) -> CifarAlexNet:
    """The registry's factory: the switches of `cfg` that this net has."""
    return cifar_alexnet(num_classes, in_channels, cfg.image_size, cfg.width,
                         activation=cfg.activation, lrn=cfg.lrn, pool=cfg.pool,
                         dropout=cfg.dropout, dropout_style=cfg.dropout_style)


register("cifar_alexnet", from_config)
