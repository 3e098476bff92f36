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
once makes the files ~10x smaller and decoding ~5x faster). Both tars' headers are read
first (seconds), so a truncated download fails before hours of extraction. Work is spread
over processes; each file is written under a hidden temporary name and renamed, so Ctrl-C
leaves only whole files and the same command resumes (files already there are skipped).
An image PIL cannot decode is not copied: its tar member is listed in ROOT/imagenet/
skipped.txt. Then the counts are checked against ILSVRC-2012's (1,281,167 train, 50,000 val,
1,000 classes; the devkit's per-class counts too), and the training set's mean image and
RGB PCA are computed once and cached where training looks for them (`data.stats`).
"""
from __future__ import annotations

import csv
import io
import tarfile
import zlib
from pathlib import Path

from .images import list_images
from .registry import DataError
from .tarwrite import Writer, atomic_write, sweep

TRAIN_TAR, VAL_TAR = "ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"
DEVKIT, KAGGLE_CSV = "ILSVRC2012_devkit_t12.tar.gz", "LOC_val_solution.csv"
DEVKIT_META = "data/meta.mat"
DEVKIT_TRUTH = "data/ILSVRC2012_validation_ground_truth.txt"
EXPECTED = {"train": 1_281_167, "val": 50_000, "classes": 1000}     # ILSVRC-2012 as released
REPORT = "skipped.txt"                                            # in --out: the members not copied
TAR_ERRORS = (tarfile.TarError, EOFError, zlib.error)             # what a cut or damaged download raises


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
    try:   # scipy is no requirement of the package (MATLAB files are read here only)
        from scipy.io import loadmat
    except ImportError:
        raise DataError(f"reading the devkit's meta.mat needs scipy — pip install scipy, or put Kaggle's "
                        f"{KAGGLE_CSV} beside the tars instead of {DEVKIT}") from None
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


# --- the two tars, checked from their headers before anything is written ----------------------
def _open_tar(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:")
    except (*TAR_ERRORS, OSError) as err:
        raise _broken(path, err) from None


def _broken(path, err, inner: str = "") -> DataError:
    path = Path(path)
    where = f"{inner} inside {path}" if inner else str(path)
    return DataError(f"{where} is truncated or corrupt ({err}) — download {path.name} again")


def _headers(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The members, read by seeking from header to header; tarfile checks that each member's
    last byte is there, so a cut download fails here."""
    try:
        return tar.getmembers()
    except TAR_ERRORS as err:
        raise _broken(tar.name, err) from None


def check_val(tar: tarfile.TarFile, labels: dict[str, str], expect: dict) -> list[tarfile.TarInfo]:
    """The val tar's images; each must have a label, and fewer than `expect['val']` is a cut
    download (more may be fine: an unreadable image is skipped, and verify counts the result)."""
    members = [m for m in _headers(tar) if m.isfile()]
    unlabelled = [Path(m.name).name for m in members if Path(m.name).stem not in labels]
    if unlabelled:
        raise DataError(f"{_first(unlabelled)} in {tar.name} have no validation label — the labels file does "
                        "not match this tar (use the devkit of ILSVRC-2012)")
    if len(members) < expect["val"]:
        raise DataError(f"{tar.name} holds {len(members):,} images (expected {expect['val']:,}) — download it "
                        "again, or give --expect-val for a subset")
    return members


def check_train(tar: tarfile.TarFile, known: set[str], expect: dict) -> list[tarfile.TarInfo]:
    """The class tars in the train tar: one for each class the labels name, `expect['classes']`
    or more (verify counts the classes extracted)."""
    members = [m for m in _headers(tar) if m.isfile() and m.name.endswith(".tar")]
    missing = known - {Path(m.name).stem for m in members}
    if missing:
        raise DataError(f"{tar.name} lacks {_first(f'{w}.tar' for w in missing)}, named by the validation "
                        f"labels — download {Path(tar.name).name} again")
    if len(members) < expect["classes"]:
        raise DataError(f"{tar.name} holds {len(members):,} class tars (expected {expect['classes']:,}) — "
                        "download it again, or give --expect-classes for a subset")
    return members


# --- extracting ------------------------------------------------------------------------------
def extract_train(tar: tarfile.TarFile, class_tars: list, out: Path, writer: Writer, log=print) -> None:
    """train/<wnid>/ per class tar. A class folder with a `.done` marker (it lists the
    members that could not be read) was finished by an earlier run and is not read again."""
    for i, member in enumerate(class_tars, 1):
        folder = out / "train" / Path(member.name).stem
        if (folder / ".done").exists():
            writer.there += len(list_images(folder))
            writer.unreadable += (folder / ".done").read_text().splitlines()
        else:
            start = len(writer.unreadable)
            _extract_class(tar, member, folder, writer)
            atomic_write(folder / ".done", "".join(f"{u}\n" for u in writer.unreadable[start:]).encode())
        if i % 50 == 0 or i == len(class_tars):
            log(f"train: {i}/{len(class_tars)} classes")


def _extract_class(tar: tarfile.TarFile, member: tarfile.TarInfo, folder: Path, writer: Writer) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    sweep(folder)
    where = f"{Path(tar.name).name}/{member.name}"
    try:
        with tarfile.open(fileobj=tar.extractfile(member), mode="r|") as inner:
            for m in inner:
                if m.isfile():
                    writer.add(folder / Path(m.name).name, inner.extractfile(m).read, f"{where}/{m.name}")
    except TAR_ERRORS as err:
        raise _broken(tar.name, err, member.name) from None
    writer.flush()


def extract_val(tar: tarfile.TarFile, members: list, out: Path, labels: dict[str, str], writer: Writer) -> None:
    """val/<wnid>/ from the labels (check_val saw that every image has one)."""
    sweep(out / "val", "*/.*.tmp*")
    try:
        for m in members:
            folder = out / "val" / labels[Path(m.name).stem]
            folder.mkdir(parents=True, exist_ok=True)
            writer.add(folder / Path(m.name).name, tar.extractfile(m).read, f"{Path(tar.name).name}/{m.name}")
    except TAR_ERRORS as err:
        raise _broken(tar.name, err) from None
    writer.flush()


# --- checking the result ----------------------------------------------------------------------
def count_images(split: Path) -> dict[str, int]:
    """wnid -> number of image files in split/<wnid>/."""
    if not split.is_dir():
        return {}
    return {d.name: len(list_images(d)) for d in sorted(split.iterdir()) if d.is_dir()}


def _first(names, n: int = 3) -> str:
    names = sorted(names)
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def verify(out: Path, expect: dict, known: set[str], per_class: dict | None = None, skipped: int = 0) -> dict:
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
        todo = (f"PIL cannot read {skipped:,} of the tars' images (listed in {out / REPORT}): download those "
                "tars again" if skipped else "give --expect-train/--expect-val/--expect-classes for a subset")
        raise DataError(f"{out} is not complete ILSVRC-2012: {'; '.join(problems)} — {todo}")
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
    with _open_tar(inputs["val"]) as val, _open_tar(inputs["train"]) as train:
        val_members = check_val(val, labels, expect)       # the val tar first: it is extracted last
        class_tars = check_train(train, set(labels.values()), expect)
        with Writer(resize, workers) as writer:
            extract_train(train, class_tars, out, writer, log)
            extract_val(val, val_members, out, labels, writer)
    report, skipped = out / REPORT, len(writer.unreadable)
    if skipped:
        atomic_write(report, "".join(f"{u}\n" for u in writer.unreadable).encode())
    else:
        report.unlink(missing_ok=True)          # from a run on an earlier, damaged download
    log(f"{writer.written:,} images written, {writer.there:,} already there"
        + (f", {skipped:,} not copied as PIL cannot read them (listed in {report})" if skipped else ""))
    return verify(out, expect, set(labels.values()), per_class if expect == EXPECTED else None, skipped)


def compute_stats(out: Path, workers: int = 0, log=print) -> dict:
    """The training set's mean image, channel mean/std and RGB PCA, cached where `dataset=
    imagenet` looks for them (keyed by the file listing), so no training rank recomputes them."""
    from .imagenet import train_items, training_stats
    _, items = train_items(Path(out))
    stats, path = training_stats(Path(out), items, None, workers, log)
    log(f"statistics of {stats['n_images']:,} training images cached in {path}")
    return stats
