"""Data parallelism: every rank holds the whole network and its share of each batch;
after the backward pass the gradients are averaged across ranks (all-reduce), so the
update is the one a single process would make on the whole batch.

DDP all-reduces gradient *buckets* while the backward pass is still running. Its bytes
are counted by a communication hook (the same all-reduce DDP does by default, plus a
count in `comm.LOG`); `timed=True` waits for each bucket, which serialises the
all-reduce with the backward pass but tells how long it takes (for `alexnet bench comm`).
"""
from __future__ import annotations

import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .comm import LOG, ring_bytes


def _counting_hook(average: bool, timed: bool, group=None):
    def hook(_state, bucket):
        buf = bucket.buffer()
        world = dist.get_world_size(group)
        if average:
            buf.div_(world)                                  # DDP's default: the mean gradient
        nbytes = ring_bytes("all_reduce", buf.numel() * buf.element_size(), world)
        if timed:
            t0 = time.perf_counter()
            dist.all_reduce(buf, group=group)
            LOG.add("all_reduce", "gradients", nbytes, time.perf_counter() - t0)
            fut = torch.futures.Future()
            fut.set_result(buf)
            return fut
        LOG.add("all_reduce", "gradients", nbytes, 0.0)
        return dist.all_reduce(buf, group=group, async_op=True).get_future().then(lambda f: f.value()[0])
    return hook


def wrap(model: torch.nn.Module, device: torch.device, *, average: bool = True, timed: bool = False,
         group=None) -> DistributedDataParallel:
    """`model` (already on `device`) as DDP with counted gradient all-reduces.
    `average=False` sums instead of averaging (the one-weird-trick split needs sums)."""
    ids = [device.index] if device.type == "cuda" else None
    ddp = DistributedDataParallel(model, device_ids=ids, process_group=group)
    ddp.register_comm_hook(None, _counting_hook(average, timed, group))
    return ddp
