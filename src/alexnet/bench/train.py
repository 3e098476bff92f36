"""`alexnet bench train`: training and evaluation speed of every AlexNet variant.

For each network (the paper's two-column net, torchvision's, d2l's Fashion-MNIST net and
the CIFAR-size `alexnet_small`), in fp32 and bf16 autocast, with the default (NCHW) and
the channels_last memory format: images/s of a training step (forward, backward, SGD
update) and of an evaluation forward pass, on random inputs of the net's own size. Each
speed is also given as GFLOP/s (the layer table's FLOPs; a training step counts as 3x the
forward: the backward pass costs two forwards) and as a percentage of the peak measured
on the spot with a large matmul / 1x1 convolution in the same precision
(`alexnet.bench.peak`).

Measurements are deliberately short (a few steps, small batches for the big nets): they
rank the options on this machine; `alexnet bench d2l` times real training runs.
"""
from __future__ import annotations

import shlex

import pandas as pd
import torch
import torch.nn.functional as F

from .. import records
from ..config import resolve
from ..evaluation.metrics import autocast
from ..models import build_model, forward_flops
from . import median_seconds
from .peak import peak_flops

TITLE = "Training and evaluation images/s of the AlexNet variants, fp32/bf16, NCHW/channels_last"
# name -> (input channels, image side, classes, batch on a CPU): each net at its own input.
NETS = {
    "alexnet_paper": (3, 227, 1000, 8),
    "alexnet_torchvision": (3, 224, 1000, 8),
    "alexnet_d2l": (1, 224, 10, 16),
    "alexnet_small": (3, 32, 10, 64),
}
OPTIONS = [(p, cl) for p in ("fp32", "bf16") for cl in (False, True)]


def measure(model, shape, classes: int, batch: int, precision: str, channels_last: bool,
            steps: int = 3, warmup: int = 1) -> dict:
    """Images/s of a training step and of an evaluation pass for `model` on (batch, *shape)."""
    device = torch.device("cpu")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, *shape, generator=gen)                 # (B, C, S, S)
    y = torch.randint(0, classes, (batch,), generator=gen)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model, x = model.to(memory_format=fmt), x.contiguous(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

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

    train_s = median_seconds(train_step, steps, warmup)
    eval_s = median_seconds(eval_step, steps, warmup)
    return dict(train_images_per_s=batch / train_s, eval_images_per_s=batch / eval_s)


def bench_net(name: str, cfg, peaks: dict, steps: int, log=print) -> list[dict]:
    channels, side, classes, batch = NETS[name]
    net_cfg = cfg.replace(model=name, image_size=side, init="kaiming")
    flops = forward_flops(build_model(net_cfg, classes, channels).eval(), (channels, side, side))
    rows = []
    for precision, channels_last in OPTIONS:
        model = build_model(net_cfg, classes, channels)
        got = measure(model, (channels, side, side), classes, batch, precision, channels_last, steps)
        peak = peaks[precision]
        row = dict(model=name, input=f"{channels}x{side}x{side}", batch=batch, precision=precision,
                   channels_last=channels_last, gflop_forward=flops / 1e9, **got,
                   train_gflop_per_s=3 * flops * got["train_images_per_s"] / 1e9,
                   eval_gflop_per_s=flops * got["eval_images_per_s"] / 1e9,
                   peak_gflop_per_s=peak / 1e9)
        row["train_pct_of_peak"] = 100 * row["train_gflop_per_s"] * 1e9 / peak
        row["eval_pct_of_peak"] = 100 * row["eval_gflop_per_s"] * 1e9 / peak
        log(f"{name:20s} {precision} channels_last={channels_last!s:5s} "
            f"train {row['train_images_per_s']:7.1f} img/s ({row['train_pct_of_peak']:4.1f}% of peak)  "
            f"eval {row['eval_images_per_s']:7.1f} img/s ({row['eval_pct_of_peak']:4.1f}%)")
        rows.append(row)
    return rows


def best_options(table: pd.DataFrame) -> dict:
    """Per net: the fastest (precision, channels_last) for training and its gain over fp32 NCHW."""
    out = {}
    for name, rows in table.groupby("model", sort=False):
        best = rows.loc[rows.train_images_per_s.idxmax()]
        base = rows[(rows.precision == "fp32") & ~rows.channels_last].iloc[0]
        out[name] = dict(precision=best.precision, channels_last=bool(best.channels_last),
                         train_images_per_s=float(best.train_images_per_s),
                         speedup_vs_fp32_nchw=float(best.train_images_per_s / base.train_images_per_s),
                         train_pct_of_peak=float(best.train_pct_of_peak))
    return out


def run(overrides: list[str], nets: list[str] | None = None, steps: int = 3, small: bool = False,
        results=None) -> "Path":  # noqa: F821
    """Measure `nets` (default: all of NETS) and write results/bench_train/<preset>/."""
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
    summary = dict(peak_gflop_per_s={p: v / 1e9 for p, v in peaks.items()}, best=best_options(table),
                   steps=steps, torch_threads=torch.get_num_threads(), rows=table.to_dict("records"))
    prov = records.provenance(command=shlex.join(["alexnet", "bench", "train", *overrides]),
                              started=started, seeds=[cfg.seed], data=dict(dataset="random tensors"))
    return records.write("bench_train", preset, config=cfg.to_dict(), metrics=table, summary=summary,
                         provenance=prov, root=results)
