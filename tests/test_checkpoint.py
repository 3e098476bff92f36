"""Checkpoints (issue 16): read as data only, written whole, kept in pairs, never non-finite,
a corrupt one a one-line error, and the advice after a blown-up loss works."""
import json
from pathlib import Path

import pytest
import torch

from alexnet.config import resolve
from alexnet.training import checkpoint as C
from alexnet.training import loop
from alexnet.training.guard import DivergedLoss, Guard, NonFiniteLoss
from alexnet.training.loop import train

QUIET = dict(log=lambda *_: None)


class Payload:
    """Unpickling this would run code: it writes a file."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return exec, (f"open({self.target!r}, 'w').write('ran')",)


def _state(**extra):
    return dict(model={"w": torch.ones(2)}, epoch=1, step=0, **extra)


def test_a_pickle_payload_is_refused_and_runs_nothing(tmp_path):
    evil, ran = tmp_path / "evil" / "checkpoint.pt", tmp_path / "ran.txt"
    evil.parent.mkdir()
    torch.save(_state(config=Payload(ran)), evil)
    with pytest.raises(C.CheckpointError, match="refused.*weights_only") as err:
        C.load_checkpoint_file(evil)
    assert str(evil) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(C.CheckpointError):                  # through a resume too
        train(resolve("smoke", ["epochs=1"]), out_dir=evil.parent, **QUIET)
    assert not ran.exists()


@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_a_corrupt_checkpoint_is_one_line_naming_the_file(tmp_path, damage):
    path = tmp_path / "checkpoint.pt"
    C.save_checkpoint(path, _state())
    whole = path.read_bytes()
    path.write_bytes({"truncated": whole[: len(whole) // 2], "random": torch.randint(0, 256, (4096,),
                      dtype=torch.uint8).numpy().tobytes(), "empty": b""}[damage])
    with pytest.raises(C.CheckpointError) as err:
        C.load_checkpoint_file(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message and "corrupt" in message


def test_save_is_atomic_and_keeps_the_last_two(tmp_path):
    path = tmp_path / "checkpoint.pt"
    for epoch in (1, 2, 3):
        C.save_checkpoint(path, _state() | dict(epoch=epoch), keep=2)
    assert {p.name for p in tmp_path.iterdir()} == {"checkpoint.pt", "checkpoint.prev.pt"}   # no temp left
    assert C.load_checkpoint_file(path)["epoch"] == 3
    assert C.load_checkpoint_file(tmp_path / "checkpoint.prev.pt")["epoch"] == 2
    C.save_checkpoint(path, _state() | dict(epoch=4), keep=3)
    assert C.load_checkpoint_file(tmp_path / "checkpoint.prev2.pt")["epoch"] == 2
    one = tmp_path / "one" / "checkpoint.rank1.pt"
    for epoch in (1, 2):
        C.save_checkpoint(one, _state() | dict(epoch=epoch), keep=1)
    assert [p.name for p in one.parent.iterdir()] == ["checkpoint.rank1.pt"]


def test_resume_falls_back_to_the_previous_checkpoint(tmp_path):
    cfg = resolve("smoke", ["epochs=2"])
    straight = train(cfg, out_dir=tmp_path / "a", **QUIET)
    train(cfg, out_dir=tmp_path / "b", **QUIET)
    ckpt = tmp_path / "b" / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])              # the last save was cut short
    lines = []
    resumed = train(cfg.replace(epochs=2), out_dir=tmp_path / "b", log=lines.append)
    assert any("not a readable checkpoint" in line and "trying the checkpoint before it" in line for line in lines)
    assert any("resumed from" in line and "checkpoint.prev.pt" in line for line in lines)
    assert (tmp_path / "b" / "checkpoint.pt.broken").exists()
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)          # epoch 2 again, bitwise the same
    assert C.load_checkpoint_file(tmp_path / "b" / "checkpoint.prev.pt")["epoch"] == 1


def _all_finite(path):
    state = C.load_checkpoint_file(path)
    return all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


@pytest.mark.parametrize("every", [1, 25])
def test_no_checkpoint_holds_non_finite_weights(tmp_path, monkeypatch, every):
    """checkpoint_every=1 with a rate that blows the weights up. every=25 is a GPU's loss
    check (every 25 steps) simulated on the CPU: saves fall between checks."""
    monkeypatch.setattr(loop, "check_every", lambda device: every)
    cfg = resolve("smoke", ["lr=9", "init=kaiming", "dropout=0", "epochs=4", "checkpoint_every=1",
                            "max_loss_ratio=1e6"])
    with pytest.raises(NonFiniteLoss, match="lr=0.9"):
        train(cfg, out_dir=tmp_path, **QUIET)
    for name in ("checkpoint.pt", "checkpoint.prev.pt"):
        if (tmp_path / name).exists():
            assert _all_finite(tmp_path / name), name


def test_divergence_stops_the_run():
    guard = Guard(resolve("smoke"))
    guard.check(torch.tensor(2.3), torch.tensor(2.3), "step 1", 0.01)
    for step in range(2, 2 + 4):                             # 4 checks above 10 x 2.3: not yet
        guard.check(torch.tensor(50.0), torch.tensor(1.0), f"step {step}", 0.01)
    guard.check(torch.tensor(2.0), torch.tensor(1.0), "step 6", 0.01)       # back down: reset
    with pytest.raises(DivergedLoss, match="diverged.*step 11.*lr=0.001"):
        for step in range(7, 12):
            guard.check(torch.tensor(1e4), torch.tensor(1.0), f"step {step}", 0.01)


def test_a_diverging_run_stops_and_the_advised_rerun_works(tmp_path):
    """lr=1 keeps the loss finite but ~1e6 (it "succeeded" before): stopped, nothing saved
    while the loss was above the bound, and the rerun the message advises trains."""
    cfg = resolve("smoke", ["lr=1", "epochs=3"])
    with pytest.raises(DivergedLoss, match=r"diverged.*rerun the same command with lr=0\.1: the run starts again"):
        train(cfg, out_dir=tmp_path, **QUIET)
    assert not list(tmp_path.glob("checkpoint*.pt"))
    result = train(cfg.replace(lr=0.1), out_dir=tmp_path, **QUIET)
    assert [r["epoch"] for r in result.history] == [1, 2, 3]


def test_the_advice_after_a_blown_up_loss_resumes(tmp_path):
    """The error says "rerun with lr=X": that rerun resumes from the last good checkpoint;
    any other change of lr is still refused."""
    cfg = resolve("smoke", ["init=kaiming", "dropout=0", "epochs=3", "lr=0.01"])
    train(cfg.replace(epochs=1), out_dir=tmp_path, **QUIET)   # one good epoch, checkpointed
    with pytest.raises(C.ResumeMismatch, match="lr"):
        train(cfg.replace(lr=9.0), out_dir=tmp_path, **QUIET)
    # Pretend the good run went on and blew up at its rate: what Guard.stop leaves behind.
    with pytest.raises(NonFiniteLoss, match=r"rerun the same command with lr=0\.001"):
        Guard(cfg, run_dir=tmp_path).stop(NonFiniteLoss(f"x; {Guard(cfg, run_dir=tmp_path).advice()}"), 0.01)
    assert json.loads((tmp_path / C.DIVERGED).read_text())["lr"] == 0.01
    lines = []
    result = train(cfg.replace(lr=0.001), out_dir=tmp_path, log=lines.append)
    assert any("resumed from" in line for line in lines)
    assert [round(r["lr"], 6) for r in result.history] == [0.01, 0.001, 0.001]
    with pytest.raises(C.ResumeMismatch, match="lr"):        # only the rate that diverged may change
        train(cfg.replace(lr=0.0005, epochs=4), out_dir=tmp_path, **QUIET)


def test_a_fresh_start_over_another_runs_config_is_refused(tmp_path):
    train(resolve("smoke", ["epochs=1"]), out_dir=tmp_path, **QUIET)
    for p in tmp_path.glob("checkpoint*.pt"):
        p.unlink()
    with pytest.raises(C.ResumeMismatch, match="config.json.*seed"):
        train(resolve("smoke", ["epochs=1", "seed=3"]), out_dir=tmp_path, **QUIET)


def test_a_checkpoint_older_than_a_key_resumes_only_with_the_value_it_was_made_with():
    """A checkpoint saved before `pixel_scale` existed divided its inputs by the channel std."""
    saved = {k: v for k, v in resolve("smoke", ["epochs=1"]).to_dict().items() if k != "pixel_scale"}
    C.check_same_run(saved, resolve("smoke", ["epochs=2"]), Path("checkpoint.pt"))
    with pytest.raises(C.ResumeMismatch, match="pixel_scale: 'std' -> 'raw'"):
        C.check_same_run(saved, resolve("smoke", ["epochs=2", "pixel_scale=raw"]), Path("checkpoint.pt"))


@pytest.mark.parametrize("changes", [[], ["model=vgg_a_small", "batch_size=16", "train_limit=64", "val_limit=32"]],
                         ids=["alexnet", "vgg"])
def test_load_checkpoint_gives_the_model(tmp_path, changes):
    """AlexNet's first layer is conv1, VGG's conv1_1: both load, with their classes and channels."""
    cfg = resolve("smoke", ["epochs=1", *changes])
    result = train(cfg, out_dir=tmp_path, **QUIET)
    cfg2, model = C.load_checkpoint(tmp_path / "checkpoint.pt")
    assert cfg2.model == cfg.model and not model.training
    a, b = result.model.state_dict(), model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_load_checkpoint_of_a_run_older_than_a_key_gives_the_value_it_ran_with(tmp_path):
    """A run saved before `pixel_scale` existed fed its net std-scaled pixels: loading it must
    say so (the paper preset's default is raw pixels, which would evaluate it wrongly)."""
    result = train(resolve("smoke", ["epochs=1"]), out_dir=tmp_path, **QUIET)
    state = C.load_checkpoint_file(tmp_path / "checkpoint.pt")
    assert result.cfg.pixel_scale == "std"
    state["config"] = {k: v for k, v in state["config"].items() if k != "pixel_scale"}
    cfg, _ = C.load_checkpoint(None, state=state)
    assert cfg.pixel_scale == "std"
    state["config"]["pixel_scale"] = "raw"
    assert C.load_checkpoint(None, state=state)[0].pixel_scale == "raw"
