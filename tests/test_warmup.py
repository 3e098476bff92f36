"""The warm-up experiment: a smoke run end to end, and the confusion matrix against a
direct count."""
import json

import torch

from alexnet.experiments import run_experiment, warmup


def test_confusion_matrix_counts_true_by_predicted():
    class Fixed(torch.nn.Module):          # predicts class (x[:, 0, 0, 0]) for each image
        def forward(self, x):
            return torch.nn.functional.one_hot(x[:, 0, 0, 0].long(), 3).float()
    x = torch.tensor([0, 1, 2, 2, 1]).float().view(-1, 1, 1, 1)
    y = torch.tensor([0, 1, 1, 2, 0])
    got = warmup.confusion_matrix(Fixed(), [(x[:3], y[:3]), (x[3:], y[3:])], 3, torch.device("cpu"))
    assert got == [[1, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_warmup_smoke_writes_curves_and_confusions(monkeypatch, tmp_path):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    path = run_experiment("warmup", "smoke", ["epochs=1", "train_limit=32", "val_limit=16"])
    summary = json.loads((path / "summary.json").read_text())
    assert set(summary) >= set(warmup.RECIPES) | {"best", "classes", "setting"}
    for variant in warmup.RECIPES:
        matrix = summary[variant]["confusion"]
        assert sum(map(sum, matrix)) == 16 and len(matrix) == len(summary["classes"])
        correct = sum(matrix[i][i] for i in range(len(matrix))) / 16
        assert abs(correct - summary[variant]["test_acc"]["mean"]) < 1e-9
    import pandas as pd
    metrics = pd.read_csv(path / "metrics.csv")
    assert {"variant", "epoch", "train_loss", "train_acc", "test_acc"} <= set(metrics.columns)
