"""The training loop: one plain function, §5's recipe, checkpoint and exact resume.

    result = train(cfg, out_dir="runs/x")   # resumes from runs/x/checkpoint.pt if present

Everything random is drawn from seeds derived from (cfg.seed, epoch, step): the weights
from cfg.seed, the batch order from (seed, epoch), augmentation and dropout masks from
(seed, epoch, step). So a run stopped anywhere and resumed from its checkpoint ends with
bitwise the same weights as one that never stopped.

Under `torchrun --nproc_per_node=N -m alexnet train ...` the same loop runs on every rank;
`alexnet.parallel` supplies the differences (the device, the wrapped model, this rank's rows
of each batch, the combined metrics) and rank 0 alone logs and writes.

The pieces around the loop have their own files: `optim` (§5's update rule), `schedule`,
`checkpoint` (save, read, resume), `guard` (stopping a run whose loss blows up), `monitor`
(metrics.csv, status.json, TensorBoard, the bar) and `progress` (signals, speed).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import locks, parallel
from ..config import Config
from ..data import DataBundle, load_data
from ..data.loader import step_seed
from ..devices import autocast_dtype, needs_grad_scaler, pick_device
from ..evaluation.metrics import autocast, evaluate
from ..models import build_model, compiled
from . import checkpoint
from .guard import DivergedLoss, Guard, NonFiniteLoss
from .monitor import Monitor, epoch_row
from .optim import make_optimizer
from .progress import Estimate, StopSignal, Stopped, until_stopped
from .schedule import Schedule

__all__ = ["DivergedLoss", "Interrupted", "NonFiniteLoss", "TrainResult", "make_optimizer",
           "pick_device", "train", "train_epoch"]


class Interrupted(RuntimeError):
    """SIGTERM/SIGINT arrived; a checkpoint was saved and the run can be resumed. `exit_code`:
    128 + the signal, what a shell reports for a process the signal ended (143, Ctrl-C 130)."""

    def __init__(self, message: str, signum: int = signal.SIGTERM):
        super().__init__(message)
        self.exit_code = 128 + int(signum)


@dataclass
class TrainResult:
    model: torch.nn.Module
    history: list[dict]
    data: DataBundle
    cfg: Config
    device: torch.device
    out_dir: Path | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Run:
    """One run's state: what every step needs besides the batch."""
    cfg: Config
    model: torch.nn.Module              # the unwrapped model (what a checkpoint holds)
    net: torch.nn.Module                # what steps: the wrapped (DDP, a column ...)
    opt: torch.optim.Optimizer
    schedule: Schedule
    data: DataBundle                    # this rank's share of every batch
    dist: parallel.Dist
    ckpt: Path | None                   # this rank's checkpoint file
    log: object
    steps: int                          # optimizer steps per epoch
    check_every: int                    # steps between finiteness checks (a check syncs a GPU)
    scaler: torch.amp.GradScaler = None
    history: list = field(default_factory=list)
    stop: StopSignal = field(default_factory=StopSignal)
    guard: Guard = None
    watch: Monitor = None
    estimate: Estimate = None

    @property
    def device(self) -> torch.device:
        return self.dist.device


def check_every(device: torch.device) -> int:
    return 1 if device.type == "cpu" else 25


def _step(run: Run, epoch: int, step: int, x, y):
    """One SGD step on the batch (x, y); (loss, logits, y on the device)."""
    cfg = run.cfg
    torch.manual_seed(step_seed(cfg.seed, epoch, step, int(os.environ.get("RANK", 0))))
    x, y = x.to(run.device, non_blocking=True), y.to(run.device, non_blocking=True)
    if cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with autocast(run.device, cfg.precision):
        logits = run.net(x)
    lr = run.schedule.at_step(epoch, step, run.steps)
    if lr is not None:                                      # a per-step schedule (warmup_cosine)
        for group in run.opt.param_groups:
            group["lr"] = lr
    loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
    run.opt.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(run.opt)
    run.scaler.update()
    return loss, logits, y


def train_epoch(run: Run, epoch: int, start: int, totals: dict) -> dict:
    """One pass over the training batches from step `start`; returns the running totals."""
    run.net.train()
    run.watch.begin_epoch(epoch, start)
    lr = run.opt.param_groups[0]["lr"]
    for step, (x, y) in enumerate(run.data.train.batches(epoch, start), start):
        if step >= run.steps:
            break
        loss, logits, y = _step(run, epoch, step, x, y)
        totals["loss"] += loss.detach() * y.shape[0]
        totals["wrong"] += (logits.detach().argmax(1) != y).sum()
        totals["n"] += y.shape[0]
        if (step + 1) % run.check_every == 0:
            run.guard.check(loss, totals["loss"], f"epoch {epoch + 1}, step {step + 1}", lr)
        run.watch.step(epoch, step, loss, totals)
        run.estimate.tick(step + 1 - start, step + 1 == run.steps)
        stop = run.dist.most(run.stop.signum)              # all ranks stop at the same step
        if stop or (run.cfg.checkpoint_every and (step + 1) % run.cfg.checkpoint_every == 0):
            save(run, epoch, step + 1, totals)
            if stop:
                halt(run, stop, f"epoch {epoch + 1}, step {step + 1}")
    if not torch.isfinite(totals["loss"]):
        run.guard.stop(NonFiniteLoss(f"the training loss became non-finite in epoch {epoch + 1} "
                                     f"(lr={lr:g}); {run.guard.advice()}"), lr)
    return totals


def run_epoch(run: Run, epoch: int, start: int, totals: dict) -> dict:
    """Train one epoch (from step `start`), evaluate, log and checkpoint; fresh totals."""
    cfg = run.cfg
    for group in run.opt.param_groups:
        group["lr"] = run.schedule.lr
    t0, before = time.perf_counter(), totals["n"].clone()  # before: images of the epoch before a resume
    totals = train_epoch(run, epoch, start, totals)
    seconds = time.perf_counter() - t0
    try:
        val = evaluate(run.net, until_stopped(run.data.val.batches(epoch), lambda: run.dist.most(run.stop.signum)),
                       run.device, cfg.precision, cfg.channels_last)
    except Stopped:                                        # the epoch's training is kept; only
        save(run, epoch, run.steps, totals)                # its evaluation reruns on resume
        halt(run, run.dist.most(run.stop.signum), f"the evaluation of epoch {epoch + 1}")
    val = parallel.reduce_eval(val, run.dist)
    seen = parallel.reduce_totals({**totals, "before": before}, run.dist)   # every rank's images
    row = epoch_row(epoch, run.opt.param_groups[0]["lr"], seen, val, seconds,   # lr: the last step's
                    ran=int(seen["n"] - seen["before"]))    # images/s: of the steps run just now
    run.history.append(row)
    run.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    run.schedule.after_epoch(epoch, val["top1_err"])
    run.watch.end_epoch(row)
    totals = _zero_totals(run.device)
    save(run, epoch + 1, 0, totals)
    return totals


def halt(run: Run, signum: int, where: str) -> None:
    """Stop every rank once the checkpoint at `where` is on disk: Interrupted (exit 128 + signum)."""
    run.dist.barrier()                                      # no rank leaves before rank 0 has saved
    raise Interrupted(f"stopped by {signal.Signals(signum).name} at {where}; run the same command "
                      "again to resume from the last checkpoint", signum)


def save(run: Run, epoch: int, step: int, totals: dict) -> None:
    """Checkpoint the run at (epoch, step): not while the loss is above the divergence bound,
    and only once the weights are known to be finite."""
    if not run.ckpt:
        return
    if run.dist.any(run.guard.above > 0):                  # maybe diverging: keep the last good one
        run.log(f"checkpoint at epoch {epoch + (step > 0)}, step {step} skipped: the loss is above "
                f"{run.cfg.max_loss_ratio:g} x its first value")
        return
    lr = run.opt.param_groups[0]["lr"]
    run.guard.check_weights(run.model, f"epoch {epoch + (step > 0)}, step {step}", lr, run.dist.any)
    per_rank = {k: run.dist.gather(v) for k, v in totals.items()}   # each rank resumes its own sums
    if run.dist.writes_checkpoint():
        state = dict(model=run.model.state_dict(), optimizer=run.opt.state_dict(),
                     schedule=run.schedule.state_dict(), history=run.history, epoch=epoch, step=step,
                     totals=per_rank, config=run.cfg.to_dict(), first_loss=run.guard.first)
        checkpoint.save_checkpoint(run.ckpt, state, run.cfg.keep_checkpoints)


def train(cfg: Config, out_dir: str | Path | None = None, data: DataBundle | None = None,
          log=print) -> TrainResult:
    """Train `cfg.model` on `cfg.dataset` for `cfg.epochs`; checkpoint each epoch in `out_dir`."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    # torchrun's RANK/WORLD_SIZE -> process group, this rank's device, the parallel mode.
    dist = parallel.setup(cfg, pick_device(cfg))
    log = dist.log(log)                                     # rank 0 alone logs and writes
    data = data or load_data(cfg)
    # One writer per run folder: a second run into it stops here with one line (locks.Busy).
    owner = locks.hold(Path(out_dir) / ".lock", f"the run folder {out_dir}") if out_dir and dist.main \
        else contextlib.nullcontext()
    with owner:
        return _train(cfg, dist, data, out_dir, log)


def _train(cfg: Config, dist, data: DataBundle, out_dir, log) -> TrainResult:
    run = _build(cfg, dist, data, out_dir, log)
    epoch0, step0, totals = _start(run, Path(out_dir) if out_dir else None)
    state = "failed"
    with run.stop, dist:
        try:
            for epoch in range(epoch0, cfg.epochs):
                if run.schedule.done():                 # §5: "reduced three times prior to termination"
                    break
                totals = run_epoch(run, epoch, step0 if epoch == epoch0 else 0, totals)
                stop = run.dist.most(run.stop.signum)       # came after the last step: saved just now
                if stop and epoch + 1 < cfg.epochs:
                    halt(run, stop, f"the end of epoch {epoch + 1}")
            state = "finished"
        except Interrupted:
            state = "stopped"
            raise
        except NonFiniteLoss:
            state = "diverged"
            raise
        finally:
            run.watch.close(state)
    return TrainResult(run.model, run.history, data, cfg, dist.device, Path(out_dir) if out_dir else None)


def _build(cfg: Config, dist, data: DataBundle, out_dir, log) -> Run:
    """The model on this rank's device, wrapped for the parallel mode, with its optimizer."""
    model = build_model(cfg, cfg.num_classes or data.num_classes, data.in_channels).to(dist.device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    net = parallel.wrap(model, dist)                        # DDP, a column, ... or `model`
    mine = parallel.shard_data(data, dist)                  # this rank's rows of each batch
    steps = min(len(data.train), cfg.max_steps) if cfg.max_steps else len(data.train)
    run = Run(cfg, parallel.unwrap(net), compiled(net, cfg), make_optimizer(net, cfg),   # torch_compile=true
              Schedule(cfg), mine, dist, dist.checkpoint(out_dir), log, steps, check_every(dist.device))
    run.scaler = torch.amp.GradScaler(dist.device.type, enabled=needs_grad_scaler(
        dist.device, autocast_dtype(dist.device, cfg.precision)))
    return run


def _start(run: Run, run_dir: Path | None) -> tuple[int, int, dict]:
    """Resume from the run directory's checkpoint, or start afresh: (epoch, step, totals)."""
    cfg, dist = run.cfg, run.dist
    parts = dict(model=run.model, optimizer=run.opt, schedule=run.schedule)
    state = checkpoint.resume(run.ckpt, cfg, parts, run.device, run.log, dist.writes_checkpoint())
    if state is None:
        _check_config_json(run_dir, cfg)
        state = dict(history=[], epoch=0, step=0, totals=None, config=cfg.to_dict())
    elif state["config"]["lr"] != cfg.lr:                   # allowed after a divergence only
        run.schedule.lr *= cfg.lr / state["config"]["lr"]
        run.log(f"lr {state['config']['lr']:g} -> {cfg.lr:g}: the schedule's rate is now {run.schedule.lr:g}")
    if not dist.same(state["epoch"] * 10 ** 9 + state["step"]):
        raise checkpoint.CheckpointError(f"the ranks' checkpoints in {run_dir} are of different steps; "
                                         "delete the newest ones (checkpoint*.pt) to resume from a common one")
    if run_dir and dist.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        tmp = run_dir / f".config.json.{os.getpid()}.tmp"
        tmp.write_text(cfg.to_json())
        os.replace(tmp, run_dir / "config.json")
    run.history = state["history"]
    run.guard = Guard(cfg, state.get("first_loss"), run_dir, dist.main)
    run.watch = Monitor(cfg, run_dir, run.steps, dist.main, dist.mean)
    run.watch.begin(run.history, state["epoch"], state["step"])
    run.estimate = Estimate(cfg.batch_size, run.steps,
                            cfg.epochs - state["epoch"] - state["step"] / max(run.steps, 1), run.log)
    totals = _zero_totals(run.device) if state["totals"] is None else \
        {k: v.to(run.device) for k, v in checkpoint.rank_totals(state["totals"], dist.rank, dist.world).items()}
    return state["epoch"], state["step"], totals


def _check_config_json(run_dir: Path | None, cfg: Config) -> None:
    """A fresh start in a folder that holds another run's config.json is refused."""
    path = run_dir / "config.json" if run_dir else None
    if path and path.exists():
        try:
            saved = json.loads(path.read_text())
        except ValueError:
            return                                          # unreadable: nothing to protect
        checkpoint.check_same_run(saved, cfg, path, checkpoint.allowed_changes(run_dir, saved))


def _zero_totals(device) -> dict:
    return dict(loss=torch.zeros((), dtype=torch.float64, device=device),
                wrong=torch.zeros((), dtype=torch.int64, device=device),
                n=torch.zeros((), dtype=torch.int64, device=device))
