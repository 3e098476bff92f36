"""Watching a run (issue 18): status.json and `status()` while it goes and after it ended,
the curves as PNG, TensorBoard scalars read back with tensorboard's EventAccumulator."""
import sys

import pytest

from alexnet.config import ConfigError, resolve
from alexnet.training import loop
from alexnet.training.loop import Interrupted, train
from alexnet.training.status import plot_status, status

QUIET = dict(log=lambda *_: None)


def test_status_during_and_after_a_run(tmp_path, monkeypatch):
    seen, real = [], loop.train_epoch

    def peek(run, epoch, start, totals):                    # another shell, mid-run
        seen.append(status(tmp_path))
        return real(run, epoch, start, totals)
    monkeypatch.setattr(loop, "train_epoch", peek)
    train(resolve("smoke", ["epochs=2", "log_every=1"]), out_dir=tmp_path, **QUIET)
    during = seen[1]                                        # as epoch 2 begins
    assert "running" in during and "1/2 epochs done" in during
    assert "top-1" in during and "to the end" in during
    assert "checkpoint.pt whole (epoch 1, step 0)" in during
    after = status(tmp_path)
    assert "finished" in after and "2/2 epochs done" in after and "model=alexnet_small" in after
    assert "checkpoint.pt whole (epoch 2, step 0); checkpoint.prev.pt whole (epoch 1, step 0)" in after
    assert len(after.splitlines()) <= 24                    # one screen
    png = plot_status(tmp_path, tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    (tmp_path / "checkpoint.pt").write_bytes(b"")
    assert "checkpoint.pt NOT whole" in status(tmp_path)


def test_status_of_a_stopped_run(tmp_path, monkeypatch):
    real = loop.train_epoch

    def stop(run, *args):
        run.stop.requested = True
        return real(run, *args)
    monkeypatch.setattr(loop, "train_epoch", stop)
    with pytest.raises(Interrupted):
        train(resolve("smoke", ["epochs=2"]), out_dir=tmp_path, **QUIET)
    text = status(tmp_path)
    assert "stopped" in text and "0/2 epochs done, step 1/4 of the next" in text
    assert "no epoch finished yet" in text


def test_tensorboard_scalars_read_back(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    cfg = resolve("smoke", ["epochs=3", "tensorboard=true", "log_every=2", "checkpoint_every=3"])
    real, calls = loop.train_epoch, {"n": 0}

    def stop_in_epoch_two(run, *args):                      # SIGTERM mid-run, then resume
        calls["n"] += 1
        run.stop.requested = calls["n"] == 2
        return real(run, *args)
    monkeypatch.setattr(loop, "train_epoch", stop_in_epoch_two)
    with pytest.raises(Interrupted):
        train(cfg, out_dir=tmp_path, **QUIET)
    monkeypatch.setattr(loop, "train_epoch", real)
    result = train(cfg, out_dir=tmp_path, **QUIET)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert {"train/loss", "train/error", "val/top1_err", "val/top5_err", "val/loss", "lr"} <= set(scalars)
    val = events.Scalars("val/top1_err")
    assert [e.step for e in val] == [4, 8, 12]              # 4 steps an epoch, each epoch once
    assert [e.value for e in val] == pytest.approx([r["val_top1_err"] for r in result.history])
    assert [e.step for e in events.Scalars("train/loss")] == [2, 4, 6, 8, 10, 12]


def test_tensorboard_missing_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)   # as if not installed
    with pytest.raises(ConfigError, match="pip install tensorboard") as err:
        train(resolve("smoke", ["epochs=1", "tensorboard=true"]), out_dir=tmp_path, **QUIET)
    assert "\n" not in str(err.value)
