"""The loader for image folders: workers decode to uint8 256x256 (§2), the main process
transforms whole batches (§4.1), seeded by (seed, epoch, step).

Why split it so: decoding is the per-image work and parallelises over processes; crops,
flips, colour noise and normalisation are cheap tensor ops on a batch. Keeping all the
randomness in the main process makes a run's batches independent of the number of workers,
so a resumed run is exact.

Under data-parallel training each rank asks for its share of every global batch
(`batches(epoch, start, shard=(rank, world))`): it decodes and transforms only those
images, and its rows are exactly the ones it would have kept from the whole batch, as
every random draw is made for the whole batch and kept by the image's place in it.
"""
from __future__ import annotations

import math
import signal
import sys
from dataclasses import KW_ONLY, dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .augment import flip_draws, pca_shift, random_offsets, ten_crop_boxes
from .images import SIDE, UnreadableImage, load_256
from .loader import RAW_STD, step_seed


class Folder(Dataset):
    """Item i -> (uint8 (3, 256, 256) or None, label, None or 'path: reason')."""

    def __init__(self, items: list[tuple[str, int]]):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        try:
            return load_256(path), label, None
        except UnreadableImage as err:
            return None, label, str(err)


def collate(rows):
    """Stack the readable images; pass the unreadable ones' reasons on to be reported."""
    good = [(img, label) for img, label, _ in rows if img is not None]
    failed = [why for img, _, why in rows if img is None]
    x = torch.stack([g[0] for g in good]) if good else torch.empty(0, 3, SIDE, SIDE, dtype=torch.uint8)
    return x, torch.tensor([g[1] for g in good], dtype=torch.int64), failed


def collate_places(rows):
    """`collate`, plus the places (in the index list) of the readable images."""
    x, y, failed = collate(rows)
    return x, y, failed, torch.tensor([i for i, (img, _, _) in enumerate(rows) if img is not None], dtype=torch.int64)


def one_thread(_):
    """A loader worker's start: one thread, and deaf to stop signals from all but its parent.
    A SIGTERM sent to a whole process group (torchrun stopping its ranks, a scheduler's
    pre-emption) or a Ctrl-C reaches the workers too, and the main process, which turns it
    into a checkpoint at the next step, needs them alive until then. A SIGTERM from the
    parent itself (the DataLoader's or multiprocessing's shutdown) still ends the worker."""
    import os
    import signal
    import threading
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not hasattr(signal, "sigwaitinfo"):                # no sender pid (macOS, Windows): ignore it
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        torch.set_num_threads(1)
        return
    parent = os.getppid()
    # Blocked before any thread starts (torch's own included), so no thread takes SIGTERM's default.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    torch.set_num_threads(1)    # each worker decodes one image at a time; more threads oversubscribe

    def obey_parent():                                    # every SIGTERM, blocked, waits for this
        while signal.sigwaitinfo({signal.SIGTERM}).si_pid != parent:
            pass
        os._exit(128 + signal.SIGTERM)
    threading.Thread(target=obey_parent, name="sigterm-from-parent", daemon=True).start()


def quiet_workers(loader: DataLoader):
    """iter(loader), its worker processes forked with SIGTERM blocked: a worker starts deaf to
    it, so a thread it starts before `one_thread` runs (OpenMP's, in a parent that has used
    several threads) cannot take SIGTERM's default; `one_thread` then leaves SIGTERM to one
    thread that obeys the parent alone. A SIGTERM to this process meanwhile waits, then acts."""
    if not loader.num_workers or not hasattr(signal, "pthread_sigmask"):
        return iter(loader)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        return iter(loader)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_reported: set[str] = set()


def report(failed: list[str]) -> None:
    """Say once per file (per process) that it is skipped, with the decoder's reason."""
    for why in failed:
        if why not in _reported:
            _reported.add(why)
            print(f"alexnet: skipping unreadable image {why}", file=sys.stderr)


def decode_all(items, workers: int = 0) -> tuple[torch.Tensor, list[tuple[str, int]]]:
    """Every item decoded once into RAM: (uint8 (N, 3, 256, 256), the readable items)."""
    images = torch.empty(len(items), 3, SIDE, SIDE, dtype=torch.uint8)
    keep, failed = [], []
    rows = DataLoader(Folder(items), batch_size=None, num_workers=workers,
                      worker_init_fn=one_thread if workers else None)
    for i, (img, _, why) in enumerate(quiet_workers(rows)):
        if img is None:
            failed.append(why)
            continue
        images[len(keep)] = img
        keep.append(items[i])
    report(failed)
    return images[:len(keep)], keep


class Raw(NamedTuple):
    """One rank's share of one global batch, decoded: uint8 `images` (b, 3, 256, 256) and
    their `labels`; `places` are their positions in the global batch of `of` images
    (unreadable files left out)."""
    step: int
    images: torch.Tensor
    labels: torch.Tensor
    places: torch.Tensor
    of: int


def share_places(n: int, shard: tuple[int, int]) -> torch.Tensor:
    """Rank r of W's positions in a batch of n: the r-th of W near-equal runs, as
    `tensor_split` cuts the whole batch, so the ranks' shares are disjoint and cover it."""
    rank, world = shard
    return torch.arange(n).tensor_split(world)[rank]


class _Steps:
    """A batch sampler whose per-step index lists are set before each epoch (persistent workers)."""

    def __init__(self):
        self.index_lists: list[list[int]] = []

    def __iter__(self):
        return iter(self.index_lists)

    def __len__(self):
        return len(self.index_lists)


@dataclass(eq=False, repr=False)   # a plain object: no field-by-field equality or repr of the tensors
class FolderLoader:
    """Batches of 256x256 images from a folder (`images` given: held in RAM) for training or
    evaluation; a `loader.Loader` like `MemoryLoader`.

    stats: the training set's mean_image (3, 256, 256), channel_mean/std (3,), eigvals/eigvecs.
    """
    items: list                    # (path, label) per image
    stats: dict
    _: KW_ONLY
    batch_size: int
    image_size: int
    train: bool
    augment: str = "none"          # none | crop_flip | crop_flip_pca (training only)
    seed: int = 0
    mean: object = "image"         # "image" (§2's mean image) | "channel"; the tensor after init
    pixel_scale: str = "std"       # "std" (divide by the channel std) | "raw" (§2: 0-255 units)
    pca_std: float = 0.1
    ten_crop: bool = False         # evaluation: 10 crops per image (§4.1)
    workers: int = 0
    images: torch.Tensor | None = None   # uint8 (N, 3, 256, 256) decoded once, or None

    def __post_init__(self):
        stats = self.stats
        self.labels = torch.tensor([label for _, label in self.items], dtype=torch.int64)
        self.augment = self.augment if self.train else "none"
        self.ten_crop = self.ten_crop and not self.train
        self.mean = stats["mean_image"] if self.mean == "image" else stats["channel_mean"].view(3, 1, 1)
        self.std = torch.full((3, 1, 1), RAW_STD) if self.pixel_scale == "raw" else stats["channel_std"].view(3, 1, 1)
        self.pca = (stats["eigvals"], stats["eigvecs"]) if self.augment == "crop_flip_pca" else None
        self.drop_last = self.train
        self._loader = self._sampler = self._mean_np = self._scale_np = None

    def __len__(self) -> int:
        n = len(self.items)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def order(self, epoch: int) -> torch.Tensor:
        if not self.train:
            return torch.arange(len(self.items))
        return torch.randperm(len(self.items), generator=torch.Generator().manual_seed(step_seed(self.seed, epoch, -1)))

    def raw_batches(self, epoch: int, start: int = 0, shard: tuple[int, int] = (0, 1)):
        """`Raw` shares from step `start` on: this rank's part of every global batch
        (shard = (rank, world)), the only images it decodes."""
        order, b = self.order(epoch), self.batch_size
        steps = [order[s * b:(s + 1) * b] for s in range(start, len(self))]
        places = [share_places(len(idx), shard) for idx in steps]
        if self.images is not None:
            for step, (idx, at) in enumerate(zip(steps, places), start):
                yield Raw(step, self.images[idx[at]], self.labels[idx[at]], at, len(idx))
            return
        if self._loader is None:
            self._sampler = _Steps()
            self._loader = DataLoader(Folder(self.items), batch_sampler=self._sampler, collate_fn=collate_places,
                                      num_workers=self.workers, persistent_workers=self.workers > 0,
                                      worker_init_fn=one_thread if self.workers else None,
                                      prefetch_factor=4 if self.workers else None)
        self._sampler.index_lists = [idx[at].tolist() for idx, at in zip(steps, places)]
        for (x, y, failed, readable), step, idx, at in zip(quiet_workers(self._loader), range(start, len(self)),
                                                           steps, places):
            report(failed)
            # One process skips a batch of only unreadable files. A rank cannot skip its
            # share alone: the others would wait for it in the gradient all-reduce.
            if len(y) or shard[1] > 1:
                yield Raw(step, x, y, at[readable], len(idx))

    def batches(self, epoch: int = 0, start: int = 0, shard: tuple[int, int] = (0, 1)):
        """(x, y) of `epoch` from step `start`; with shard = (rank, world), this rank's rows
        of every batch, the same as the whole batch's `tensor_split(world)[rank]`."""
        for r in self.raw_batches(epoch, start, shard):
            gen = torch.Generator().manual_seed(step_seed(self.seed, epoch, r.step))
            yield (self.train_transform(r.images, gen, r.places, r.of) if self.train
                   else self.eval_transform(r.images)), r.labels

    def __iter__(self):
        return self.batches(0)

    # Crops, flips and normalisation run per image in numpy, written straight into one float
    # array: one pass over the pixels. (On 2 busy cores torch's threaded kernels on the whole
    # batch, which need three passes, ran 3-4x slower.) (x/255 + shift - mean) / std.
    def _constants(self):
        if self._mean_np is None:
            std = self.std.double()
            self._mean_np = (self.mean / std).float().numpy()          # (3, 256, 256) or (3, 1, 1)
            self._scale_np = (1.0 / (255 * std)).float().numpy()       # (3, 1, 1)
        return self._mean_np, self._scale_np

    def normalised_crops(self, raw: torch.Tensor, boxes, shift=None) -> torch.Tensor:
        """raw uint8 (B, 3, 256, 256); boxes[b] = [(top, left, flip), ...] (K per image);
        shift: (B, 3) colour offsets in [0, 1] units. -> float32 (B, K, 3, S, S)."""
        s, (mean, scale) = self.image_size, self._constants()
        arr, per_pixel = raw.numpy(), mean.shape[-1] > 1
        out = np.empty((len(boxes), len(boxes[0]) if boxes else 1, 3, s, s), np.float32)   # a share may be empty
        extra = None if shift is None else (shift / self.std.view(1, 3)).numpy()[:, :, None, None]
        for b, image_boxes in enumerate(boxes):
            for k, (top, left, flip) in enumerate(image_boxes):
                step = -1 if flip else 1
                crop = arr[b, :, top:top + s, left:left + s][:, :, ::step]
                m = mean[:, top:top + s, left:left + s][:, :, ::step] if per_pixel else mean
                np.multiply(crop, scale, out=out[b, k])
                np.subtract(out[b, k], m, out=out[b, k])
                if extra is not None:
                    out[b, k] += extra[b]
        return torch.from_numpy(out)

    def eval_transform(self, raw: torch.Tensor) -> torch.Tensor:
        """Centre crop (B, 3, S, S), or 10 crops (B, 10, 3, S, S) for softmax averaging."""
        if self.ten_crop:
            return self.normalised_crops(raw, [ten_crop_boxes(SIDE, SIDE, self.image_size)] * len(raw))
        off = (SIDE - self.image_size) // 2
        return self.normalised_crops(raw, [[(off, off, False)]] * len(raw))[:, 0]

    def train_transform(self, raw: torch.Tensor, gen: torch.Generator, places=None, of: int | None = None):
        """§4.1: a random S x S patch of the 256x256 image, reflected with probability 1/2
        (33 x 33 x 2 = 2,178 choices for S = 224); PCA colour noise for crop_flip_pca.
        The draws are made for a whole batch of `of` images (default: raw's) and image i
        takes those of its place `places[i]`: a rank's share gets the whole batch's."""
        if self.augment == "none":
            return self.eval_transform(raw)
        b = raw.shape[0] if of is None else of
        oy, ox = random_offsets(b, SIDE, SIDE, self.image_size, gen)
        flip = flip_draws(b, gen)
        shift = None if self.pca is None else pca_shift(b, *self.pca, std=self.pca_std, generator=gen)
        if places is not None:
            oy, ox, flip = oy[places], ox[places], flip[places]
            shift = None if shift is None else shift[places]
        boxes = [[box] for box in zip(oy.tolist(), ox.tolist(), flip.tolist())]
        return self.normalised_crops(raw, boxes, shift)[:, 0]
