"""The §5-§7 experiments end to end at smoke scale (seconds), records written to tmp."""
import json

import pytest

from alexnet.experiments import run_experiment
from alexnet.records import load

FAST = ["epochs=1", "train_limit=32", "val_limit=16", "batch_size=16"]


@pytest.fixture(autouse=True)
def _runs(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))


def test_init_experiment(tmp_path):
    path = run_experiment("init", "smoke", FAST, tmp_path / "res")
    s = json.loads((path / "summary.json").read_text())
    stds = s["paper"]["activation_std_at_init"]
    assert set(stds) == {"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"}
    # N(0, 0.01) shrinks the signal; Kaiming keeps it about O(1): the logits say so.
    assert stds["fc8"] < s["kaiming"]["activation_std_at_init"]["fc8"]
    assert s["chance_top1_err"] == pytest.approx(0.9)
    # biases 1 pass a constant up the layers: less of the logits changes from image to image
    assert s["paper"]["image_share_at_init"]["fc8"] < s["zero_bias"]["image_share_at_init"]["fc8"]


def test_image_share_is_zero_for_a_constant_and_one_for_pure_signal():
    """`image_shares`: each unit's std across the batch over the output's RMS."""
    import torch
    from alexnet.experiments.init import image_shares
    net = torch.nn.Module()
    net.fc8 = torch.nn.Linear(64, 32)
    net.forward = lambda x: net.fc8(x)
    torch.manual_seed(0)
    x = torch.randn(4096, 64)
    with torch.no_grad():
        net.fc8.bias.zero_()
        assert image_shares(net, x)["fc8"] == pytest.approx(1.0, abs=0.02)       # zero-mean signal only
        net.fc8.weight.mul_(1e-6)
        net.fc8.bias.fill_(1.0)
        assert image_shares(net, x)["fc8"] < 1e-4                                # a constant drowns it


def test_schedule_experiment_drops_the_step_lr_on_time(tmp_path):
    path = run_experiment("schedule", "smoke", FAST[1:] + ["epochs=3", "step_every=1"], tmp_path / "res")
    rec = load("schedule", "smoke", root=tmp_path / "res")
    step = rec.metrics[rec.metrics.variant == "step"].sort_values("epoch")
    assert step.lr.tolist() == pytest.approx([0.01, 0.001, 0.0001])
    assert rec.summary["step"]["drop_epochs"] == {"0": [2, 3]}
    assert path.name == "smoke"


def test_depth_experiment_pairs_by_seed(tmp_path):
    run_experiment("depth_ablation", "smoke", FAST, tmp_path / "res")
    rec = load("depth_ablation", "smoke", root=tmp_path / "res")
    assert set(rec.metrics.variant) == {"full", "no_conv3", "no_conv4", "no_conv5"}
    last = rec.metrics.set_index("variant").val_top1_err
    for v in ("no_conv3", "no_conv4", "no_conv5"):
        assert rec.summary[v]["top1_change"]["mean"] == pytest.approx(last[v] - last["full"])
    assert rec.summary["no_conv3"]["parameters"] < rec.summary["full"]["parameters"]


def test_init_in_raw_pixel_units_scales_conv1_by_the_inputs_spread(tmp_path, monkeypatch):
    """`pixel_scale=raw` (the `long` record's units): conv1, with §5's zero bias, is linear in its
    input, so its output std grows by the factor the inputs did (255 x the channel std)."""
    from alexnet.experiments.init import activation_table
    runs = {}
    for units in ("std", "raw"):
        monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs" / units))     # its own checkpoints
        run_experiment("init", "smoke", FAST + [f"pixel_scale={units}"], tmp_path / units)
        runs[units] = load("init", "smoke", root=tmp_path / units)
    assert [runs[u].config["base"]["pixel_scale"] for u in runs] == ["std", "raw"]
    table = activation_table(runs["std"], None, runs["raw"])
    assert list(table.columns) == ["paper", "zero_bias", "kaiming", "paper_raw", "zero_bias_raw", "kaiming_raw"]
    spread = 255 * sum(runs["std"].provenance["data"]["std"]) / 3
    assert table.loc["conv1", "paper_raw"] / table.loc["conv1", "paper"] == pytest.approx(spread, rel=0.05)
