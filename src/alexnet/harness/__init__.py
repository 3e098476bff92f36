"""The machinery every experiment shares: `declare` (what an experiment declares: presets,
seeds, variants, claims and their regime), `presets` (the shared recipes the declarations are
built from), `paper_tables` (the papers' numbers), `registry` (the experiments by name) and
`runner` (`run_experiment`: one experiment at one preset, written as a run record)."""
from __future__ import annotations

from .registry import get, names, table
from .runner import Outcome, resummarize, run_experiment

__all__ = ["Outcome", "get", "names", "resummarize", "run_experiment", "table"]
