import pytest
import torch

from alexnet import devices

from alexnet.config import Config, ConfigError, parse_overrides, resolve


def test_defaults_are_the_paper():
    c = Config()
    assert (c.batch_size, c.lr, c.momentum, c.weight_decay, c.epochs) == (128, 0.01, 0.9, 5e-4, 90)
    assert (c.lrn, c.pool, c.dropout, c.columns, c.init, c.lr_drops) == (True, "overlap", 0.5, 2, "paper", 3)


def test_overrides_are_type_checked():
    cfg = resolve("cpu", ["--lr=0.1", "epochs=3", "lrn=false", "--batch-size=64"])
    assert (cfg.lr, cfg.epochs, cfg.lrn, cfg.batch_size) == (0.1, 3, False, 64)
    with pytest.raises(ConfigError, match="expected int"):
        resolve("cpu", ["epochs=three"])
    with pytest.raises(ConfigError, match="choose one of relu, tanh"):
        resolve("cpu", ["activation=sigmoid"])
    with pytest.raises(ConfigError, match="expected a boolean"):
        resolve("cpu", ["lrn=maybe"])


def test_unknown_key_names_the_nearest_or_lists_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        resolve("cpu", ["lrr=0.1"])
    assert "unknown config key 'lrr' — did you mean lr?" in str(err.value)
    with pytest.raises(ConfigError) as err:
        resolve("cpu", ["bogus=1"])
    assert "unknown config key 'bogus' — valid keys: model," in str(err.value) and "weight_decay" in str(err.value)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["lr"])
    with pytest.raises(ConfigError, match="unknown preset"):
        resolve("gpu")


SPEED = ("workers", "precision", "channels_last")


@pytest.fixture
def cuda_box(monkeypatch):
    """A CUDA machine with 16 cores, as torch and os see it (no GPU needed)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(devices, "cuda_bf16", lambda: True)
    monkeypatch.setattr(devices.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    return monkeypatch


def speed(cfg):
    return tuple(getattr(cfg, k) for k in SPEED)


def test_paper_on_cuda_sets_the_speed_keys_itself(cuda_box):
    assert speed(resolve("paper")) == (15, "bf16", True)                 # 16 cores: 15 workers and the loop
    cuda_box.setenv("LOCAL_WORLD_SIZE", "2")                               # torchrun, two GPUs: 8 cores each
    assert speed(resolve("paper")) == (7, "bf16", True)
    cuda_box.setattr(devices, "cuda_bf16", lambda: False)                  # a V100: fp16, and a GradScaler
    cfg = resolve("paper")
    assert cfg.precision == "fp16"
    assert devices.needs_grad_scaler(torch.device("cuda"), devices.autocast_dtype(torch.device("cuda"), cfg.precision))


def test_what_the_reader_or_the_experiment_set_stays(cuda_box):
    assert speed(resolve("paper", ["workers=0", "--precision=fp32"])) == (0, "fp32", True)
    assert speed(resolve("paper", [], dict(channels_last=False, precision="bf16"))) == (15, "bf16", False)
    assert speed(resolve("paper", ["device=cpu"])) == (0, "fp32", False)  # the paper's defaults on a CPU
    saved = resolve("paper", ["workers=2", "precision=fp32", "channels_last=false"]).to_dict()
    assert speed(resolve("paper", saved)) == (2, "fp32", False)           # eval of a checkpoint: as it ran


@pytest.mark.parametrize("preset", ["smoke", "cpu", "long", "regime"])
def test_the_cpu_scales_are_the_same_on_a_cuda_machine(preset, cuda_box):
    on_cuda = resolve(preset)
    cuda_box.setattr(torch.cuda, "is_available", lambda: False)
    assert on_cuda == resolve(preset)


def test_paper_on_a_cpu_is_the_paper(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert speed(resolve("paper")) == (0, "fp32", False)
