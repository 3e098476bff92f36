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
