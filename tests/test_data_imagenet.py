"""ImageNet-style folders on tiny synthetic files in the real formats (§2, §4.1)."""
import numpy as np
import pytest
import torch
from PIL import Image

from alexnet.config import resolve
from alexnet.data import DataError, load_data
from alexnet.data.augment import ten_crop_boxes, ten_crops
from alexnet.data.folders import FolderLoader
from alexnet.data.images import UnreadableImage, decode, load_256
from alexnet.data.stats import cached_stats, stats_of

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning")


def photo(h, w, seed):
    """A smooth colourful image (JPEG-friendly), uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * xx + c + seed) for c in range(3)], -1) * 80 + 128
    return np.clip(base + rng.normal(0, 3, (h, w, 3)) + 40 * yy[..., None], 0, 255).astype(np.uint8)


def make_folder(root, classes=("n01", "n02"), per_class=4, oddities=True):
    """root/imagenet/{train,val}/<wnid>/*.JPEG; in class 0 a grayscale, a CMYK, a PNG named
    .JPEG and a truncated file."""
    base = root / "imagenet"
    for split, n in (("train", per_class), ("val", 2)):
        for c, wnid in enumerate(classes):
            d = base / split / wnid
            d.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(photo(120 + 20 * i, 90 + 10 * c, 10 * c + i)).save(d / f"{wnid}_{i}.JPEG", quality=92)
    if oddities:
        d = base / "train" / classes[0]
        Image.fromarray(photo(64, 96, 50)).convert("L").save(d / "gray.JPEG")
        Image.fromarray(photo(64, 96, 51)).convert("CMYK").save(d / "cmyk.JPEG")
        Image.fromarray(photo(64, 96, 52)).save(d / "png.JPEG", format="PNG")
        data = (d / f"{classes[0]}_0.JPEG").read_bytes()
        (d / "truncated.JPEG").write_bytes(data[:len(data) // 2])
    return base


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))


def cfg_for(root, **kw):
    return resolve("smoke", dict(dict(dataset="imagenet", data=str(root), image_size=224, batch_size=4,
                                      train_limit=0, val_limit=0), **kw))


def test_decode_every_format_to_rgb(tmp_path):
    d = make_folder(tmp_path) / "train" / "n01"
    gray, cmyk, png = decode(d / "gray.JPEG"), decode(d / "cmyk.JPEG"), decode(d / "png.JPEG")
    for img in (gray, cmyk, png):
        assert img.dtype == torch.uint8 and img.shape == (3, 64, 96)
    assert torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])
    assert torch.equal(png, torch.from_numpy(photo(64, 96, 52)).permute(2, 0, 1))   # lossless
    pil_cmyk = np.asarray(Image.open(d / "cmyk.JPEG").convert("RGB"))
    assert np.abs(cmyk.permute(1, 2, 0).numpy().astype(int) - pil_cmyk).mean() < 2
    with pytest.raises(UnreadableImage, match="truncated.JPEG.*(truncated|incomplete)"):
        decode(d / "truncated.JPEG")


def test_short_side_256_and_centre_crop_match_pil(tmp_path):
    img = photo(300, 420, 7)
    Image.fromarray(img).save(tmp_path / "a.png")
    ours = load_256(tmp_path / "a.png")
    assert ours.shape == (3, 256, 256) and ours.is_contiguous()
    pil = Image.fromarray(img).resize((358, 256), Image.BILINEAR)             # 420 * 256 / 300
    ref = np.asarray(pil)[:, 51:307]                                           # centre 256 columns
    assert np.abs(ours.permute(1, 2, 0).numpy().astype(int) - ref).mean() < 2.5


def test_ten_crop_geometry_matches_torchvision():
    from torchvision.transforms.v2 import functional as TF
    x = torch.arange(2 * 3 * 256 * 256, dtype=torch.float32).view(2, 3, 256, 256)
    ours = ten_crops(x, 224)
    ref = torch.stack(TF.ten_crop(x, [224, 224]), dim=1)
    assert ours.shape == (2, 10, 3, 224, 224) and torch.equal(ours, ref)
    boxes = ten_crop_boxes(256, 256, 227)
    assert boxes[4] == (14, 14, False) and boxes[1] == (0, 29, False) and boxes[5] == (0, 29, True)


def test_loader_reads_folder_skips_bad_file_once(tmp_path, capsys):
    make_folder(tmp_path)
    for cache in (4000, 0):     # decoded once into RAM, and streamed from the files
        data = load_data(cfg_for(tmp_path, cache_images=cache))
        assert data.classes == ["n01", "n02"] and data.num_classes == 2 and data.in_channels == 3
        assert data.fingerprint["folder"] == "imagenet" and data.fingerprint["in_memory"] == bool(cache)
        seen = [len(y) for epoch in range(2) for _, y in data.train.batches(epoch)]
        assert capsys.readouterr().err.count("truncated.JPEG") <= 1
        if cache:   # 11 readable images held in RAM: 2 full batches per epoch
            assert len(data.train) == 2 and seen == [4] * 4
        else:       # 12 files listed: 3 batches, the one holding the truncated file is short
            assert len(data.train) == 3 and sum(seen) == 22 and sorted(seen)[:2] == [3, 3]
        x, y = next(data.val.batches(0))
        assert x.shape == (4, 3, 224, 224) and x.dtype == torch.float32


def test_skipped_file_is_reported(tmp_path, capsys):
    from alexnet.data import folders
    folders._reported.clear()
    make_folder(tmp_path)
    load_data(cfg_for(tmp_path))
    err = capsys.readouterr().err
    assert err.count("truncated.JPEG") == 1 and "skipping unreadable image" in err


def test_batches_are_exact_on_resume_and_with_workers(tmp_path):
    make_folder(tmp_path, oddities=False, per_class=6)
    a = load_data(cfg_for(tmp_path, cache_images=0, augment="crop_flip_pca"))
    b = load_data(cfg_for(tmp_path, cache_images=4000, augment="crop_flip_pca", workers=2))
    full = list(a.train.batches(3))
    resumed = list(b.train.batches(3, start=1))
    assert len(full) == 3 and len(resumed) == 2
    for (x1, y1), (x2, y2) in zip(full[1:], resumed):
        assert torch.equal(y1, y2) and torch.allclose(x1, x2, atol=1e-5)
    assert not torch.equal(full[0][0], next(a.train.batches(4))[0])            # another epoch differs


def test_train_transform_is_the_reference_computation(tmp_path):
    """crop + flip of (x/255 + shift - mean_image)/std, with the generator's draws."""
    from alexnet.data.augment import pca_shift
    gen = torch.Generator().manual_seed(0)
    raw = torch.randint(0, 256, (5, 3, 256, 256), generator=gen, dtype=torch.uint8)
    stats = stats_of([raw])
    loader = FolderLoader([("f", 0)] * 5, stats, batch_size=5, image_size=227, train=True,
                          augment="crop_flip_pca", images=raw)
    out = loader.train_transform(raw, torch.Generator().manual_seed(9))
    g = torch.Generator().manual_seed(9)
    oy, ox = torch.randint(0, 30, (5,), generator=g), torch.randint(0, 30, (5,), generator=g)
    flip = torch.rand(5, generator=g) < 0.5
    shift = pca_shift(5, stats["eigvals"], stats["eigvecs"], 0.1, g)
    full = (raw / 255 + shift[:, :, None, None] - stats["mean_image"]) / stats["channel_std"].view(3, 1, 1)
    for b in range(5):
        ref = full[b, :, oy[b]:oy[b] + 227, ox[b]:ox[b] + 227]
        torch.testing.assert_close(out[b], ref.flip(-1) if flip[b] else ref, atol=1e-4, rtol=1e-4)


def test_raw_pixel_scale_keeps_0_255_units(tmp_path):
    """`pixel_scale=raw` (§2): the centre crop of x - 255·mean_image, with no division by a std."""
    raw = torch.randint(0, 256, (3, 3, 256, 256), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    stats = stats_of([raw])
    loader = FolderLoader([("f", 0)] * 3, stats, batch_size=3, image_size=224, train=False, images=raw,
                          pixel_scale="raw")
    x, _ = next(loader.batches(0))
    ref = (raw.double() - 255 * stats["mean_image"].double())[:, :, 16:240, 16:240]
    torch.testing.assert_close(x.double(), ref, atol=2e-3, rtol=1e-5)


def test_ten_crop_eval_loader(tmp_path):
    make_folder(tmp_path, oddities=False)
    data = load_data(cfg_for(tmp_path, ten_crop=True, mean_subtract="channel"))
    x10, _ = next(data.val.batches(0))
    x1, _ = next(load_data(cfg_for(tmp_path, mean_subtract="channel")).val.batches(0))
    assert x10.shape == (4, 10, 3, 224, 224)
    torch.testing.assert_close(x10[:, 4], x1)                                  # crop 4 = centre
    torch.testing.assert_close(x10[:, 9], x1.flip(-1))                         # its reflection


def test_statistics_are_cached_and_match_direct_computation(tmp_path):
    make_folder(tmp_path, oddities=False)
    data = load_data(cfg_for(tmp_path))
    stats, path = cached_stats(data.fingerprint["train_listing_sha256"],
                               lambda: pytest.fail("recomputed instead of read from the cache"))
    imgs = data.train.images.double() / 255
    torch.testing.assert_close(stats["mean_image"].double(), imgs.mean(0), atol=1e-6, rtol=0)
    torch.testing.assert_close(stats["channel_mean"].double(), imgs.mean((0, 2, 3)), atol=1e-6, rtol=0)
    assert path.name == data.fingerprint["stats_cache"]


def test_imagenet_means_imagenet_and_the_sample_has_its_own_name(tmp_path, monkeypatch):
    from alexnet import config
    if "imagenet_sample" not in config.CHOICES["dataset"]:       # the config's list of names may lag
        monkeypatch.setitem(config.CHOICES, "dataset", (*config.CHOICES["dataset"], "imagenet_sample"))
    make_folder(tmp_path, oddities=False)
    (tmp_path / "imagenet").rename(tmp_path / "imagenet-sample")
    with pytest.raises(DataError, match=r"dataset=imagenet needs .*imagenet/train does not.*alexnet.data imagenet"
                                        r".*dataset=imagenet_sample"):
        load_data(cfg_for(tmp_path))
    data = load_data(cfg_for(tmp_path, dataset="imagenet_sample"))
    assert data.fingerprint["folder"] == "imagenet-sample" and data.fingerprint["dataset"] == "imagenet_sample"
    with pytest.raises(DataError, match="imagenet_sample needs .*imagenet-sample/train does not"):
        load_data(cfg_for(tmp_path / "elsewhere", dataset="imagenet_sample"))
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("cache", [4000, 0])
def test_a_class_with_no_readable_image_is_an_error(tmp_path, capsys, cache):
    base = make_folder(tmp_path, oddities=False)
    for f in (base / "train" / "n02").iterdir():
        f.write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="class folder .*n02 holds no readable image"):
        load_data(cfg_for(tmp_path, cache_images=cache))


def test_flat_val_folder_with_labels_file(tmp_path):
    base = make_folder(tmp_path, oddities=False)
    flat = base / "val"
    lines = []
    for wnid in ("n01", "n02"):
        for f in sorted((flat / wnid).iterdir()):
            f.rename(flat / f"val_{wnid}_{f.name}")
            lines.append(f"val_{wnid}_{f.name} {wnid}")
        (flat / wnid).rmdir()
    with pytest.raises(DataError, match="val_labels.txt"):
        load_data(cfg_for(tmp_path))
    (base / "val_labels.txt").write_text("\n".join(lines) + "\n")
    data = load_data(cfg_for(tmp_path))
    assert data.fingerprint["val_layout"] == "flat+labels"
    assert sorted(data.val.labels.tolist()) == [0, 0, 1, 1]


def test_layout_errors_say_what_to_do(tmp_path):
    with pytest.raises(DataError, match="train/<wnid>"):
        load_data(cfg_for(tmp_path))
    base = make_folder(tmp_path, oddities=False)
    (base / "train" / "n03").mkdir()
    with pytest.raises(DataError, match="n03 holds no images"):
        load_data(cfg_for(tmp_path))
