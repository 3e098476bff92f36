"""torch.distributed from torchrun's environment, and what each rank does in `train`.

torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; a plain
`python -m alexnet train` sets none of them and runs as one process (world size 1).
`Dist` is all `train()` needs to know: which device, how to wrap the model, which share
of each batch this rank trains and evaluates on, and whether it is the rank that writes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from ..config import ConfigError

MODES = ("auto", "none", "ddp", "columns", "weird_trick")
SHARDED_DATA = ("ddp", "weird_trick")           # each rank trains on 1/W of every batch
SHARDED_STATE = ("columns", "weird_trick")      # each rank holds part of the weights
# A collective that waits this long means a rank is gone or stuck: fail instead of hanging.
TIMEOUT = timedelta(minutes=float(os.environ.get("ALEXNET_DIST_TIMEOUT_MIN", 10)))


def env_ranks() -> tuple[int, int, int]:
    """(rank, local_rank, world_size) from torchrun's variables; (0, 0, 1) without them."""
    return (int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)),
            int(os.environ.get("WORLD_SIZE", 1)))


@dataclass
class Dist:
    mode: str = "none"
    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    control: object = None                      # a gloo group for flags (no GPU sync)
    owns_group: bool = False

    @property
    def main(self) -> bool:
        return self.rank == 0

    def log(self, log):
        """`log` on rank 0, a no-op elsewhere: one copy of every line."""
        return log if self.main else (lambda *a, **k: None)

    def checkpoint(self, out_dir) -> Path | None:
        """This rank's checkpoint file: rank 0's for replicated weights, one per rank when
        each rank holds different weights (columns, weird_trick)."""
        if not out_dir:
            return None
        name = f"checkpoint.rank{self.rank}.pt" if self.mode in SHARDED_STATE and self.rank else "checkpoint.pt"
        return Path(out_dir) / name

    def writes_checkpoint(self) -> bool:
        return self.main or self.mode in SHARDED_STATE

    def any(self, flag: bool) -> bool:
        """True on every rank if `flag` is true on any (a SIGTERM seen by one rank stops all
        at the same step, so nobody waits in a collective for a rank that left)."""
        if self.world == 1:
            return bool(flag)
        t = torch.tensor([int(bool(flag))])
        dist.all_reduce(t, group=self.control)
        return bool(t.item())

    def most(self, value: int) -> int:
        """The largest `value` over the ranks, on every rank (e.g. the signal that stops them)."""
        if self.world == 1:
            return int(value)
        t = torch.tensor([int(value)], dtype=torch.int64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.control)
        return int(t.item())

    def mean(self, value: float) -> float:
        """The mean of `value` over the ranks, on every rank (e.g. each rank's batch loss)."""
        if self.world == 1:
            return float(value)
        t = torch.tensor([float(value)], dtype=torch.float64)
        dist.all_reduce(t, group=self.control)
        return t.item() / self.world

    def gather(self, value: torch.Tensor) -> torch.Tensor:
        """Every rank's 0-d `value`, in rank order: a (world,) tensor on the CPU, on every rank."""
        t = value.detach().cpu().reshape(1)
        if self.world == 1:
            return t
        out = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(out, t, group=self.control)
        return torch.cat(out)

    def barrier(self) -> None:
        """Every rank waits here for the others (e.g. for rank 0's checkpoint to be on disk)."""
        if self.world > 1:
            dist.barrier(group=self.control)

    def same(self, value: int) -> bool:
        """True on every rank if every rank passed the same `value` (e.g. the step it resumed at)."""
        if self.world == 1:
            return True
        t = torch.tensor([int(value), -int(value)], dtype=torch.int64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.control)
        return int(t[0]) == -int(t[1])

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def pick_mode(mode: str, world: int) -> str:
    if mode not in MODES:
        raise ConfigError(f"parallel={mode!r}: choose one of {', '.join(MODES)}")
    if mode == "auto":
        return "ddp" if world > 1 else "none"
    if mode == "none" and world > 1:
        raise ConfigError(f"launched as {world} processes but parallel=none; use parallel=ddp, "
                         "columns or weird_trick, or run one process without torchrun")
    if mode in SHARDED_DATA and world == 1:
        raise ConfigError(f"parallel={mode} needs several processes: launch with "
                         "`torchrun --nproc_per_node=2 -m alexnet train ...`")
    if mode == "columns" and world not in (1, 2):
        raise ConfigError(f"parallel=columns runs on 2 processes (or 1 process with 2 devices), not {world}")
    return mode


def setup(cfg, default_device: torch.device) -> Dist:
    """Join the process group torchrun describes (gloo on CPUs, NCCL on GPUs) and pick
    this rank's device: cuda:LOCAL_RANK on GPUs."""
    rank, local, world = env_ranks()
    mode = pick_mode(cfg.parallel, world)
    device = default_device
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    owns = False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT,
                                device_id=device if device.type == "cuda" else None)
        owns = True
    control = dist.new_group(backend="gloo", timeout=TIMEOUT) if world > 1 else None
    if world > 1 and cfg.batch_size % world:
        raise ConfigError(f"batch_size={cfg.batch_size} does not split over {world} processes; "
                         "batch_size is the global batch (§5: 128), make it a multiple of the world size")
    return Dist(mode, rank, world, device, control, owns)
