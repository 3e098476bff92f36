"""Stopping a run that has gone wrong before it writes a bad checkpoint.

- a NaN or infinite loss stops the run (`NonFiniteLoss`): checked every step on a CPU, every
  `check_every` steps on a GPU (a check waits for the GPU);
- a loss above `max_loss_ratio` x the run's first loss at `PATIENCE` checks in a row stops
  it too (`DivergedLoss`): a rate too high for the net can keep the loss finite but huge
  (lr=10 reaches 2e11) and would otherwise "succeed";
- the weights are checked finite before every checkpoint is written (on a CPU the loss is
  checked before the update, so the weights can blow up after the last check).

The message's advice works: rerun the same command with the lower `lr` it names; the run
resumes from its last checkpoint (the only change of `lr` a resume accepts, see
`checkpoint.allowed_changes`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from .checkpoint import DIVERGED

PATIENCE = 5          # checks in a row above the bound: one noisy batch is not a divergence


class NonFiniteLoss(RuntimeError):
    """The loss (or the weights) became NaN or infinite; the message names the step."""


class DivergedLoss(NonFiniteLoss):
    """The loss stayed far above its starting value: the run is diverging."""


def weights_finite(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.state_dict().values()
               if torch.is_tensor(p) and p.is_floating_point())


class Guard:
    """Raises NonFiniteLoss/DivergedLoss from the losses it is shown; `first` is the run's
    first loss (kept in the checkpoint, so a resumed run keeps the same bound)."""

    def __init__(self, cfg, first: float | None = None, run_dir: Path | None = None, main: bool = True):
        self.cfg, self.first, self.run_dir, self.main, self.above = cfg, first, run_dir, main, 0

    def advice(self) -> str:
        cfg = self.cfg
        fp = "" if cfg.precision == "fp32" else " (or precision=fp32)"
        resumes = self.run_dir is not None and any(self.run_dir.glob("checkpoint*.pt"))
        where = "resumes from its last checkpoint" if resumes else "starts again"
        return f"rerun the same command with lr={cfg.lr / 10:g}{fp}: the run {where}"

    def check(self, loss: torch.Tensor, window_sum: torch.Tensor, where: str, lr: float) -> None:
        """`loss`: this step's; `window_sum`: the running sum since the epoch began (a NaN in
        any step since the last check shows in it)."""
        value = loss.item()
        if not (math.isfinite(value) and bool(torch.isfinite(window_sum))):
            self.stop(NonFiniteLoss(f"the training loss became {value} at {where} (lr={lr:g}); "
                                    f"{self.advice()}"), lr)
        if self.first is None:
            self.first = value
        ratio = self.cfg.max_loss_ratio
        self.above = self.above + 1 if ratio and value > ratio * self.first else 0
        if self.above >= PATIENCE:
            self.stop(DivergedLoss(f"the training loss diverged: {value:.4g} at {where}, above "
                                   f"{ratio:g} x its first value {self.first:.4g} for {PATIENCE} checks "
                                   f"in a row (lr={lr:g}); {self.advice()}"), lr)

    def check_weights(self, model: torch.nn.Module, where: str, lr: float, any_rank=bool) -> None:
        """Before a checkpoint is written; `any_rank` makes every rank stop if one must."""
        if any_rank(not weights_finite(model)):
            self.stop(NonFiniteLoss(f"the weights became non-finite at {where} (lr={lr:g}); "
                                    f"no checkpoint written; {self.advice()}"), lr)

    def stop(self, err: NonFiniteLoss, lr: float) -> None:
        """Leave the marker that lets a rerun with a lower `lr` resume, then raise `err`."""
        if self.main and self.run_dir is not None and self.run_dir.exists():
            (self.run_dir / DIVERGED).write_text(json.dumps(dict(lr=self.cfg.lr, at_lr=lr, error=str(err))))
        raise err
