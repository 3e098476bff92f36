"""Training on several devices: the paper's two-column split (§3.2), data parallelism
(DDP) and Krizhevsky's "one weird trick" (data-parallel convs, model-parallel FC layers).

`train()` uses this package through five calls, whatever the mode:

    d = setup(cfg, device)                 # torchrun's env -> rank, world, device, mode
    net = wrap(model, d)                   # DDP / a column / the weird trick / the model itself
    train_loader = shard(data.train, d)    # this rank's rows of every batch (data-parallel modes)
    val = reduce_eval(evaluate(net, shard(data.val, d).batches(e), ...), d)   # exact, no padding
    d.most(stop.signum)                    # every rank stops at the same step (the signal)

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
           "comm", "ddp", "derived_bytes", "env_ranks", "gather", "merge", "merge_checkpoints", "merge_shares",
           "pick_mode", "rank_files", "reduce_eval", "share_kind", "split_columns",
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
    plays `set_epoch`), without padding the last batch with repeated images.

    A loader whose `batches` takes `shard=(rank, world)` (the folder loader) is asked for
    its rows only, so each rank decodes and transforms 1/W of the images. Any other loader
    (MemoryLoader, ScaleLoader: CIFAR-10, Fashion-MNIST, in RAM with no decode) makes the
    whole batch and the rank keeps its rows; `whole=True` forces that, the reference the
    tests hold the share loading to. A `data.loader.Loader` itself."""

    def __init__(self, loader, rank: int, world: int, whole: bool = False):
        self.loader, self.rank, self.world = loader, rank, world
        self.native = not whole and "shard" in inspect.signature(loader.batches).parameters

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


SHARE_PREFIXES = ("column.", "convs.module.net.")     # a rank's share: its column / the weird trick's


def share_kind(model: dict) -> str | None:
    """"ranks" when a checkpoint's weights are one rank's share (parallel=columns or
    weird_trick under torchrun: the other ranks' are in checkpoint.rank<r>.pt beside it),
    "columns" for both columns in one file (parallel=columns in one process), else None."""
    if any(k.startswith(SHARE_PREFIXES) for k in model):
        return "ranks"
    return "columns" if any(k.startswith("columns.0.") for k in model) else None


def rank_files(out_dir, generation: str = "") -> list:
    """checkpoint.pt (rank 0) and checkpoint.rank<r>.pt in rank order; generation ".prev"
    (".prev2" ...): the ones they replaced, checkpoint.prev.pt and checkpoint.rank<r>.prev.pt."""
    import re
    from pathlib import Path
    out = Path(out_dir)
    shares = {int(m.group(1)): p for p in out.glob(f"checkpoint.rank*{generation}.pt")
              if (m := re.fullmatch(rf"checkpoint\.rank(\d+){re.escape(generation)}\.pt", p.name))}
    return [out / f"checkpoint{generation}.pt", *(shares[r] for r in sorted(shares))]


def merge_shares(models: list[dict]) -> dict:
    """One-device weights from the ranks' model states, in rank order. Kernels/neurons
    split across ranks are concatenated in rank order; replicated convolutions (the weird
    trick's) come from rank 0."""
    merged = {}
    for key in models[0]:
        name = next((key[len(p):] for p in SHARE_PREFIXES if key.startswith(p)), None)
        if key.startswith("convs.module.net."):                 # replicated (weird trick's convs)
            merged[name] = models[0][key]
        else:                                                   # split rows: cat in rank order
            merged[name or key] = torch.cat([m[key] for m in models])
    return merged


def split_columns(model: dict) -> list[dict]:
    """A one-process column split's weights (columns.0.*, columns.1.*) as two ranks' shares."""
    return [{"column." + k[len(f"columns.{c}."):]: v for k, v in model.items() if k.startswith(f"columns.{c}.")}
            for c in (0, 1)]


def merge_checkpoints(out_dir) -> "Path":  # noqa: F821
    """One-device weights from a run whose ranks each saved their share (parallel=columns
    or weird_trick): checkpoint.pt (rank 0) + checkpoint.rank<r>.pt -> checkpoint.merged.pt,
    which `alexnet eval --checkpoint` reads like any other (`alexnet eval` on checkpoint.pt
    merges in memory)."""
    import os
    ranks = rank_files(out_dir)
    out = ranks[0].parent
    if len(ranks) < 2:
        raise FileNotFoundError(f"{out} holds no per-rank checkpoints (checkpoint.rank1.pt ...); "
                                "only parallel=columns/weird_trick runs under torchrun write them")
    states = [torch.load(p, map_location="cpu", weights_only=True) for p in ranks]   # data, never code
    path = out / "checkpoint.merged.pt"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(dict(model=merge_shares([s["model"] for s in states]), config=states[0]["config"],
                    epoch=states[0]["epoch"], history=states[0]["history"]), tmp)
    os.replace(tmp, path)                                       # whole or not at all
    return path
