"""The one wall-clock timer of the package: seconds of repeated calls after warm-up ones.

Used by the benchmarks (`bench/`) and by the experiments that time layers (`experiments.lrn`);
it lives here, at the bottom, so that neither has to import the other.
"""
from __future__ import annotations

import statistics
import time


def call_seconds(fn, repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of each of `repeats` calls of fn() after `warmup` untimed ones
    (the first calls pick kernels, allocate and fill caches)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def median_seconds(fn, repeats: int, warmup: int = 1) -> float:
    """Median seconds of one call: robust to a busy moment on a shared machine."""
    return statistics.median(call_seconds(fn, repeats, warmup))


def best_seconds(fn, repeats: int, warmup: int = 1) -> float:
    """Fastest call: what the hardware can do at best (a peak, not a typical step)."""
    return min(call_seconds(fn, repeats, warmup))
