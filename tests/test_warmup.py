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
    path = run_experiment("warmup", "smoke", ["epochs=1", "train_limit=16", "val_limit=16", "image_size=67"])
    summary = json.loads((path / "summary.json").read_text())
    assert set(summary) >= set(warmup.RECIPES) | {"best", "classes", "setting"}
    for variant in warmup.RECIPES:
        matrix = summary[variant]["confusion"]
        assert sum(map(sum, matrix)) == 16 and len(matrix) == len(summary["classes"])
        correct = sum(matrix[i][i] for i in range(len(matrix))) / 16
        assert abs(correct - summary[variant]["test_acc"]["mean"]) < 1e-9
    import pandas as pd
    metrics = pd.read_csv(path / "metrics.csv")
    assert {"variant", "epoch", "train_loss", "train_acc", "test_acc", "wall_seconds"} <= set(metrics.columns)
    assert all(summary[v]["wall_seconds"] > summary[v]["seconds"] > 0 for v in warmup.RECIPES)
    assert summary["target"]["met_by"] == []            # 16 test images are not "all 10,000"


def test_the_modern_recipe_is_named_apart_and_sees_all_the_data_at_cpu():
    from alexnet.config import resolve
    cpu = resolve("cpu", []).replace(**warmup.EXPERIMENT.presets["cpu"])
    got = {v: cpu.replace(**changes) for v, changes in warmup.variants_for("cpu").items()}
    assert got["modern"].train_limit == 0 and got["modern"].image_size == 28 and got["modern"].fused
    assert got["modern"].schedule == "warmup_cosine" and got["modern"].label_smoothing == 0.1
    assert all(got[v].model == "alexnet_d2l" and got[v].train_limit == 45000 for v in ("paper", "paper_xavier", "d2l"))
    smoke = warmup.variants_for("smoke")["modern"]
    assert "train_limit" not in smoke and "epochs" not in smoke          # the preset's small sizes hold


def test_curves_and_confusion_figures():
    import pandas as pd
    from alexnet.plots.curves import confusion, learning_curves
    metrics = pd.DataFrame(dict(variant=["a", "a", "b", "b"], epoch=[1, 2, 1, 2], train_loss=[2.0, 1.0, 2.0, 1.5],
                                train_acc=[0.3, 0.6, 0.2, 0.4], test_acc=[0.3, 0.5, 0.2, 0.3]))
    fig = learning_curves(metrics)
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 3         # a test line per variant, and chance
    assert list(acc_ax.lines[0].get_ydata()) == [0.3, 0.5]            # variant a, test
    assert list(acc_ax.lines[2].get_ydata()) == [0.1, 0.1]            # chance: one class in ten
    fig = confusion([[3, 1], [0, 2]], ["x", "y"])
    image = fig.axes[0].images[0].get_array()
    assert image[0].tolist() == [0.75, 0.25] and image[1].tolist() == [0.0, 1.0]   # rows sum to 1
