"""`alexnet bench loop`: the campaign's nets as `training.loop` trains them, on one thread and two.

Issue 25 asks what the campaign's CPU-hours buy. For each net it trains (the CIFAR-10 proxies
of §3-§5, cuda-convnet's pair and VGG's small nets), at the setting its records train with
(its batch, 128 for most, bf16 autocast, channels_last, SGD with momentum, the `regime` scale's defaults),
`training.loop.train` itself runs two short epochs: the step, the batch's transform, the
finiteness check, the running totals. The speed is the loop's own `images_per_s` of the second
epoch (the first pays for creating the kernels). The images come from the synthetic set:
32×32 like CIFAR-10 and transformed by the same loader, so no dataset is needed.

Each net runs on one thread and on two, beside the bf16 peak measured at the same thread count
in the same run (`bench.peak`): GFLOP/s (a training image costs 3 forwards: the backward pass
costs two) and % of peak. `two_jobs_vs_one` compares the campaign's two choices: two one-thread
jobs side by side (2 × the one-thread speed, if they do not slow each other) against one
two-thread job.
"""
from __future__ import annotations

import shlex

import pandas as pd
import torch

from .. import records
from ..config import ConfigError, resolve
from ..harness import presets
from ..models import build_model, forward_flops
from ..training.loop import train
from .peak import peak_flops

TITLE = "The campaign's nets trained by training.loop: images/s and % of the bf16 peak, 1 and 2 threads"
# net -> the setting the campaign trains it with (its records' preset dicts)
NETS = {
    "cifar_alexnet": presets.REGIME_ALEXNET,            # pooling, two columns, dropout, augmentation
    "alexnet_small": presets.REGIME_SMALL,              # depth ablation, weight decay
    "cifar4": dict(presets.LRN_RECIPE, batch_size=32),  # §3.3's LRN proxy (its regime's batch), Figure 1
    "cuda_convnet": presets.CCN,                        # §3.3's 13% -> 11% pair
    "vgg_a_small": presets.VGG_REGIME,                  # VGG A / A-LRN, scale jitter
    "vgg_e_small": dict(presets.VGG_REGIME, model="vgg_e_small"),
}
THREADS = (1, 2)
BATCH = 128                                             # where the setting names none


def loop_speed(name: str, threads: int, steps: int) -> float:
    """images/s of the second of two `steps`-step epochs that `training.loop.train` runs."""
    batch = batch_of(name)
    cfg = resolve("regime", [], dict(NETS[name], model=name, dataset="synthetic", batch_size=batch,
                                      train_limit=steps * batch, val_limit=batch, epochs=2, threads=threads,
                                      schedule="constant", progress=False))
    result = train(cfg, out_dir=None, log=lambda *_: None)
    return float(result.history[-1]["images_per_s"])


def batch_of(name: str) -> int:
    return NETS[name].get("batch_size", BATCH)


def forward_gflop(name: str) -> float:
    """One 32x32 image's forward pass, GFLOP (conv and fc layers)."""
    cfg = resolve("regime", [], dict(NETS[name], model=name))
    return forward_flops(build_model(cfg, 10, 3).eval(), (3, 32, 32)) / 1e9


def table(nets: list[str], steps: int, small: bool = False, log=print) -> pd.DataFrame:
    """One row per (net, threads): the loop's images/s, GFLOP/s, the peak at those threads, % of it."""
    rows, before = [], torch.get_num_threads()
    try:
        for threads in THREADS:
            torch.set_num_threads(threads)
            peak = peak_flops("bf16", small=small)["peak"] / 1e9
            log(f"bf16 peak on {threads} thread(s): {peak:.0f} GFLOP/s")
            for name in nets:
                rate = loop_speed(name, threads, steps)
                gflop = 3 * forward_gflop(name) * rate
                rows.append(dict(model=name, threads=threads, batch=batch_of(name), images_per_s=rate,
                                 train_gflop_per_s=gflop, peak_gflop_per_s=peak, pct_of_peak=100 * gflop / peak))
                log(f"{name:14s} {threads} thread(s): {rate:7.1f} img/s, {100 * gflop / peak:4.1f}% of peak")
    finally:
        torch.set_num_threads(before)
    out = pd.DataFrame(rows)
    one = out[out.threads == 1].set_index("model").images_per_s
    two = out[out.threads == 2].set_index("model").images_per_s
    out["two_jobs_vs_one"] = out.model.map(2 * one / two)
    return out


def run(overrides: list[str], nets: list[str] | None = None, steps: int = 20, small: bool = False,
        results=None) -> "Path":  # noqa: F821
    """`alexnet bench loop [nets=a,b] [steps=N]`: write results/bench_loop/cpu/."""
    opts = dict(o.split("=", 1) for o in overrides)
    unknown = set(opts) - {"nets", "steps"}
    if unknown:
        raise ConfigError(f"alexnet bench loop takes nets=NAME,NAME (of {', '.join(NETS)}) and steps=N; "
                          f"not {', '.join(sorted(unknown))}")
    nets = nets or (opts["nets"].split(",") if "nets" in opts else list(NETS))
    bad = [n for n in nets if n not in NETS]
    if bad:
        raise ConfigError(f"alexnet bench loop: unknown net {bad[0]!r}; choose from {', '.join(NETS)}")
    steps = int(opts.get("steps", steps))
    started = records.utc_now()
    out = table(nets, steps, small)
    summary = dict(steps=steps, rows=out.to_dict("records"),
                   peak_gflop_per_s={int(t): float(g.peak_gflop_per_s.iloc[0]) for t, g in out.groupby("threads")})
    prov = records.provenance(command=shlex.join(["alexnet", "bench", "loop", *overrides]), started=started,
                              seeds=[0], data=dict(dataset="synthetic 32x32 (CIFAR-10's shapes and loader)"))
    return records.write("bench_loop", "cpu", config=dict(nets=nets, steps=steps, batches={n: batch_of(n) for n in nets}), metrics=out,
                         summary=summary, provenance=prov, root=results)
