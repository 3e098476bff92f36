#!/usr/bin/env python3
"""Where `make book`, `make lab` and `make data` get their datasets, decided here once.

    python scripts/find-data.py book|lab    prints `export ALEXNET_DATA=...` (or nothing); never fails
    python scripts/find-data.py data        the same, but a dataset it cannot get is an error (exit 1)

In order: $ALEXNET_DATA when set (book and lab use it as it is; data downloads what it lacks);
else ../shared/data, this workplace's offline copies, laid out by its prepare.py; else the
small sets the data root lacks (Fashion-MNIST, CIFAR-10, the ImageNet sample from
Imagenette), downloaded into the repository's data/ ($ALEXNET_MIRROR replaces the public
hosts: see alexnet.data.download); else, offline, one line saying what is left out. Only the
export line goes to stdout (the recipes `eval` it); progress and notes go to stderr.
"""
import contextlib
import os
import subprocess
import sys
from pathlib import Path

PREPARE = Path(__file__).resolve().parents[2] / "shared" / "data" / "prepare.py"


def say(line: str) -> None:
    print(line, file=sys.stderr)


def shared_copies(what: str) -> str:
    """The export line of ../shared/data/prepare.py (for `data`, its other lines to stderr); '' if it fails."""
    run = subprocess.run([sys.executable, str(PREPARE)], capture_output=True, text=True)
    lines = run.stdout.splitlines()
    for line in lines if what == "data" else ():       # book and lab: only the export line
        if not line.startswith("export ALEXNET_DATA="):
            say(line)
    if run.returncode:
        say(f"{what}: {PREPARE} failed: {(run.stderr.strip().splitlines() or ['no message'])[-1]}")
        return ""
    return next((line for line in lines if line.startswith("export ALEXNET_DATA=")), "")


def finders() -> dict:
    """dataset -> the loader's own finder with download=true: fetches only what is missing."""
    from alexnet.data.imagenet import dataset_dir
    from alexnet.data.small import _cifar_dir, _fashion_files
    return {"fashion_mnist": lambda root: _fashion_files(root, True),
            "cifar10": lambda root: _cifar_dir(root, True),
            "imagenet_sample": lambda root: dataset_dir(root, "imagenet_sample", True)}


def download(what: str) -> bool:
    """The small sets into the data root; False (after one line) when any could not be had."""
    from alexnet.data import DataError, data_root
    from alexnet.data.download import TITLES, Unreachable
    root, left, reason = data_root(), [], ""
    for dataset, ensure in finders().items():
        if left and isinstance(reason, Unreachable):
            left.append(TITLES[dataset])                 # offline: the others would fail the same way
            continue
        try:
            with contextlib.redirect_stdout(sys.stderr):
                ensure(root)
        except DataError as err:
            left.append(TITLES[dataset])
            reason = reason or err
    if isinstance(reason, Unreachable):
        reason = (f"cannot reach {reason.host} ({reason.why}): offline? `make data` fetches them when "
                  "online (data/README.md says how by hand)")
    if left:
        say(f"{what}: left out {', '.join(left)} — {reason}")
    return not left


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    what = argv[0] if argv else "book"
    if os.environ.get("ALEXNET_DATA") and what != "data":
        return 0
    if not os.environ.get("ALEXNET_DATA") and PREPARE.is_file():
        line = shared_copies(what)
        if line:
            print(line)
            return 0
    ok = download(what)
    if ok and what == "data":
        from alexnet.data import data_root
        say(f"data: Fashion-MNIST, CIFAR-10 and the ImageNet sample are in {data_root()}")
        if os.environ.get("ALEXNET_DATA"):
            print(f"export ALEXNET_DATA={data_root()}")
    return 0 if ok or what != "data" else 1


if __name__ == "__main__":
    sys.exit(main())
