"""The CPU's (or GPU's) attainable peak FLOP/s, measured on the spot.

Speeds in the book are quoted as a fraction of what this machine can do at best: one large
matrix multiply (and the same as a 1x1 convolution, which is how convolution libraries
reach their best), timed in fp32 and in bf16. The best of a few repetitions is the peak;
a training step's GFLOP/s divided by it says how much of the hardware the step uses.

    peak_flops("bf16")  # -> {'matmul': 2.1e11, 'conv1x1': 1.9e11, 'peak': 2.1e11}
"""
from __future__ import annotations

import torch

from ..timing import best_seconds

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


# Matrix units (AMX on recent Xeons) reach their speed only after a few calls: best of 10 after 3.
REPEATS, WARMUP = 10, 3


def matmul_flops(precision: str = "fp32", n: int = 2048, repeats: int = REPEATS, device="cpu") -> float:
    """FLOP/s of an n x n @ n x n matrix product (2 n^3 FLOPs)."""
    a = torch.randn(n, n, device=device).to(DTYPES[precision])
    b = torch.randn(n, n, device=device).to(DTYPES[precision])
    return 2 * n ** 3 / best_seconds(lambda: _sync(a @ b), repeats, WARMUP)


def conv1x1_flops(precision: str = "fp32", channels: int = 1024, side: int = 32, batch: int = 8,
                  repeats: int = REPEATS, device="cpu") -> float:
    """FLOP/s of a 1x1 convolution channels -> channels on (batch, channels, side, side),
    channels_last (2 * batch * side^2 * channels^2 FLOPs): a matmul through the conv library."""
    dtype = DTYPES[precision]
    x = torch.randn(batch, channels, side, side, device=device).to(dtype)
    x = x.contiguous(memory_format=torch.channels_last)
    w = torch.randn(channels, channels, 1, 1, device=device).to(dtype)
    w = w.contiguous(memory_format=torch.channels_last)
    flops = 2 * batch * side * side * channels * channels
    with torch.no_grad():
        return flops / best_seconds(lambda: _sync(torch.nn.functional.conv2d(x, w)), repeats, WARMUP)


def _sync(t: torch.Tensor) -> torch.Tensor:
    if t.is_cuda:
        torch.cuda.synchronize()
    return t


def peak_flops(precision: str = "fp32", device="cpu", small: bool = False) -> dict:
    """Measured matmul and 1x1-conv FLOP/s and the larger of the two (the peak we quote).
    `small` uses sizes that take milliseconds (tests)."""
    kw = dict(n=256, repeats=1) if small else {}
    ck = dict(channels=128, side=8, batch=2, repeats=1) if small else {}
    mm = matmul_flops(precision, device=device, **kw)
    cv = conv1x1_flops(precision, device=device, **ck)
    return dict(matmul=mm, conv1x1=cv, peak=max(mm, cv))


TITLE = "Attainable peak FLOP/s: a large matmul and a 1x1 convolution, fp32 and bf16"


def run(overrides: list[str]) -> "Path":  # noqa: F821
    """`alexnet bench peak`: the peaks alone, as a record under results/bench_peak/cpu/."""
    import shlex

    import pandas as pd

    from .. import records
    from ..config import resolve
    cfg = resolve("cpu", overrides)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    started = records.utc_now()
    rows = [dict(precision=p, **{k: v / 1e9 for k, v in peak_flops(p).items()}) for p in DTYPES]
    table = pd.DataFrame(rows).rename(columns=lambda c: c if c == "precision" else f"{c}_gflop_per_s")
    prov = records.provenance(command=shlex.join(["alexnet", "bench", "peak", *overrides]),
                              started=started, seeds=[cfg.seed])
    return records.write("bench_peak", "cpu", config=cfg.to_dict(), metrics=table,
                         summary=dict(rows=table.to_dict("records")), provenance=prov)
