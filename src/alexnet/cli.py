"""The `alexnet` command.

    alexnet list                                   experiments, presets, models, datasets
    alexnet run EXPERIMENT --preset cpu [k=v ...]  train and write results/EXPERIMENT/cpu/
    alexnet run EXPERIMENT --preset P --resummarize  re-derive its summary from its metrics.csv
    alexnet train --preset cpu [k=v ...]           any model/dataset/config; resumable
    alexnet eval --checkpoint PATH [--ten-crop]    top-1/top-5 error of a checkpoint
    alexnet merge RUN_DIR                          a column-split run's rank files -> checkpoint.merged.pt
    alexnet layers [MODEL]                         the layer table (shapes, params, FLOPs)
    alexnet bench WHAT                             throughput benchmarks
    alexnet visualize filters|predictions|neighbors --checkpoint PATH [--out DIR]   §6.1's figures as PNGs
    alexnet status RUN_DIR [--png FILE]            how far a run is (while it runs, or after)

Config keys go as `key=value`, `--key value` or `--key=value`; `alexnet train --help` lists
them all with type, default, allowed values and meaning.

Every failure is one line, `alexnet: <what is wrong> — <what to do>`: exit 2 for usage and
configuration errors, 1 for data and runtime errors; `--debug` (or ALEXNET_DEBUG=1) shows
the traceback instead. A run stopped by SIGTERM or Ctrl-C saves its checkpoint and exits
143 or 130, as a process the signal ended would (under torchrun: `python -m
alexnet.parallel.torchrun`, which passes the status on; torchrun itself exits 1).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .cli_keys import PAPER_ON_CUDA, config_args, keys_help, missing_module
from .config import BASE_PRESETS, HELP, PRESETS, ConfigError, resolve, unknown_key, valid_keys


PAPER = "the paper's defaults"


def _list(args) -> int:
    from .harness import registry as experiments
    from .data import LOADERS
    from .models import MODELS
    print(experiments.table().to_string(index=False))
    print("\npresets (over the paper's defaults; an experiment's own preset, then your keys, go on top):")
    for name in PRESETS:
        keys = " ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in BASE_PRESETS[name].items())
        print(f"  {name:7s} {keys or PAPER}" + (f"; {PAPER_ON_CUDA}" if name == "paper" else ""))
    print(f"models:   {', '.join(sorted(MODELS))}\ndatasets: {', '.join(sorted(LOADERS))}"
          f"\nconfig keys: {', '.join(valid_keys())}\n({HELP})")
    return 0


def _run(args) -> int:
    from .harness import resummarize, run_experiment
    if args.resummarize:
        path = resummarize(args.experiment, args.preset, Path(args.results) if args.results else None)
        print(f"summary re-derived from {path / 'metrics.csv'}")
        return 0
    seeds = seed_list(args.seeds) if args.seeds else None
    before = _written(args)
    path = run_experiment(args.experiment, args.preset, args.overrides,
                          Path(args.results) if args.results else None, seeds, force=args.force)
    if _written(args) != before:                       # a grown record with nothing to add is left as it was
        print(f"run record written to {path}")
        print((path / "summary.json").read_text())
    return 0


def _written(args) -> float | None:
    """When the record `alexnet run` writes was last written (None: not there)."""
    from . import records
    prov = records.record_dir(args.experiment, args.preset, Path(args.results) if args.results else None) / "provenance.json"
    return prov.stat().st_mtime_ns if prov.exists() else None


def seed_list(text: str) -> list[int]:
    """`--seeds`: comma-separated seeds and ranges, '0,1,2' or '5-38' (both ends included)."""
    seeds = []
    for part in text.split(","):
        lo, dash, hi = part.strip().partition("-")
        if not (lo.isdigit() and (not dash or (hi.isdigit() and int(hi) >= int(lo)))):
            raise ConfigError(f"--seeds takes seeds >= 0 and ranges, such as 0,1,2 or 5-38; got {text!r}")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return sorted(set(seeds))


def _train(args) -> int:
    from .parallel import env_ranks
    from .training.loop import Interrupted, train
    cfg = resolve(args.preset, args.overrides)
    main_rank = env_ranks()[0] == 0                          # under torchrun, rank 0 alone prints
    if main_rank:
        print(cfg.to_json())
    try:
        result = train(cfg, out_dir=cfg.out)
    except Interrupted as err:                                 # SIGTERM/SIGINT: checkpoint saved
        if main_rank:                                          # every rank stopped at the same step
            print(f"alexnet: {err}", file=sys.stderr)
        return err.exit_code                                   # 143 after SIGTERM, 130 after Ctrl-C
    if main_rank:
        print(json.dumps(result.history[-1] if result.history else {}, indent=1))
    return 0


def _eval(args) -> int:
    from .data import load_data
    from .evaluation.metrics import evaluate
    from .models import build_model, compiled
    from .evaluation.weights import one_device_state
    from .training.loop import pick_device
    state = one_device_state(Path(args.checkpoint))        # a rank's share: joined with the others
    cfg = resolve("paper", {**state["config"], **_overrides_dict(args.overrides)})
    if args.ten_crop or args.center:
        cfg = cfg.replace(ten_crop=bool(args.ten_crop))
    data, device = load_data(cfg), pick_device(cfg)
    model = build_model(cfg, cfg.num_classes or data.num_classes, data.in_channels).to(device)
    model.load_state_dict(state["model"])
    model = compiled(model, cfg)                               # torch_compile=true
    print(json.dumps(evaluate(model, data.val.batches(0), device, cfg.precision, cfg.channels_last,
                              progress=cfg.progress), indent=1))
    return 0


def _merge(args) -> int:
    from .parallel import merge_checkpoints
    print(f"wrote {merge_checkpoints(Path(args.run_dir))} (alexnet eval --checkpoint reads it)")
    return 0


def _overrides_dict(items):
    from .config import parse_overrides
    return parse_overrides(items)


def _layers(args) -> int:
    from .models import MODELS, count_parameters, layer_table
    model = args.model if "=" not in args.model else "alexnet_paper"   # `layers width=0.5`: a key, not a model
    cfg = resolve("paper", [f"model={model}", *([args.model] if model != args.model else []), *args.overrides])
    model = MODELS[cfg.model](cfg, cfg.num_classes or 1000, args.channels)
    table = layer_table(model, (args.channels, cfg.image_size, cfg.image_size))
    print(table.to_string(index=False))
    print(f"total parameters: {count_parameters(model):,}   forward GFLOPs: {table.gflops.sum():.3f}")
    return 0


def _visualize(args) -> int:
    from .figures import visualize
    for path in visualize(args.what, args.checkpoint, args.out, args.overrides):
        print(f"wrote {path}")
    return 0


def _status(args) -> int:
    from .training.status import plot_status, status
    print(status(Path(args.run_dir)))
    if args.png:
        print(f"wrote {plot_status(Path(args.run_dir), Path(args.png))}")
    return 0


def _bench(args) -> int:
    from . import bench
    return bench.main(args.what, args.overrides)


def keyed(sub, name: str, **kw) -> argparse.ArgumentParser:
    """A subcommand that takes config keys: its help ends with every key (`keys_help`)."""
    return sub.add_parser(name, epilog=keys_help(), formatter_class=argparse.RawDescriptionHelpFormatter, **kw)


def run_parser(r: argparse.ArgumentParser) -> None:
    r.add_argument("experiment")
    r.add_argument("--preset", default="cpu", choices=PRESETS)
    r.add_argument("--results", help="results folder (default: results/ of the checkout)")
    r.add_argument("--seeds", help="comma-separated seeds and ranges, 0,1,2 or 5-38 (default: the experiment's)")
    r.add_argument("--force", action="store_true", help="replace an existing run record (whole)")
    r.add_argument("--resummarize", action="store_true",
                   help="re-derive summary.json from the record's own metrics.csv (nothing retrains)")
    r.set_defaults(fn=_run)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="alexnet", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debug", action="store_true", help="show tracebacks (also ALEXNET_DEBUG=1)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="experiments, presets, models, datasets").set_defaults(fn=_list)
    run_parser(keyed(sub, "run", help="run an experiment and write its run record"))
    t = keyed(sub, "train", help="train any model/dataset; resumable from --out")
    t.add_argument("--preset", default="paper", choices=PRESETS, help="the scale (`alexnet list`: what each sets)")
    t.set_defaults(fn=_train)
    e = keyed(sub, "eval", help="evaluate a checkpoint (top-1/top-5 error)")
    e.add_argument("--checkpoint", required=True)
    crop = e.add_mutually_exclusive_group()
    crop.add_argument("--ten-crop", action="store_true", help="§4.1: 10 crops, softmax averaged")
    crop.add_argument("--center", action="store_true", help="a single centre crop")
    e.set_defaults(fn=_eval)
    m = sub.add_parser("merge", help="join a column-split run's per-rank checkpoints into checkpoint.merged.pt")
    m.add_argument("run_dir", help="the run's out= folder (checkpoint.pt, checkpoint.rank1.pt ...)")
    m.set_defaults(fn=_merge)
    lay = sub.add_parser("layers", help="the layer table of a model")
    lay.add_argument("model", nargs="?", default="alexnet_paper")
    lay.add_argument("--channels", type=int, default=3)
    lay.set_defaults(fn=_layers)
    b = sub.add_parser("bench", help="throughput benchmarks")
    b.add_argument("what")
    b.add_argument("--force", action="store_true", help="replace an existing benchmark record (whole)")
    b.set_defaults(fn=_bench)
    v = sub.add_parser("visualize", help="§6.1: conv1 filters, top-5 predictions, fc7 neighbours (PNGs)")
    v.add_argument("what", choices=["filters", "predictions", "neighbors"])
    v.add_argument("--checkpoint", required=True)
    v.add_argument("--out", default="figures", help="folder for the PNGs (default: figures/)")
    v.set_defaults(fn=_visualize)
    s = sub.add_parser("status", help="a run directory at a glance: progress, errors, speed, ETA")
    s.add_argument("run_dir")
    s.add_argument("--png", help="also draw the curves into this PNG file")
    s.set_defaults(fn=_status)
    return p


def error_kinds() -> tuple[tuple, tuple]:
    """(usage errors -> exit 2, data/runtime errors -> exit 1, or a stop's own status), imported
    when a command fails."""
    from .data import DataError
    from .locks import Busy
    from .records import CorruptRecord, RecordExists
    from .training.checkpoint import CheckpointError, ResumeMismatch
    from .training.guard import NonFiniteLoss
    from .training.loop import Interrupted
    return (ConfigError, RecordExists, ResumeMismatch), (OSError, DataError, NonFiniteLoss, CheckpointError, Busy,
                                                         CorruptRecord, Interrupted)


def one_line(err: BaseException, known: tuple) -> str:
    """The error's message on one line (what is wrong — what to do); an unexpected error
    type is named."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if isinstance(err, known) else f"{type(err).__name__}: {text}"


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, config keys in any of their three forms as `args.overrides`
    (key=value); ConfigError for what is neither an option nor a key."""
    p, argv = parser(), list(sys.argv[1:] if argv is None else argv)
    sub = p._subparsers._group_actions[0].choices                  # command name -> its parser
    command = next((a for a in argv if not a.startswith("-")), None)
    own = {s for a in sub[command]._actions for s in a.option_strings} if command in sub else set()
    args, rest = p.parse_known_args(config_args(argv, own))
    unknown = [a for a in rest if "=" not in a]
    if unknown and unknown[0].startswith("--"):
        raise unknown_key(unknown[0][2:].partition("=")[0].replace("-", "_"))
    if unknown:
        raise ConfigError(f"unrecognised argument {unknown[0]!r}; config keys go as key=value, --key value "
                          f"or --key=value ({HELP})")
    args.overrides = rest
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse(argv)
    except ConfigError as err:
        print(f"alexnet: {err}", file=sys.stderr)
        return 2
    if getattr(args, "force", False):
        os.environ["ALEXNET_FORCE"] = "1"            # records.write reads it (run and bench)
    debug = args.debug or os.environ.get("ALEXNET_DEBUG") == "1"
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        print("alexnet: interrupted", file=sys.stderr)
        return 130
    except Exception as err:                          # one line, unless --debug
        if debug:
            raise
        usage, runtime = error_kinds()
        text = missing_module(err) if isinstance(err, ModuleNotFoundError) else None
        print(f"alexnet: {text or one_line(err, usage + runtime)}", file=sys.stderr)
        return 2 if isinstance(err, usage) else getattr(err, "exit_code", 1)   # a stop: 143 / 130


if __name__ == "__main__":
    sys.exit(main())
