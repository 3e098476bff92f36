import math

import pandas as pd
import pytest
import torch

from alexnet.config import resolve
from alexnet.training.schedule import Schedule
from alexnet.training.loop import Interrupted, NonFiniteLoss, train


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


# the records' path, and the modern warm-up recipe's pieces: a per-step schedule, label
# smoothing, the fused kernels (fused=true: C++ LRN on channels_last, fused SGD)
MODERN = ["schedule=warmup_cosine", "warmup_epochs=1", "label_smoothing=0.1", "fused=true", "channels_last=true"]


@pytest.mark.parametrize("extra", [[], MODERN], ids=["plain", "modern"])
def test_interrupted_run_resumes_to_bitwise_identical_weights(tmp_path, monkeypatch, extra):
    cfg = resolve("smoke", ["epochs=3", "checkpoint_every=2", *extra])
    straight = train(cfg, out_dir=tmp_path / "a", log=lambda *_: None)

    # Stop the second run mid-epoch, as SIGTERM would, then resume it.
    import alexnet.training.loop as T
    real = T.train_epoch
    calls = {"n": 0}

    def stop_in_epoch_two(run, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            run.stop.requested = True            # the StopSignal flag
        return real(run, *args, **kw)
    monkeypatch.setattr(T, "train_epoch", stop_in_epoch_two)
    with pytest.raises(Interrupted, match="resume"):
        train(cfg, out_dir=tmp_path / "b", log=lambda *_: None)
    monkeypatch.setattr(T, "train_epoch", real)
    metrics = tmp_path / "b" / "metrics.csv"
    assert pd.read_csv(metrics).epoch.tolist() == [1]        # written as each epoch ends
    with open(metrics, "a") as f:                           # a crash after a row, before its checkpoint
        f.write(metrics.read_text().splitlines()[-1].replace("1,", "2,", 1) + "\n")
    resumed = train(cfg, out_dir=tmp_path / "b", log=lambda *_: None)

    a, b = weights(straight.model), weights(resumed.model)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3]
    assert resumed.history[-1]["val_top1_err"] == straight.history[-1]["val_top1_err"]
    rows = pd.read_csv(metrics)
    assert rows.epoch.tolist() == [1, 2, 3]                  # each epoch exactly once
    assert rows.val_top1_err.tolist() == [r["val_top1_err"] for r in resumed.history]


def test_resume_refuses_a_different_config(tmp_path):
    cfg = resolve("smoke", ["epochs=1"])
    train(cfg, out_dir=tmp_path, log=lambda *_: None)
    with pytest.raises(ValueError, match="different configuration.*lr"):
        train(cfg.replace(lr=0.5), out_dir=tmp_path, log=lambda *_: None)


def test_non_finite_loss_stops_with_the_step():
    cfg = resolve("smoke", ["lr=9", "init=kaiming", "epochs=3", "dropout=0"])
    with pytest.raises(NonFiniteLoss, match=r"epoch \d+, step \d+"):
        train(cfg, log=lambda *_: None)


def test_training_learns_the_synthetic_task():
    cfg = resolve("smoke", ["epochs=6", "init=xavier", "lr=0.01", "train_limit=256", "lrn=false"])
    result = train(cfg, log=lambda *_: None)
    first, last = result.history[0], result.history[-1]
    assert last["train_loss"] < first["train_loss"]
    assert last["val_top1_err"] < 0.6                      # chance is 0.9


def test_plateau_schedule_divides_by_ten_three_times():
    s = Schedule(resolve("paper", ["patience=1"]))
    lrs = [s.after_epoch(e, err) for e, err in enumerate([0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4])]
    assert lrs == pytest.approx([0.01, 0.01, 0.001, 0.0001, 1e-5, 1e-5, 1e-5])
    step = Schedule(resolve("paper", ["schedule=step", "step_every=2"]))
    assert [step.after_epoch(e, 0) for e in range(4)] == pytest.approx([0.01, 0.001, 0.001, 1e-4])
    assert math.isclose(Schedule(resolve("paper", ["schedule=cosine", "epochs=2"])).after_epoch(1, 0), 0.0,
                        abs_tol=1e-12)



def test_warmup_cosine_rises_linearly_then_falls_to_zero_by_step():
    s = Schedule(resolve("paper", ["schedule=warmup_cosine", "epochs=4", "warmup_epochs=1", "lr=0.1"]))
    steps = 10
    lrs = [s.at_step(e, k, steps) for e in range(4) for k in range(steps)]
    assert lrs[:10] == pytest.approx([0.01 * (k + 1) for k in range(10)])          # 0.01 .. 0.1 over epoch 1
    assert lrs[10] == pytest.approx(0.1) and lrs[25] == pytest.approx(0.05)         # cosine: half way at 2.5
    assert all(a > b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] < 0.0003
    assert Schedule(resolve("paper")).at_step(0, 0, steps) is None                    # per-epoch kinds


def test_label_smoothing_reaches_the_loss():
    base = ["epochs=1", "train_limit=32", "init=xavier"]
    plain, smooth = (train(resolve("smoke", base + extra), log=lambda *_: None).history[0]["train_loss"]
                     for extra in ([], ["label_smoothing=0.5"]))
    assert smooth != plain


def test_bf16_channels_last_runs():
    cfg = resolve("smoke", ["epochs=1", "precision=bf16", "channels_last=true"])
    result = train(cfg, log=lambda *_: None)
    assert math.isfinite(result.history[0]["train_loss"])


def test_a_warm_up_as_long_as_the_run_is_refused():
    from alexnet.config import ConfigError
    with pytest.raises(ConfigError, match="warmup_epochs=2 must be below epochs=2"):
        resolve("smoke", ["schedule=warmup_cosine", "warmup_epochs=2", "epochs=2"])
    assert resolve("smoke", ["schedule=warmup_cosine", "warmup_epochs=0.5", "epochs=2"]).warmup_epochs == 0.5


def test_plateau_stops_after_its_drops_when_asked():
    """§5: the rate is "reduced three times prior to termination": with stop_after_drops the run
    ends once the last drop is made and the error stops improving at that rate too."""
    from alexnet.training.schedule import Schedule
    cfg = resolve("smoke", ["schedule=plateau", "patience=1", "lr_drops=2", "stop_after_drops=true"])
    s = Schedule(cfg)
    for epoch in range(3):                          # no improvement after the first epoch
        s.after_epoch(epoch, 0.5)
    assert s.drops == 2 and not s.done()            # the last drop just made: one more epoch at it
    s.after_epoch(3, 0.5)
    assert s.done()
    assert not Schedule(cfg.replace(stop_after_drops=False)).done()
    r = train(cfg.replace(epochs=20, lr=1e-9), log=lambda *a: None)   # a rate too small to improve anything
    assert len(r.history) < 20 and sum(b["lr"] < a["lr"] for a, b in zip(r.history, r.history[1:])) == 2


def test_a_stop_during_the_evaluation_ends_it_and_resumes_equal(tmp_path, monkeypatch):
    """Issue 24: a SIGTERM that comes while an epoch is evaluated (50,000 images, or ten crops
    of them, outlast torchrun's grace period) stops the evaluation at the next batch; the
    epoch's training is saved and only its evaluation reruns on resume."""
    cfg = resolve("smoke", ["epochs=3"])
    straight = train(cfg, out_dir=tmp_path / "a", log=lambda *_: None)

    import alexnet.training.loop as T
    real, seen = T.evaluate, {"calls": 0, "batches": 0}

    def stop_in_the_second_evaluation(net, batches, *args, **kw):
        seen["calls"] += 1

        def counted():
            for b in batches:
                seen["batches"] += 1
                yield b
        if seen["calls"] == 2:
            T_run_stop["flag"].requested = True      # as SIGTERM would, mid-evaluation
        return real(net, counted(), *args, **kw)
    T_run_stop = {}
    real_build = T._build

    def build(*args, **kw):
        run = real_build(*args, **kw)
        T_run_stop["flag"] = run.stop
        return run
    monkeypatch.setattr(T, "evaluate", stop_in_the_second_evaluation)
    monkeypatch.setattr(T, "_build", build)
    with pytest.raises(Interrupted, match="evaluation of epoch 2"):
        train(cfg, out_dir=tmp_path / "b", log=lambda *_: None)
    batches_before = seen["batches"]
    monkeypatch.setattr(T, "evaluate", real)
    assert pd.read_csv(tmp_path / "b" / "metrics.csv").epoch.tolist() == [1]
    resumed = train(cfg, out_dir=tmp_path / "b", log=lambda *_: None)
    a, b = weights(straight.model), weights(resumed.model)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["val_top1_err"] for r in resumed.history] == [r["val_top1_err"] for r in straight.history]
    assert batches_before == len(list(straight.data.val.batches(0)))   # epoch 2's: none ran
