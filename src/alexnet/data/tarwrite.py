"""Writing images taken from tars, in worker processes: atomic, resumable, interruptible.

Each file is written under a hidden temporary name and renamed, so a stopped run leaves only
whole files where the loader reads (`images.list_images` skips hidden names) and a file that
exists is finished: the next run skips it. An image PIL cannot decode is not written; its tar
member comes back with the reason, for the report. Ctrl-C reaches the whole process group:
the workers ignore it, and the main process terminates them (draining the pool would hand
queued work to processes being stopped, which hung).
"""
from __future__ import annotations

import io
import os
import re
import signal
from multiprocessing import Pool
from pathlib import Path

CHUNK = 64                                                        # images handed to a worker at a time


def write_image(job: tuple[str, bytes, int, str]) -> str | None:
    """Write one image to `target` (atomically), rescaled so the shorter side is `resize`
    when given; for an image PIL cannot decode nothing is written and 'member: reason'
    comes back (the loader would fail on it every epoch)."""
    target, data, resize, member = job
    try:
        data = _decoded(data, resize)
    except Exception as err:  # noqa: BLE001 - any decoder failure means: skip and report
        return f"{member}: {re.sub(r' <_io.BytesIO object at 0x[0-9a-f]+>', '', str(err)) or type(err).__name__}"
    atomic_write(Path(target), data)
    return None


def _decoded(data: bytes, side: int) -> bytes:
    """The image re-encoded with its shorter side `side`; for side 0 the bytes as they are,
    once decoded whole at 1/8 scale (JPEG's DCT scaling reads every byte at a fraction of
    the cost, so truncation shows)."""
    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        if not side:
            im.draft(im.mode, (im.width // 8, im.height // 8))
            im.load()
            return data
        im = im.convert("RGB")                         # CMYK, grayscale and the odd PNG -> RGB JPEG
        w, h = im.size
        if min(w, h) != side:
            scale = side / min(w, h)
            im = im.resize((max(side, round(w * scale)), max(side, round(h * scale))), Image.BILINEAR)
        out = io.BytesIO()
        im.save(out, "JPEG", quality=95)
    return out.getvalue()


def atomic_write(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")     # hidden: list_images skips it
    tmp.write_bytes(data)
    tmp.replace(target)


def sweep(folder: Path, pattern: str = ".*.tmp*") -> None:
    """Remove the temporary files a stopped run left (a worker is stopped mid-write)."""
    for stale in folder.glob(pattern):
        stale.unlink(missing_ok=True)


class Writer:
    """Hands (target, bytes) to a pool of processes in chunks (bounded memory); skips
    targets that exist (resume); counts what it wrote, what was there and what PIL could
    not read. A context manager: on an error or Ctrl-C the pool is terminated, not drained."""

    def __init__(self, resize: int = 0, workers: int = 0):
        self.resize, self.workers, self.pool = resize, max(1, workers), None
        if workers > 1:   # Ctrl-C reaches the whole process group; the main process alone stops
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)     # forked workers inherit SIG_IGN
            try:
                self.pool = Pool(workers, signal.signal, (signal.SIGINT, signal.SIG_IGN))
            finally:
                signal.signal(signal.SIGINT, old)
        self.jobs, self.written, self.there, self.unreadable = [], 0, 0, []

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, error, *_) -> None:
        """Stop the workers; the callers flush what they queued, so on success nothing is left."""
        if self.pool is None:
            return
        if error is None:
            self.pool.close()
        else:              # close() would hand queued work to workers that are being stopped
            self.pool.terminate()
        self.pool.join()

    def add(self, target: Path, read, member: str) -> None:
        if target.exists():
            self.there += 1
            return
        self.jobs.append((str(target), read(), self.resize, member))
        if len(self.jobs) >= CHUNK * self.workers:
            self.flush()

    def flush(self) -> None:
        run = self.pool.imap if self.pool else map
        failed = [r for r in run(write_image, self.jobs) if r]
        self.written, self.jobs = self.written + len(self.jobs) - len(failed), []
        self.unreadable += failed
