"""How long 90 epochs of ILSVRC-2012 take on a given box: the slower of two limits.

- compute: the box's GPUs, each at a training rate that is either *published* (the paper's
  own 5-6 days on two GTX 580s, §5) or an *estimate*: a stated share of the vendor's dense
  data-sheet peak (`alexnet.devices.VENDOR_PEAKS`) divided by the FLOPs of one training image.
  Data parallelism is taken to scale linearly over the box's GPUs.
- input: the box's CPU cores, each at the per-core rate `alexnet bench pipeline` measured here.
  Each image costs one decode (in a loader worker) and one share of the batch transform (in
  the training process), so a core turns out 1 / (1/decode + 1/transform) images/s, and the
  box `cores` times that: every core works on input, as loader workers or transform threads.

Core counts are the vendors' published instance or system specifications (vCPUs where the
vendor counts vCPUs; one thread of the machine that made the record is one core here).
"""
from __future__ import annotations

import pandas as pd

from ..devices import VENDOR_PEAKS
from .pipeline import EPOCH_IMAGES          # ILSVRC-2012 training images

EPOCHS = 90                       # §5
SHARE = 0.25                      # the estimate's assumed share of the data-sheet peak (`make gpu-check` measures it)
PAPER_DAYS = 5.5                  # §5: "five to six days on two NVIDIA GTX 580 3GB GPUs"

# (box, GPU label as in VENDOR_PEAKS or "GTX 580", GPUs, cores or None, where the core count is published)
BOXES = [
    ("the paper's box", "GTX 580", 2, None, "§5 (cores not stated)"),
    ("AWS g6.xlarge", "L4", 1, 4, "AWS EC2 G6 instance types"),
    ("AWS g6.12xlarge", "L4", 4, 48, "AWS EC2 G6 instance types"),
    ("AWS p3.2xlarge", "V100", 1, 8, "AWS EC2 P3 instance types"),
    ("AWS p3.16xlarge", "V100", 8, 64, "AWS EC2 P3 instance types"),
    ("AWS p4d.24xlarge", "A100", 8, 96, "AWS EC2 P4d instance types"),
    ("NVIDIA DGX A100", "A100", 8, 128, "DGX A100 data sheet (2x AMD EPYC 7742)"),
    ("AWS p5.48xlarge", "H100 SXM", 8, 192, "AWS EC2 P5 instance types"),
    ("NVIDIA DGX H100", "H100 SXM", 8, 112, "DGX H100 data sheet (2x Xeon Platinum 8480C)"),
    ("AWS p5e.48xlarge", "H200", 8, 192, "AWS EC2 P5e instance types"),
]


def per_core(decode: float, transform: float) -> float:
    """Images/s one core feeds: a decode and a share of the batch transform per image."""
    return 1.0 / (1.0 / decode + 1.0 / transform)


def gpu_rate(label: str, step_flops: float, share: float = SHARE) -> tuple[float, str]:
    """(training images/s of one GPU, where the number comes from)."""
    if label == "GTX 580":
        return EPOCH_IMAGES * EPOCHS / (PAPER_DAYS * 86400) / 2, "published (§5: 5.5 days)"
    tflops, dtype = next((t, d) for _, name, t, d in VENDOR_PEAKS if name == label)
    return share * tflops * 1e12 / step_flops, f"estimate ({share:.0%} of {tflops:g} TFLOP/s {dtype})"


def box_table(decode: float, transform: float, step_flops: float, share: float = SHARE,
              decode_full: float | None = None) -> pd.DataFrame:
    """One row per box in `BOXES`: compute and input images/s, 90 epochs in hours, and which
    limit sets it. `decode`, `transform`: one core's rates (a bench_pipeline record's summary);
    `decode_full`: the decode rate of the original full-size JPEGs (a column of its own)."""
    core = per_core(decode, transform)
    rows = []
    for box, label, gpus, cores, _source in BOXES:
        rate, where = gpu_rate(label, step_flops, share)
        compute, feed = gpus * rate, cores * core if cores else None
        row = {"box": box, "GPUs": f"{gpus} × {label}", "cores": cores or "—",
               "compute img/s": f"{compute:,.0f}", "compute from": where,
               "input img/s": f"{feed:,.0f}" if feed else "—",
               "90 epochs (h)": round(EPOCHS * EPOCH_IMAGES / min(compute, feed or compute) / 3600, 1),
               "limited by": "input" if feed and feed < compute else "compute"}
        if decode_full:
            full = cores * per_core(decode_full, transform) if cores else compute
            row["90 epochs, original JPEGs (h)"] = round(EPOCHS * EPOCH_IMAGES / min(compute, full) / 3600, 1)
        rows.append(row)
    return pd.DataFrame(rows).set_index("box")
