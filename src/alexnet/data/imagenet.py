"""ImageNet-style folders with the paper's preprocessing (§2) and augmentation (§4.1).

Where: `dataset=imagenet` reads `<root>/imagenet/` (ILSVRC-2012, prepared by `python -m
alexnet.data imagenet`, see `data.ilsvrc`) and nothing else: a missing folder is an error,
never a silent fall-back to other data. `dataset=imagenet_sample` reads the workplace's
`<root>/imagenet-sample/` (10 Imagenette classes). Layout:

    train/<wnid>/*.JPEG                  one folder per class (the classes, sorted)
    val/<wnid>/*.JPEG                    the same wnids, or ILSVRC's flat folder val/*.JPEG with
    val_labels.txt                       "<file name> <wnid or class index>" per line, or
    LOC_val_solution.csv                 Kaggle's "ImageId,PredictionString" (first token = wnid)

Every image: decode -> shorter side 256 -> centre 256x256 (uint8, in DataLoader workers, or
once into RAM for small folders). Then on whole batches: PCA colour noise (train,
crop_flip_pca), mean subtraction (the mean image, or the channel mean) and division by the
channel std, random crops of cfg.image_size plus flips (train) or the centre crop / 10 crops
(evaluation). Randomness comes from (seed, epoch, step), so resumed runs see the same batches
whatever the number of workers.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from torch.utils.data import DataLoader

from .registry import DataBundle, DataError, data_root, register
from .folders import Folder, FolderLoader, collate, decode_all, one_thread, quiet_workers, report
from .images import SIDE, evenly, list_images
from .stats import cached_stats, stats_of, summary

LAYOUT = ("expected <root>/imagenet/ (dataset=imagenet) or <root>/imagenet-sample/ (dataset="
          "imagenet_sample) holding train/<wnid>/*.JPEG and val/<wnid>/*.JPEG (or a flat val/ with "
          "val_labels.txt: '<file> <wnid>' per line); root = --data, else $ALEXNET_DATA, else the repository's data/")
FOLDERS = {"imagenet": "imagenet", "imagenet_sample": "imagenet-sample"}   # dataset= -> <root>/...


# --- finding the files --------------------------------------------------------------------
def dataset_dir(root: Path, dataset: str = "imagenet", download: bool = False) -> Path:
    """<root>/imagenet for dataset=imagenet, <root>/imagenet-sample for imagenet_sample (fetched
    from Imagenette when `download`); an error naming the path (and what to do) when it has no train/."""
    if dataset not in FOLDERS:
        raise DataError(f"dataset={dataset} is not an image-folder dataset — use {' or '.join(FOLDERS)}")
    folder = root / FOLDERS[dataset]
    if (folder / "train").is_dir():
        return folder
    if download and dataset == "imagenet_sample":       # ImageNet itself is never downloaded
        from .download import fetch
        fetch(dataset, root, verify=lambda staged: dataset_dir(staged, dataset))
        return dataset_dir(root, dataset)
    todo = (f"put train/<wnid>/*.JPEG and val/<wnid>/*.JPEG in {folder}/, or add download=true to fetch "
            "them from Imagenette")
    if dataset == "imagenet":
        todo = (f"ImageNet is never downloaded: prepare ILSVRC-2012 there with `python -m alexnet.data "
                f"imagenet --tars DIR --out {folder}` (or point --data / $ALEXNET_DATA at the folder "
                "holding imagenet/)")
        if (root / FOLDERS["imagenet_sample"] / "train").is_dir():
            todo += "; for the 10-class sample beside it use dataset=imagenet_sample"
    raise DataError(f"dataset={dataset} needs {folder}/ holding train/<wnid>/*.JPEG and val/<wnid>/*.JPEG, "
                    f"and {folder / 'train'} does not exist — {todo}")


def train_items(folder: Path) -> tuple[list[str], list[tuple[str, int]]]:
    classes = sorted(p.name for p in (folder / "train").iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{folder / 'train'} has no class folders: {LAYOUT}")
    items = []
    for label, wnid in enumerate(classes):
        files = list_images(folder / "train" / wnid)
        if not files:
            raise DataError(f"class folder {folder / 'train' / wnid} holds no images: every class "
                            "needs at least one .JPEG (remove the folder to drop the class)")
        items += [(str(p), label) for p in files]
    return classes, items


def _flat_val_labels(folder: Path, classes: list[str]) -> dict[str, int]:
    """Labels of a flat val/ folder by file stem, from val_labels.txt or LOC_val_solution.csv."""
    index = {w: i for i, w in enumerate(classes)}
    txt, csv = folder / "val_labels.txt", folder / "LOC_val_solution.csv"
    if txt.exists():
        rows = [line.split()[:2] for line in txt.read_text().splitlines() if line.strip()]
    elif csv.exists():
        rows = [line.split(",", 1) for line in csv.read_text().splitlines()[1:] if line.strip()]
        rows = [(name, pred.split()[0]) for name, pred in rows]
    else:
        raise DataError(f"{folder / 'val'} is a flat folder but there is no labels file: put "
                        f"{txt.name} ('<file name> <wnid or class index>' per line) or Kaggle's "
                        f"{csv.name} beside it, or sort val/ into val/<wnid>/ folders")
    labels = {}
    for name, label in rows:
        i = int(label) if label.isdigit() else index.get(label)
        if i is None or not 0 <= i < len(classes):
            raise DataError(f"{name}: label {label!r} is not one of the {len(classes)} training classes")
        labels[Path(name).stem] = i
    return labels


def val_items(folder: Path, classes: list[str]) -> list[tuple[str, int]]:
    val = folder / "val"
    if not val.is_dir():
        raise DataError(f"{val} is missing: {LAYOUT}")
    subdirs = sorted(p for p in val.iterdir() if p.is_dir() and not p.name.startswith("."))
    if subdirs:
        index, items = {w: i for i, w in enumerate(classes)}, []
        for d in subdirs:
            if d.name not in index:
                raise DataError(f"{d} is not a training class (no {folder / 'train' / d.name})")
            items += [(str(p), index[d.name]) for p in list_images(d)]
    else:
        labels = _flat_val_labels(folder, classes)
        missing = [p.name for p in list_images(val) if p.stem not in labels]
        if missing:
            raise DataError(f"{len(missing)} files in {val} have no label (first: {missing[0]})")
        items = [(str(p), labels[p.stem]) for p in list_images(val)]
    if not items:
        raise DataError(f"{val} holds no images: {LAYOUT}")
    return items


def check_readable(classes: list[str], listed: set[int], items: list[tuple[str, int]], folder: Path) -> None:
    """Every class that was listed (`listed`: labels) still has an image that decodes among
    `items`: one probe per class, the first readable file (all of them only when none is)."""
    from .images import UnreadableImage, decode
    by_class: dict[int, list[str]] = {}
    for path, label in items:
        by_class.setdefault(label, []).append(path)
    for label in sorted(listed):
        for path in by_class.get(label, []):
            try:
                decode(path)
                break
            except UnreadableImage:
                continue
        else:
            raise DataError(f"class folder {folder / classes[label]} holds no readable image — replace its "
                            "files with JPEGs that open, or remove the folder to drop the class")


def listing_hash(items: list[tuple[str, int]], base: Path) -> str:
    h = hashlib.sha256()
    for path, label in items:
        p = Path(path)
        h.update(f"{p.relative_to(base)}\t{p.stat().st_size}\t{label}\n".encode())
    return h.hexdigest()



# --- the bundle ---------------------------------------------------------------------------
def training_stats(folder: Path, items, images, workers: int, log=print) -> tuple[dict, Path]:
    """Mean image, channel mean/std and RGB PCA of the training items (cached by listing)."""
    def from_files():
        rows = DataLoader(Folder(items), batch_size=64, collate_fn=collate, num_workers=workers,
                          worker_init_fn=one_thread if workers else None)
        for x, _, failed in quiet_workers(rows):
            report(failed)
            yield x

    def compute():
        if images is not None:
            return stats_of(images[i:i + 256] for i in range(0, len(images), 256))
        return stats_of(from_files())
    return cached_stats(listing_hash(items, folder), compute, log)


def load_imagenet(cfg, root: Path, log=print) -> DataBundle:
    """dataset=imagenet or imagenet_sample (cfg.dataset names the folder, see FOLDERS)."""
    folder = dataset_dir(root, cfg.dataset, cfg.download)
    classes, train = train_items(folder)
    val = val_items(folder, classes)
    train, val = evenly(train, cfg.train_limit), evenly(val, cfg.val_limit)
    if cfg.image_size > SIDE:
        raise DataError(f"image_size={cfg.image_size}: crops come from {SIDE}x{SIDE} images (§2); use 224 or 227")
    listed = {label for _, label in train}
    in_memory = 0 < len(train) + len(val) <= cfg.cache_images
    train_images = val_images = None
    if in_memory:   # small folders: decode once, then every epoch is tensor work only
        train_images, train = decode_all(train, cfg.workers)
        val_images, val = decode_all(val, cfg.workers)
    check_readable(classes, listed, train, folder / "train")
    stats, stats_path = training_stats(folder, train, train_images, cfg.workers, log)
    common = dict(batch_size=cfg.batch_size, image_size=cfg.image_size, seed=cfg.seed,
                  mean=cfg.mean_subtract, pixel_scale=cfg.pixel_scale, workers=cfg.workers)
    fingerprint = dict(
        dataset=cfg.dataset, folder=folder.name, n_classes=len(classes), n_train=len(train), n_val=len(val),
        val_layout="folders" if any(p.is_dir() for p in (folder / "val").iterdir()) else "flat+labels",
        train_listing_sha256=listing_hash(train, folder), val_listing_sha256=listing_hash(val, folder),
        mean_subtract=cfg.mean_subtract, pixel_scale=cfg.pixel_scale, in_memory=in_memory, stats=summary(stats), stats_cache=stats_path.name)
    notes = [f"ImageNet-style folder: {folder} ({len(classes)} classes, {len(train)} train, {len(val)} val)"]
    return DataBundle(
        train=FolderLoader(train, stats, train=True, augment=cfg.augment, pca_std=cfg.pca_std,
                           images=train_images, **common),
        val=FolderLoader(val, stats, train=False, ten_crop=cfg.ten_crop, images=val_images, **common),
        num_classes=len(classes), in_channels=3, classes=classes, fingerprint=fingerprint, notes=notes)


register("imagenet", load_imagenet)
register("imagenet_sample", load_imagenet)


def class_names(cfg, wnids: list[str]) -> list[str]:
    """Readable class names from classes.tsv (wnid<TAB>name) beside train/, else the wnids."""
    tsv = dataset_dir(data_root(cfg), cfg.dataset) / "classes.tsv"
    names = {}
    if tsv.exists():
        names = dict(line.split("\t", 1) for line in tsv.read_text().splitlines()[1:] if "\t" in line)
    return [names.get(w, w).strip() for w in wnids]
