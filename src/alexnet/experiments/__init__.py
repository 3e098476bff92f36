"""One module per experiment, found by its file name (`alexnet.harness.registry`). Each declares

    EXPERIMENT = Experiment(title=..., section="§3.4", presets=dict(smoke=..., cpu=..., long=...,
                            paper=...), seeds=..., variants=..., claims=(Claim(...), ...))
    def run(cfg: Config, preset: str, seeds: list[int]) -> Outcome
    def summarize_metrics(metrics, cfg) -> dict      # the summary from metrics.csv alone

and `alexnet run <name> --preset <p>` (`harness.runner.run_experiment`) resolves the config
(paper defaults <- base preset <- the declared preset <- overrides), calls `run`, and writes the
run record with its provenance. The machinery lives in `alexnet.harness`; the claims, the
scorecard and the evidence chapters read live in `alexnet.claims`.
"""
from __future__ import annotations

from ..harness.registry import get, names, table
from ..harness.runner import Outcome, run_experiment

__all__ = ["Outcome", "get", "names", "run_experiment", "table"]
