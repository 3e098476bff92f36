"""`python -m alexnet.data`: prepare ILSVRC-2012, and compute an image folder's statistics.

    python -m alexnet.data imagenet --tars DIR --out ROOT/imagenet [--resize 256] [--workers N]
    python -m alexnet.data stats [key=value ...]      # mean image, channel mean/std, RGB PCA

Every failure is one line, `alexnet: <what is wrong> — <what to do>` (exit 1 for data, 2 for
usage), and so is Ctrl-C (exit 130, the shell's code for SIGINT); `--debug` or
ALEXNET_DEBUG=1 shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m alexnet.data", description=__doc__.split("\n")[0])
    p.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    sub = p.add_subparsers(dest="what", required=True)
    inet = sub.add_parser("imagenet", help="prepare ILSVRC-2012 from the official tars")
    inet.add_argument("--tars", required=True, help="folder holding ILSVRC2012_img_{train,val}.tar and the devkit")
    inet.add_argument("--out", required=True, help="the prepared folder, <root>/imagenet for dataset=imagenet")
    inet.add_argument("--resize", type=int, default=0, help="rescale so the shorter side is this (256, §2)")
    inet.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    inet.add_argument("--no-stats", action="store_true", help="skip the mean image and PCA")
    for key, default in (("train", 1_281_167), ("val", 50_000), ("classes", 1000)):
        inet.add_argument(f"--expect-{key}", type=int, default=default, help=f"expected count (default {default:,})")
    stats = sub.add_parser("stats", help="statistics of an ImageNet-style folder's training set")
    stats.add_argument("overrides", nargs="*", help="config overrides, e.g. data=/data workers=8 dataset=imagenet")
    return p


def _imagenet(args) -> int:
    from .ilsvrc import compute_stats, prepare
    expect = dict(train=args.expect_train, val=args.expect_val, classes=args.expect_classes)
    counts = prepare(args.tars, args.out, args.resize, args.workers, expect)
    print(f"{args.out}: {counts['classes']:,} classes, {counts['train']:,} train, {counts['val']:,} val images: complete")
    if not args.no_stats:
        compute_stats(args.out, args.workers)
    return 0


def _stats(args) -> int:
    """Compute, cache and print the training set's statistics (run it once before training
    on a full ImageNet folder, so no rank computes them)."""
    from ..config import resolve
    from .imagenet import dataset_dir, evenly, train_items, training_stats
    from .registry import data_root
    from .stats import summary
    cfg = resolve("paper", ["cache_images=0", *args.overrides])   # stream: full ImageNet won't fit
    folder = dataset_dir(data_root(cfg), cfg.dataset)
    _, train = train_items(folder)
    stats, path = training_stats(folder, evenly(train, cfg.train_limit), None, cfg.workers)
    print(json.dumps(dict(folder=str(folder), cache=str(path), **summary(stats)), indent=2))
    return 0


def main(argv=None) -> int:
    from ..config import ConfigError
    from .registry import DataError
    args = _parser().parse_args(argv)
    debug = args.debug or os.environ.get("ALEXNET_DEBUG") == "1"
    try:
        return (_imagenet if args.what == "imagenet" else _stats)(args)
    except (ConfigError, DataError, OSError) as err:
        if debug:
            raise
        print(f"alexnet: {err}", file=sys.stderr)
        return 2 if isinstance(err, ConfigError) else 1
    except KeyboardInterrupt:
        if debug:
            raise
        print("alexnet: stopped by Ctrl-C; every file written is whole — run the same command again to "
              "finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
