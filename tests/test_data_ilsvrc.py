"""`python -m alexnet.data imagenet` on a miniature ILSVRC-2012 built here: the nested train
tar of per-class tars, the flat val tar and a devkit whose meta.mat is written by scipy; then
the same with a cut download, an unreadable JPEG, no scipy and Ctrl-C halfway."""
import io
import os
import signal
import subprocess
import sys
import tarfile
import time

from pathlib import Path

import numpy as np
import pytest
from conftest import cli_env
from PIL import Image

from alexnet.config import resolve
from alexnet.data import DataError, load_data
from alexnet.data.__main__ import main
from alexnet.data.ilsvrc import DEVKIT, KAGGLE_CSV, REPORT, TRAIN_TAR, VAL_TAR, compute_stats, prepare
from alexnet.data.tarwrite import Writer

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


def class_images(n=PER_CLASS, big=False) -> dict[str, dict[str, bytes]]:
    """wnid -> {member name: JPEG}; `big`: one 1600x1200 photo per class, n times (~30 ms of
    rescaling each, so a run lasts long enough to interrupt)."""
    if big:
        return {w: dict.fromkeys([f"{w}_{i}.JPEG" for i in range(n)], jpeg(1200, 1600, c))
                for c, w in enumerate(WNIDS)}
    return {w: {f"{w}_{i}.JPEG": jpeg(300 + 40 * i, 200 + 30 * c, 10 * c + i) for i in range(n)}
            for c, w in enumerate(WNIDS)}


def fake_ilsvrc(tars, skip_class=None, with_devkit=True, images=None, damage=None):
    """The downloads in `tars`; `damage` maps member names to the bytes that replace them."""
    tars.mkdir(parents=True)
    damage = damage or {}
    classes = {f"{w}.tar": tar_bytes({k: damage.get(k, v) for k, v in files.items()})
               for w, files in (images or class_images()).items() if w != skip_class}
    (tars / TRAIN_TAR).write_bytes(tar_bytes(classes))
    val = {f"ILSVRC2012_val_{k:08d}.JPEG": jpeg(280, 350, 100 + k) for k in range(1, len(VAL_IDS) + 1)}
    (tars / VAL_TAR).write_bytes(tar_bytes({k: damage.get(k, v) for k, v in val.items()}))
    if with_devkit:
        devkit(tars / DEVKIT)
    return tars


def argv_for(tars, out, expect=EXPECT, *extra) -> list[str]:
    return ["imagenet", "--tars", str(tars), "--out", str(out), "--no-stats", *extra,
            *(a for k, n in expect.items() for a in (f"--expect-{k}", str(n)))]


def files(folder) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) -> its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("alexnet: "), err
    return err[0]


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
    assert (out / tree[0]).stat().st_mtime_ns == stamp and "0 images written, 15 already there" in logs
    assert not (out / REPORT).exists()
    (out / "train" / WNIDS[0] / ".done").unlink()           # as a run stopped mid-class leaves it
    for stale in (out / "train" / WNIDS[0] / f".{WNIDS[0]}_1.JPEG.tmp99", out / "val" / WNIDS[0] / ".x.JPEG.tmp99"):
        stale.write_bytes(b"half a file")
    assert prepare(tars, out, resize=256, workers=0, expect=EXPECT, log=logs.append) == EXPECT
    assert not list(out.rglob("*.tmp*")) and (out / "train" / WNIDS[0] / ".done").exists()
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


def test_missing_class_tar_says_which_and_what_to_fetch(tmp_path, capsys):
    tars, out = fake_ilsvrc(tmp_path / "tars", skip_class=WNIDS[1]), tmp_path / "imagenet"
    with pytest.raises(DataError, match=f"lacks {WNIDS[1]}\\.tar, .* download {TRAIN_TAR} again"):
        prepare(tars, out, expect=EXPECT)
    assert main(argv_for(tars, out, EXPECT, "--workers", "1")) == 1
    line = one_line(capsys)
    assert f"{WNIDS[1]}.tar" in line and "re-run" not in line
    assert not out.exists()                      # found from the tar's headers, before extracting


def test_missing_devkit_is_one_clear_error(tmp_path, capsys):
    tars = fake_ilsvrc(tmp_path / "tars", with_devkit=False)
    assert main(["imagenet", "--tars", str(tars), "--out", str(tmp_path / "imagenet")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and DEVKIT in err[0] and KAGGLE_CSV in err[0]
    assert not (tmp_path / "imagenet").exists()                 # nothing written before the inputs are checked


def test_default_counts_are_ilsvrc_2012(tmp_path):
    """Without --expect-*, the fake (9 images) is checked against the real release's counts:
    the tars' from their headers, before anything is written, then the folder's."""
    tars, out = fake_ilsvrc(tmp_path / "tars"), tmp_path / "imagenet"
    with pytest.raises(DataError, match=f"{VAL_TAR} holds 6 images \\(expected 50,000\\)"):
        prepare(tars, out)
    with pytest.raises(DataError, match=f"{TRAIN_TAR} holds 3 class tars \\(expected 1,000\\)"):
        prepare(tars, out, expect=dict(val=6))
    assert not out.exists()
    with pytest.raises(DataError, match="9 training images \\(expected 1,281,167\\).*--expect-train"):
        prepare(tars, out, expect=dict(val=6, classes=3))


@pytest.mark.parametrize("name", [TRAIN_TAR, VAL_TAR])
def test_a_cut_download_is_one_line_before_anything_is_written(tmp_path, capsys, name):
    """What an interrupted download leaves; the val tar is extracted last but checked first."""
    tars, out = fake_ilsvrc(tmp_path / "tars"), tmp_path / "imagenet"
    data = (tars / name).read_bytes()
    (tars / name).write_bytes(data[:len(data) * 2 // 3])
    assert main(argv_for(tars, out)) == 1
    line = one_line(capsys)
    assert str(tars / name) in line and "truncated" in line and f"download {name} again" in line
    assert not out.exists()


@pytest.mark.parametrize("resize, workers", [(0, 0), (256, 2)])
def test_an_unreadable_jpeg_is_named_reported_and_skipped(tmp_path, resize, workers):
    bad_train, bad_val = f"{WNIDS[1]}_1.JPEG", "ILSVRC2012_val_00000004.JPEG"
    cut = jpeg(280, 350, 104)
    tars = fake_ilsvrc(tmp_path / "tars", damage={bad_train: b"not a JPEG", bad_val: cut[:len(cut) // 2]})
    out, logs, expect = tmp_path / "imagenet", [], dict(train=8, val=5, classes=3)
    assert prepare(tars, out, resize, workers, expect, log=logs.append) == expect
    report = (out / REPORT).read_text()
    lines = report.splitlines()
    assert len(lines) == 2 and lines[0] == f"{TRAIN_TAR}/{WNIDS[1]}.tar/{bad_train}: cannot identify image file"
    assert lines[1].startswith(f"{VAL_TAR}/{bad_val}: image file is truncated")
    assert f"13 images written, 0 already there, 2 not copied as PIL cannot read them (listed in {out / REPORT})" in logs
    names = {p.name for p in out.rglob("*.JPEG")}
    assert len(names) == 13 and not {bad_train, bad_val} & names
    first = f"{WNIDS[0]}_0.JPEG"
    if not resize:                               # checked, then copied as they are
        assert (out / "train" / WNIDS[0] / first).read_bytes() == class_images()[WNIDS[0]][first]
    logs.clear()
    assert prepare(tars, out, resize, workers, expect, log=logs.append) == expect
    assert "0 images written, 13 already there, 2 not copied" in logs[-1]
    assert (out / REPORT).read_text() == report                          # the same report on a rerun
    with pytest.raises(DataError, match=f"PIL cannot read 2 of the tars' images \\(listed in .*{REPORT}\\)"):
        prepare(tars, out, resize, workers, EXPECT)


def test_the_devkit_without_scipy_is_one_line(tmp_path, capsys, monkeypatch):
    tars, out = fake_ilsvrc(tmp_path / "tars"), tmp_path / "imagenet"
    monkeypatch.setitem(sys.modules, "scipy.io", None)          # import scipy.io fails as if not installed
    assert main(argv_for(tars, out)) == 1
    assert "pip install scipy" in one_line(capsys) and not out.exists()


def test_the_writers_workers_leave_ctrl_c_to_the_main_process():
    """A worker that took SIGINT would die with its task and leave the pool waiting forever."""
    with Writer(workers=2) as writer:
        assert set(writer.pool.map(signal.getsignal, [signal.SIGINT] * 4, chunksize=1)) == {signal.SIG_IGN}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler        # the main process's own


@pytest.mark.slow
def test_ctrl_c_stops_prepare_at_once_and_the_same_command_finishes_it(tmp_path):
    """SIGINT to the process group, as a terminal's Ctrl-C sends it, workers included (before
    the fix: ~40 lines of tracebacks, then a hang in the pool)."""
    tars, n = fake_ilsvrc(tmp_path / "tars", images=class_images(24, big=True)), 24
    expect, out, reference = dict(train=3 * n, val=6, classes=3), tmp_path / "imagenet", tmp_path / "reference"
    assert prepare(tars, reference, resize=256, workers=2, expect=expect, log=lambda _: None) == expect
    argv = argv_for(tars, out, expect, "--resize", "256", "--workers", "2")
    proc = subprocess.Popen([sys.executable, "-m", "alexnet.data", *argv], env=cli_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while not any((out / "train").rglob("*.JPEG")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    stop = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"prepare hangs after Ctrl-C: {proc.communicate()[1][-2000:]}")
    took = time.monotonic() - stop
    # ~0.1 s to the message; exiting an interpreter that imported torch takes 1-2 s more on 2 busy cores
    assert proc.returncode == 130 and took < 10, (proc.returncode, took, err)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)                                          # no worker left behind
    assert len(err.strip().splitlines()) == 1 and "Ctrl-C" in err and "same command" in err
    assert not (out / "train" / WNIDS[-1] / ".done").exists()           # it did stop halfway
    whole = {k: v for k, v in files(out).items() if not Path(k).name.startswith(".")}
    assert whole and all(reference.joinpath(k).read_bytes() == v for k, v in whole.items())
    assert main(argv) == 0
    assert files(out) == files(reference)                               # markers too, no temporaries
