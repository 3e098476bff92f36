"""`alexnet bench train`: training and evaluation speed of every AlexNet variant.

For each network (the paper's two-column net, torchvision's, d2l's Fashion-MNIST net, the
CIFAR-size `alexnet_small` and Figure 1's `cifar4`), in fp32 and bf16 autocast, with the
default (NCHW) and the channels_last memory format: images/s of a training step (forward,
backward, SGD update) and of an evaluation forward pass, on random inputs of the net's own
size. At the paper's batch of 128 each net is also timed with the fused kernels
(`fused=true`: the C++ LRN, fused SGD) beside the same step without them, in one run. Each
speed is also given as GFLOP/s (the layer table's FLOPs; a training step counts as 3x the
forward: the backward pass costs two forwards) and as a percentage of the peak measured
on the spot with a large matmul / 1x1 convolution in the same precision
(`alexnet.bench.peak`).

Measurements are deliberately short (a few steps, small batches for the big nets): they
rank the options on this machine; `alexnet bench d2l` times real training runs.
"""
from __future__ import annotations

import shlex
import statistics
from typing import NamedTuple

import pandas as pd
import torch
import torch.nn.functional as F

from .. import records
from ..config import resolve
from ..evaluation.metrics import autocast
from ..models import build_model, forward_flops, layer_table
from ..timing import median_seconds
from ..training.optim import torch_sgd
from .peak import peak_flops

TITLE = "Training and evaluation images/s of the AlexNet variants, fp32/bf16, NCHW/channels_last"
# name -> (input channels, image side, classes, batch on a CPU): each net at its own input.
NETS = {
    "alexnet_paper": (3, 227, 1000, 8),
    "alexnet_torchvision": (3, 224, 1000, 8),
    "alexnet_d2l": (1, 224, 10, 16),
    "alexnet_small": (3, 32, 10, 64),
    "cifar4": (3, 32, 10, 64),                  # §3.1 Figure 1's four-layer net
}


class Option(NamedTuple):
    """How a step runs: autocast precision, memory format, the fused kernels, torch threads."""
    precision: str
    channels_last: bool
    compile: bool = False      # fused=true (the records' column keeps its old name, compile): §3.3's LRN in C++, fused SGD
    threads: int = 0           # torch intra-op threads; 0: the run's (all cores)


OPTIONS = [Option(p, cl) for p in ("fp32", "bf16") for cl in (False, True)]
# The paper's batch (§5), also timed for every net in the options that matter: plain fp32, the
# `cpu` preset's bf16 + channels_last, and the same with the fused kernels (issue 13's targets).
LARGE_BATCH = 128
LARGE_OPTIONS = [Option("fp32", False), Option("bf16", True), Option("bf16", True, True),
                 Option("bf16", True, True, threads=1)]   # one thread: is a 2nd job beside it worth it?
PROFILED = "alexnet_paper"                      # the net whose layers `run` profiles, at LARGE_BATCH
TARGETS = dict(paper_train_pct=50.0, paper_eval_pct=70.0, fused_speedup=1.5)   # issue 13
# Each option is timed in turn ROUNDS times over and the median turn kept: on a shared machine a
# busy minute then slows every option of a net alike (single passes here moved by +-25%).
ROUNDS = 3


def random_batch(shape, classes: int, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random batch: images (batch, *shape) and labels in [0, classes)."""
    gen = torch.Generator().manual_seed(0)
    return torch.randn(batch, *shape, generator=gen), torch.randint(0, classes, (batch,), generator=gen)


def measure(model, xy: tuple, option: Option, steps: int = 3, warmup: int = 1) -> dict:
    """Images/s of a training step and of an evaluation pass for `model` on the batch `xy`
    (the model's LRN layers already fused or not: `build_model` with fused=option.compile)."""
    device, precision = torch.device("cpu"), option.precision
    x, y = xy                                                       # (B, C, S, S), (B,)
    batch = len(y)
    fmt = torch.channels_last if option.channels_last else torch.contiguous_format
    model, x = model.to(memory_format=fmt), x.contiguous(memory_format=fmt)
    opt = torch_sgd(model.parameters(), option.compile, lr=1e-4, momentum=0.9)
    threads = torch.get_num_threads()
    torch.set_num_threads(option.threads or threads)

    def train_step():
        model.train()
        with autocast(device, precision):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def eval_step():
        model.eval()
        with autocast(device, precision):
            model(x)

    try:
        train_s = median_seconds(train_step, steps, warmup)
        eval_s = median_seconds(eval_step, steps, warmup)
    finally:
        torch.set_num_threads(threads)
    return dict(train_images_per_s=batch / train_s, eval_images_per_s=batch / eval_s)


def bench_net(name: str, cfg, peaks: dict, steps: int, log=print) -> list[dict]:
    """Every option of `name` (OPTIONS at its own batch, LARGE_OPTIONS at LARGE_BATCH), each
    built once and timed in turn, ROUNDS times over; a row per option with the median turn."""
    channels, side, classes, batch = NETS[name]
    net_cfg = cfg.replace(model=name, image_size=side, init="kaiming")
    flops = forward_flops(build_model(net_cfg, classes, channels).eval(), (channels, side, side))
    runs = [(batch, o) for o in OPTIONS] + [(LARGE_BATCH, o) for o in LARGE_OPTIONS
                                            if batch != LARGE_BATCH or o not in OPTIONS]
    setups = [(build_model(net_cfg.replace(fused=o.compile), classes, channels),
               random_batch((channels, side, side), classes, b), o) for b, o in runs]
    turns = [[measure(*setup, steps) for setup in setups] for _ in range(ROUNDS)]
    rows = []
    for i, (b, option) in enumerate(runs):
        got = {k: statistics.median(turn[i][k] for turn in turns) for k in turns[0][i]}
        rows.append(_row(dict(model=name, input=f"{channels}x{side}x{side}", batch=b, **option._asdict()),
                         flops, got, peaks[option.precision]))
        log(f"{name:20s} batch {b:3d} {option} train {got['train_images_per_s']:7.1f} img/s "
            f"({rows[-1]['train_pct_of_peak']:4.1f}% of peak)  eval {got['eval_images_per_s']:7.1f} img/s "
            f"({rows[-1]['eval_pct_of_peak']:4.1f}%)")
    return rows


def _row(keys: dict, flops: float, got: dict, peak: float) -> dict:
    """One table row: the measured images/s as GFLOP/s (a training step = 3 forwards) and % of peak."""
    train, evaluation = 3 * flops * got["train_images_per_s"], flops * got["eval_images_per_s"]
    return dict(keys, gflop_forward=flops / 1e9, **got, train_gflop_per_s=train / 1e9,
                eval_gflop_per_s=evaluation / 1e9, peak_gflop_per_s=peak / 1e9,
                train_pct_of_peak=100 * train / peak, eval_pct_of_peak=100 * evaluation / peak)


def _layer_calls(model, x: torch.Tensor, precision: str) -> list[tuple[str, torch.nn.Module, torch.Tensor]]:
    """(name, leaf module, its input) for every leaf call of one training forward pass, in
    order; a module called several times (a shared ReLU) gets numbered names (act1, act2 ...)."""
    calls, hooks, seen = [], [], {}

    def hook(name):
        def record(m, inp, _out):
            seen[name] = seen.get(name, 0) + 1
            calls.append((name, m, inp[0].detach()))
        return record

    for name, m in model.named_modules():
        if name and not list(m.children()):
            hooks.append(m.register_forward_hook(hook(name)))
    model.train()
    with autocast(torch.device("cpu"), precision):
        model(x)
    for h in hooks:
        h.remove()
    return [(f"{n}{sum(c[0] == n for c in calls[:i + 1])}" if seen[n] > 1 else n, m, t)
            for i, (n, m, t) in enumerate(calls)]


def _layer_seconds(m, x: torch.Tensor, precision: str, first: bool, repeats: int) -> tuple[float, float]:
    """Median seconds of the layer's forward (recording for backward, as in training) and of
    its backward alone: gradients of its parameters, and of its input unless it is the first."""
    x = x.detach().requires_grad_(not first)
    with autocast(torch.device("cpu"), precision):
        forward = median_seconds(lambda: m(x), repeats)
        out = m(x)
    wrt = [p for p in m.parameters() if p.requires_grad] + ([] if first else [x])
    if not wrt or not out.requires_grad:
        return forward, 0.0
    g = torch.randn_like(out)
    backward = median_seconds(lambda: torch.autograd.grad(out, wrt, g, retain_graph=True), repeats)
    return forward, backward


def layer_profile(model, xy: tuple, option: Option, peak: float, repeats: int = 3) -> pd.DataFrame:
    """Where a training step's time goes: each layer's forward and backward timed alone on its
    own input from a real forward pass (ms, GFLOP for the batch, % of `peak`), plus the whole
    step and what the layers leave over (loss, optimizer, casts between layers)."""
    x, y = xy
    precision = option.precision
    fmt = torch.channels_last if option.channels_last else torch.contiguous_format
    model, x = model.to(memory_format=fmt), x.contiguous(memory_format=fmt)
    macs = layer_table(model, tuple(x.shape[1:])).set_index("layer")["macs"]    # conv and fc layers
    rows = []
    for i, (name, m, inp) in enumerate(_layer_calls(model, x, precision)):
        flops = 2 * int(macs.get(name, 0)) * len(y)
        fwd, bwd = _layer_seconds(m, inp, precision, i == 0, repeats)
        for direction, s, f in (("forward", fwd, flops), ("backward", bwd, flops * (1 if i == 0 else 2))):
            rows.append(dict(layer=name, direction=direction, ms=1e3 * s, gflop=f / 1e9,
                             pct_of_peak=100 * f / s / peak if s and f else 0.0))
    step = 1e3 * len(y) / measure(model, xy, option, repeats)["train_images_per_s"]
    rows.append(dict(layer="other", direction="both", ms=step - sum(r["ms"] for r in rows), gflop=0.0,
                     pct_of_peak=0.0))
    rows.append(dict(layer="step", direction="both", ms=step, gflop=sum(r["gflop"] for r in rows),
                     pct_of_peak=0.0))
    rows[-1]["pct_of_peak"] = 100 * rows[-1]["gflop"] * 1e9 / (step / 1e3) / peak
    return pd.DataFrame(rows).assign(**option._asdict())


def best_options(table: pd.DataFrame) -> dict:
    """Per net: the fastest option for training, its gain over fp32 NCHW at the same batch, and
    (at LARGE_BATCH, bf16 + channels_last) the fused kernels' gain over the same step without."""
    out = {}
    for name, rows in table.groupby("model", sort=False):
        best = rows.loc[rows.train_images_per_s.idxmax()]
        same = rows[rows.batch == best.batch]
        base = same[(same.precision == "fp32") & ~same.channels_last].iloc[0]
        large = rows[(rows.batch == LARGE_BATCH) & (rows.precision == "bf16") & rows.channels_last
                     & (rows.threads == 0)]
        fused, eager = (large[large["compile"] == c].train_images_per_s for c in (True, False))
        out[name] = dict(precision=best.precision, channels_last=bool(best.channels_last),
                         compile=bool(best["compile"]), batch=int(best.batch),
                         train_images_per_s=float(best.train_images_per_s),
                         speedup_vs_fp32_nchw=float(best.train_images_per_s / base.train_images_per_s),
                         train_pct_of_peak=float(best.train_pct_of_peak),
                         fused_speedup=float(fused.iloc[0] / eager.iloc[0]) if len(fused) and len(eager) else None)
    return out


def targets(table: pd.DataFrame, best: dict) -> dict:
    """Issue 13's targets against this run: the paper net's share of the bf16 peak at batch 128
    (fused kernels), and the fused kernels' gain for the CIFAR proxies, each with `met`."""
    out = {}
    paper = table[(table.model == PROFILED) & (table.batch == LARGE_BATCH) & (table.precision == "bf16")]
    if len(paper):
        row = paper.loc[paper.train_images_per_s.idxmax()]
        out["paper_train_pct"] = float(row.train_pct_of_peak)
        out["paper_eval_pct"] = float(paper.eval_pct_of_peak.max())
    for name in ("alexnet_small", "cifar4"):
        if best.get(name, {}).get("fused_speedup") is not None:
            out[f"{name}_fused_speedup"] = best[name]["fused_speedup"]
    want = {k: TARGETS["fused_speedup" if k.endswith("fused_speedup") else k] for k in out}
    return {k: dict(value=v, target=want[k], met=v >= want[k]) for k, v in out.items()}


def profile_net(cfg, peaks: dict, steps: int, name: str = PROFILED, log=print) -> pd.DataFrame:
    """`layer_profile` of `name` at LARGE_BATCH in each of LARGE_OPTIONS: fp32 NCHW, bf16 +
    channels_last before the fused kernels and after (fused=true)."""
    channels, side, classes, _ = NETS[name]
    net_cfg = cfg.replace(model=name, image_size=side, init="kaiming")
    tables = []
    for option in [o for o in LARGE_OPTIONS if not o.threads]:
        xy = random_batch((channels, side, side), classes, LARGE_BATCH)
        t = layer_profile(build_model(net_cfg.replace(fused=option.compile), classes, channels), xy, option,
                          peaks[option.precision], steps)
        log(f"{name} per layer, batch {LARGE_BATCH}, {option}:\n" + t.round(2).to_string(index=False))
        tables.append(t.assign(model=name, batch=LARGE_BATCH))
    return pd.concat(tables, ignore_index=True)


def run(overrides: list[str], nets: list[str] | None = None, steps: int = 3, small: bool = False,
        results=None, profile: bool = True) -> "Path":  # noqa: F821
    """Measure `nets` (default: all of NETS), profile PROFILED's layers when it is among them
    (and `profile`), and write results/bench_train/<preset>/."""
    preset = "cpu"
    cfg = resolve(preset, overrides, dict(device="cpu"))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    started = records.utc_now()
    peaks = {p: peak_flops(p, small=small)["peak"] for p in ("fp32", "bf16")}
    print("measured peak: " + ", ".join(f"{p} {v / 1e9:.0f} GFLOP/s" for p, v in peaks.items()))
    rows = []
    for name in nets or list(NETS):
        rows += bench_net(name, cfg, peaks, steps)
    table = pd.DataFrame(rows)
    layers = profile_net(cfg, peaks, steps) if profile and PROFILED in (nets or NETS) else pd.DataFrame()
    best = best_options(table)
    summary = dict(peak_gflop_per_s={p: v / 1e9 for p, v in peaks.items()}, best=best, targets=targets(table, best),
                   steps=steps, torch_threads=torch.get_num_threads(), rows=table.to_dict("records"),
                   layer_profile=layers.to_dict("records"))
    prov = records.provenance(command=shlex.join(["alexnet", "bench", "train", *overrides]),
                              started=started, seeds=[cfg.seed], data=dict(dataset="random tensors"))
    return records.write("bench_train", preset, config=cfg.to_dict(), metrics=table, summary=summary,
                         provenance=prov, root=results)
