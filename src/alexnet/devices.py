"""Where a run computes, and in which precision the device can.

    device = pick_device(cfg)                      # cfg.device: auto | cpu | cuda | cuda:1 ...
    dtype = autocast_dtype(device, cfg.precision)  # None (fp32), torch.bfloat16 or torch.float16
    scaler = torch.amp.GradScaler(device.type, enabled=needs_grad_scaler(device, dtype))
    with autocast(device, cfg.precision): ...

bf16 keeps fp32's exponent range, so its gradients need no scaling; fp16 does not, so
small gradients underflow unless the loss is scaled (a GradScaler). GPUs before Ampere
(V100, T4) have no bf16 arithmetic: asking for bf16 there gets fp16 and a scaler instead of
torch's slow emulation. `VENDOR_PEAKS` holds the data-sheet peaks the book divides by.

On CUDA the `paper` preset sets the speed keys by itself (`cuda_speed`): loader workers from
the core count, bf16 (fp16 and a scaler before Ampere) and channels_last, each unless the
experiment or the reader set it. CPU runs keep their presets' values.
"""
from __future__ import annotations

import contextlib
import os
import re

import torch


def pick_device(cfg) -> torch.device:
    """cfg.device, with "auto" meaning the first GPU when there is one, else the CPU."""
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(cfg.device)


def cuda_bf16() -> bool:
    """Whether the current GPU computes in bf16 natively (compute capability 8.0, Ampere, on)."""
    try:  # torch's default (including_emulation=True) says yes on a V100, which emulates it slowly
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # torch before 2.4 had no argument and no emulation
        return bool(torch.cuda.is_bf16_supported())


def loader_workers() -> int:
    """DataLoader workers per process: this process's CPU cores shared among the node's
    processes (torchrun's LOCAL_WORLD_SIZE), less one for the process itself; 1 to 16."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:                                 # macOS, Windows
        cores = os.cpu_count() or 1
    local = max(int(os.environ.get("LOCAL_WORLD_SIZE") or 1), 1)
    return max(1, min(16, cores // local - 1))


def cuda_speed(cfg, chosen: set[str]) -> dict:
    """The speed keys the `paper` preset chooses on CUDA, less those in `chosen` (set by the
    experiment or the reader): workers so that JPEG decoding keeps up with the GPU, bf16
    autocast (fp16 with a GradScaler where the GPU has no bf16) and channels_last (the layout
    tensor-core convolutions read). On a CPU nothing: the records' settings stay as made."""
    if pick_device(cfg).type != "cuda":
        return {}
    speed = dict(workers=loader_workers(), precision="bf16" if cuda_bf16() else "fp16",
                 channels_last=True)
    return {k: v for k, v in speed.items() if k not in chosen}


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The dtype autocast runs in for `precision` (fp32 | bf16 | fp16 | auto) on `device`;
    None means no autocast (fp32). auto and bf16: bf16 where the device has it (CPUs run
    bf16 autocast, natively with AVX-512 bf16 / AMX), else fp16."""
    if precision == "fp32":
        return None
    if precision == "fp16":
        return torch.float16
    if precision not in ("bf16", "auto"):
        raise ValueError(f"precision={precision!r}; choose one of fp32, bf16, fp16, auto")
    if device.type == "cuda" and not cuda_bf16():
        return torch.float16
    return torch.bfloat16


def needs_grad_scaler(device: torch.device, dtype: torch.dtype | None) -> bool:
    """fp16 needs loss scaling (its smallest normal number is 6e-5); bf16 and fp32 do not."""
    return dtype == torch.float16 and device.type in ("cuda", "cpu")


def autocast(device: torch.device, precision: str):
    """A context in which the model's forward pass runs in autocast_dtype(device, precision)."""
    dtype = autocast_dtype(device, precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


# Dense (no sparsity) tensor-core peaks from the vendors' data sheets, TFLOP/s, in the
# dtype named: what "% of peak" divides by. Vendor figures, not measurements. Patterns
# are matched in order against torch.cuda.get_device_name() (H100 PCIe before H100).
VENDOR_PEAKS = [  # (pattern, label, TFLOP/s, dtype)
    (r"V100", "V100", 125.0, "fp16"),          # Volta: no bf16 tensor cores
    (r"A100", "A100", 312.0, "bf16"),
    (r"H100.*PCIe", "H100 PCIe", 756.0, "bf16"),
    (r"H100", "H100 SXM", 989.0, "bf16"),
    (r"H200", "H200", 989.0, "bf16"),
    (r"\bL4\b", "L4", 121.0, "bf16"),
    (r"\bA10\b", "A10", 125.0, "bf16"),
    (r"RTX 4090", "RTX 4090", 165.0, "bf16"),  # with fp32 accumulation
]


def vendor_peak(name: str) -> tuple[str, float, str] | None:
    """(label, FLOP/s, dtype) of the data-sheet peak for a GPU's name; None if not listed."""
    for pattern, label, tflops, dtype in VENDOR_PEAKS:
        if re.search(pattern, name):
            return label, tflops * 1e12, dtype
    return None
