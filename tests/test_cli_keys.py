"""`alexnet train|run|eval --help` lists every Config key from the Config itself (type,
default, range or choices, meaning); keys go as key=value, --key value or --key=value; an
unknown key names the nearest one; `compile=` still reads as `fused=` (issue 28)."""
import re
from dataclasses import fields

import pytest

from alexnet import cli
from alexnet.config import Config, ConfigError, resolve
from alexnet.training.checkpoint import ResumeMismatch, check_same_run


def help_text(command: str, capsys) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["train", "run", "eval"])
def test_help_lists_every_key_with_type_default_and_range(command, capsys):
    text = help_text(command, capsys)
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ") and line.split()}
    assert all(f.name in lines for f in fields(Config))                  # every key, none left out
    assert re.search(r"^  lr +float +0\.01 +0\.0 < lr <= 10\.0 — §5: initial learning rate", lines["lr"])
    assert re.search(r"^  pool +str +\"overlap\" +overlap \| plain — ", lines["pool"])
    assert re.search(r"^  nesterov +bool +false +true \| false — ", lines["nesterov"])
    assert "`paper` also sets workers" in text


def test_the_meanings_are_the_fields_metadata():
    """What --help prints is read from the dataclass, so a new key without a meaning fails here."""
    assert all(f.metadata.get("meaning") for f in fields(Config))
    assert fields(Config)[0].metadata["meaning"] in cli.keys_help()


@pytest.mark.parametrize("form", [["--epochs", "3"], ["--epochs=3"], ["epochs=3"]])
def test_three_forms_of_a_key_are_one(form):
    args = cli.parse(["train", "--preset", "smoke", *form])
    assert args.overrides == ["epochs=3"] and resolve("smoke", args.overrides) == resolve("smoke", ["epochs=3"])


def test_dashes_booleans_and_the_commands_own_options():
    assert cli.parse(["train", "--batch-size", "8", "--nesterov"]).overrides == ["batch_size=8", "nesterov=true"]
    assert cli.parse(["train", "--lrn", "false", "--seed", "2"]).overrides == ["lrn=false", "seed=2"]
    vis = cli.parse(["visualize", "filters", "--checkpoint", "c.pt", "--out", "figs", "--seed", "1"])
    assert (vis.out, vis.overrides) == ("figs", ["seed=1"])              # visualize's own --out stays its
    run = cli.parse(["run", "lrn", "--epochs", "2", "--seeds", "1,2"])
    assert (run.experiment, run.seeds, run.overrides) == ("lrn", "1,2", ["epochs=2"])
    assert cli.parse(["layers", "alexnet_small", "--width", "0.5"]).overrides == ["width=0.5"]


@pytest.mark.parametrize("argv", [["lrr=0.1"], ["--lrr", "0.1"], ["--lrr=0.1"]])
def test_an_unknown_key_suggests_the_nearest_in_one_line(argv, capsys):
    assert cli.main(["train", "--preset", "smoke", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown config key 'lrr' — did you mean lr?" in err[0]


def test_a_key_without_its_value_and_a_stray_word_are_one_line(capsys):
    assert cli.main(["train", "--epochs"]) == 2
    assert "--epochs needs a value" in capsys.readouterr().err
    assert cli.main(["train", "--preset", "smoke", "foo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unrecognised argument 'foo'" in err[0]


def test_compile_is_read_as_fused_with_a_note(capsys):
    assert resolve("smoke", ["compile=true"]).fused is True
    assert capsys.readouterr().err.strip() == "alexnet: note: compile= is now fused= (compile= still works)"
    assert cli.parse(["train", "--compile", "true"]).overrides == ["compile=true"]
    assert Config().replace(compile=True).fused is True                    # a saved config or a preset
    assert resolve("paper", {"compile": True, "fused": False}).fused is False   # the new name wins
    assert capsys.readouterr().err == ""                                   # no note for saved configs
    with pytest.raises(ConfigError, match="did you mean fused"):
        resolve("smoke", ["fusd=true"])


def test_an_old_checkpoints_compile_is_compared_as_fused(tmp_path):
    saved = {k: v for k, v in resolve("smoke").to_dict().items() if k not in ("fused", "torch_compile")}
    check_same_run(dict(saved, compile=False), resolve("smoke"), tmp_path / "checkpoint.pt")
    with pytest.raises(ResumeMismatch, match=r"fused: True -> False"):
        check_same_run(dict(saved, compile=True), resolve("smoke"), tmp_path / "checkpoint.pt")


def test_a_missing_package_is_one_line_naming_its_extra(monkeypatch, capsys):
    def needs(name):
        def fn(args):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return fn
    for name, extra in (("tensorboard", "'.[tensorboard]'"), ("d2l", "--no-deps d2l==1.0.3"),
                        ("somethingelse", "make venv")):
        monkeypatch.setattr(cli, "_list", needs(name))
        assert cli.main(["list"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"needs the {name} package" in err[0] and extra in err[0]


@pytest.mark.parametrize("text, seeds", [("0,1,2", [0, 1, 2]), ("5-8", [5, 6, 7, 8]), ("3, 1-2", [1, 2, 3]), ("4", [4])])
def test_seeds_take_lists_and_ranges(text, seeds):
    from alexnet.cli import seed_list
    assert seed_list(text) == seeds


@pytest.mark.parametrize("bad", ["x", "3-1", "1-", "-2", "1,,2"])
def test_a_bad_seed_list_is_one_line_that_shows_the_form(bad):
    from alexnet.cli import seed_list
    from alexnet.config import ConfigError
    with pytest.raises(ConfigError, match=r"--seeds takes seeds >= 0 and ranges, such as 0,1,2 or 5-38"):
        seed_list(bad)
