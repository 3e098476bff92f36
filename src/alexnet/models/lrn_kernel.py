"""§3.3's LRN as one fused C++ kernel per direction (`lrn_kernel.cpp`), for `fused=true`.

The eager LRN (`lrn.py`) makes several passes over memory per call: a*a, the window sum,
k + alpha*S, the power, the product, and as many again backwards. The fused kernel reads
each channels_last pixel row once, does all of it in registers (fp32 arithmetic for bf16
inputs) and writes the row once; its backward pass recomputes d from a instead of keeping
it. It is built with the machine's C++ compiler on first use (about a minute; cached under
~/.cache/torch_extensions) and used only for channels_last CPU tensors. Where it cannot be
built (no compiler, no ninja), `available()` says so once and the eager path runs instead.
"""
from __future__ import annotations

import functools
import logging
import os
import sysconfig
import warnings
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("lrn_kernel.cpp")


@functools.lru_cache(maxsize=1)
def _module():
    """The built extension, or None after one warning that says why it could not be built."""
    logger = logging.getLogger("torch.utils.cpp_extension")
    level, path = logger.level, os.environ.get("PATH", "")
    logger.setLevel(logging.ERROR)                   # its "no CUDA runtime" warning: not needed here
    # ninja may live in this environment's bin/ (pip), which is not always on PATH
    os.environ["PATH"] = sysconfig.get_path("scripts") + os.pathsep + path
    try:
        from torch.utils.cpp_extension import load
        return load(name="alexnet_lrn", sources=[str(SOURCE)],
                    extra_cflags=["-O3", "-march=native", "-fno-math-errno", "-fopenmp"], extra_ldflags=["-fopenmp"])
    except Exception as e:  # any build failure: fall back, say so once
        first = (str(e).strip().splitlines() or [""])[0][:200]
        warnings.warn(f"fused=true: the fused LRN kernel could not be built ({type(e).__name__}: {first}); "
                      "using the eager LRN instead", RuntimeWarning, stacklevel=2)
        return None
    finally:                                         # leave the process's PATH and logging as they were
        os.environ["PATH"] = path
        logger.setLevel(level)


def available() -> bool:
    """Whether the fused kernel is built (building it now if need be)."""
    return _module() is not None


def applies(a: torch.Tensor, groups: int = 1) -> bool:
    """The kernel takes channels_last (B, C, H, W) CPU tensors whose C splits into `groups`;
    anything else stays eager (which also says what is wrong with a bad shape)."""
    return (a.device.type == "cpu" and a.dim() == 4 and a.shape[1] % groups == 0
            and a.is_contiguous(memory_format=torch.channels_last) and available())


class FusedLRN(torch.autograd.Function):
    """The same b = a * d^-beta as `lrn._LRN`, each direction one kernel call; `params` is
    (size, alpha, beta, k, groups). With `relu`, the input is the pre-activation x and the
    kernel normalises a = max(x, 0): the ReLU that precedes §3.3's LRN, fused in."""

    @staticmethod
    def forward(ctx, x, params: tuple, relu: bool = False):
        ctx.save_for_backward(x)
        ctx.params, ctx.relu = params, relu
        return _module().forward(x, *params, relu)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _module().backward(g, x, *ctx.params, ctx.relu), None, None
