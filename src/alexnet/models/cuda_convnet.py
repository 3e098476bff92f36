"""§3.3's CIFAR-10 claim, with cuda-convnet's own networks: "a four-layer CNN achieved a 13%
test error rate without normalization and 11% with normalization".

The two networks are cuda-convnet's example configs (Krizhevsky's code.google.com/p/cuda-convnet,
read from the GitHub mirror dnouri/cuda-convnet at 35d0bc4, June 2012, the last change to them):
`example-layers/layers-conv-local-13pct.cfg` and `layers-conv-local-11pct.cfg`, with
`layer-params-conv-local-{13,11}pct.cfg`. Four layers with weights before the classifier:

    conv1 64@5x5 pad 2, relu -> pool1 max 3/2 -> [rnorm1] -> conv2 64@5x5 pad 2, relu -> [rnorm2]
    -> pool2 max 3/2 -> local3 F@3x3 pad 1, relu -> local4 32@3x3 pad 1, relu -> fc10

`local` layers are locally connected: a 3x3 filter bank per output position, unshared weights
and biases. The 11pct net is *not* the 13pct net plus normalisation only: it adds the two
`cmrnorm` layers (size 9, scale 0.001, pow 0.75) and also widens local3 from 32 to 64 filters
(F) and raises fc10's weight decay from 0.004 to 0.01. `lrn=True` builds the 11pct net as
configured; `local3=32` with it gives the controlled pair (LRN the only difference).

cuda-convnet's `cmrnorm` (layer.py: `scale /= size`; the kernel kFCNorm in
src/cudaconv2/conv_util.cu) computes, with N channels and the window [f - size//2, f - size//2 + size):

    b[f] = a[f] * (1 + scale/size * sum_{f' in window, 0 <= f' < N} a[f']^2) ** -pow

which is §3.3's formula with k=1, n=size, alpha=scale/size, beta=pow (torch's LocalResponseNorm
with alpha=scale, k=1 is the same). It acts on raw activations, whose size depends on the input
scale: cuda-convnet feeds mean-subtracted 0..255 pixels, the project's loaders feed standardised
ones, so the network first multiplies its input by PIXEL_STD (~64 grey levels per unit) and then
uses cuda-convnet's initialisation and constants unchanged.

Data (cuda-convnet's `cifar-cropped` provider, convdata.py): 24x24 crops of the 32x32 images at
a random offset 0..8 with random flips for training, the centre crop for testing. The forward
pass takes the centre 24x24 of its input; the loader's `crop_flip` (translate by up to 4 px,
zero fill, flip) in front of it makes exactly the provider's random crops, since a centre crop of
an image shifted by <= 4 px never reaches the zero fill.

Training (layer-params): epsW 0.001, epsB 0.002, momW = momB = 0.9, wc 0 on conv1/conv2, 0.004
on local3/local4, 0.004 (13pct) or 0.01 (11pct) on fc10, minibatch 128, gradients averaged over
the batch. cuda-convnet's update is inc = mom*inc - eps*(grad + wc*w), w += inc: torch's SGD with
lr=epsW, momentum=momW, weight_decay=wc. The per-layer wc and the 2x bias rate are applied here as
gradient hooks (exact for fp32/bf16; fp16's loss scaling would shrink the decay term), so the
config's weight_decay must be 0.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .cifar4 import PIXEL_STD
from .lrn import LocalResponseNorm
from .registry import register

CROP = 24                                  # §3.3 / cifar-cropped: 24x24 crops of 32x32 images
# §3.3 (cuda-convnet's cmrnorm in layers-conv-local-11pct.cfg): size 9, scale 0.001, pow 0.75;
# in the paper's sum convention alpha = scale / size and k = 1.
CCN_LRN = dict(size=9, alpha=0.001 / 9, beta=0.75, k=1.0)
# initW of each layer (cuda-convnet draws weights from N(0, initW^2), biases 0).
INIT_STD = dict(conv1=1e-4, conv2=0.01, local3=0.04, local4=0.04, fc10=0.01)
BIAS_RATE = 2.0                            # epsB / epsW = 0.002 / 0.001


def weight_decay(lrn: bool) -> dict:
    """cuda-convnet's per-layer `wc` (layer-params-conv-local-{11,13}pct.cfg)."""
    return dict(conv1=0.0, conv2=0.0, local3=0.004, local4=0.004, fc10=0.01 if lrn else 0.004)


class LocallyConnected2d(nn.Module):
    """cuda-convnet's `local` layer: a convolution whose filters differ at every output
    position (unshared weights, one bias per output unit).

    weight (L, out, in*k*k) for the L = out_size^2 positions; bias (out, out_size, out_size)."""

    def __init__(self, in_channels: int, out_channels: int, in_size: int, kernel_size: int,
                 padding: int = 0, stride: int = 1):
        super().__init__()
        self.kernel_size, self.padding, self.stride = kernel_size, padding, stride
        self.out_size = (in_size + 2 * padding - kernel_size) // stride + 1
        positions = self.out_size ** 2
        fan_in = in_channels * kernel_size ** 2
        self.weight = nn.Parameter(torch.empty(positions, out_channels, fan_in))
        self.bias = nn.Parameter(torch.zeros(out_channels, self.out_size, self.out_size))
        nn.init.uniform_(self.weight, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The k*k shifted windows gathered straight into a position-major (L, B, C*k*k) block, so
        # that one batched matmul serves every position. F.unfold + einsum gives the same numbers
        # (bit for bit under bf16 here) at twice the time: its (B, C*k*k, L) layout costs two
        # transposing copies and a col2im in the backward pass (`alexnet bench loop`, issue 25).
        b, c = x.shape[:2]
        k, s, n = self.kernel_size, self.stride, self.out_size
        span = (n - 1) * s + 1
        xp = F.pad(x, (self.padding,) * 4).permute(2, 3, 0, 1)                        # (H+2p, W+2p, B, C) view
        cols = torch.stack([xp[i:i + span:s, j:j + span:s] for i in range(k) for j in range(k)], dim=-1)
        cols = cols.reshape(n * n, b, c * k * k)                # (L, B, C*k*k), unfold's (C, kh, kw) order
        out = torch.bmm(cols, self.weight.to(cols.dtype).transpose(1, 2))              # (L, B, out)
        return out.permute(1, 2, 0).unflatten(2, (n, n)) + self.bias.to(out.dtype)     # (B, out, n, n)

    def extra_repr(self) -> str:
        positions, out, fan_in = self.weight.shape
        return (f"in*k*k={fan_in}, out={out}, kernel_size={self.kernel_size}, padding={self.padding}, "
                f"out_size={self.out_size} (unshared)")


class CudaConvnetCifar(nn.Module):
    """layers-conv-local-13pct.cfg (lrn=False) or -11pct.cfg (lrn=True), on 24x24 crops."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3, lrn: bool = False,
                 local3: int | None = None):
        super().__init__()
        local3 = local3 or (64 if lrn else 32)                 # 11pct widens local3 to 64
        self.conv1 = nn.Conv2d(in_channels, 64, 5, padding=2)
        # cuda-convnet's pools cover the border (outputsX=0: ceil), 24 -> 12 -> 6
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.rnorm1 = LocalResponseNorm(**CCN_LRN) if lrn else nn.Identity()
        self.conv2 = nn.Conv2d(64, 64, 5, padding=2)
        self.rnorm2 = LocalResponseNorm(**CCN_LRN) if lrn else nn.Identity()
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.local3 = LocallyConnected2d(64, local3, 6, 3, padding=1)
        self.local4 = LocallyConnected2d(local3, 32, 6, 3, padding=1)
        self.fc10 = nn.Linear(32 * 6 * 6, num_classes)
        self.decay = weight_decay(lrn)
        self._init_cuda_convnet()
        self._hooks = [self._install_rates(name) for name in INIT_STD]

    def _init_cuda_convnet(self) -> None:
        for name, std in INIT_STD.items():
            layer = getattr(self, name)
            nn.init.normal_(layer.weight, 0.0, std)
            nn.init.zeros_(layer.bias)

    def _install_rates(self, name: str):
        """cuda-convnet's per-layer wc and epsB = 2 epsW, as changes to the gradients: with
        momentum SGD (dampening 0) at rate epsW, grad + wc*w is weight decay wc and 2*grad is
        rate 2*epsW, step for step."""
        layer, wc = getattr(self, name), self.decay[name]
        w = layer.weight
        hooks = [layer.bias.register_hook(lambda g: g * BIAS_RATE)]
        if wc:
            hooks.append(w.register_hook(lambda g: g + wc * w.detach()))
        return hooks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x (B, 3, 32, 32) standardised; the centre 24x24 (random crops come from the loader's shifts)
        off_y, off_x = (x.shape[-2] - CROP) // 2, (x.shape[-1] - CROP) // 2
        x = x[..., off_y:off_y + CROP, off_x:off_x + CROP] * PIXEL_STD   # (B, 3, 24, 24) ~ grey levels
        x = self.rnorm1(self.pool1(F.relu(self.conv1(x))))    # (B, 64, 24, 24) -> (B, 64, 12, 12)
        x = self.pool2(self.rnorm2(F.relu(self.conv2(x))))    # (B, 64, 12, 12) -> (B, 64, 6, 6)
        x = F.relu(self.local3(x))                             # (B, 32|64, 6, 6)
        x = F.relu(self.local4(x))                             # (B, 32, 6, 6)
        return self.fc10(torch.flatten(x, 1))                  # (B, 10) logits


def from_config(cfg, num_classes: int, in_channels: int) -> CudaConvnetCifar:
    """The registry's factory: cfg.lrn picks 11pct (True) or 13pct (False)."""
    if cfg.weight_decay:
        raise ValueError("model=cuda_convnet applies cuda-convnet's per-layer weight decay itself; "
                         "set weight_decay=0")
    if cfg.precision == "fp16":
        raise ValueError("model=cuda_convnet adds its weight decay to the gradients, which fp16's "
                         "loss scaling would shrink; use precision=bf16 or fp32")
    if cfg.image_size < CROP:
        raise ValueError(f"model=cuda_convnet takes {CROP}x{CROP} crops; image_size must be >= {CROP}")
    return CudaConvnetCifar(num_classes, in_channels, lrn=cfg.lrn)


register("cuda_convnet", from_config)
