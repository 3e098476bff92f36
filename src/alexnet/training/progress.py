"""Signals and speed: stopping between steps on SIGTERM, and how fast the run goes."""
from __future__ import annotations

import contextlib
import math
import signal
import threading
import time

STOPS = ("SIGTERM", "SIGINT")
# Held back while a checkpoint is written: a handler that raises there (KeyboardInterrupt,
# or the DataLoader's SIGCHLD check when a worker dies) would abort torch.save halfway.
HELD = ("SIGTERM", "SIGINT", "SIGCHLD", "SIGHUP")


def _signals(names) -> list:
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


class StopSignal:
    """Turns SIGTERM/SIGINT into a flag the loop checks between steps (pre-emption safe).
    `signum`: the signal that asked (0: none); `requested`: whether one did."""

    def __init__(self):
        self.signum, self.previous = 0, {}

    @property
    def requested(self) -> bool:
        return bool(self.signum)

    @requested.setter
    def requested(self, value: bool) -> None:       # set by hand (tests): as SIGTERM would
        self.signum = int(signal.SIGTERM) if value else 0

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in _signals(STOPS):
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame):
        self.signum = max(self.signum, int(signum))    # SIGTERM (15) outranks Ctrl-C (2)

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


class Stopped(Exception):
    """A stop came while `until_stopped` was iterating."""


def until_stopped(batches, signalled):
    """`batches`, ended by Stopped once `signalled()` (asked before each batch, on every rank
    alike) is nonzero: an evaluation of 50,000 images, or ten crops of them, must not outlast
    a launcher's grace period (torchrun's SIGKILL follows its SIGTERM)."""
    for batch in batches:
        if signalled():
            raise Stopped
        yield batch


def _acts(sig) -> bool:
    """Whether `sig` would do anything now: a Python handler, or a default that kills."""
    handler = signal.getsignal(sig)
    if handler is None or handler == signal.SIG_IGN:        # None: a handler set outside Python
        return False
    return handler != signal.SIG_DFL or sig != getattr(signal, "SIGCHLD", None)


@contextlib.contextmanager
def signals_held():
    """Signals that arrive inside the block are delivered when it ends, in the order they came:
    the block (a checkpoint's write and rename) is never cut halfway by a handler that raises."""
    main = threading.current_thread() is threading.main_thread()
    held = [s for s in _signals(HELD) if main and _acts(s)]
    pending: list[int] = []
    previous = {s: signal.signal(s, lambda n, _f: pending.append(n)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for n in dict.fromkeys(pending):
            signal.raise_signal(n)                  # now: to the handler the block displaced


def hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    h, rem = divmod(int(seconds), 3600)
    d, h = divmod(h, 24)
    if d:
        return f"{d}d{h:02d}h"
    return f"{h}h{rem // 60:02d}m" if h else f"{rem // 60}m{rem % 60:02d}s"


class Estimate:
    """images/s over the first steps of a run -> time per epoch and to the end, printed once.
    Steps 1-2 are skipped: they include warm-up (cuDNN autotuning, compilation, page faults)."""

    def __init__(self, batch: int, steps: int, epochs_left: float, log):
        self.images, self.steps, self.epochs_left, self.log = batch, steps, epochs_left, log
        self.t0, self.done = None, False

    def tick(self, done: int, last: bool) -> None:        # done: steps run so far in this call
        if self.done:
            return
        if done == 2:
            self.t0 = time.perf_counter()
        elif self.t0 is not None and (done == 12 or last):
            rate = (done - 2) * self.images / (time.perf_counter() - self.t0)
            epoch = self.steps * self.images / rate
            self.log(f"estimate: {rate:.0f} images/s over steps 3-{done} -> {hms(epoch)} per epoch, "
                     f"{hms(epoch * self.epochs_left)} to finish")
            self.done = True


class Speed:
    """images/s over the last few seconds of steps (the whole batch, every rank's images),
    and the time left to the end of the run: training steps at that rate, plus each
    remaining epoch's evaluation at the last one's duration."""

    WINDOW = 2.0                                            # seconds between rate updates

    def __init__(self, batch: int, steps: int, epochs: int):
        self.batch, self.steps, self.epochs = batch, steps, epochs
        self.rate, self.eval_seconds = math.nan, 0.0
        self.mark, self.count = time.perf_counter(), 0

    def tick(self) -> None:
        self.count += 1
        now = time.perf_counter()
        if now - self.mark >= self.WINDOW or math.isnan(self.rate) and self.count >= 3:
            self.rate = self.count * self.batch / (now - self.mark)
            self.mark, self.count = now, 0

    def restart(self) -> None:                              # after an evaluation: not training time
        self.mark, self.count = time.perf_counter(), 0

    def eta(self, epochs_done: int, step: int) -> float:
        """Seconds to the end of the run with `epochs_done` epochs and `step` steps of the next done."""
        left = (self.epochs - epochs_done) * self.steps - step
        return left * self.batch / self.rate + (self.epochs - epochs_done) * self.eval_seconds
