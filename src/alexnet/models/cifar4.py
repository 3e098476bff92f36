"""The paper's "four-layer convolutional neural network" on CIFAR-10 (§3.1 Figure 1, §3.3).

The paper trained it with cuda-convnet and does not print its layers; this follows
cuda-convnet's CIFAR-10 example `layers-18pct.cfg` (conv 5x5 32 -> pool 3/2 -> norm ->
conv 5x5 32 -> pool -> norm -> conv 5x5 64 -> pool -> fc10): four layers with weights,
89,578 parameters. Two switches make the ablations of §3.1 and §3.3: `activation`
(relu | tanh) and `lrn` (the paper's response normalisation after pool1 and pool2, where
that config put its normalisation layers).
"""
from __future__ import annotations

import torch
from torch import nn

from .alexnet import ACTIVATIONS, act_then_pool
from .lrn import LocalResponseNorm
from .registry import register

# §3.3's constants (k, n, alpha, beta), tuned by the authors on ImageNet's raw-pixel inputs.
PAPER_LRN = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
# cuda-convnet's own CIFAR-10 LRN (layers-conv-local-11pct.cfg, final version, commit 35d0bc4
# of dnouri/cuda-convnet: two `cmrnorm` layers with size=9, scale=0.001, pow=0.75; k = 1), in
# the paper's sum convention: cuda-convnet divides `scale` by the window size (layer.py), so
# alpha = 0.001 / 9 per squared activity, on 0..255 pixels. (An early version of the config,
# March 2012, had one size-5 `rnorm`; an earlier record of ours used that by mistake.)
# Our inputs are standardised (divided by the channel std, ~0.25 x 255 = 64 grey levels),
# so activations are ~64x smaller and the same relative strength needs alpha * 64^2.
PIXEL_STD = 64.0
CUDA_CONVNET_LRN = dict(size=9, alpha=0.001 / 9 * PIXEL_STD ** 2, beta=0.75, k=1.0)


class Cifar4(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 3, input_size: int = 32,
                 activation: str = "relu", lrn: bool | dict = False, width: float = 1.0):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation={activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        w1, w2, w3 = (max(2, int(round(c * width))) for c in (32, 32, 64))
        params = PAPER_LRN if lrn is True else lrn
        norm = (lambda: LocalResponseNorm(**params)) if params else nn.Identity
        self.conv1 = nn.Conv2d(in_channels, w1, 5, padding=2)
        # ceil_mode: cuda-convnet's pools cover the border (32 -> 16 -> 8 -> 4), as its
        # `outputsX=0` does; max first, then averages, as in layers-18pct.cfg.
        self.pool1, self.norm1 = nn.MaxPool2d(3, 2, ceil_mode=True), norm()
        self.conv2 = nn.Conv2d(w1, w2, 5, padding=2)
        self.pool2, self.norm2 = nn.AvgPool2d(3, 2, ceil_mode=True), norm()
        self.conv3 = nn.Conv2d(w2, w3, 5, padding=2)
        self.pool3 = nn.AvgPool2d(3, 2, ceil_mode=True)
        side = -(-input_size // 8)                                # three stride-2 pools, ceil
        self.fc10 = nn.Linear(w3 * side * side, num_classes)
        self.act = ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x (B, 3, 32, 32)
        x = self.norm1(act_then_pool(self.act, self.pool1, self.conv1(x)))  # (B, 32, 32, 32) -> (B, 32, 16, 16)
        x = self.norm2(self.pool2(self.act(self.conv2(x))))   # (B, 32, 16, 16) -> (B, 32, 8, 8)
        x = self.pool3(self.act(self.conv3(x)))               # (B, 64, 8, 8) -> (B, 64, 4, 4)
        return self.fc10(torch.flatten(x, 1))                 # (B, 10) logits


def cifar4(num_classes: int = 10, in_channels: int = 3, input_size: int = 32,
           activation: str = "relu", lrn: bool | dict = False, width: float = 1.0) -> Cifar4:
    """The four-layer CIFAR-10 net; `lrn` True uses §3.3's constants, a dict other ones."""
    return Cifar4(num_classes, in_channels, input_size, activation, lrn, width)


# Registered in the model registry: name -> factory(cfg, num_classes, in_channels).
CIFAR_MODELS = {
    "cifar4": lambda cfg, nc, ic: cifar4(nc, ic, cfg.image_size, cfg.activation, cfg.lrn, cfg.width),
    # the same net with cuda-convnet's CIFAR-10 LRN constants (above) when cfg.lrn is on
    "cifar4_ccn": lambda cfg, nc, ic: cifar4(nc, ic, cfg.image_size, cfg.activation,
                                             CUDA_CONVNET_LRN if cfg.lrn else False, cfg.width),
}
for _name, _factory in CIFAR_MODELS.items():
    register(_name, _factory)
