"""Fashion-MNIST and CIFAR-10 read straight from their files into uint8 tensors, and a
synthetic set for smoke tests. All three are served by `MemoryLoader`."""
from __future__ import annotations

import gzip
import hashlib
import pickle
import warnings
from pathlib import Path

import numpy as np
import torch

from . import DataBundle, DataError, register
from .loader import MemoryLoader

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
_warned: set[str] = set()


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
    with opener(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise DataError(f"{path} is not an idx file of unsigned bytes (bad magic number)")
    ndim = data[3]
    dims = np.frombuffer(data, ">i4", ndim, offset=4)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _fashion_file(raw: Path, name: str) -> Path:
    for candidate in (raw / name, raw / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(name)


def _fashion_files(root: Path) -> dict[str, Path]:
    raw = root / "FashionMNIST" / "raw"
    names = [n for pair in FASHION_FILES.values() for n in pair]
    try:
        return {n: _fashion_file(raw, n) for n in names}
    except FileNotFoundError:
        pass
    try:  # torchvision downloads into root/FashionMNIST/raw; offline this fails quickly
        import torchvision
        torchvision.datasets.FashionMNIST(str(root), train=True, download=True)
        torchvision.datasets.FashionMNIST(str(root), train=False, download=True)
        return {n: _fashion_file(raw, n) for n in names}
    except Exception as err:  # noqa: BLE001 - any failure means: tell the reader the layout
        raise DataError(
            f"Fashion-MNIST not found under {raw} and could not be downloaded ({err}).\n"
            f"Put these four files (or their .gz archives) there:\n  "
            + "\n  ".join(names)
            + "\nor point --data / $ALEXNET_DATA at a folder holding FashionMNIST/raw/.") from None


def load_fashion_mnist(cfg, root: Path) -> DataBundle:
    files = _fashion_files(root)

    def split(name):
        img, lab = (files[n] for n in FASHION_FILES[name])
        x = torch.from_numpy(_read_idx(img).copy()).unsqueeze(1)            # (N, 1, 28, 28)
        return x, torch.from_numpy(_read_idx(lab).astype(np.int64))
    fingerprint = {"dataset": "fashion_mnist",
                   "sha256": {p.name: file_digest(p) for p in files.values()}}
    return _bundle(cfg, split("train"), split("test"), FASHION_CLASSES, fingerprint)


# --- CIFAR-10 -----------------------------------------------------------------------------
def _cifar_dir(root: Path) -> Path:
    folder = root / "cifar-10-batches-py"
    missing = [n for n in CIFAR_FILES if not (folder / n).exists()]
    if missing:
        try:
            import torchvision
            torchvision.datasets.CIFAR10(str(root), download=True)
        except Exception as err:  # noqa: BLE001
            raise DataError(
                f"CIFAR-10 not found under {folder} (missing: {', '.join(missing)}) and could "
                f"not be downloaded ({err}).\nPut the python batches there "
                f"({', '.join(CIFAR_FILES)}), as in cifar-10-python.tar.gz, or point --data / "
                "$ALEXNET_DATA at a folder holding cifar-10-batches-py/.") from None
    return folder


def load_cifar10(cfg, root: Path) -> DataBundle:
    folder = _cifar_dir(root)
    sha, differs = {}, []
    for name in CIFAR_FILES:
        sha[name] = file_digest(folder / name)
        if file_digest(folder / name, "md5") != CIFAR_MD5[name]:
            differs.append(name)
    notes = []
    if differs:
        notes.append(f"not the original CIFAR-10 release: {', '.join(differs)} differ from its md5 sums")
        if str(folder) not in _warned:
            _warned.add(str(folder))
            warnings.warn(f"{folder}: {notes[-1]}; going on (the fingerprint is recorded)", stacklevel=2)

    def read(names):
        xs, ys = [], []
        for n in names:
            with open(folder / n, "rb") as f:
                d = pickle.load(f, encoding="latin1")
            xs.append(np.asarray(d["data"], np.uint8).reshape(-1, 3, 32, 32))  # R, G, B planes
            ys.append(np.asarray(d["labels"], np.int64))
        return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))

    with open(folder / "batches.meta", "rb") as f:
        classes = pickle.load(f, encoding="latin1")["label_names"]
    fingerprint = {"dataset": "cifar10", "original_release": not differs, "sha256": sha}
    return _bundle(cfg, read(CIFAR_FILES[:5]), read(["test_batch"]), classes, fingerprint, notes)


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
