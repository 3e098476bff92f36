"""The experiments, found by file name: every module of `alexnet.experiments` (each declares
`EXPERIMENT`, `harness.declare.Experiment`, and a `run`)."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pandas as pd

from ..config import ConfigError

PACKAGE = "alexnet.experiments"
FOLDER = Path(__file__).resolve().parents[1] / "experiments"


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(FOLDER)]) if not m.name.startswith("_"))


def get(name: str):
    if name not in names():
        raise ConfigError(f"unknown experiment {name!r}; choose one of {', '.join(names())}")
    return importlib.import_module(f"{PACKAGE}.{name}")


def declared(name: str):
    """`name`'s declaration (`Experiment`), its claims stamped with the experiment's name."""
    from dataclasses import replace
    exp = get(name).EXPERIMENT
    return replace(exp, claims=tuple(replace(c, experiment=name) for c in exp.claims))


def with_preset(preset: str) -> list[str]:
    """The experiments that declare `preset` (e.g. every `long` one)."""
    return [n for n in names() if preset in get(n).EXPERIMENT.presets]


def table() -> pd.DataFrame:
    rows = []
    for n in names():
        e = get(n).EXPERIMENT
        rows.append(dict(experiment=n, section=e.section, title=e.title, presets=", ".join(e.preset_names()),
                         claims=", ".join(c.id for c in e.claims)))
    return pd.DataFrame(rows)
