"""One writer per folder: an OS file lock (`fcntl.flock`) that the kernel releases when the
holding process dies, however it dies, so there is no stale lock to clean up.

    with hold(run_dir / ".lock", "the run in runs/x"):      # a run folder: train(out_dir=...)
        ...
    with hold(records.lock_path("pooling", "long")):          # a record folder: alexnet run
        ...

A second writer gets `Busy`: one line naming the holder's PID and command, and what to do.
Readers (`alexnet status`, the book) never take a lock. Bottom layer: imports nothing from
the package.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:                      # Windows: no advisory locks; one writer is then the user's care
    fcntl = None


class Busy(RuntimeError):
    """Another process holds the folder's lock."""


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        text = ""
    return text or "another process"


@contextmanager
def hold(path: Path, what: str):
    """Hold the lock file `path` (created beside what it guards) for the `with` block; raise
    `Busy` at once if another process holds it."""
    if fcntl is None:
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"{what} is in use by {_holder(path)}; wait for it to finish (or stop it), "
                       "or write somewhere else") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"PID {os.getpid()} ({' '.join(sys.argv) or 'python'})\n".encode())
        yield
    finally:
        os.close(fd)                     # closing the descriptor releases the lock
