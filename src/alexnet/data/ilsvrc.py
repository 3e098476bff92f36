"""Prepare ILSVRC-2012 from the official downloads into the layout `dataset=imagenet` reads.

    python -m alexnet.data imagenet --tars DIR --out ROOT/imagenet [--resize 256] [--workers N]

DIR holds what image-net.org hands out:

    ILSVRC2012_img_train.tar          1,000 per-class tars (n01440764.tar, ...) of JPEGs
    ILSVRC2012_img_val.tar            50,000 JPEGs in one flat folder, unlabelled
    ILSVRC2012_devkit_t12.tar.gz      data/meta.mat (ILSVRC2012_ID -> wnid) and
                                      data/ILSVRC2012_validation_ground_truth.txt (one ID per image)
    or LOC_val_solution.csv           Kaggle's mirror: "ImageId,PredictionString" (first token = wnid)

and the result is ROOT/imagenet/train/<wnid>/*.JPEG and val/<wnid>/*.JPEG, optionally with
every image rescaled so its shorter side is 256 (§2: the loader does that anyway; doing it
once makes the files ~10x smaller and decoding ~5x faster). Work is spread over processes;
each file is written under a temporary name and renamed, so an interrupted run resumes
where it stopped (files already there are skipped). Then the counts are checked against
ILSVRC-2012's (1,281,167 train, 50,000 val, 1,000 classes; the devkit's per-class counts
too), and the training set's mean image and RGB PCA are computed once and cached where
training looks for them (`data.stats`).
"""
from __future__ import annotations

import csv
import io
import os
import tarfile
from multiprocessing import Pool
from pathlib import Path

from .registry import DataError

TRAIN_TAR, VAL_TAR = "ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"
DEVKIT, KAGGLE_CSV = "ILSVRC2012_devkit_t12.tar.gz", "LOC_val_solution.csv"
DEVKIT_META = "data/meta.mat"
DEVKIT_TRUTH = "data/ILSVRC2012_validation_ground_truth.txt"
EXPECTED = {"train": 1_281_167, "val": 50_000, "classes": 1000}     # ILSVRC-2012 as released
CHUNK = 64                                                        # images handed to a worker at a time


# --- the inputs -------------------------------------------------------------------------------
def find_inputs(tars: Path) -> dict[str, Path]:
    """The two image tars and a source of validation labels in `tars`; one error naming all
    that is missing."""
    found = {"train": tars / TRAIN_TAR, "val": tars / VAL_TAR}
    missing = [p.name for p in found.values() if not p.is_file()]
    for name in (DEVKIT, KAGGLE_CSV):
        if (tars / name).is_file():
            found["labels"] = tars / name
            break
    else:
        missing.append(f"{DEVKIT} (or Kaggle's {KAGGLE_CSV}) for the validation labels")
    if missing:
        raise DataError(f"{tars} lacks {', '.join(missing)} — put the ILSVRC-2012 downloads there "
                        "(image-net.org, 'Development kit (Task 1 & 2)' for the devkit)")
    return found


def _devkit_member(tar: tarfile.TarFile, suffix: str, path: Path) -> bytes:
    for member in tar.getmembers():
        if member.isfile() and member.name.endswith(suffix):
            return tar.extractfile(member).read()
    raise DataError(f"{path} has no {suffix} — is it ILSVRC2012_devkit_t12.tar.gz? download it again")


def devkit_labels(path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """From the devkit: validation file stem -> wnid, and wnid -> number of training images
    (meta.mat's synsets with ILSVRC2012_ID 1..1000 are the classes)."""
    from scipy.io import loadmat
    try:
        with tarfile.open(path) as tar:
            meta = loadmat(io.BytesIO(_devkit_member(tar, DEVKIT_META, path)), squeeze_me=True)
            truth = _devkit_member(tar, DEVKIT_TRUTH, path).decode().split()
    except (tarfile.TarError, OSError, EOFError, ValueError) as err:
        raise DataError(f"{path} cannot be read ({err}) — download the devkit again") from None
    synsets = meta["synsets"]
    wnid = {int(i): str(w) for i, w, kids in zip(synsets["ILSVRC2012_ID"], synsets["WNID"],
                                                  synsets["num_children"]) if int(kids) == 0}
    counts = {str(w): int(n) for w, n, kids in zip(synsets["WNID"], synsets["num_train_images"],
                                                   synsets["num_children"]) if int(kids) == 0}
    labels = {f"ILSVRC2012_val_{k:08d}": wnid[int(i)] for k, i in enumerate(truth, 1)}
    return labels, counts


def kaggle_labels(path: Path) -> dict[str, str]:
    """From Kaggle's LOC_val_solution.csv: validation file stem -> wnid."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "ImageId" not in rows[0] or "PredictionString" not in rows[0]:
        raise DataError(f"{path} is not Kaggle's LOC_val_solution.csv (header ImageId,PredictionString)")
    return {r["ImageId"]: r["PredictionString"].split()[0] for r in rows}


# --- writing the files (in worker processes) -------------------------------------------------
def write_image(job: tuple[str, bytes, int]) -> str | None:
    """Write one image to `target` (atomically), rescaled so the shorter side is `resize`
    when given; None, or 'target: reason' for a file PIL cannot read (copied as it is: the
    loader reports and skips it at training time)."""
    target, data, resize = job
    if resize:
        try:
            data = _rescaled(data, resize)
        except Exception as err:  # noqa: BLE001 - any decoder failure: keep the original bytes
            _atomic_write(Path(target), data)
            return f"{target}: {err}"
    _atomic_write(Path(target), data)
    return None


def _rescaled(data: bytes, side: int) -> bytes:
    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")                         # CMYK, grayscale and the odd PNG -> RGB JPEG
        w, h = im.size
        if min(w, h) != side:
            scale = side / min(w, h)
            im = im.resize((max(side, round(w * scale)), max(side, round(h * scale))), Image.BILINEAR)
        out = io.BytesIO()
        im.save(out, "JPEG", quality=95)
    return out.getvalue()


def _atomic_write(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(target)


class Writer:
    """Hands (target, bytes) to a pool of processes in chunks (bounded memory); skips
    targets that exist (resume); counts what it wrote and what PIL could not read."""

    def __init__(self, resize: int = 0, workers: int = 0):
        self.resize, self.workers = resize, max(1, workers)
        self.pool = Pool(workers) if workers > 1 else None
        self.jobs, self.written, self.skipped, self.unreadable = [], 0, 0, []

    def add(self, target: Path, read) -> None:
        if target.exists():
            self.skipped += 1
            return
        self.jobs.append((str(target), read(), self.resize))
        if len(self.jobs) >= CHUNK * self.workers:
            self.flush()

    def flush(self) -> None:
        run = self.pool.imap if self.pool else map
        self.unreadable += [r for r in run(write_image, self.jobs) if r]
        self.written, self.jobs = self.written + len(self.jobs), []

    def close(self) -> None:
        self.flush()
        if self.pool:
            self.pool.close()
            self.pool.join()


# --- the two tars -----------------------------------------------------------------------------
def _open_tar(path: Path, mode: str = "r:"):
    try:
        return tarfile.open(path, mode)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DataError(f"{path} cannot be read as a tar ({err}) — download it again") from None


def extract_train(path: Path, out: Path, writer: Writer, log=print) -> None:
    """ILSVRC2012_img_train.tar: one tar per class inside; train/<wnid>/ per class tar. A class
    whose folder holds a `.done` marker was finished by an earlier run and is not read again."""
    with _open_tar(path) as outer:
        members = [m for m in outer.getmembers() if m.isfile() and m.name.endswith(".tar")]
        for i, member in enumerate(members, 1):
            wnid = Path(member.name).stem
            folder = out / "train" / wnid
            if (folder / ".done").exists():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=outer.extractfile(member), mode="r|") as inner:
                for m in inner:
                    if m.isfile():
                        writer.add(folder / Path(m.name).name, inner.extractfile(m).read)
            writer.flush()
            (folder / ".done").touch()
            if i % 50 == 0 or i == len(members):
                log(f"train: {i}/{len(members)} classes")


def extract_val(path: Path, out: Path, labels: dict[str, str], writer: Writer) -> None:
    """ILSVRC2012_img_val.tar (flat): val/<wnid>/ from the labels; an unlabelled file is an error."""
    with _open_tar(path, "r|") as tar:
        for m in tar:
            if not m.isfile():
                continue
            name = Path(m.name).name
            wnid = labels.get(Path(name).stem)
            if wnid is None:
                raise DataError(f"{name} in {path} has no validation label — the labels file does not "
                                "match this tar (use the devkit of ILSVRC-2012)")
            (out / "val" / wnid).mkdir(parents=True, exist_ok=True)
            writer.add(out / "val" / wnid / name, tar.extractfile(m).read)
    writer.flush()


# --- checking the result ----------------------------------------------------------------------
def count_images(split: Path) -> dict[str, int]:
    """wnid -> number of image files in split/<wnid>/."""
    from .images import list_images
    if not split.is_dir():
        return {}
    return {d.name: len(list_images(d)) for d in sorted(split.iterdir()) if d.is_dir()}


def _first(names, n: int = 3) -> str:
    names = sorted(names)
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def verify(out: Path, expect: dict, known: set[str], per_class: dict | None = None) -> dict:
    """Counts of the prepared folder against `expect` (train, val, classes), the classes the
    labels name (`known`) and, from the devkit, each class's training images; one error
    naming everything that is missing."""
    train, val = count_images(out / "train"), count_images(out / "val")
    found = {w for w, n in train.items() if n}
    counts = {"train": sum(train.values()), "val": sum(val.values()), "classes": len(found)}
    what = {"classes": "classes", "train": "training images", "val": "validation images"}
    problems = [f"{counts[k]:,} {what[k]} (expected {expect[k]:,})" for k in what if counts[k] != expect[k]]
    if known - found:
        problems.append(f"no training images for {_first(known - found)} (train/<wnid>/ missing or empty)")
    if set(val) - found:
        problems.append(f"val classes without training images: {_first(set(val) - found)}")
    short = {w for w, n in (per_class or {}).items() if w in found and train[w] < n}
    if short:
        problems.append(f"fewer training images than the devkit lists in {_first(short)}")
    if problems:
        raise DataError(f"{out} is not complete ILSVRC-2012: {'; '.join(problems)} — re-run the same "
                        "command to resume, or give --expect-train/--expect-val/--expect-classes for a subset")
    return counts


def prepare(tars: Path, out: Path, resize: int = 0, workers: int = 0, expect: dict | None = None,
            log=print) -> dict:
    """Extract, label, optionally rescale and check ILSVRC-2012 (see the module's docstring);
    returns the counts {train, val, classes}."""
    expect = dict(EXPECTED, **(expect or {}))
    inputs = find_inputs(Path(tars))
    if inputs["labels"].name == DEVKIT:
        labels, per_class = devkit_labels(inputs["labels"])
    else:
        labels, per_class = kaggle_labels(inputs["labels"]), None
    out = Path(out)
    writer = Writer(resize, workers)
    try:
        extract_train(inputs["train"], out, writer, log)
        extract_val(inputs["val"], out, labels, writer)
    finally:
        writer.close()
    log(f"{writer.written} images written, {writer.skipped} already there")
    for why in writer.unreadable:
        log(f"copied as it is, PIL cannot read it (training skips it): {why}")
    return verify(out, expect, set(labels.values()), per_class if expect == EXPECTED else None)


def compute_stats(out: Path, workers: int = 0, log=print) -> dict:
    """The training set's mean image, channel mean/std and RGB PCA, cached where `dataset=
    imagenet` looks for them (keyed by the file listing), so no training rank recomputes them."""
    from .imagenet import train_items, training_stats
    _, items = train_items(Path(out))
    stats, path = training_stats(Path(out), items, None, workers, log)
    log(f"statistics of {stats['n_images']:,} training images cached in {path}")
    return stats
