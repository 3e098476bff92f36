"""The training loop: one plain function, §5's recipe, checkpoint and exact resume.

    result = train(cfg, out_dir="runs/x")   # resumes from runs/x/checkpoint.pt if present

Everything random is drawn from seeds derived from (cfg.seed, epoch, step): the weights
from cfg.seed, the batch order from (seed, epoch), augmentation and dropout masks from
(seed, epoch, step). So a run stopped anywhere and resumed from its checkpoint ends with
bitwise the same weights as one that never stopped.

Under `torchrun --nproc_per_node=N -m alexnet train ...` the same loop runs on every rank;
`alexnet.parallel` supplies the differences (the device, the wrapped model, this rank's rows
of each batch, the combined metrics) and rank 0 alone logs and writes.
"""
from __future__ import annotations

import math
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .. import parallel
from ..config import Config
from ..data import DataBundle, load_data
from ..data.loader import step_seed
from ..evaluation.metrics import autocast, evaluate
from ..models import build_model
from .schedule import Schedule


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the message names the step."""


class Interrupted(RuntimeError):
    """SIGTERM/SIGINT arrived; a checkpoint was saved and the run can be resumed."""


@dataclass
class TrainResult:
    model: torch.nn.Module
    history: list[dict]
    data: DataBundle
    cfg: Config
    device: torch.device
    out_dir: Path | None = None
    extra: dict = field(default_factory=dict)


def pick_device(cfg: Config) -> torch.device:
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(cfg.device)


def make_optimizer(model: torch.nn.Module, cfg: Config) -> torch.optim.SGD:
    """§5: SGD, momentum 0.9, weight decay 5e-4 on the weights (the paper's update rule
    decays w; biases are left alone, as in cuda-convnet's layer parameters)."""
    weights = [p for p in model.parameters() if p.dim() > 1]
    biases = [p for p in model.parameters() if p.dim() <= 1]
    return torch.optim.SGD([dict(params=weights, weight_decay=cfg.weight_decay),
                            dict(params=biases, weight_decay=0.0)],
                           lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)


class StopSignal:
    """Turns SIGTERM/SIGINT into a flag the loop checks between steps (pre-emption safe)."""

    def __init__(self):
        self.requested, self.previous = False, {}

    def __enter__(self):
        if hasattr(signal, "SIGTERM") and _in_main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame):
        self.requested = True

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _in_main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def save_checkpoint(path: Path, **state) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)                                   # never a half-written checkpoint


class Estimate:
    """images/s over the first steps of a run -> time per epoch and to the end, printed once.
    Steps 1-2 are skipped: they include warm-up (cuDNN autotuning, compilation, page faults)."""

    def __init__(self, cfg: Config, steps: int, epochs_left: float, log):
        self.images, self.steps, self.epochs_left, self.log = cfg.batch_size, steps, epochs_left, log
        self.t0, self.done = None, False

    def tick(self, done: int, last: bool) -> None:        # done: steps run so far in this call
        if self.done:
            return
        if done == 2:
            self.t0 = time.perf_counter()
        elif self.t0 is not None and (done == 12 or last):
            rate = (done - 2) * self.images / (time.perf_counter() - self.t0)
            epoch = self.steps * self.images / rate
            self.log(f"estimate: {rate:.0f} images/s over steps 3-{done} -> {_hms(epoch)} per epoch, "
                     f"{_hms(epoch * self.epochs_left)} to finish")
            self.done = True


def _hms(seconds: float) -> str:
    h, rem = divmod(int(seconds), 3600)
    return f"{h}h{rem // 60:02d}m" if h else f"{rem // 60}m{rem % 60:02d}s"


def train_epoch(model, opt, scaler, data: DataBundle, cfg: Config, device, epoch: int,
                start: int, totals: dict, stop: StopSignal, save, *, dist=parallel.Dist(),
                estimate: Estimate | None = None) -> dict:
    """One pass over the training batches from step `start`; returns the running totals."""
    model.train()
    steps = min(len(data.train), cfg.max_steps) if cfg.max_steps else len(data.train)
    check_every = 1 if device.type == "cpu" else 25       # a finiteness check syncs a GPU
    bar = tqdm(total=steps, initial=start, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False,
               disable=not cfg.progress)
    for step, (x, y) in enumerate(data.train.batches(epoch, start), start):
        if step >= steps:
            break
        torch.manual_seed(step_seed(cfg.seed, epoch, step, int(os.environ.get("RANK", 0))))
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(device, cfg.precision):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        totals["loss"] += loss.detach() * y.shape[0]
        totals["wrong"] += (logits.detach().argmax(1) != y).sum()
        totals["n"] += y.shape[0]
        if (step + 1) % check_every == 0 and not torch.isfinite(totals["loss"]):
            raise NonFiniteLoss(f"the training loss became {loss.item()} at epoch {epoch + 1}, "
                                f"step {step + 1} (lr={opt.param_groups[0]['lr']:g}); lower the "
                                "learning rate or use precision=fp32, then restart (the last "
                                "checkpoint holds the weights from before)")
        bar.update(1)
        if cfg.progress and step % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if estimate:
            estimate.tick(step + 1 - start, step + 1 == steps)
        stopping = dist.any(stop.requested)                 # all ranks stop at the same step
        if stopping or (cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0):
            save(epoch, step + 1, totals)
            if stopping:
                raise Interrupted(f"stopped by a signal at epoch {epoch + 1}, step {step + 1}; "
                                  "checkpoint saved, run the same command again to resume")
    bar.close()
    if not torch.isfinite(totals["loss"]):
        raise NonFiniteLoss(f"the training loss became non-finite in epoch {epoch + 1} "
                            f"(lr={opt.param_groups[0]['lr']:g}); lower the learning rate")
    return totals


def train(cfg: Config, out_dir: str | Path | None = None, data: DataBundle | None = None,
          log=print) -> TrainResult:
    """Train `cfg.model` on `cfg.dataset` for `cfg.epochs`; checkpoint each epoch in `out_dir`."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    # torchrun's RANK/WORLD_SIZE -> process group, this rank's device, the parallel mode.
    dist = parallel.setup(cfg, pick_device(cfg))
    device, log = dist.device, dist.log(log)                # rank 0 alone logs and writes
    data = data or load_data(cfg)
    mine = parallel.shard_data(data, dist)                  # this rank's rows of each batch
    model = build_model(cfg, cfg.num_classes or data.num_classes, data.in_channels).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    net = parallel.wrap(model, dist)                        # DDP, a column, ... or `model`
    opt, schedule = make_optimizer(net, cfg), Schedule(cfg)
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16")
    step_fn = torch.compile(net) if cfg.compile else net
    ckpt = dist.checkpoint(out_dir)                         # one file, or one per rank's share
    history, epoch0, step0, totals = _resume(ckpt, cfg, net, opt, schedule, device, log)
    if ckpt and not ckpt.exists() and dist.main:
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        (ckpt.parent / "config.json").write_text(cfg.to_json())

    def save(epoch, step, totals_now):
        if ckpt and dist.writes_checkpoint():
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            save_checkpoint(ckpt, model=parallel.unwrap(net).state_dict(), optimizer=opt.state_dict(),
                            schedule=schedule.state_dict(), history=history, epoch=epoch, step=step,
                            totals={k: v.detach().cpu() for k, v in totals_now.items()},
                            config=cfg.to_dict())

    steps = min(len(data.train), cfg.max_steps) if cfg.max_steps else len(data.train)
    estimate = Estimate(cfg, steps, cfg.epochs - epoch0 - step0 / max(steps, 1), log)
    with StopSignal() as stop, dist:
        for epoch in range(epoch0, cfg.epochs):
            for group in opt.param_groups:
                group["lr"] = schedule.lr
            t0 = time.perf_counter()
            totals = train_epoch(step_fn, opt, scaler, mine, cfg, device, epoch,
                                 step0 if epoch == epoch0 else 0, totals, stop, save,
                                 dist=dist, estimate=estimate)
            seconds = time.perf_counter() - t0
            val = parallel.reduce_eval(evaluate(step_fn, mine.val.batches(epoch), device, cfg.precision,
                                                cfg.channels_last), dist)
            seen = parallel.reduce_totals(totals, dist)     # every rank's images
            whole = step0 == 0 or epoch > epoch0            # a resumed epoch's rate would mislead
            row = _epoch_row(epoch, schedule.lr, seen, val, seconds, whole)
            history.append(row)
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
            schedule.after_epoch(epoch, val["top1_err"])
            totals = _zero_totals(device)
            save(epoch + 1, 0, totals)
    if ckpt and dist.main:
        import pandas as pd
        pd.DataFrame(history).to_csv(ckpt.parent / "metrics.csv", index=False)
    return TrainResult(parallel.unwrap(net), history, data, cfg, device, Path(out_dir) if out_dir else None)


def _resume(ckpt, cfg: Config, net, opt, schedule, device, log):
    """(history, epoch, step, totals) from the checkpoint in `ckpt`, loading the model,
    optimizer and schedule state; a fresh start when there is none."""
    if not (ckpt and ckpt.exists()):
        return [], 0, 0, _zero_totals(device)
    state = torch.load(ckpt, map_location=device, weights_only=False)
    _check_same_run(state["config"], cfg, ckpt)
    parallel.unwrap(net).load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    totals = {k: torch.as_tensor(v, device=device) for k, v in state["totals"].items()}
    log(f"resumed from {ckpt}: epoch {state['epoch'] + 1}, step {state['step']}")
    return state["history"], state["epoch"], state["step"], totals


def _epoch_row(epoch: int, lr: float, seen: dict, val: dict, seconds: float, whole: bool) -> dict:
    """One metrics.csv row: the epoch's running training loss/error over every rank's
    images, the validation numbers, and images/s (NaN for an epoch resumed midway)."""
    n = int(seen["n"])
    return dict(epoch=epoch + 1, lr=lr, train_loss=float(seen["loss"]) / n,
                train_err=float(seen["wrong"]) / n, val_loss=val["loss"],
                val_top1_err=val["top1_err"], val_top5_err=val["top5_err"],
                seconds=seconds, images_per_s=n / seconds if whole else math.nan)


def _zero_totals(device) -> dict:
    return dict(loss=torch.zeros((), dtype=torch.float64, device=device),
                wrong=torch.zeros((), dtype=torch.int64, device=device),
                n=torch.zeros((), dtype=torch.int64, device=device))


# Keys that may differ between a run and its resumption without changing the result.
RESUMABLE_CHANGES = {"progress", "workers", "out", "epochs", "checkpoint_every", "data"}


def _check_same_run(saved: dict, cfg: Config, path: Path) -> None:
    diff = {k: (saved.get(k), v) for k, v in cfg.to_dict().items()
            if k not in RESUMABLE_CHANGES and saved.get(k) != v}
    if diff:
        detail = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in diff.items())
        raise ValueError(f"{path} was written by a different configuration ({detail}); "
                         "use another out directory or delete the checkpoint to start afresh")
