"""The augmentation experiment end to end (smoke) and the data benchmark's bookkeeping."""
import pandas as pd
import pytest

from alexnet import records
from alexnet.experiments import run_experiment


def test_augmentation_smoke_writes_a_record(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    path = run_experiment("augmentation", "smoke", ["train_limit=32", "val_limit=16", "max_steps=2"],
                          results=tmp_path / "results")
    rec = records.load("augmentation", "smoke", root=tmp_path / "results")
    assert path == rec.path
    assert set(rec.metrics.variant) == {"none", "crop_flip", "crop_flip_pca"}
    s = rec.summary
    assert s["gain_pca"] == pytest.approx(s["crop_flip"]["val_top1_err"]["mean"] - s["crop_flip_pca"]["val_top1_err"]["mean"])
    assert len(s["pca"]["eigvals"]) == 3 and s["pca"]["eigvals"][0] >= s["pca"]["eigvals"][2]
    assert rec.config["variants"]["crop_flip_pca"]["augment"] == "crop_flip_pca"
    # the ten-crop claim reads the centre and ten-view errors measured on each trained net,
    # and the centre view is the error the training loop measured on the same images
    last = rec.metrics.groupby(["variant", "seed"]).tail(1)
    assert last.ten_crop_top1_err.notna().all()
    assert (last.center_top1_err == last.val_top1_err).all()
    from alexnet.claims.scorecard import claim
    assert len(claim("ten_crop").effect(s)) == len(s["crop_flip_pca"]["val_top1_err"]["values"])
    # the chapter's table of where each arm ended: the summary's means, in %
    from alexnet.experiments.augmentation import ends_table
    ends = ends_table(rec)
    last = last.groupby("variant")
    for v in ("none", "crop_flip", "crop_flip_pca"):
        assert ends.loc["test top-1 error (%)", v] == pytest.approx(100 * last.val_top1_err.mean()[v], abs=0.006)
        assert ends.loc["test − training as trained (points)", v] == pytest.approx(
            100 * (last.val_top1_err.mean()[v] - last.train_err.mean()[v]), abs=0.011)
        # the clean gap: the same net, test mode, on its own training images un-augmented
        assert ends.loc["test − clean training (points)", v] == pytest.approx(
            100 * (last.val_top1_err.mean()[v] - last.train_clean_top1_err.mean()[v]), abs=0.011)


def test_bench_speedups_and_targets():
    from alexnet.bench.data import speedups
    rows = [("imagenet_jpeg", "ours: decode", 0, 300.0), ("imagenet_jpeg", "ours: decode", 2, 600.0),
            ("imagenet_jpeg", "ours: held in RAM", 0, 2000.0), ("imagenet_jpeg", "torchvision PIL", 0, 200.0),
            ("imagenet_jpeg", "torchvision PIL", 2, 500.0),
            ("fashion_mnist", "ours: memory", 0, 9000.0), ("fashion_mnist", "d2l", 0, 1000.0),
            ("fashion_mnist", "d2l", 2, 2000.0),
            ("cifar10", "ours: memory", 0, 50000.0), ("cifar10", "tv", 0, 6000.0), ("cifar10", "tv", 2, 10000.0)]
    sp = speedups(pd.DataFrame(rows, columns=["family", "pipeline", "workers", "images_per_s"]))
    assert sp["imagenet_jpeg_workers0"] == dict(ratio=1.5, target=1.3, met=True)
    assert sp["imagenet_jpeg_workers2"]["ratio"] == 1.2 and sp["imagenet_jpeg_workers2"]["met"] is False
    assert sp["imagenet_in_ram_vs_best_pil"]["ratio"] == 4.0
    assert sp["fashion_mnist_vs_best"] == dict(ratio=4.5, target=5.0, met=False)
    assert sp["cifar10_vs_best"]["met"] is True and sp["cifar10_vs_workers0"]["ratio"] == 8.33


def test_the_first_rate_drop_and_the_training_error_at_it():
    """The ends table's last rows: the epoch §5's schedule first divided the rate, and the
    training error of the last epoch at the starting rate; NaN where the rate never fell."""
    from alexnet.experiments.augmentation import _first_drop
    run = pd.DataFrame(dict(epoch=[3, 1, 2, 4, 5], lr=[0.02, 0.02, 0.02, 0.002, 0.0002],
                            train_err=[0.5, 0.7, 0.6, 0.45, 0.44]))          # rows out of order on purpose
    assert _first_drop(run).to_dict() == dict(epoch=4, train=0.5)
    assert _first_drop(run.assign(lr=0.02)).isna().all()
