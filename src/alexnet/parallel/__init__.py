"""Training on several devices: the paper's two-column split (§3.2), data parallelism
(DDP) and Krizhevsky's "one weird trick" (data-parallel convs, model-parallel FC layers).

`train()` uses this package through five calls, whatever the mode:

    d = setup(cfg, device)                 # torchrun's env -> rank, world, device, mode
    net = wrap(model, d)                   # DDP / a column / the weird trick / the model itself
    train_loader = shard(data.train, d)    # this rank's rows of every batch (data-parallel modes)
    val = reduce_eval(evaluate(net, shard(data.val, d).batches(e), ...), d)   # exact, no padding
    d.any(stop.requested)                  # every rank stops at the same step

Modes (config key `parallel`): none, ddp, columns (two processes, or one process with two
devices), weird_trick; auto = ddp under torchrun, none otherwise.
"""
from __future__ import annotations

import dataclasses
import inspect

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from . import comm, ddp
from .columns import Column, ColumnsDistributed, ColumnsOneProcess, merge, row_slice
from .comm import LOG, derived_bytes, gather, ring_bytes
from .setup import MODES, SHARDED_DATA, SHARDED_STATE, Dist, env_ranks, pick_mode, setup
from .weird_trick import WeirdTrick

__all__ = ["Column", "ColumnsDistributed", "ColumnsOneProcess", "Dist", "LOG", "MODES", "WeirdTrick",
           "comm", "ddp", "derived_bytes", "env_ranks", "gather", "merge", "merge_checkpoints", "pick_mode", "reduce_eval",
           "reduce_totals", "ring_bytes", "row_slice", "setup", "shard", "two_devices", "unwrap", "wrap"]


def two_devices(device: torch.device) -> tuple[torch.device, torch.device]:
    """cuda:0 and cuda:1 when there are two GPUs, else `device` twice (a CPU demo)."""
    if device.type == "cuda" and torch.cuda.device_count() >= 2:
        return torch.device("cuda:0"), torch.device("cuda:1")
    return device, device


def wrap(model: torch.nn.Module, d: Dist, timed: bool = False) -> torch.nn.Module:
    """The module this rank trains: `model` itself, or its parallel form for `d.mode`."""
    if d.mode == "ddp":
        return ddp.wrap(model, d.device, timed=timed)
    if d.mode == "weird_trick":
        return WeirdTrick(model, d.device, timed=timed)
    if d.mode == "columns":
        if d.world == 2:
            return ColumnsDistributed(model, d.rank).to(d.device)
        return ColumnsOneProcess(model, two_devices(d.device))
    return model


def unwrap(net: torch.nn.Module) -> torch.nn.Module:
    """What a checkpoint stores: the whole model for DDP, this rank's share otherwise."""
    return net.module if isinstance(net, DistributedDataParallel) else net


class ShardedLoader:
    """Rank r of W gets rows r of every batch split W ways (`tensor_split`), so the W ranks
    together see exactly the batches, augmentations and order of a single process — the
    DistributedSampler contract (disjoint shards, a new order every epoch: `batches(epoch)`
    plays `set_epoch`), without padding the last batch with repeated images. A loader that
    can load only its rows takes `shard=(rank, world)` in `batches` and is asked to.
    A `data.loader.Loader` itself: `batches(epoch, start)`, `len()`, `batch_size`."""

    def __init__(self, loader, rank: int, world: int):
        self.loader, self.rank, self.world = loader, rank, world
        self.native = "shard" in inspect.signature(loader.batches).parameters

    @property
    def batch_size(self) -> int:                          # the global batch, as the loader's
        return self.loader.batch_size

    def __len__(self) -> int:
        return len(self.loader)

    def batches(self, epoch: int = 0, start: int = 0):
        if self.native:
            yield from self.loader.batches(epoch, start, shard=(self.rank, self.world))
            return
        for x, y in self.loader.batches(epoch, start):
            yield x.tensor_split(self.world)[self.rank], y.tensor_split(self.world)[self.rank]

    def __getattr__(self, name):                          # batch_size, dataset ... of the loader
        return getattr(self.loader, name)


def shard(loader, d: Dist):
    """This rank's share of `loader`'s batches: its rows in the data-parallel modes, the
    whole batch for the column split (both columns see every image)."""
    return ShardedLoader(loader, d.rank, d.world) if d.mode in SHARDED_DATA else loader


def shard_data(data, d: Dist):
    return dataclasses.replace(data, train=shard(data.train, d), val=shard(data.val, d))


def reduce_eval(result: dict, d: Dist) -> dict:
    """Combine the ranks' evaluations of their rows into the whole validation set's: sums
    of losses and errors over the images each rank saw, divided by the total count. Every
    image counts once, as no loader pads."""
    if d.mode not in SHARDED_DATA:
        return result
    n = result["n"]
    t = torch.tensor([result["loss"] * n, result["top1_err"] * n, result["top5_err"] * n, n],
                     dtype=torch.float64)
    dist.all_reduce(t, group=d.control)
    total = max(t[3].item(), 1.0)
    return dict(loss=t[0].item() / total, top1_err=t[1].item() / total, top5_err=t[2].item() / total,
                n=int(t[3].item()))


def reduce_totals(totals: dict, d: Dist) -> dict:
    """The whole batch's running loss/error counts from every rank's (data-parallel modes)."""
    if d.mode not in SHARDED_DATA:
        return totals
    out = {}
    for k, v in totals.items():
        t = v.detach().cpu().clone()
        dist.all_reduce(t, group=d.control)
        out[k] = t
    return out


def merge_checkpoints(out_dir) -> "Path":  # noqa: F821
    """One-device weights from a run whose ranks each saved their share (parallel=columns
    or weird_trick): checkpoint.pt (rank 0) + checkpoint.rank<r>.pt -> checkpoint.merged.pt,
    which `alexnet eval --checkpoint` reads like any other. Kernels/neurons split across
    ranks are concatenated in rank order; replicated convolutions come from rank 0."""
    import os
    import re
    from pathlib import Path
    out = Path(out_dir)
    shares = {int(m.group(1)): p for p in out.glob("checkpoint.rank*.pt")
              if (m := re.fullmatch(r"checkpoint\.rank(\d+)\.pt", p.name))}   # not *.prev.pt
    ranks = [out / "checkpoint.pt", *(shares[r] for r in sorted(shares))]
    if len(ranks) < 2:
        raise FileNotFoundError(f"{out} holds no per-rank checkpoints (checkpoint.rank1.pt ...); "
                                "only parallel=columns/weird_trick runs under torchrun write them")
    states = [torch.load(p, map_location="cpu", weights_only=True) for p in ranks]   # data, never code
    models = [s["model"] for s in states]
    merged = {}
    for key in models[0]:
        for prefix in ("column.", "convs.module.net."):
            name = key[len(prefix):] if key.startswith(prefix) else None
            if name:
                break
        if key.startswith("convs.module.net."):                 # replicated (weird trick's convs)
            merged[name] = models[0][key]
        else:                                                   # split rows: cat in rank order
            merged[name or key] = torch.cat([m[key] for m in models])
    path = out / "checkpoint.merged.pt"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(dict(model=merged, config=states[0]["config"], epoch=states[0]["epoch"],
                    history=states[0]["history"]), tmp)
    os.replace(tmp, path)                                       # whole or not at all
    return path
