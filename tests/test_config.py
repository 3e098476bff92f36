import pytest

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


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        resolve("cpu", ["lrr=0.1"])
    assert "unknown config key 'lrr'" in str(err.value) and "weight_decay" in str(err.value)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["lr"])
    with pytest.raises(ConfigError, match="unknown preset"):
        resolve("gpu")
