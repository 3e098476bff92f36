"""AlexNet as §3.5 and Figure 2 describe it, with the switches the book's ablations need.

One class, `AlexNet`, built from an `AlexNetSpec`; the factories below name the variants
a reader meets. The paper's two GPU columns are grouped convolutions on one device
(`groups=2` in conv2, conv4 and conv5; conv3 and the FC layers see both columns), which
is the same function as the two-GPU split in `alexnet.parallel`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from .dropout import Dropout
from .lrn import LocalResponseNorm, act_then_norm
from .pooling import pool_layer, pooled_side
from .registry import register

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}   # §3.1


def act_then_pool(act: nn.Module, pool: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """pool(act(x)), computed as act(pool(x)) when the two are the same bitwise, forward and
    backward: ReLU is monotone and exact (max(relu(a), relu(b)) = relu(max(a, b)), ties stay
    ties), so max pooling commutes with it, and the ReLU then touches ~4x fewer values
    (cifar4's training step ~20% faster). Not for tanh: in bf16, different inputs can share
    one tanh value, and the pool's gradient would then go to a different one of them."""
    if isinstance(act, nn.ReLU) and isinstance(pool, nn.MaxPool2d):
        return act(pool(x))
    return pool(act(x))


@dataclass(frozen=True)
class AlexNetSpec:
    in_channels: int = 3
    num_classes: int = 1000
    input_size: int = 227                       # §3.5 says 224; 227 makes conv1's 55x55 exact
    conv1: tuple[int, int, int] = (11, 4, 0)    # kernel, stride, padding (§3.5: 11x11, stride 4)
    widths: tuple[int, ...] = (96, 256, 384, 384, 256)   # kernels in conv1..conv5 (both columns)
    fc: int = 4096                              # neurons in fc6 and fc7
    columns: int = 2                            # §3.2: 2 = the paper's two GPUs as groups
    activation: str = "relu"
    lrn: bool = True                            # §3.3: after the ReLUs of conv1 and conv2
    pool: str = "overlap"
    dropout: float = 0.5                        # §4.2: fc6 and fc7
    # inverted = torch.nn.Dropout, what these factories have always built; the registry
    # passes cfg.dropout_style (the `paper` preset: vanilla, §4.2's x0.5 at test)
    dropout_style: str = "inverted"

    def feature_side(self) -> int:
        """Spatial side of pool5's output, by the convolution arithmetic."""
        k, s, p = self.conv1
        pool = pool_layer(self.pool)
        side = (self.input_size + 2 * p - k) // s + 1      # conv1
        for _ in range(3):                                  # pool1, pool2, pool5 (convs 2-5 keep size)
            side = pooled_side(side, pool)
        if side < 1:
            raise ValueError(f"input {self.input_size} is too small for this AlexNet "
                             f"(conv1={self.conv1}, pool={self.pool})")
        return side


class AlexNet(nn.Module):
    def __init__(self, spec: AlexNetSpec = AlexNetSpec()):
        super().__init__()
        self.spec = spec
        w1, w2, w3, w4, w5 = spec.widths
        g, (k1, s1, p1) = spec.columns, spec.conv1
        norm = (lambda: LocalResponseNorm(groups=g)) if spec.lrn else nn.Identity
        # conv1: each column's 48 kernels see the whole image, so no groups are needed.
        self.conv1 = nn.Conv2d(spec.in_channels, w1, k1, s1, p1)
        self.norm1, self.pool1 = norm(), pool_layer(spec.pool)
        self.conv2 = nn.Conv2d(w1, w2, 5, padding=2, groups=g)    # within a column
        self.norm2, self.pool2 = norm(), pool_layer(spec.pool)
        self.conv3 = nn.Conv2d(w2, w3, 3, padding=1)              # crosses the columns
        self.conv4 = nn.Conv2d(w3, w4, 3, padding=1, groups=g)    # within a column
        self.conv5 = nn.Conv2d(w4, w5, 3, padding=1, groups=g)    # within a column
        self.pool5 = pool_layer(spec.pool)
        side = spec.feature_side()
        self.fc6 = nn.Linear(w5 * side * side, spec.fc)
        self.fc7 = nn.Linear(spec.fc, spec.fc)
        self.fc8 = nn.Linear(spec.fc, spec.num_classes)
        self.act = ACTIVATIONS[spec.activation]()
        self.drop6 = Dropout(spec.dropout, spec.dropout_style)
        self.drop7 = Dropout(spec.dropout, spec.dropout_style)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        # Shapes for the paper's net: x (B, 3, 227, 227).
        x = self.pool1(act_then_norm(self.act, self.norm1, self.conv1(x)))  # (B, 96, 55, 55) -> 27x27
        x = self.pool2(act_then_norm(self.act, self.norm2, self.conv2(x)))  # (B, 256, 27, 27) -> 13x13
        x = self.act(self.conv3(x))                           # (B, 384, 13, 13)
        x = self.act(self.conv4(x))                           # (B, 384, 13, 13)
        x = act_then_pool(self.act, self.pool5, self.conv5(x))  # (B, 256, 13, 13) -> (B, 256, 6, 6)
        return x

    def head(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)                               # (B, 9216)
        x = self.drop6(self.act(self.fc6(x)))                 # (B, 4096)
        x = self.drop7(self.act(self.fc7(x)))                 # (B, 4096), the "fc7 features" of §6.1
        return self.fc8(x)                                    # (B, 1000) logits; softmax is in the loss

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def one_column_half(spec: AlexNetSpec) -> AlexNetSpec:
    """§3.2's baseline: one GPU, half the kernels in each conv layer, except conv5 and the
    FC layers, which keep their size "to make the two nets have approximately the same
    number of parameters"."""
    w = spec.widths
    return replace(spec, columns=1, widths=(w[0] // 2, w[1] // 2, w[2] // 2, w[3] // 2, w[4]))


def alexnet_paper(num_classes: int = 1000, **switches) -> AlexNet:
    """The paper's network: 227x227x3 in, 60,965,224 parameters for 1,000 classes."""
    spec = replace(AlexNetSpec(num_classes=num_classes), **switches)
    return AlexNet(one_column_half(spec) if spec.columns == 1 else spec)


def alexnet_small(num_classes: int = 10, in_channels: int = 3, input_size: int = 32,
                  width: float = 1.0, **switches) -> AlexNet:
    """AlexNet's shape (5 convs, LRN, overlapping pools, 3 FC) sized for 32x32 images on a
    CPU: conv1 5x5 stride 1, half the paper's kernels, 1024-wide FC layers."""
    widths = tuple(max(2, int(round(c * width / 2)) * 2) for c in (48, 128, 192, 192, 128))
    spec = replace(AlexNetSpec(in_channels=in_channels, num_classes=num_classes,
                               input_size=input_size, conv1=(5, 1, 2), widths=widths, fc=1024),
                   **switches)
    return AlexNet(one_column_half(spec) if spec.columns == 1 else spec)


def alexnet_d2l(num_classes: int = 10, in_channels: int = 1, input_size: int = 224,
                **switches) -> AlexNet:
    """Dive into Deep Learning's AlexNet (chapter "Deep Convolutional Neural Networks"):
    one input channel, conv1 padding 1, no LRN, one column, 224x224 Fashion-MNIST."""
    spec = AlexNetSpec(in_channels=in_channels, num_classes=num_classes, input_size=input_size,
                       conv1=(11, 4, 1), columns=1, lrn=False)
    return AlexNet(replace(spec, **switches))


def alexnet_torchvision(num_classes: int = 1000, dropout_style: str = "inverted", **_ignored) -> nn.Module:
    """torchvision's AlexNet: the "one weird trick" variant (64-192-384-256-256 kernels,
    no LRN, no groups, adaptive pooling), 61,100,840 parameters for 1,000 classes. Its two
    dropout layers become §4.2's `Dropout` of `dropout_style` (inverted: torchvision's own)."""
    from torchvision.models import alexnet
    net = alexnet(weights=None, num_classes=num_classes)
    for i, layer in enumerate(net.classifier):
        if isinstance(layer, nn.Dropout):
            net.classifier[i] = Dropout(layer.p, dropout_style)
    return net


# --- registry entries: name -> factory(cfg, num_classes, in_channels) ---------------------------
def _switches(cfg) -> dict:
    return dict(activation=cfg.activation, lrn=cfg.lrn, pool=cfg.pool, dropout=cfg.dropout,
                dropout_style=cfg.dropout_style, columns=cfg.columns)


register("alexnet_paper", lambda cfg, nc, ic: alexnet_paper(nc, in_channels=ic, input_size=cfg.image_size,
                                                             **_switches(cfg)))
register("alexnet_small", lambda cfg, nc, ic: alexnet_small(nc, ic, cfg.image_size, cfg.width, **_switches(cfg)))
# d2l's net is defined without LRN and with one column: only these switches apply.
register("alexnet_d2l", lambda cfg, nc, ic: alexnet_d2l(nc, ic, cfg.image_size, activation=cfg.activation,
                                                         pool=cfg.pool, dropout=cfg.dropout,
                                                         dropout_style=cfg.dropout_style))
register("alexnet_torchvision", lambda cfg, nc, ic: alexnet_torchvision(nc, cfg.dropout_style))
