"""One module per paper claim. Each module defines

    TITLE   = "ReLU vs tanh on CIFAR-10"        # what it measures
    SECTION = "§3.1"                             # where the paper says it
    PRESETS = presets.of("relu_vs_tanh")         # config changes per scale, from the ONE table
    SEEDS   = presets.seeds("relu_vs_tanh")      # seeds per scale, from the same table
    def run(cfg: Config, preset: str, seeds: list[int]) -> Outcome

and is found by its file name (`registry`): `alexnet run <name> --preset <p>`
(`runner.run_experiment`) resolves the config (paper defaults <- base preset <- PRESETS[p]
<- overrides), calls `run`, and writes the run record with its provenance. The machinery:
`registry` (names, get, table), `runner` (run_variants, final_summary, run_experiment,
Outcome), `presets` (the table of presets and seeds), `paper_tables` (the papers' numbers).
"""
from __future__ import annotations

from .registry import NOT_EXPERIMENTS, get, names, table
from .runner import Outcome, run_experiment

__all__ = ["NOT_EXPERIMENTS", "Outcome", "get", "names", "run_experiment", "table"]
