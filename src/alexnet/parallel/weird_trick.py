"""Krizhevsky (2014), "One weird trick for parallelizing convolutional neural networks":
data parallelism where the computation is (the convolutions: 5% of the parameters, 90%+
of the arithmetic), model parallelism where the parameters are (fc6-fc8).

Rank r of W:
  - runs the convolutions on its own b images (a full replica of conv1..conv5);
  - gathers every rank's pool5 features, so each rank sees the whole batch (W*b, 9216);
  - holds 1/W of the neurons of fc6, fc7 and fc8 and applies them to the whole batch,
    gathering the slices between layers (as the column split does for its two columns);
  - keeps the logits of its own b images for its loss.
Each rank's loss is the mean over its own images, and every rank's backward pass sends
gradients to every rank's layers, so the gradients come out as the *sum* of the W
losses. Dividing the logits' gradient by W makes that the mean over the whole batch;
the convolutions' gradients are then summed across ranks (DDP without averaging).
"""
from __future__ import annotations

import copy

import torch
import torch.distributed as dist
from torch import nn

from . import ddp
from ..models.dropout import Dropout
from .columns import row_slice
from .comm import gather, gather_ragged, gather_sizes


class _ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


class _Convs(nn.Module):
    """conv1..pool5 of an AlexNet (its fc layers removed)."""

    def __init__(self, model):
        super().__init__()
        self.net = copy.deepcopy(model)
        del self.net.fc6, self.net.fc7, self.net.fc8

    def forward(self, x):
        return torch.flatten(self.net.features(x), 1)       # (b, 9216)


class WeirdTrick(nn.Module):
    def __init__(self, model: nn.Module, device: torch.device, timed: bool = False):
        super().__init__()
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        # A group of its own keeps DDP's asynchronous all-reduces apart from the FC gathers.
        self.conv_group = dist.new_group(backend=dist.get_backend())
        self.convs = ddp.wrap(_Convs(model).to(device), device, average=False, timed=timed,
                              group=self.conv_group)
        self.fc6, self.fc7, self.fc8 = (row_slice(getattr(model, n), self.rank, self.world).to(device)
                                        for n in ("fc6", "fc7", "fc8"))
        self.act = model.act
        self.drop6 = Dropout(model.drop6.p, model.drop6.style)       # §4.2, the model's own style
        self.drop7 = Dropout(model.drop7.p, model.drop7.style)

    def forward(self, x):                                    # x: (b, 3, 227, 227), this rank's images
        f = self.convs(x)                                    # (b, 9216)
        sizes = gather_sizes(f.shape[0], f.device)           # the last eval batch may be uneven
        f = gather_ragged(f, sizes, "features")              # (W*b, 9216): the whole batch
        h = self.drop6(self.act(self.fc6(f)))                # (W*b, 4096/W)
        h = self.drop7(self.act(self.fc7(gather(h, 1, "fc7"))))   # (W*b, 4096/W)
        z = self.fc8(gather(h, 1, "fc8"))                    # (W*b, classes/W)
        z = _ScaleGrad.apply(z, 1.0 / self.world)            # mean, not sum, of the W losses
        logits = gather(z, 1, "logits")                      # (W*b, classes)
        start = sum(sizes[:self.rank])
        return logits[start:start + sizes[self.rank]]        # (b, classes): this rank's images
