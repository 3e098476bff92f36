"""Fashion-MNIST (idx) and CIFAR-10 (python pickle) readers on tiny files in the real formats."""
import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from alexnet.config import resolve
from alexnet.data import DataError, load_data
from alexnet.data.small import CIFAR_FILES, FASHION_FILES, _read_idx


def write_idx(path, array, compress=False):
    """idx: 0x0000, dtype 0x08 (unsigned byte), ndim, big-endian dims, then the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


def fashion_folder(root, n_train=12, n_test=6, compress=False):
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = rng.integers(0, 256, (n, 28, 28)), np.arange(n) % 10
        img_name, lab_name = FASHION_FILES[split]
        suffix = ".gz" if compress else ""
        write_idx(raw / (img_name + suffix), images, compress)
        write_idx(raw / (lab_name + suffix), labels, compress)
        arrays[split] = images, labels
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_idx_reader_round_trips(tmp_path, compress):
    a = np.random.default_rng(1).integers(0, 256, (3, 5, 7))
    path = tmp_path / ("x.idx.gz" if compress else "x.idx")
    write_idx(path, a, compress)
    np.testing.assert_array_equal(_read_idx(path), a)


def test_idx_reader_rejects_other_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + bytes(8))      # 0x0d: float, not uint8
    with pytest.raises(DataError, match="bad magic"):
        _read_idx(tmp_path / "bad")


def test_fashion_mnist_loads_from_idx_files(tmp_path):
    arrays = fashion_folder(tmp_path, compress=True)
    cfg = resolve("smoke", dict(dataset="fashion_mnist", data=str(tmp_path), image_size=28, batch_size=6,
                                augment="none", train_limit=0, val_limit=0))
    data = load_data(cfg)
    assert data.in_channels == 1 and data.num_classes == 10 and data.classes[9] == "Ankle boot"
    assert set(data.fingerprint["sha256"]) == {n + ".gz" for pair in FASHION_FILES.values() for n in pair}
    x, y = next(data.val.batches(0))                                     # validation: in file order
    images, labels = arrays["test"]
    mean, std = data.fingerprint["mean"][0], data.fingerprint["std"][0]
    np.testing.assert_allclose(x[:, 0].numpy(), (images / 255 - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(y.numpy(), labels)


def cifar_folder(root, per_batch=4):
    """The python batches: dict(data=(N, 3072) uint8 R,G,B planes, labels=[...])."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    written = {}
    for name in CIFAR_FILES[:-1]:
        data = rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8)
        labels = list(rng.integers(0, 10, per_batch))
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": labels, "batch_label": name}, f)
        written[name] = data, labels
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)
    return written


def test_cifar10_reads_pickles_warns_and_fingerprints(tmp_path):
    written = cifar_folder(tmp_path)
    cfg = resolve("smoke", dict(dataset="cifar10", data=str(tmp_path), image_size=32, batch_size=4,
                                augment="none", train_limit=0, val_limit=0))
    with pytest.warns(UserWarning, match="not the original CIFAR-10 release"):
        data = load_data(cfg)
    fp = data.fingerprint
    assert fp["original_release"] is False and set(fp["sha256"]) == set(CIFAR_FILES)
    assert data.classes[3] == "class3" and len(data.train) == 5                  # 20 images / 4
    x, y = next(data.val.batches(0))
    raw, labels = written["test_batch"]
    planes = raw.reshape(4, 3, 32, 32)                                           # R plane first
    mean, std = np.array(fp["mean"])[:, None, None], np.array(fp["std"])[:, None, None]
    np.testing.assert_allclose(x.numpy(), (planes / 255 - mean) / std, rtol=1e-5, atol=1e-5)
    assert y.tolist() == labels
    assert torch.equal(data.train.labels, torch.tensor(sum((written[n][1] for n in CIFAR_FILES[:5]), [])))


def test_raw_pixel_scale_is_section_2s_centred_raw_rgb_values(tmp_path):
    """`pixel_scale=raw`: each pixel (0-255) minus the training set's channel mean (0-255 units)."""
    written = cifar_folder(tmp_path)
    cfg = resolve("smoke", dict(dataset="cifar10", data=str(tmp_path), image_size=32, batch_size=4,
                                augment="none", train_limit=0, val_limit=0, pixel_scale="raw"))
    with pytest.warns(UserWarning):
        data = load_data(cfg)
    x, _ = next(data.val.batches(0))
    train = np.concatenate([np.array(written[n][0]) for n in CIFAR_FILES[:5]]).reshape(-1, 3, 32 * 32)
    mean = train.astype(np.float64).mean(axis=(0, 2))[:, None, None]              # 0-255 units
    planes = np.array(written["test_batch"][0]).reshape(4, 3, 32, 32)
    np.testing.assert_allclose(x.numpy(), planes - mean, rtol=1e-5, atol=1e-3)
    assert data.fingerprint["std"] == [1 / 255] * 3


def test_missing_cifar_says_which_files_and_downloads_nothing(tmp_path):
    cfg = resolve("smoke", dict(dataset="cifar10", data=str(tmp_path / "nowhere" / "at" / "all")))
    with pytest.raises(DataError, match="data_batch_1.*cifar-10-batches-py"):
        load_data(cfg)
    assert not (tmp_path / "nowhere").exists()                  # no directory the user did not ask for


def test_missing_fashion_mnist_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="FashionMNIST/raw.*train-images-idx3-ubyte"):
        load_data(resolve("smoke", dict(dataset="fashion_mnist")))
    assert not (tmp_path / "nowhere").exists()


def test_truncated_cifar_pickle_names_the_file(tmp_path):
    cifar_folder(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:500])
    cfg = resolve("smoke", dict(dataset="cifar10", data=str(tmp_path), image_size=32))
    with pytest.warns(UserWarning), pytest.raises(DataError, match="data_batch_3 cannot be read.*extract"):
        load_data(cfg)


def test_cifar_batch_with_fewer_labels_than_images(tmp_path):
    cifar_folder(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    d = pickle.loads(batch.read_bytes())
    batch.write_bytes(pickle.dumps(dict(d, labels=d["labels"][:-1])))
    cfg = resolve("smoke", dict(dataset="cifar10", data=str(tmp_path), image_size=32))
    with pytest.warns(UserWarning), pytest.raises(DataError, match="test_batch holds 4 images but 3 labels"):
        load_data(cfg)


def fashion_cfg(root):
    return resolve("smoke", dict(dataset="fashion_mnist", data=str(root), image_size=28, batch_size=6,
                                 augment="none", train_limit=0, val_limit=0))


def test_truncated_gz_and_short_idx_name_the_file(tmp_path):
    fashion_folder(tmp_path / "gz", compress=True)
    gz = tmp_path / "gz" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:-40])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz cannot be read.*download"):
        load_data(fashion_cfg(tmp_path / "gz"))
    fashion_folder(tmp_path / "raw")
    idx = tmp_path / "raw" / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte"
    idx.write_bytes(idx.read_bytes()[:-100])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte holds 4,604 bytes.*promises 4,704"):
        load_data(fashion_cfg(tmp_path / "raw"))
    idx.write_bytes(b"\x00\x00\x08\x03\x00")
    with pytest.raises(DataError, match="ends inside its header"):
        load_data(fashion_cfg(tmp_path / "raw"))


def test_labels_of_the_other_split_are_refused(tmp_path):
    """train-labels replaced by t10k-labels: 12 images, 6 labels."""
    fashion_folder(tmp_path)
    raw = tmp_path / "FashionMNIST" / "raw"
    (raw / "train-labels-idx1-ubyte").write_bytes((raw / "t10k-labels-idx1-ubyte").read_bytes())
    with pytest.raises(DataError, match="train-images-idx3-ubyte holds 12 images but train-labels-idx1-ubyte 6"):
        load_data(fashion_cfg(tmp_path))


def test_a_copy_of_another_size_warns_and_is_noted(tmp_path):
    fashion_folder(tmp_path)
    with pytest.warns(UserWarning, match="12 training and 6 test images where the release has 60,000 and 10,000"):
        data = load_data(fashion_cfg(tmp_path))
    assert any("60,000" in note for note in data.notes)


def test_random_crop_and_flip_match_a_per_image_reference():
    import torch.nn.functional as F
    from alexnet.data.augment import random_crop, random_flip
    x = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)
    out = random_flip(random_crop(x, 2, torch.Generator().manual_seed(7)), torch.Generator().manual_seed(8))
    gen = torch.Generator().manual_seed(7)                  # the same draws, image by image
    oy, ox = (torch.randint(0, 5, (16,), generator=gen) for _ in range(2))
    flip = torch.rand(16, generator=torch.Generator().manual_seed(8)) < 0.5
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(16):
        ref = padded[i, :, oy[i]:oy[i] + 8, ox[i]:ox[i] + 8]
        assert torch.equal(out[i], ref.flip(2) if flip[i] else ref)
