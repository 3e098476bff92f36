"""`alexnet bench comm`: one training step of each parallel mode on 2 gloo processes
(CPU), split into compute and communication, with the bytes each rank sent counted in
the collectives and derived from the layer shapes.

    alexnet bench comm                       # the paper's net, batch 128, 227x227, fp32
    alexnet bench comm batch_size=32 max_steps=2

Communication seconds are the time a rank spends blocked in collectives (DDP's bucket
all-reduces are waited for, so they do not overlap the backward pass here); compute is
the rest of the step. Two processes share this machine's cores, one thread each; the
modes take turns step by step and the summary quotes medians over steps and ranks.
"""
from __future__ import annotations

import shlex
import sys
import time

import pandas as pd
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .. import records
from ..config import resolve

TITLE = "communication per training step: column split vs DDP vs one weird trick"
MODES = ("none", "ddp", "columns", "weird_trick")   # none: one rank, the whole batch, no exchange
WORLD = 2


def _setup(mode: str, cfg):
    """This rank's network, optimizer and batch for `mode`, and the bytes derived for it."""
    from ..models import build_model
    from ..parallel import Dist, derived_bytes, wrap
    from ..training.loop import make_optimizer
    rank = dist.get_rank()
    model = build_model(cfg, 1000, 3)
    net = wrap(model, Dist(mode, rank, WORLD, torch.device("cpu")), timed=True)
    b = cfg.batch_size if mode in ("none", "columns") else cfg.batch_size // WORLD
    gen = torch.Generator().manual_seed(rank)
    x = torch.randn(b, 3, cfg.image_size, cfg.image_size, generator=gen)
    y = torch.randint(0, 1000, (b,), generator=gen)
    derived = 0.0 if mode == "none" else sum(
        r["bytes"] for r in derived_bytes(model, mode, cfg.batch_size, WORLD, (3, cfg.image_size, cfg.image_size)))
    return net, make_optimizer(net, cfg), x, y, derived


def _step(net, opt, x, y) -> float:
    from ..parallel.comm import LOG
    dist.barrier()
    LOG.reset()
    t0 = time.perf_counter()
    loss = F.cross_entropy(net(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return time.perf_counter() - t0


def _worker(cfg_dict: dict, steps: int) -> list[dict]:
    """Every mode's step in turn, `steps` rounds (after one warm-up round): the modes share
    whatever else the machine is doing at the time, instead of one mode getting a bad minute."""
    from ..config import Config
    from ..parallel.comm import LOG
    cfg = Config(**cfg_dict)
    setups = {mode: _setup(mode, cfg) for mode in MODES}
    rows = []
    for step in range(steps + 1):                       # round 0 warms up (allocations, first calls)
        for mode, (net, opt, x, y, derived) in setups.items():
            seconds = _step(net, opt, x, y)
            if step:
                rows.append(dict(mode=mode, rank=dist.get_rank(), step=step, seconds=seconds,
                                 comm_seconds=LOG.total_seconds(), bytes_measured=LOG.total_bytes(),
                                 bytes_derived=derived, images=cfg.batch_size))
    return rows


def derivation(cfg) -> pd.DataFrame:
    """Bytes per rank per step for each exchange, from the shapes (no processes needed)."""
    from ..models import build_model
    from ..parallel import derived_bytes
    model = build_model(cfg, 1000, 3)
    return pd.DataFrame([r for mode in MODES[1:] for r in
                         derived_bytes(model, mode, cfg.batch_size, WORLD, (3, cfg.image_size, cfg.image_size))])


def summarize(metrics: pd.DataFrame) -> dict:
    out = {}
    for mode, rows in metrics.groupby("mode", sort=False):
        step, comm = rows.seconds.median(), rows.comm_seconds.median()     # robust to a busy moment
        out[mode] = dict(step_s=step, comm_s=comm, compute_s=step - comm, comm_share=comm / step,
                         images_per_s=rows.images.iloc[0] / step,
                         mb_measured=rows.bytes_measured.mean() / 1e6, mb_derived=rows.bytes_derived.mean() / 1e6)
    return out


def run(overrides: list[str]) -> "Path":  # noqa: F821
    from ..parallel import launch
    cfg = resolve("cpu", ["model=alexnet_paper", "image_size=227", "batch_size=128", "precision=fp32",
                          "channels_last=false", "dropout=0.5", *overrides])
    steps = cfg.max_steps or 3
    started = records.utc_now()
    per_rank = launch.spawn(_worker, WORLD, cfg.to_dict(), steps)
    metrics = pd.DataFrame([row for rows in per_rank for row in rows])
    summary = dict(modes=summarize(metrics), derivation=derivation(cfg).to_dict("records"),
                   world=WORLD, batch=cfg.batch_size, model=cfg.model, image_size=cfg.image_size,
                   steps=steps, dtype="fp32")
    prov = records.provenance(command=shlex.join(["alexnet", "bench", "comm", *overrides]), started=started,
                              seeds=[cfg.seed], world_size=WORLD,
                              extra=dict(backend="gloo", threads_per_rank=1))
    return records.write("bench_comm", "cpu", config=cfg.to_dict(), metrics=metrics, summary=summary,
                         provenance=prov)


if __name__ == "__main__":
    print(run(sys.argv[1:]))
