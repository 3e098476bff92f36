"""A check of our design, not a claim of the paper: does §5's schedule lean on the images the
verdicts read?

§5 divides the rate "when the validation error rate stopped improving"; the paper's validation
images are not its test images. On CIFAR-10 the regime records read that error on the first
`val_limit` test images (2,000, or 5,000 for VGG), and their claims read the final error on the
same images, so the schedule (when to divide, when to stop) has seen the images a verdict
reads. This experiment reads every finished net of those records back from its checkpoint —
nothing trains — and measures it on CIFAR-10's other test images, which their schedule did not read. It
measures the schedule's images again too: they must give the record's number (within
`RECHECK`), or the checkpoint is not the net the record describes and the run stops.

`alexnet.claims.heldout` reads each claim's effect both ways through the one rule.
"""
from __future__ import annotations

import dataclasses

import pandas as pd
import torch
from tqdm import tqdm

from .. import records
from ..config import ConfigError
from ..data import load_data
from ..evaluation.metrics import evaluate
from ..harness.declare import Experiment
from ..harness.runner import Outcome, last_epochs, results_in_use, scratch_path
from ..stats import summarize
from ..training.checkpoint import load_checkpoint, load_checkpoint_file

# The records whose claims read a test error at the end of the plateau schedule on part of the
# test set. Not lrn (its schedule read all 10,000 test images: none is left over), weight_decay
# (its claim reads the training error), vgg_scale (its claims test at other scales), init and
# relu_vs_tanh (a constant rate: no schedule read anything).
SOURCES = ("pooling", "two_columns", "dropout", "augmentation", "depth_ablation", "vgg_lrn", "vgg_depth")
RECHECK = 0.005          # the schedule's images measured again may move by at most this (10 of 2,000)
ERRORS = ("top1_err", "top5_err")


def _test_images(cfg, cache: dict) -> tuple:
    """(the schedule's test images, the others) as evaluation loaders, normalised as the run
    was (its training images' channel statistics)."""
    key = (cfg.dataset, cfg.data, cfg.train_limit, cfg.pixel_scale, cfg.image_size)
    if key not in cache:
        cache[key] = load_data(cfg.replace(val_limit=0, augment="none")).val    # every test image
    val, n = cache[key], cfg.val_limit
    if not 0 < n < len(val.labels):
        raise ConfigError(f"{cfg.dataset} runs with val_limit={n} leave no test image the schedule did not "
                          f"read (the test set has {len(val.labels):,}); the check needs 0 < val_limit < that")
    return _part(val, 0, n), _part(val, n, None)


def _part(val, start: int, stop: int | None):
    """The evaluation loader `val` over its images start:stop (same batch size and normalisation)."""
    return dataclasses.replace(val, images=val.images[start:stop], labels=val.labels[start:stop])


def remake(experiment: str, preset: str, seeds: list[int]) -> str:
    """How to re-make lost nets without touching the record: training is deterministic on one kind
    of machine, and the check's re-measure confirms each re-made net is the recorded one."""
    return (f"`alexnet run {experiment} --preset {preset} --seeds {','.join(map(str, seeds))} --results "
            "runs/remake` trains them again into a scratch record (the same nets on the same kind of machine)")


def _checkpoint(experiment: str, preset: str, row: pd.Series):
    return scratch_path(experiment, preset, row.variant, int(row.seed)) / "checkpoint.pt"


def measure_run(experiment: str, preset: str, row: pd.Series, cache: dict) -> dict:
    """One finished run, read back: its error on the schedule's test images (again) and on the rest."""
    path = _checkpoint(experiment, preset, row)
    if not path.exists():
        raise ConfigError(f"{path} is missing: the check reads the finished nets of {experiment}/{preset} on "
                          f"this machine; {remake(experiment, preset, [int(row.seed)])}")
    state = load_checkpoint_file(path)
    if state["epoch"] != int(row.epoch):
        raise ConfigError(f"{path} ends at epoch {state['epoch']} where the record's run ended at "
                          f"{int(row.epoch)}: it is not the net the record describes")
    cfg, model = load_checkpoint(None, state=state)
    torch.set_num_threads(cfg.threads)                  # as the run measured them
    seen, unseen = (evaluate(model, part.batches(0), torch.device("cpu"), cfg.precision, cfg.channels_last)
                    for part in _test_images(cfg, cache))
    if abs(seen["top1_err"] - row.val_top1_err) > RECHECK:
        raise ConfigError(f"{path} measures {seen['top1_err']:.4f} on the schedule's test images where the "
                          f"record says {row.val_top1_err:.4f}: it is not the net the record describes")
    return dict(epoch=int(row.epoch), recorded_top1_err=row.val_top1_err, n_schedule=seen["n"],
                n_heldout=unseen["n"], **{f"schedule_{e}": seen[e] for e in ERRORS},
                **{f"heldout_{e}": unseen[e] for e in ERRORS})


def _sources(preset: str) -> dict:
    """The committed records of `SOURCES` at `preset` (in `--results`), by experiment."""
    root = results_in_use()                                    # where this run writes: `--results`
    found = {e: records.load(e, preset, root=root) for e in SOURCES if records.record_dir(e, preset, root).exists()}
    if not found:
        raise ConfigError(f"no {preset} record of {', '.join(SOURCES)} to check: make one first "
                          f"(alexnet run pooling --preset {preset})")
    return found


def _nets(found: dict, seeds: list[int]) -> list[tuple[str, pd.Series]]:
    """(experiment, last-epoch row) of each finished net of the source records at `seeds`."""
    return [(e, r) for e, rec in found.items() for _, r in last_epochs(rec.metrics).iterrows() if r.seed in seeds]


def _measured(cfg, preset: str, found: dict, todo: list) -> Outcome:
    cache, rows = {}, []
    for experiment, row in tqdm(todo, desc="held-out test images", disable=not cfg.progress):
        rows.append(dict(experiment=experiment, variant=row.variant, seed=int(row.seed),
                         **measure_run(experiment, preset, row, cache)))
    sources = {e: dict(git=rec.provenance.get("git", {}), seeds=rec.provenance.get("seeds", []))
               for e, rec in found.items()}
    metrics = pd.DataFrame(rows)
    return Outcome(metrics, dict(summarize_metrics(metrics, cfg), sources=sources))


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    found = _sources(preset)
    return _measured(cfg, preset, found, _nets(found, seeds))


def grow_run(cfg, preset: str, rec, seeds: list[int]) -> tuple[list[int], Outcome | None]:
    """The check grows by net, not by seed: seeds land in its source records after it ran. Read
    the finished nets at `seeds` that `rec` (the check so far) lacks. A source's seed whose
    checkpoints this machine no longer has (a net trained on another machine) is named and left
    out whole — the check's table says how many of a record's seeds it read. Returns the seeds
    read and their outcome (None: nothing to read)."""
    found = _sources(preset)
    done = set(zip(rec.metrics.experiment, rec.metrics.variant, rec.metrics.seed.astype(int)))
    todo = [(e, r) for e, r in _nets(found, seeds) if (e, r.variant, int(r.seed)) not in done]
    lost = sorted({(e, int(r.seed)) for e, r in todo if not _checkpoint(e, preset, r).exists()})
    for e in sorted({e for e, _ in lost}):
        seeds_lost = [s for x, s in lost if x == e]
        print(f"not read, their checkpoints are not on this machine: {e} seed{'s' * (len(seeds_lost) > 1)} "
              f"{', '.join(map(str, seeds_lost))}; {remake(e, preset, seeds_lost)}")
    todo = [(e, r) for e, r in todo if (e, int(r.seed)) not in lost]
    return sorted({int(r.seed) for _, r in todo}), (_measured(cfg, preset, found, todo) if todo else None)


def summarize_metrics(metrics: pd.DataFrame, cfg=None) -> dict:
    """Per source record and variant: the errors on each part of the test set over seeds, and
    how far the schedule's images measured again moved from the record (at most)."""
    out = {}
    for (experiment, variant), rows in metrics.groupby(["experiment", "variant"], sort=False):
        rows = rows.set_index("seed")
        out.setdefault(experiment, {})[variant] = {c: summarize(rows[c]) for c in
                                                   ("schedule_top1_err", "heldout_top1_err", "heldout_top5_err")}
    moved = (metrics.schedule_top1_err - metrics.recorded_top1_err).abs().max()
    return dict(records=out, recheck_max=float(moved), runs=len(metrics),
                n_heldout={e: int(r.n_heldout.iloc[0]) for e, r in metrics.groupby("experiment")})


def facts(record) -> dict[str, str]:
    """What the scorecard chapter quotes ({glue:text}`heldout_<key>`): how many nets, how far the
    schedule's images measured again moved from the records (points), the images held out, and
    per source record the held-out error minus the schedule's images' (mean over its nets)."""
    s, m = record.summary, record.metrics
    gap = (100 * (m.heldout_top1_err - m.schedule_top1_err)).groupby(m.experiment, sort=False)
    held = sorted(set(s["n_heldout"].values()))
    recheck = "exactly" if s["recheck_max"] == 0 else f"within {100 * s['recheck_max']:.2f} points"
    return dict(runs=f"{s['runs']}", recheck=recheck,
                records=f"{len(s['records'])}", heldout=" or ".join(f"{n:,}" for n in held),
                shift=", ".join(f"{e} {v:+.1f}" for e, v in gap.mean().items()),
                shift_range=f"{gap.mean().min():+.1f} to {gap.mean().max():+.1f}")


# --- The declaration: presets and seeds (the seeds of each source record to read back) ---
EXPERIMENT = Experiment(
    title="The schedule's test images vs the rest: a check of the design (nothing trains)", section="§5",
    presets=dict(smoke={}, regime={}),
    seeds=dict(smoke=[0], regime=list(range(12))))
