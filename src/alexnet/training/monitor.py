"""Watching a run while it goes; rank 0 alone writes, into the run directory.

- `metrics.csv`: one row per epoch, appended and flushed as each epoch ends; rewritten whole
  from the checkpoint's history when a run starts or resumes, so after a SIGTERM and a resume
  every epoch is in it exactly once;
- `status.json`: where the run is (epoch, step, images/s, the time to the end), rewritten
  every `log_every` steps: what `alexnet status RUN_DIR` reads while the run goes;
- TensorBoard scalars with `tensorboard=true` (`tensorboard --logdir runs/`): train/loss and
  train/error every `log_every` steps, val/top1_err, val/top5_err, val/loss, lr and
  images_per_s per epoch;
- the progress bar, on rank 0 only: the loss averaged over the ranks (the whole batch's),
  images/s and the time to the end of the whole run.
"""
from __future__ import annotations

import csv
import json
import math
import os
import socket
import time
from pathlib import Path

from tqdm.auto import tqdm

from ..config import ConfigError
from .progress import Speed, hms

COLUMNS = ("epoch", "lr", "train_loss", "train_err", "val_loss", "val_top1_err", "val_top5_err",
           "seconds", "images_per_s")


def epoch_row(epoch: int, lr: float, seen: dict, val: dict, seconds: float, ran: int) -> dict:
    """One metrics.csv row: the epoch's running training loss/error over every rank's
    images, the validation numbers, and the speed: `ran` images (every rank's) trained in
    `seconds` since the epoch started, or since the resume for an epoch resumed midway (its
    rate is that of the steps run after the resume; NaN if there were none)."""
    n = int(seen["n"])
    return dict(epoch=epoch + 1, lr=lr, train_loss=float(seen["loss"]) / n,
                train_err=float(seen["wrong"]) / n, val_loss=val["loss"],
                val_top1_err=val["top1_err"], val_top5_err=val["top5_err"],
                seconds=seconds, images_per_s=ran / seconds if ran and seconds > 0 else math.nan)


def write_metrics(path: Path, rows: list[dict]) -> None:
    """metrics.csv holding exactly `rows`, replaced whole (a temp file renamed over it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _summary_writer(run_dir, purge_step: int):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("tensorboard=true needs the tensorboard package: pip install tensorboard "
                          "(or the project's extra: pip install -e '.[tensorboard]')") from None
    return SummaryWriter(str(run_dir), purge_step=purge_step) if run_dir else None


class Monitor:
    """The bar, metrics.csv, status.json and TensorBoard of one run (see the module docstring)."""

    def __init__(self, cfg, run_dir: Path | None, steps: int, main: bool, mean=float):
        """`mean`: a rank's number -> the mean over the ranks (`Dist.mean`), for the bar."""
        self.cfg, self.steps, self.mean = cfg, steps, mean
        self.dir = Path(run_dir) if run_dir and main else None
        self.speed = Speed(cfg.batch_size, steps, cfg.epochs)
        self.tb, self.bar, self.last = None, None, None
        self.main, self.t_epoch, self.pos = main, time.perf_counter(), (0, 0)
        if cfg.tensorboard:
            _summary_writer(None, 0)                        # every rank: fail alike, at once

    def begin(self, history: list[dict], epoch: int, step: int) -> None:
        """A run starts (or resumes) at (epoch, step) with the epochs of `history` done."""
        self.pos = (epoch, step)
        if self.dir:
            self.dir.mkdir(parents=True, exist_ok=True)
            write_metrics(self.dir / "metrics.csv", history)
            if self.cfg.tensorboard:                        # events past the resume are dropped
                self.tb = _summary_writer(self.dir, epoch * self.steps + step + 1)

    def begin_epoch(self, epoch: int, start: int) -> None:
        self.bar = tqdm(total=self.steps, initial=start, desc=f"epoch {epoch + 1}/{self.cfg.epochs}",
                        leave=False, disable=not (self.cfg.progress and self.main))   # one bar
        self.t_epoch, self.last = time.perf_counter(), None
        self.speed.restart()

    def step(self, epoch: int, step: int, loss, totals: dict) -> None:
        """After optimizer step `step` (0-based) of `epoch`; `totals`: the epoch's sums so far."""
        self.speed.tick()
        self.pos = (epoch, step + 1)
        self.bar.update(1)
        if self.cfg.progress and step % 10 == 0:          # every rank: the mean is a collective
            mean = self.mean(loss.item())                   # the whole batch's loss, not this rank's rows
            self.bar.set_postfix(loss=f"{mean:.3f}", img_s=f"{self.speed.rate:.0f}",
                                 run_eta=hms(self.speed.eta(epoch, step + 1)))
        if self.dir and (step + 1) % self.cfg.log_every == 0:
            self._log_train(epoch * self.steps + step + 1, totals)
            self.write_status(epoch, step + 1, "running")

    def _log_train(self, global_step: int, totals: dict) -> None:
        if self.tb is None:
            return
        now = {k: float(v) for k, v in totals.items()}
        before = self.last if self.last and now["n"] > self.last["n"] else dict(loss=0.0, wrong=0.0, n=0.0)
        n = max(now["n"] - before["n"], 1.0)
        self.tb.add_scalar("train/loss", (now["loss"] - before["loss"]) / n, global_step)
        self.tb.add_scalar("train/error", (now["wrong"] - before["wrong"]) / n, global_step)
        self.last = now

    def end_epoch(self, row: dict) -> None:
        """The epoch's metrics.csv row: appended (and flushed), and sent to TensorBoard."""
        self.bar.close()
        self.pos = (row["epoch"], 0)
        self.speed.eval_seconds = max(time.perf_counter() - self.t_epoch - row["seconds"], 0.0)
        if not self.dir:
            return
        with open(self.dir / "metrics.csv", "a", newline="") as f:
            csv.DictWriter(f, COLUMNS, extrasaction="ignore").writerow(row)
            f.flush()
            os.fsync(f.fileno())
        if self.tb is not None:
            step = row["epoch"] * self.steps
            for key in ("val_top1_err", "val_top5_err", "val_loss"):
                self.tb.add_scalar(key.replace("val_", "val/"), row[key], step)
            self.tb.add_scalar("lr", row["lr"], step)
            if math.isfinite(row["images_per_s"]):
                self.tb.add_scalar("images_per_s", row["images_per_s"], step)
            self.tb.flush()
        self.write_status(row["epoch"], 0, "running")

    def write_status(self, epochs_done: int, step: int, state: str) -> None:
        """status.json: the epochs done and the steps done in the next, the speed, the time left."""
        if not self.dir:
            return
        eta = 0.0 if state == "finished" else self.speed.eta(epochs_done, step)
        info = dict(state=state, epochs_done=epochs_done, epochs=self.cfg.epochs, step=step,
                    steps=self.steps, images_per_s=_num(self.speed.rate), eta_seconds=_num(eta),
                    updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"), pid=os.getpid(), host=socket.gethostname())
        tmp = self.dir / f".status.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(info, indent=1))
        os.replace(tmp, self.dir / "status.json")

    def close(self, state: str) -> None:
        """The run ends: finished, stopped (by a signal), diverged or failed."""
        if self.bar is not None:
            self.bar.close()
        self.write_status(*self.pos, state)
        if self.tb is not None:
            self.tb.close()


def _num(x: float):
    return x if math.isfinite(x) else None
