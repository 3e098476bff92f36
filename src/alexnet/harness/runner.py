"""The runner: `run_experiment` (one experiment at one preset, written as a run record) and what
most experiments do inside it: train a few variants of one config over seeds, and tabulate."""
from __future__ import annotations

import dataclasses
import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import locks, records
from ..config import Config, ConfigError, renamed, resolve, valid_keys
from ..stats import summarize
from ..training.loop import TrainResult, train
from .registry import get


@dataclass
class Outcome:
    metrics: pd.DataFrame            # one row per (variant, seed, epoch) or evaluation
    summary: dict                    # the numbers a chapter quotes
    data: dict = field(default_factory=dict)    # the dataset fingerprint
    configs: dict = field(default_factory=dict)  # variant -> resolved config, when they differ
    files: dict = field(default_factory=dict)    # extra small files for the record folder: name -> bytes


# Scratch runs of this process that resumed from a checkpoint already there (recorded in the
# provenance: a finished scratch run is reused, not retrained).
REUSED: list[str] = []
# The results folder of the run in progress (None: the default), for an experiment that reads
# other records (`experiments.heldout`): `results_in_use()`.
_RESULTS: list[Path | None] = [None]


def results_in_use() -> Path | None:
    return _RESULTS[0]


def run_experiment(name: str, preset: str, overrides: list[str] | None = None,
                   results: Path | None = None, seeds: list[int] | None = None,
                   force: bool = False) -> Path:
    """Run `name` at `preset` and write its record under results/<name>/<preset>/ (checked
    writable, and not already there unless `force`, before anything trains). With `seeds` and
    a record already there, the record grows: only the seeds it lacks run (`grow`)."""
    module = get(name)
    cfg = resolved(name, preset, overrides)
    _RESULTS[0] = results
    growing = seeds is not None and not force and records.record_dir(name, preset, results).exists()
    if not growing:
        records.check_writable(name, preset, results, force)     # before the lock file is made beside it
    with locks.hold(records.lock_path(name, preset, results), f"the record {name}/{preset}"):
        if growing:
            return grow(name, preset, cfg, seeds, overrides, results)
        records.check_writable(name, preset, results, force)
        seeds = seeds if seeds is not None else module.EXPERIMENT.seeds.get(preset, [cfg.seed])
        started = records.utc_now()
        outcome = _run(module, cfg, preset, seeds)
        config = dict(base=cfg.to_dict(), variants=outcome.configs, overrides=overrides or [])
        prov = records.provenance(command=_command(name, preset, overrides, seeds), started=started,
                                  seeds=seeds, data=outcome.data, extra=dict(reused_checkpoints=list(REUSED)))
        prov["batches"] = [batch(prov)]
        if REUSED:       # the runs read back were trained by the record replaced: keep how, and its cost
            prov["replaced_batches"] = _replaced_batches(name, preset, results)
        return records.write(name, preset, config=config, metrics=outcome.metrics, summary=outcome.summary,
                             provenance=prov, root=results, force=force, files=outcome.files)


def _replaced_batches(name: str, preset: str, results: Path | None) -> list[dict]:
    """The batches of seeds of the record a --force run replaces (and of those it replaced),
    where that run read finished scratch runs back: the commits, machines and hours that
    trained them. Empty where there was no record."""
    try:
        old = records.load(name, preset, root=results).provenance
    except FileNotFoundError:
        return []
    return [*old.get("replaced_batches", []), *old.get("batches", [batch(old)])]


def _run(module, cfg: Config, preset: str, seeds: list[int]) -> Outcome:
    REUSED.clear()
    return module.run(cfg, preset, seeds)


def _command(name: str, preset: str, overrides, seeds) -> str:
    return shlex.join(["alexnet", "run", name, "--preset", preset, "--seeds", ",".join(map(str, seeds)),
                       *(overrides or [])])


# Settings a record's seeds may differ in: how a batch of seeds ran, not what it computed.
HOW_IT_RAN = {"seed", "progress", "threads", "workers", "device"}


def batch(prov: dict) -> dict:
    """One batch of seeds as the provenance lists it: seeds, commit, machine, threads, times."""
    hw = prov.get("hardware", {})
    return dict(seeds=prov.get("seeds"), git=prov.get("git"), cpu=hw.get("cpu"), gpus=hw.get("gpus"),
                threads=hw.get("torch_threads"), started_utc=prov.get("started_utc"),
                ended_utc=prov.get("ended_utc"), command=prov.get("command"))


def grow(name: str, preset: str, cfg: Config, seeds: list[int], overrides, results: Path | None) -> Path:
    """Add the `seeds` a record lacks (records grow by seed: the seeds it has are never redone
    or rewritten; the summary is recomputed from every seed's metrics). Call under the lock."""
    module, rec = get(name), records.load(name, preset, root=results)
    if not hasattr(module, "summarize_metrics"):
        raise ConfigError(f"{name!r} cannot add seeds to a record (its summary is not derived from its "
                          f"metrics alone); rerun it whole with --force")
    differ = sorted(k for k, v in renamed(rec.config.get("base", {}), made=True).items()
                    if k not in HOW_IT_RAN and k in cfg.to_dict() and cfg.to_dict()[k] != v)
    if differ:
        raise ConfigError(f"{rec.path} was made with other settings ({', '.join(differ)}); seeds join a "
                          "record only with its own config (or --force to rerun it whole)")
    have, started = [int(s) for s in rec.provenance.get("seeds", [])], records.utc_now()
    if hasattr(module, "grow_run"):          # an experiment that grows by something finer than a seed
        new, outcome = module.grow_run(cfg, preset, rec, seeds)
    else:
        new = [s for s in seeds if s not in have]
        outcome = _run(module, cfg, preset, new) if new else None
    if outcome is None:
        print(f"{rec.path} already holds what seeds {', '.join(map(str, seeds))} give: nothing to run")
        return rec.path
    metrics = pd.concat([rec.metrics, outcome.metrics], ignore_index=True)
    summary = _deep_update(_deep_update(rec.summary, outcome.summary), module.summarize_metrics(metrics, cfg))
    now = records.provenance(command=_command(name, preset, overrides, new), started=started, seeds=new,
                             data=outcome.data)
    prov = dict(rec.provenance, seeds=sorted(set(have) | set(new)), ended_utc=now["ended_utc"],
                batches=[*rec.provenance.get("batches", [batch(rec.provenance)]), batch(now)])
    config = dict(rec.config, variants={**rec.config.get("variants", {}), **outcome.configs})
    files = {**outcome.files, **records.extra_files(rec)}      # the seeds it has keep their files
    return records.write(name, preset, config=config, metrics=metrics, summary=summary, provenance=prov,
                         root=results, force=True, files=files)


def resolved(name: str, preset: str, overrides: list[str] | None = None) -> Config:
    """Paper defaults <- the scale's base preset <- the experiment's declared preset <- overrides."""
    declared = get(name).EXPERIMENT.presets
    if preset not in declared:
        raise ConfigError(f"experiment {name!r} has no preset {preset!r}; choose one of {', '.join(declared)}")
    return resolve(preset, overrides or [], declared[preset])


def resummarize(name: str, preset: str, results: Path | None = None) -> Path:
    """Re-derive a record's summary.json from its own metrics.csv with today's code (`alexnet run
    NAME --preset P --resummarize`): nothing retrains. Keys the derivation makes are replaced;
    measurements of the trained models that metrics.csv does not hold (parameters, timings,
    PCA) are kept as they were; a record never carries a verdict. The provenance notes it."""
    module = get(name)
    if not hasattr(module, "summarize_metrics"):
        raise ConfigError(f"experiment {name!r} cannot re-derive its summary from its metrics")
    with locks.hold(records.lock_path(name, preset, results), f"the record {name}/{preset}"):
        rec = records.load(name, preset, root=results)
        return _resummarized(rec, module.summarize_metrics(rec.metrics, record_config(rec)), results)


def _resummarized(rec: records.Record, derived: dict, results: Path | None) -> Path:
    name, preset = rec.experiment, rec.preset
    summary = _deep_update({k: v for k, v in rec.summary.items() if k != "verdict"}, derived)
    note = dict(utc=records.utc_now(), git=records.git_state(),
                command=shlex.join(["alexnet", "run", name, "--preset", preset, "--resummarize"]))
    prov = dict(rec.provenance, summary_rederived=[*rec.provenance.get("summary_rederived", []), note])
    return records.write(name, preset, config=rec.config, metrics=rec.metrics, summary=summary,
                         provenance=prov, root=results, force=True)


def at_seeds(rec: records.Record, seeds: list[int]) -> records.Record:
    """The record as it read with only `seeds`: their metrics, the summary re-derived from them
    (as `resummarize` does; nothing retrains). What a verdict was before seeds were added."""
    metrics = rec.metrics[rec.metrics.seed.isin(seeds)]
    summary = summary_from(rec, metrics)
    kept = [s for s in rec.provenance.get("seeds", []) if s in seeds]
    return dataclasses.replace(rec, metrics=metrics, summary=summary, provenance=dict(rec.provenance, seeds=kept))


def summary_from(rec: records.Record, metrics: pd.DataFrame) -> dict:
    """`rec`'s summary with every key its experiment derives from metrics re-derived from `metrics`."""
    return _deep_update(rec.summary, get(rec.experiment).summarize_metrics(metrics, record_config(rec)))


def record_config(rec: records.Record) -> Config:
    """The resolved base config a record was made with (keys this version no longer has dropped)."""
    base = rec.config.get("base", rec.config)
    return Config().replace(**{k: v for k, v in renamed(base).items() if k in valid_keys()})


def _deep_update(old: dict, new: dict) -> dict:
    """`old` with every key of `new` replaced by its value (dicts merged key by key)."""
    out = dict(old)
    for key, value in new.items():
        out[key] = _deep_update(old[key], value) if isinstance(value, dict) and isinstance(old.get(key), dict) \
            else value
    return out


def runs_root() -> Path:
    """Where experiments keep their scratch checkpoints: $ALEXNET_RUNS, else a cache folder
    outside the checkout ($XDG_CACHE_HOME/alexnet/runs, ~/.cache/alexnet/runs)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "alexnet" / "runs"
    return Path(os.environ.get("ALEXNET_RUNS", cache))


def scratch_path(experiment: str, preset: str, variant: str, seed: int) -> Path:
    """Where a run of an experiment keeps its checkpoints (nothing noted: a reader's lookup)."""
    return runs_root() / experiment / preset / f"{variant}-seed{seed}"


def scratch_dir(experiment: str, preset: str, variant: str, seed: int) -> Path:
    """Checkpoints of an experiment's runs, so an interrupted experiment resumes; a run
    found there already is noted in `REUSED` (and so in the record's provenance)."""
    out = scratch_path(experiment, preset, variant, seed)
    if (out / "checkpoint.pt").exists() and str(out) not in REUSED:
        REUSED.append(str(out))
    return out


def run_variants(experiment: str, preset: str, base: Config, variants: dict[str, dict],
                 seeds: list[int], on_result=None) -> tuple[pd.DataFrame, dict, dict]:
    """Train every variant (config changes) with every seed.

    Returns the per-epoch metrics (columns variant, seed, epoch, ...), the data
    fingerprint and the resolved config of each variant. `on_result(variant, seed, result)`
    may add measurements of the trained model (its return dict joins the last epoch row).
    The last epoch row also holds `wall_seconds`, the whole run by the wall clock (for a
    resumed run, only the part run this time).
    """
    frames, configs, fingerprint = [], {}, {}
    for variant, changes in variants.items():
        for seed in seeds:
            cfg = base.replace(seed=seed, **changes)
            configs[variant] = cfg.replace(seed=base.seed).to_dict()
            print(f"[{experiment}/{preset}] {variant}, seed {seed}")
            started = time.perf_counter()
            result: TrainResult = train(cfg, out_dir=scratch_dir(experiment, preset, variant, seed))
            frame = pd.DataFrame(result.history)
            # the run's wall clock, start to end: data loading, every epoch's training and evaluation
            frame.loc[frame.index[-1], "wall_seconds"] = time.perf_counter() - started
            if on_result is not None:
                for key, value in (on_result(variant, seed, result) or {}).items():
                    frame.loc[frame.index[-1], key] = value
            frames.append(frame.assign(variant=variant, seed=seed))
            fingerprint = result.data.fingerprint
    metrics = pd.concat(frames, ignore_index=True)
    first = ["variant", "seed", "epoch"]
    return metrics[first + [c for c in metrics.columns if c not in first]], fingerprint, configs


def last_epochs(metrics: pd.DataFrame) -> pd.DataFrame:
    """Each (variant, seed)'s last epoch row, in variant order and then seed order (a stable
    sort: rows never trade places, so a summary's per-seed lists follow the seed ids)."""
    rows = metrics.dropna(subset=["epoch"]).sort_values(["seed", "epoch"], kind="stable")
    return rows.groupby(["variant", "seed"], sort=False).tail(1)


def run_counting_parameters(experiment: str, preset: str, base: Config, variants: dict[str, dict],
                            seeds: list[int], summarize) -> Outcome:
    """`run_variants`, summarized by `summarize(metrics, cfg)`, with each variant's parameter
    count (of the net as trained: its class count is the dataset's) under [variant]["parameters"]
    and, where the experiment has one, its `measure(variant, seed, result)`'s columns in each
    run's last epoch row."""
    from ..models.summary import count_parameters
    parameters, measure = {}, getattr(get(experiment), "measure", None)

    def on_result(variant, seed, result):
        parameters[variant] = count_parameters(result.model)
        return measure(variant, seed, result) if measure else {}
    metrics, fingerprint, configs = run_variants(experiment, preset, base, variants, seeds, on_result)
    summary = summarize(metrics, base)
    for variant in variants:
        summary[variant]["parameters"] = parameters[variant]
    return Outcome(metrics, summary, fingerprint, configs)


def final_summary(metrics: pd.DataFrame, columns=("val_top1_err", "train_err")) -> dict:
    """Per variant: mean/std/n over seeds of the last epoch's values of `columns`, keyed by seed."""
    out = {}
    for variant, rows in last_epochs(metrics).groupby("variant", sort=False):
        rows = rows.set_index("seed")
        out[variant] = {c: summarize(rows[c]) for c in columns if c in rows}
    return out
