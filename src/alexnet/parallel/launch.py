"""Start W gloo processes on this machine and collect what a function returns on each:
what tests and the book's live demos use instead of torchrun (the same process group,
without a command line). `fn` must be importable (defined in a module, not a notebook).

    results = launch.spawn(check.compare, 2, "columns", "alexnet_small")
"""
from __future__ import annotations

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank, world, port, job, results, threads):
    fn, args = job
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        results.put((rank, fn(*args)))
    finally:
        dist.destroy_process_group()


def spawn(fn, world: int = 2, *args, threads: int = 1) -> list:
    """Run `fn(*args)` on `world` gloo ranks; returns the per-rank results in rank order.
    An exception on any rank is raised here (and the other ranks are ended)."""
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    mp.spawn(_entry, args=(world, free_port(), (fn, args), results, threads), nprocs=world, join=True)
    out = dict(results.get() for _ in range(world))
    return [out[r] for r in range(world)]
