"""§3.2 and Figure 2: the paper's network split into two columns, one per GPU.

Each column holds half the kernels of every layer. conv1, conv2, conv4 and conv5 (and the
LRN after conv1 and conv2) see only their own column's maps; the columns exchange their
activations only where Figure 2 draws crossing arrows: into conv3, fc6, fc7 and fc8 (and
the two halves of the logits are joined for the softmax).

    cols = ColumnsOneProcess(alexnet_paper(), ("cuda:0", "cuda:1"))   # one process, two GPUs
    col = ColumnsDistributed(alexnet_paper())   # torchrun, two processes: rank r holds column r

Both are built from an `AlexNet` with `columns=2` by slicing its weights, so they compute
the same function as the grouped-convolution model on one device (tests/test_parallel*.py
check outputs and gradients).
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from ..models.alexnet import AlexNet
from ..models.dropout import Dropout
from ..models.lrn import LocalResponseNorm
from .comm import gather

LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
# Where Figure 2's arrows cross between the GPUs: the input of these stages is gathered.
EXCHANGES = ("conv3", "fc6", "fc7", "fc8")


def row_slice(layer: nn.Module, part: int, parts: int) -> nn.Module:
    """A copy of `layer` keeping output rows (kernels or neurons) `part` of `parts`.

    A grouped conv's weight is (out, in/groups, k, k) and output group g reads input group g,
    so a column's slice of conv2/4/5 is an ordinary conv on that column's own maps."""
    w, b = layer.weight.detach(), layer.bias.detach()
    if w.shape[0] % parts:
        raise ValueError(f"{w.shape[0]} outputs of {layer} do not split into {parts} equal parts; "
                         "use an even number of classes / kernels")
    n = w.shape[0] // parts
    if isinstance(layer, nn.Conv2d):
        new = nn.Conv2d(w.shape[1], n, layer.kernel_size, layer.stride, layer.padding)
    else:
        new = nn.Linear(w.shape[1], n)
    with torch.no_grad():
        new.weight.copy_(w[part * n:(part + 1) * n])
        new.bias.copy_(b[part * n:(part + 1) * n])
    return new


class Column(nn.Module):
    """Column `c` (0 or 1) of a two-column AlexNet: half of every layer's kernels/neurons."""

    def __init__(self, model: AlexNet, c: int):
        super().__init__()
        if model.spec.columns != 2:
            raise ValueError("the column split needs the two-column AlexNet (columns=2)")
        for name in LAYERS:
            setattr(self, name, row_slice(getattr(model, name), c, 2))
        # The full model's LRN normalises each column's maps on their own (groups=2).
        norm = (lambda m: LocalResponseNorm(m.size, m.alpha, m.beta, m.k)
                if isinstance(m, LocalResponseNorm) else nn.Identity())
        self.norm1, self.norm2 = norm(model.norm1), norm(model.norm2)
        for mine, theirs in ((self.norm1, model.norm1), (self.norm2, model.norm2)):
            mine.fused = getattr(theirs, "fused", False)             # fused=true carries over
        self.pool1, self.pool2, self.pool5 = model.pool1, model.pool2, model.pool5
        self.act = model.act
        self.drop6 = Dropout(model.drop6.p, model.drop6.style)       # §4.2, the model's own style
        self.drop7 = Dropout(model.drop7.p, model.drop7.style)

    # Shapes are one column's share of the paper's net (B images, 227x227).
    def bottom(self, x):                                    # x: (B, 3, 227, 227)
        x = self.pool1(self.norm1(self.act(self.conv1(x))))  # (B, 48, 27, 27)
        return self.pool2(self.norm2(self.act(self.conv2(x))))   # (B, 128, 13, 13)

    def stage_conv3(self, both):                            # both columns: (B, 256, 13, 13)
        x = self.act(self.conv3(both))                      # (B, 192, 13, 13)
        x = self.act(self.conv4(x))                         # (B, 192, 13, 13), own maps only
        return self.pool5(self.act(self.conv5(x)))          # (B, 128, 6, 6)

    def stage_fc6(self, both):                              # (B, 256, 6, 6)
        return self.drop6(self.act(self.fc6(torch.flatten(both, 1))))   # (B, 2048)

    def stage_fc7(self, both):                              # (B, 4096)
        return self.drop7(self.act(self.fc7(both)))         # (B, 2048)

    def stage_fc8(self, both):                              # (B, 4096)
        return self.fc8(both)                               # (B, 500): half the logits

    def stages(self):
        return [self.stage_conv3, self.stage_fc6, self.stage_fc7, self.stage_fc8]


class ColumnsOneProcess(nn.Module):
    """Both columns in one process, column c on devices[c]; activations cross devices
    with `.to()`, which autograd differentiates like any other op."""

    def __init__(self, model: AlexNet, devices=("cuda:0", "cuda:1")):
        super().__init__()
        self.devices = [torch.device(d) for d in devices]
        self.columns = nn.ModuleList(Column(model, c).to(d) for c, d in enumerate(self.devices))

    def forward(self, x):
        parts = [col.bottom(x.to(d)) for col, d in zip(self.columns, self.devices)]
        for i in range(len(EXCHANGES)):                     # conv3, fc6, fc7, fc8
            parts = [col.stages()[i](torch.cat([p.to(d) for p in parts], 1))
                     for col, d in zip(self.columns, self.devices)]
        return torch.cat([p.to(self.devices[0]) for p in parts], 1)   # (B, classes)


class ColumnsDistributed(nn.Module):
    """This rank's column (rank r holds column r of 2); the other column lives in the other
    process. Every rank gets the same input batch and returns the whole batch's logits."""

    def __init__(self, model: AlexNet, rank: int | None = None):
        super().__init__()
        self.rank = dist.get_rank() if rank is None else rank
        if dist.get_world_size() != 2:
            raise ValueError(f"the column split runs on exactly 2 processes, not "
                             f"{dist.get_world_size()}; launch with torchrun --nproc_per_node=2")
        self.column = Column(model, self.rank)

    def forward(self, x):
        h = self.column.bottom(x)                           # (B, 128, 13, 13), no exchange
        for stage, tag in zip(self.column.stages(), EXCHANGES):
            h = stage(gather(h, 1, tag))                    # Figure 2's crossing arrows
        # Both ranks compute the same loss from the joined logits: "replicated".
        return gather(h, 1, "logits", replicated=True)      # (B, classes)


def merge(columns: list[dict]) -> dict:
    """The state dict of the one-device AlexNet from the two columns' state dicts (the
    inverse of the split: rows concatenated in column order)."""
    return {f"{name}.{p}": torch.cat([c[f"{name}.{p}"] for c in columns])
            for name in LAYERS for p in ("weight", "bias")}
