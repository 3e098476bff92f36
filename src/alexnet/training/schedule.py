"""Learning-rate schedules. §5: "divide the learning rate by 10 when the validation error
rate stopped improving with the current learning rate ... reduced three times prior to
termination". Also the step schedule of torchvision's recipe, cosine, constant, and a modern
per-step one, warmup_cosine (linear warm-up, then cosine to zero: one cycle over the run)."""
from __future__ import annotations

import math


class Schedule:
    """lr for the next epoch from the validation error of the last one; checkpointable."""

    def __init__(self, cfg):
        self.kind, self.base, self.epochs = cfg.schedule, cfg.lr, cfg.epochs
        self.patience, self.max_drops, self.step_every = cfg.patience, cfg.lr_drops, cfg.step_every
        self.lr, self.best, self.bad_epochs, self.drops = cfg.lr, math.inf, 0, 0
        self.warmup, self.stop = cfg.warmup_epochs, cfg.stop_after_drops

    def at_step(self, epoch: int, step: int, steps: int) -> float | None:
        """warmup_cosine: the rate for step `step` of `steps` in `epoch` (a function of the
        position alone, so a resumed run gets the same rates); None for the per-epoch kinds."""
        if self.kind != "warmup_cosine":
            return None
        t = epoch + step / steps                                    # epochs done, fractional
        if t < self.warmup:
            return self.base * (t + 1 / steps) / self.warmup        # never 0 on the first step
        return 0.5 * self.base * (1 + math.cos(math.pi * (t - self.warmup) / (self.epochs - self.warmup)))

    def after_epoch(self, epoch: int, val_error: float) -> float:
        """Call with the finished epoch's index (0-based) and its validation error."""
        if self.kind == "plateau":
            if val_error < self.best - 1e-4:
                self.best, self.bad_epochs = val_error, 0
            else:
                self.bad_epochs += 1
            if self.bad_epochs >= self.patience and self.drops < self.max_drops:
                self.lr, self.drops, self.bad_epochs = self.lr / 10, self.drops + 1, 0
        elif self.kind == "step":
            self.lr = self.base * 0.1 ** ((epoch + 1) // self.step_every)
        elif self.kind == "cosine":
            self.lr = 0.5 * self.base * (1 + math.cos(math.pi * (epoch + 1) / self.epochs))
        return self.lr

    def done(self) -> bool:
        """§5's termination: the plateau schedule has made its drops and the error has stopped
        improving at the last rate too (with `stop_after_drops`)."""
        return (self.kind == "plateau" and self.stop and self.drops >= self.max_drops
                and self.bad_epochs >= self.patience)

    def state_dict(self) -> dict:
        return dict(lr=self.lr, best=self.best, bad_epochs=self.bad_epochs, drops=self.drops)

    def load_state_dict(self, state: dict) -> None:
        self.lr, self.best, self.bad_epochs, self.drops = (state[k] for k in ("lr", "best", "bad_epochs", "drops"))
