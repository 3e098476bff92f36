"""Fashion-MNIST and CIFAR-10 read straight from their files into uint8 tensors, and a
synthetic set for smoke tests. All three are served by `MemoryLoader`."""
from __future__ import annotations

import gzip
import hashlib
import pickle
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch

from .registry import DataBundle, DataError, register
from .loader import RAW_STD, MemoryLoader

FASHION_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                 "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
# md5 of the original release's python batches (as torchvision lists them).
CIFAR_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f", "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751", "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb", "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
# The releases' sizes (train, test): a copy that differs is read, with a warning.
TOTALS = {"fashion_mnist": (60_000, 10_000), "cifar10": (50_000, 10_000)}
_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, stacklevel=3)


def _check_totals(dataset: str, where: Path, n_train: int, n_test: int) -> list[str]:
    """A note (and a warning, once) where a copy's sizes differ from the release's."""
    expected = TOTALS[dataset]
    if (n_train, n_test) == expected:
        return []
    note = (f"{dataset} at {where} has {n_train:,} training and {n_test:,} test images where the "
            f"release has {expected[0]:,} and {expected[1]:,}")
    _warn_once(f"totals:{where}", f"{note}; going on (the counts are recorded in the fingerprint)")
    return [note]


def file_digest(path: Path, algo: str = "sha256") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of a uint8 (N, C, H, W) set, in [0, 1] units."""
    x = images.float().div(255).transpose(0, 1).reshape(images.shape[1], -1)
    return x.mean(1).tolist(), x.std(1).tolist()


def _bundle(cfg, train, test, classes, fingerprint, notes=()) -> DataBundle:
    """Loaders over (images, labels) pairs, normalised by the training set's channel stats."""
    (xtr, ytr), (xte, yte) = train, test
    if cfg.train_limit:
        xtr, ytr = xtr[:cfg.train_limit], ytr[:cfg.train_limit]
    if cfg.val_limit:
        xte, yte = xte[:cfg.val_limit], yte[:cfg.val_limit]
    mean, std = channel_stats(xtr)
    if cfg.pixel_scale == "raw":             # §2: "the (centred) raw RGB values": (x/255 - mean)·255
        std = [RAW_STD] * len(std)
    pca = None
    if cfg.augment == "crop_flip_pca":
        from .pca import rgb_pca
        pca = rgb_pca(xtr)
    common = dict(batch_size=cfg.batch_size, image_size=cfg.image_size, mean=mean, std=std)
    return DataBundle(
        train=MemoryLoader(xtr, ytr, train=True, augment=cfg.augment, seed=cfg.seed, pca=pca,
                           pca_std=cfg.pca_std, **common),
        val=MemoryLoader(xte, yte, train=False, **common),
        num_classes=len(classes), in_channels=xtr.shape[1], classes=list(classes),
        fingerprint=dict(fingerprint, mean=mean, std=std), notes=list(notes))


# --- Fashion-MNIST ------------------------------------------------------------------------
def _read_idx(path: Path) -> np.ndarray:
    """The idx format: magic (0, 0, dtype 0x08, ndim), big-endian dims, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path} cannot be read ({err}) — it is truncated or corrupt: "
                        "download Fashion-MNIST again") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise DataError(f"{path} is not an idx file of unsigned bytes (bad magic number) — "
                        "download Fashion-MNIST again")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path} ends inside its header — truncated: download Fashion-MNIST again")
    dims = np.frombuffer(data, ">i4", ndim, offset=4)
    size = len(data) - 4 - 4 * ndim
    if size != int(np.prod(dims)):
        raise DataError(f"{path} holds {size:,} bytes of data where its header {tuple(map(int, dims))} "
                        f"promises {int(np.prod(dims)):,} — truncated or corrupt: download Fashion-MNIST again")
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _fashion_files(root: Path, download: bool = False) -> dict[str, Path]:
    """The four files in root/FashionMNIST/raw (each plain or .gz). Downloads only when asked
    (download=true); otherwise a missing file is an error saying what to put where."""
    raw = root / "FashionMNIST" / "raw"
    names = [n for pair in FASHION_FILES.values() for n in pair]
    found = {n: next((c for c in (raw / n, raw / f"{n}.gz") if c.is_file()), None) for n in names}
    missing = [n for n, path in found.items() if path is None]
    if missing and download:
        from .download import fetch
        fetch("fashion_mnist", root, verify=_fashion_files)
        return _fashion_files(root)
    if missing:
        raise DataError(
            f"Fashion-MNIST not found under {raw} (missing: {', '.join(missing)}) — put the four "
            "files (or their .gz archives) there, point --data / $ALEXNET_DATA at a folder "
            "holding FashionMNIST/raw/, or add download=true to fetch them")
    return found


def _fashion_split(files: dict[str, Path], split: str) -> tuple[torch.Tensor, torch.Tensor]:
    img, lab = (files[n] for n in FASHION_FILES[split])
    x, y = _read_idx(img), _read_idx(lab)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DataError(f"{img.name} holds {len(x):,} images but {lab.name} {len(y):,} labels (in {img.parent}) "
                        "— they must come from the same split: download Fashion-MNIST again")
    return torch.from_numpy(x.copy()).unsqueeze(1), torch.from_numpy(y.astype(np.int64))   # (N, 1, 28, 28)


def load_fashion_mnist(cfg, root: Path) -> DataBundle:
    files = _fashion_files(root, cfg.download)
    train, test = _fashion_split(files, "train"), _fashion_split(files, "test")
    notes = _check_totals("fashion_mnist", root / "FashionMNIST" / "raw", len(train[1]), len(test[1]))
    fingerprint = {"dataset": "fashion_mnist",
                   "sha256": {p.name: file_digest(p) for p in files.values()}}
    return _bundle(cfg, train, test, FASHION_CLASSES, fingerprint, notes)


# --- CIFAR-10 -----------------------------------------------------------------------------
def _cifar_dir(root: Path, download: bool = False) -> Path:
    """root/cifar-10-batches-py with its seven files. Downloads only when asked (download=true);
    otherwise a missing file is an error saying what to put where."""
    folder = root / "cifar-10-batches-py"
    missing = [n for n in CIFAR_FILES if not (folder / n).is_file()]
    if missing and download:
        from .download import fetch
        fetch("cifar10", root, verify=_cifar_dir)
        return _cifar_dir(root)
    if missing:
        raise DataError(
            f"CIFAR-10 not found under {folder} (missing: {', '.join(missing)}) — put the python "
            f"batches there ({', '.join(CIFAR_FILES)}), as in cifar-10-python.tar.gz, point "
            "--data / $ALEXNET_DATA at a folder holding cifar-10-batches-py/, or add download=true to fetch them")
    return folder


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError) as err:
        raise DataError(f"{path} cannot be read as a CIFAR-10 python batch ({type(err).__name__}: {err}) — "
                        "truncated or corrupt: extract cifar-10-python.tar.gz again") from None


def _cifar_batches(folder: Path, names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for n in names:
        d = _unpickle(folder / n)
        try:
            x = np.asarray(d["data"], np.uint8).reshape(-1, 3, 32, 32)      # R, G, B planes
            y = np.asarray(d["labels"], np.int64)
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"{folder / n} is not a CIFAR-10 batch ({type(err).__name__}: {err}) — "
                            "extract cifar-10-python.tar.gz again") from None
        if len(x) != len(y):
            raise DataError(f"{folder / n} holds {len(x):,} images but {len(y):,} labels — "
                            "extract cifar-10-python.tar.gz again")
        xs.append(x)
        ys.append(y)
    return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))


def load_cifar10(cfg, root: Path) -> DataBundle:
    folder = _cifar_dir(root, cfg.download)
    sha = {name: file_digest(folder / name) for name in CIFAR_FILES}
    differs = [name for name in CIFAR_FILES if file_digest(folder / name, "md5") != CIFAR_MD5[name]]
    notes = []
    if differs:
        notes.append(f"not the original CIFAR-10 release: {', '.join(differs)} differ from its md5 sums")
        _warn_once(str(folder), f"{folder}: {notes[-1]}; going on (the fingerprint is recorded)")
    train, test = _cifar_batches(folder, CIFAR_FILES[:5]), _cifar_batches(folder, ["test_batch"])
    notes += _check_totals("cifar10", folder, len(train[1]), len(test[1]))
    classes = _unpickle(folder / "batches.meta")["label_names"]
    fingerprint = {"dataset": "cifar10", "original_release": not differs, "sha256": sha}
    return _bundle(cfg, train, test, classes, fingerprint, notes)


# --- synthetic (smoke tests only; never a result the book shows) ---------------------------
def load_synthetic(cfg, root: Path) -> DataBundle:
    """Noise images tinted by their class's colour: learnable, and unchanged by crops and flips."""
    n_train, n_val, classes, side = cfg.train_limit or 256, cfg.val_limit or 64, 10, 32
    gen = torch.Generator().manual_seed(1234)
    palette = torch.randint(0, 96, (classes, 3, 1, 1), generator=gen)

    def make(n):
        y = torch.randint(0, classes, (n,), generator=gen)
        x = torch.randint(0, 160, (n, 3, side, side), generator=gen) + palette[y]
        return x.clamp(0, 255).to(torch.uint8), y
    return _bundle(cfg, make(n_train), make(n_val), [str(i) for i in range(classes)],
                   {"dataset": "synthetic", "generator_seed": 1234})


register("synthetic", load_synthetic)
register("fashion_mnist", load_fashion_mnist)
register("cifar10", load_cifar10)
