"""`python -m alexnet.data imagenet` on a miniature ILSVRC-2012 built here: the nested train
tar of per-class tars, the flat val tar and a devkit whose meta.mat is written by scipy."""
import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from alexnet.config import resolve
from alexnet.data import DataError, load_data
from alexnet.data.__main__ import main
from alexnet.data.ilsvrc import DEVKIT, KAGGLE_CSV, TRAIN_TAR, VAL_TAR, compute_stats, prepare

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning")
WNIDS = ["n01440764", "n01443537", "n01484850"]          # ILSVRC2012_ID 1, 2, 3
PER_CLASS, VAL_IDS = 3, [1, 3, 2, 1, 2, 3]               # val image k has class VAL_IDS[k - 1]
EXPECT = dict(train=9, val=6, classes=3)


def jpeg(h, w, seed) -> bytes:
    rng = np.random.default_rng(seed)
    img = (rng.integers(0, 255, (1, 1, 3)) + np.linspace(0, 60, w)[None, :, None]).clip(0, 255)
    out = io.BytesIO()
    Image.fromarray(np.broadcast_to(img, (h, w, 3)).astype(np.uint8)).save(out, "JPEG")
    return out.getvalue()


def add(tar, name, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def tar_bytes(files: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            add(tar, name, data)
    return buf.getvalue()


def devkit(path, wnids=WNIDS):
    from scipy.io import savemat
    dt = [("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"), ("num_children", "O"), ("num_train_images", "O")]
    rows = [(i, w, f"class {i}", 0, PER_CLASS) for i, w in enumerate(wnids, 1)] + [(4, "n00001740", "entity", 3, 0)]
    mat = io.BytesIO()
    savemat(mat, {"synsets": np.array(rows, dtype=dt)})
    truth = "".join(f"{i}\n" for i in VAL_IDS).encode()
    with tarfile.open(path, "w:gz") as tar:
        add(tar, "ILSVRC2012_devkit_t12/data/meta.mat", mat.getvalue())
        add(tar, "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt", truth)


def fake_ilsvrc(tars, skip_class=None, with_devkit=True):
    tars.mkdir(parents=True)
    classes = {f"{w}.tar": tar_bytes({f"{w}_{i}.JPEG": jpeg(300 + 40 * i, 200 + 30 * c, 10 * c + i)
                                      for i in range(PER_CLASS)})
               for c, w in enumerate(WNIDS) if w != skip_class}
    (tars / TRAIN_TAR).write_bytes(tar_bytes(classes))
    (tars / VAL_TAR).write_bytes(tar_bytes({f"ILSVRC2012_val_{k:08d}.JPEG": jpeg(280, 350, 100 + k)
                                            for k in range(1, len(VAL_IDS) + 1)}))
    if with_devkit:
        devkit(tars / DEVKIT)
    return tars


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))


def test_prepare_end_to_end_resumes_and_trains(tmp_path):
    tars, out = fake_ilsvrc(tmp_path / "tars"), tmp_path / "data" / "imagenet"
    assert prepare(tars, out, resize=256, workers=2, expect=EXPECT) == EXPECT
    tree = sorted(str(p.relative_to(out)) for p in out.rglob("*.JPEG"))
    assert len(tree) == 15 and tree[0] == f"train/{WNIDS[0]}/{WNIDS[0]}_0.JPEG"
    assert f"val/{WNIDS[2]}/ILSVRC2012_val_00000002.JPEG" in tree                   # ground truth 3
    assert all(min(Image.open(out / p).size) == 256 for p in tree)                  # §2's shorter side
    stamp = (out / tree[0]).stat().st_mtime_ns
    logs = []
    assert prepare(tars, out, resize=256, workers=0, expect=EXPECT, log=logs.append) == EXPECT
    assert (out / tree[0]).stat().st_mtime_ns == stamp and "0 images written, 6 already there" in logs
    stats = compute_stats(out)
    assert stats["n_images"] == 9 and stats["mean_image"].shape == (3, 256, 256)
    cfg = resolve("smoke", dict(dataset="imagenet", data=str(out.parent), image_size=224, batch_size=3,
                                train_limit=0, val_limit=0))
    data = load_data(cfg)
    assert data.classes == WNIDS and data.fingerprint["n_train"] == 9 and data.fingerprint["n_val"] == 6


def test_kaggle_labels_and_the_command_line(tmp_path, capsys):
    tars = fake_ilsvrc(tmp_path / "tars", with_devkit=False)
    rows = [f"ILSVRC2012_val_{k:08d},{WNIDS[i - 1]} 1 2 3 4" for k, i in enumerate(VAL_IDS, 1)]
    (tars / KAGGLE_CSV).write_text("ImageId,PredictionString\n" + "\n".join(rows) + "\n")
    out = tmp_path / "imagenet"
    argv = ["imagenet", "--tars", str(tars), "--out", str(out), "--workers", "1", "--no-stats",
            "--expect-train", "9", "--expect-val", "6", "--expect-classes", "3"]
    assert main(argv) == 0 and "3 classes, 9 train, 6 val images: complete" in capsys.readouterr().out
    assert len(list((out / "val" / WNIDS[0]).iterdir())) == 2


def test_missing_class_is_one_clear_error(tmp_path, capsys):
    tars = fake_ilsvrc(tmp_path / "tars", skip_class=WNIDS[1])
    with pytest.raises(DataError, match=f"2 classes \\(expected 3\\).*no training images for {WNIDS[1]}"):
        prepare(tars, tmp_path / "imagenet", expect=EXPECT)
    argv = ["imagenet", "--tars", str(tars), "--out", str(tmp_path / "imagenet"), "--workers", "1",
            "--expect-train", "9", "--expect-val", "6", "--expect-classes", "3"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("alexnet: ") and WNIDS[1] in err[0]


def test_missing_devkit_is_one_clear_error(tmp_path, capsys):
    tars = fake_ilsvrc(tmp_path / "tars", with_devkit=False)
    assert main(["imagenet", "--tars", str(tars), "--out", str(tmp_path / "imagenet")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and DEVKIT in err[0] and KAGGLE_CSV in err[0]
    assert not (tmp_path / "imagenet").exists()                 # nothing written before the inputs are checked


def test_default_counts_are_ilsvrc_2012(tmp_path):
    """Without --expect-*, the fake (9 images) is checked against the real release's counts."""
    tars = fake_ilsvrc(tmp_path / "tars")
    with pytest.raises(DataError, match="3 classes \\(expected 1,000\\); 9 training images \\(expected 1,281,167\\)"):
        prepare(tars, tmp_path / "imagenet")
