"""`alexnet bench pipeline`: can the input pipeline feed a GPU? Images/s of JPEG decoding per
loader worker and of the batch transform, measured here, and the plan they imply for the
`paper` preset on each GPU type.

The folder loader (`alexnet.data.folders`) splits the work: each DataLoader worker decodes
JPEGs to 256x256 uint8 (§2); the training process crops, flips, adds PCA colour noise and
normalises whole batches (§4.1). So one GPU is fed at

    input img/s = min(workers x decode img/s per worker, transform img/s of its process)

and an epoch takes max(compute time, input time). Measured, one torch thread each:
  decode      `load_256` per image in one process: the sample's 224x224 JPEGs (close to a
              copy prepared with `--resize 256`) and natural/'s full-size photos (~500x375,
              like the original ILSVRC-2012 files)
  transform   FolderLoader.train_transform on one batch of 128 (227 crops, flips, PCA, mean image)
  loader      FolderLoader end to end with 1 and 2 workers (decode and transform overlapping)
  rank share  the same with 1 worker as rank 0 of 2 under DDP: it decodes and transforms half
              of each global batch (images/s of its own rows; each rank feeds its own GPU)
`alexnet.bench.boxes` turns the per-core rates into each box's input limit beside its GPUs'.

`python -m alexnet.bench.pipeline gpu [k=v ...]` (what `make gpu-check` runs, also under
torchrun) trains the `paper` preset for 2 x 50 steps on batches made on the GPU and prints
its compute images/s, peak memory and share of the vendor's peak.
"""
from __future__ import annotations

import os
import shlex
import sys

import pandas as pd
import torch

from .. import records
from ..config import resolve
from ..data import DataBundle, data_root, load_data
from ..data.images import list_images, load_256
from ..devices import autocast_dtype, vendor_peak
from ..timing import median_seconds
from .data import timed

TITLE = "Input pipeline per worker (decode, batch transform) and the workers each GPU needs"
SAMPLE = "imagenet_sample"          # the workplace's 10 classes: real ILSVRC-2012 JPEGs
DEFAULTS = dict(dataset=SAMPLE, batch_size=128, image_size=227, augment="crop_flip_pca", cache_images=0)
EPOCH_IMAGES = 1_281_167          # ILSVRC-2012 training images
RANK_SHARE = "rank 0 of 2 (its half of each batch), 1 worker"


def decode_rate(paths: list, images: int = 200, repeats: int = 3) -> float:
    """Images/s of `load_256` (decode, shorter side 256, centre crop) in this process: the
    median of `repeats` passes over `images` files (cycling through `paths`)."""
    chunk = [paths[i % len(paths)] for i in range(images)]
    return images / median_seconds(lambda: [load_256(p) for p in chunk], repeats)


def transform_rate(loader, repeats: int = 3) -> float:
    """Images/s of the training transform (§4.1) of one uint8 batch in this process."""
    raw = next(loader.raw_batches(0)).images
    gen = torch.Generator().manual_seed(0)
    return len(raw) / median_seconds(lambda: loader.train_transform(raw, gen), repeats)


def measure(cfg, images: int = 768) -> tuple[pd.DataFrame, dict]:
    """One row per measurement (what, workers, images/s) and the sample's fingerprint."""
    data = load_data(cfg.replace(workers=0))
    items = [path for path, _ in data.train.items]
    natural = sorted(p for d in (data_root(cfg) / data.fingerprint["folder"] / "natural").glob("*")
                     for p in (list_images(d) if d.is_dir() else []))
    rows = [("decode, sample 224x224 JPEGs", 1, decode_rate(items))]
    if natural:
        rows.append(("decode, full-size photos (natural/)", 1, decode_rate(natural, 100)))
    rows.append(("transform, batch of 128 (crop, flip, PCA, mean image)", 0, transform_rate(data.train)))
    for workers in (1, 2):
        loader = load_data(cfg.replace(workers=workers)).train
        rows.append((f"loader end to end, {workers} worker{'s' * (workers > 1)}", workers,
                     timed(loader.batches(0), images)))
    # Under DDP a rank decodes and transforms only its half of each global batch: rank 0 of
    # 2 alone, in images/s of its own rows (the other rank's process does the other half).
    rows.append((RANK_SHARE, 1, timed(load_data(cfg.replace(workers=1)).train.batches(0, shard=(0, 2)), images // 2)))
    for what, workers, rate in rows:
        print(f"{what:55s} workers={workers}  {rate:7.0f} images/s")
    table = pd.DataFrame(rows, columns=["what", "workers", "images_per_s"]).round({"images_per_s": 1})
    fp = data.fingerprint
    return table, dict(folder=fp["folder"], n_train=fp["n_train"], n_natural=len(natural),
                       train_listing_sha256=fp["train_listing_sha256"])


def step_flops() -> float:
    """FLOPs of one training image of the paper's net at 227x227: 3 forward passes (the
    backward pass costs about two: gradients of activations and of weights)."""
    from ..models import alexnet_paper, forward_flops
    return 3 * forward_flops(alexnet_paper(), (3, 227, 227))


def run(overrides: list[str]) -> "Path":  # noqa: F821
    """`alexnet bench pipeline`: measure on the ImageNet sample, write results/bench_pipeline/cpu/."""
    cfg = resolve("cpu", overrides, DEFAULTS)
    torch.set_num_threads(cfg.threads or 1)     # as a DataLoader worker runs: one thread
    started = records.utc_now()
    table, fingerprint = measure(cfg)
    by = dict(zip(table.what, table.images_per_s))
    summary = dict(decode_per_worker=by["decode, sample 224x224 JPEGs"],
                   decode_full_size_per_worker=by.get("decode, full-size photos (natural/)"),
                   transform=by["transform, batch of 128 (crop, flip, PCA, mean image)"],
                   loader={int(w): r for what, w, r in table.itertuples(index=False) if what.startswith("loader")},
                   rank_share=dict(world=2, workers=1, images_per_s=by[RANK_SHARE]),
                   step_gflop=step_flops() / 1e9, batch_size=cfg.batch_size, image_size=cfg.image_size,
                   cpu_count=os.cpu_count(), load_average=[round(x, 2) for x in os.getloadavg()],
                   rows=table.to_dict("records"))
    prov = records.provenance(command=shlex.join(["alexnet", "bench", "pipeline", *overrides]),
                              started=started, seeds=[cfg.seed], data=dict(dataset=SAMPLE, **fingerprint))
    return records.write("bench_pipeline", "cpu", config=cfg.to_dict(), metrics=table, summary=summary,
                         provenance=prov)


# --- the GPU side: compute alone, for `make gpu-check` --------------------------------------
class OnDevice:
    """`steps` random batches made on `device`: no decode and no copy, the GPU's compute alone
    (the synthetic dataset would resize 32 -> 227 on the CPU, slower than the GPU trains)."""

    def __init__(self, steps: int, batch: int, side: int, device: torch.device):
        self.steps, self.batch, self.side, self.device = steps, batch, side, device

    def __len__(self) -> int:
        return self.steps

    def batches(self, epoch: int = 0, start: int = 0):
        gen = torch.Generator(self.device).manual_seed(epoch)   # the same batches on every rank
        for _ in range(start, self.steps):
            x = torch.randn(self.batch, 3, self.side, self.side, generator=gen, device=self.device)
            yield x, torch.randint(0, 1000, (self.batch,), generator=gen, device=self.device)


def gpu(overrides: list[str]) -> dict:
    """Train the `paper` preset for 2 x 50 steps on this rank's GPU (under torchrun: every
    rank's); the second epoch's images/s (all ranks' images), this rank's peak memory."""
    from ..training.loop import train
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    torch.cuda.set_device(device)
    precision = "bf16" if autocast_dtype(device, "bf16") == torch.bfloat16 else "fp16"
    cfg = resolve("paper", [f"precision={precision}", "channels_last=true", "epochs=2", "max_steps=50",
                            "progress=false", "device=cuda", *overrides])
    data = DataBundle(train=OnDevice(cfg.max_steps, cfg.batch_size, cfg.image_size, device),
                      val=OnDevice(2, cfg.batch_size, cfg.image_size, device), num_classes=1000,
                      in_channels=3, classes=[str(i) for i in range(1000)],
                      fingerprint=dict(dataset="random batches made on the GPU"))
    history = train(cfg, data=data, log=lambda *a, **k: None).history
    world = int(os.environ.get("WORLD_SIZE", 1))
    return dict(mode=cfg.parallel if world > 1 else "one GPU", world=world, precision=precision,
                name=torch.cuda.get_device_name(device), images_per_s=history[-1]["images_per_s"],
                peak_gib=torch.cuda.max_memory_allocated(device) / 2 ** 30)


def gpu_line(r: dict, flops: float) -> str:
    """One line of `make gpu-check`: img/s, peak memory, % of the vendor's peak per GPU."""
    peak = vendor_peak(r["name"])
    share = (f"{100 * r['images_per_s'] * flops / r['world'] / peak[1]:.1f}% of the {peak[0]}'s "
             f"{peak[2]} peak (vendor figure, {peak[1] / 1e12:.0f} TFLOP/s)" if peak else "no vendor peak listed")
    return (f"paper preset, {r['mode']} on {r['world']} x {r['name']} ({r['precision']}): "
            f"{r['images_per_s']:,.0f} img/s, peak memory {r['peak_gib']:.2f} GiB (rank 0), {share}")


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "gpu":
        print("usage: python -m alexnet.bench.pipeline gpu [key=value ...]  (the CPU side: alexnet bench pipeline)")
        return 2
    if not torch.cuda.is_available():
        print("alexnet.bench.pipeline gpu: no CUDA device")
        return 1
    result = gpu(argv[1:])
    if int(os.environ.get("RANK", 0)) == 0:
        print(gpu_line(result, step_flops()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
