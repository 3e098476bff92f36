"""One module per paper claim. Each module defines

    TITLE   = "ReLU vs tanh on CIFAR-10"        # what it measures
    SECTION = "§3.1"                             # where the paper says it
    PRESETS = {"smoke": {...}, "cpu": {...}, "paper": {...}}   # config changes per scale
    SEEDS   = {"smoke": [0], "cpu": [0, 1, 2], "paper": [0]}   # optional
    def run(cfg: Config, preset: str, seeds: list[int]) -> Outcome

and is found here by its file name: `alexnet run <name> --preset <p>` resolves the config
(paper defaults <- base preset <- PRESETS[p] <- overrides), calls `run`, and writes the
run record with its provenance.
"""
from __future__ import annotations

import importlib
import pkgutil
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import records
from ..config import ConfigError, resolve


# Modules of this package that are machinery, not experiments.
NOT_EXPERIMENTS = ("runner", "presets", "paper_tables")


@dataclass
class Outcome:
    metrics: pd.DataFrame            # one row per (variant, seed, epoch) or evaluation
    summary: dict                    # the numbers a chapter quotes
    data: dict = field(default_factory=dict)    # the dataset fingerprint
    configs: dict = field(default_factory=dict)  # variant -> resolved config, when they differ
    files: dict = field(default_factory=dict)    # extra small files for the record folder: name -> bytes


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
                  and m.name not in NOT_EXPERIMENTS)


def get(name: str):
    if name not in names():
        raise ConfigError(f"unknown experiment {name!r}; choose one of {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}")


def table() -> pd.DataFrame:
    rows = []
    for n in names():
        m = get(n)
        rows.append(dict(experiment=n, section=getattr(m, "SECTION", ""), title=m.TITLE,
                         presets=", ".join(m.PRESETS)))
    return pd.DataFrame(rows)


def run_experiment(name: str, preset: str, overrides: list[str] | None = None,
                   results: Path | None = None, seeds: list[int] | None = None) -> Path:
    """Run `name` at `preset` and write its record under results/<name>/<preset>/."""
    module = get(name)
    if preset not in module.PRESETS:
        raise ConfigError(f"experiment {name!r} has no preset {preset!r}; choose one of "
                          f"{', '.join(module.PRESETS)}")
    cfg = resolve(preset, overrides or [], module.PRESETS[preset])
    seeds = seeds if seeds is not None else getattr(module, "SEEDS", {}).get(preset, [cfg.seed])
    started = records.utc_now()
    outcome: Outcome = module.run(cfg, preset, seeds)
    config = dict(base=cfg.to_dict(), variants=outcome.configs, overrides=overrides or [])
    prov = records.provenance(command=shlex.join(["alexnet", "run", name, "--preset", preset,
                                                  *(overrides or [])]),
                              started=started, seeds=seeds, data=outcome.data)
    path = records.write(name, preset, config=config, metrics=outcome.metrics,
                         summary=outcome.summary, provenance=prov, root=results)
    for file_name, content in outcome.files.items():     # e.g. §6.1's kernels, so the book needs no checkpoint
        (path / file_name).write_bytes(content)
    return path
