"""imagenet_sample end to end at smoke scale on a tiny JPEG folder, and §6.1's measures."""
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet.evaluation import probes as vis
from alexnet.experiments import run_experiment
from alexnet.records import load

WNIDS = ["n00000001", "n00000002", "n00000003"]


@pytest.fixture
def tiny_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "data" / "imagenet-sample"
    rng = np.random.default_rng(0)
    for split, n in (("train", 4), ("val", 2)):
        for c, wnid in enumerate(WNIDS):
            (root / split / wnid).mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 90, (60, 80, 3)) + np.array([[[150 * (c == k) for k in range(3)]]])
                Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(root / split / wnid / f"{wnid}_{i}.JPEG")
    (root / "classes.tsv").write_text("wnid\tname\n" + "".join(f"{w}\tclass {i}\n" for i, w in enumerate(WNIDS)))
    return tmp_path / "data"


def test_imagenet_sample_smoke_writes_the_figures_material(tiny_folder, tmp_path):
    path = run_experiment("imagenet_sample", "smoke", [f"data={tiny_folder}"], tmp_path / "res")
    rec = load("imagenet_sample", "smoke", root=tmp_path / "res")
    assert set(rec.metrics.variant) == {"paper_init", "kaiming"}
    chosen = rec.summary["chosen"]
    assert chosen in ("paper_init", "kaiming")
    last = rec.metrics.groupby("variant").tail(1).set_index("variant")
    # the centre view is the error the training loop measured on the same images
    assert (last.center_top1_err == last.val_top1_err).all()
    assert ((0 <= last.same_class_neighbours) & (last.same_class_neighbours <= 1)).all()
    assert rec.summary[chosen]["col_gap"]["values"] == pytest.approx([last.col2[chosen] - last.col1[chosen]])
    from alexnet.claims.scorecard import claim
    assert claim("neighbours").effect(rec.summary) == pytest.approx(
        [last.same_class_neighbours[chosen] - 1 / 3])                  # chance: one class in three
    kernels = np.load(path / "conv1.npy")
    assert kernels.shape == (96, 3, 11, 11) and kernels.dtype == np.float16
    info = json.loads((path / "learned.json").read_text())
    assert len(info["predictions"]) == 8 and len(info["predictions"][0]["top5"]) == 3   # 3 classes
    assert info["predictions"][0]["path"].startswith("val/n0000000")
    assert all(len(q["neighbours"]) == 6 for q in info["neighbours"])
    assert info["classes"] == ["class 0", "class 1", "class 2"]
    sheet = Image.open(io.BytesIO((path / "thumbs.jpg").read_bytes()))
    assert sheet.size == (8 * 64, 64 * 5)          # 8 + 4 x 7 = 36 thumbs, 8 per row
    assert sum(p.stat().st_size for p in path.iterdir()) < 1_000_000
    # The book's figures from the record files, and the CLI from the checkpoint.
    from alexnet.cli import main
    from alexnet.plots.learned import kernels_figure, neighbours_figure, predictions_figure, read_sheet
    sheet = read_sheet((path / "thumbs.jpg").read_bytes())
    for fig in (kernels_figure(kernels.astype(np.float32), rec, colour=info["colourfulness"]),
                kernels_figure(kernels.astype(np.float32), rec), predictions_figure(info, sheet, rec),
                neighbours_figure(info, sheet, rec)):
        assert fig.axes
    ckpt = tmp_path / "runs" / "imagenet_sample" / "smoke" / "kaiming-seed0" / "checkpoint.pt"
    for what in ("filters", "predictions", "neighbors"):
        assert main(["visualize", what, "--checkpoint", str(ckpt), "--out", str(tmp_path / "png")]) == 0
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == ["filters.png", "neighbors.png", "predictions.png"]
    # The record grows by a seed: per-seed lists of two, the first seed's figures kept.
    before = {p.name: p.read_bytes() for p in path.iterdir() if p.suffix in (".jpg", ".npy")}
    run_experiment("imagenet_sample", "smoke", [f"data={tiny_folder}"], tmp_path / "res", seeds=[1])
    grown = load("imagenet_sample", "smoke", root=tmp_path / "res")
    assert grown.summary[grown.summary["chosen"]]["same_class_neighbours"]["seeds"] == [0, 1]
    assert {p.name: p.read_bytes() for p in path.iterdir() if p.suffix in (".jpg", ".npy")} == before
    assert json.loads((path / "learned.json").read_text())["seed"] == 0


def test_colourfulness_reference_values():
    grey = np.repeat(np.random.default_rng(0).normal(size=(5, 1, 11, 11)), 3, axis=1)
    assert np.allclose(vis.colourfulness(grey), 0)
    red_only = np.zeros((1, 3, 11, 11)); r = np.random.default_rng(1).normal(size=(11, 11)); red_only[0, 0] = r - r.mean()
    assert vis.colourfulness(red_only)[0] == pytest.approx(2 / 3)   # (1 - 1/3)² + 2 (1/3)² = 2/3
    noise = np.random.default_rng(2).normal(size=(2000, 3, 11, 11))
    assert vis.colourfulness(noise).mean() == pytest.approx(2 / 3, abs=0.01)


def test_split_excess_is_the_column_gap_beyond_that_of_every_equal_split():
    """A reference by enumeration: over all C(8, 4) equal splits of eight values, the mean |gap|."""
    from itertools import combinations
    v = np.array([0.1, 0.7, 0.2, 0.9, 0.4, 0.3, 0.8, 0.5])
    every = [abs(v[list(c)].mean() - np.delete(v, list(c)).mean()) for c in combinations(range(8), 4)]
    assert vis.split_excess(v, draws=50000) == pytest.approx(abs(v[4:].mean() - v[:4].mean()) - np.mean(every), abs=2e-3)
    sorted_apart = np.r_[np.zeros(48), np.full(48, 2 / 3)]                 # Figure 3: a grey column, a colour one
    assert 0.55 < vis.split_excess(sorted_apart) < 2 / 3              # the gap, less random halves' ~0.05
    assert vis.split_excess(sorted_apart) == vis.split_excess(sorted_apart[::-1])   # which GPU turns grey is chance
    noise = np.random.default_rng(3).normal(2 / 3, 0.1, size=(200, 96))
    assert abs(np.mean([vis.split_excess(row, draws=200) for row in noise])) < 0.003


def test_column_colour_of_an_untrained_net_is_its_init():
    """The measure's two halves agree where nothing was trained (the same weights, twice)."""
    from alexnet.config import resolve
    from alexnet.models import build_model
    cfg = resolve("cpu", dict(model="alexnet_small", columns=2, seed=3))
    out = vis.column_colour(build_model(cfg, 10, 3), build_model(cfg, 10, 3))   # the seed rebuilds the init
    assert all(out[k] == out[f"{k}_init"] for k in ("col1", "col2", "col_gap", "col_split"))
    assert set(out) == set(vis.COLOUR_COLUMNS) and out["col1"] == pytest.approx(2 / 3, abs=0.05)


def test_nearest_is_brute_force_euclidean():
    gen = torch.Generator().manual_seed(0)
    bank, q = torch.randn(50, 16, generator=gen), torch.randn(3, 16, generator=gen)
    idx, dist = vis.nearest(q, bank, 4)
    for r in range(3):
        d = ((bank - q[r]) ** 2).sum(1).sqrt()
        assert idx[r].tolist() == d.argsort()[:4].tolist()
        assert np.allclose(dist[r], d.sort().values[:4].numpy())


def test_kernel_grid_layout():
    from alexnet.plots.learned import kernel_grid
    grid = kernel_grid(np.random.default_rng(0).normal(size=(96, 3, 11, 11)), per_row=8)
    assert grid.shape == (12 * 12 + 1, 8 * 12 + 1, 3) and grid.min() >= 0 and grid.max() <= 1


def test_two_columns_measures_conv1_per_column_and_rebuilds_the_init(tmp_path, monkeypatch):
    """Figure 3's CIFAR-10 proxy end to end: at a learning rate of 1e-12 nothing moves, so the
    trained measure equals the one on the rebuilt init (the run's seed rebuilds its initial weights)."""
    from alexnet.harness.registry import declared
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    fast = ["epochs=1", "train_limit=32", "val_limit=16", "batch_size=16", "lr=1e-12", "weight_decay=0"]
    run_experiment("two_columns", "smoke", fast, tmp_path / "res")
    rec = load("two_columns", "smoke", root=tmp_path / "res")
    for variant in ("two_columns", "one_column_half"):
        s = rec.summary[variant]
        assert s["col_split"]["values"] == pytest.approx(s["col_split_init"]["values"], abs=1e-6)
        assert 0 <= s["train_clean_top1_err"]["mean"] <= 1
    claim = next(c for c in declared("two_columns").claims if c.id == "colour_split_proxy")
    assert claim.effect(rec.summary) == rec.summary["two_columns"]["col_split"]["values"]
    assert claim.regime.learned(rec.summary)[0] is False                 # conv1 never moved
