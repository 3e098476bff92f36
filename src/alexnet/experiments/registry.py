"""The experiments, found by file name: every module of this package that is not machinery."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pandas as pd

from ..config import ConfigError

PACKAGE = __name__.rpartition(".")[0]          # alexnet.experiments
# Modules of the package that are machinery, not experiments.
NOT_EXPERIMENTS = ("registry", "runner", "presets", "paper_tables", "scorecard", "claims")


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                  if not m.name.startswith("_") and m.name not in NOT_EXPERIMENTS)


def get(name: str):
    if name not in names():
        raise ConfigError(f"unknown experiment {name!r}; choose one of {', '.join(names())}")
    return importlib.import_module(f"{PACKAGE}.{name}")


def table() -> pd.DataFrame:
    rows = []
    for n in names():
        m = get(n)
        rows.append(dict(experiment=n, section=getattr(m, "SECTION", ""), title=m.TITLE,
                         presets=", ".join(m.PRESETS)))
    return pd.DataFrame(rows)
