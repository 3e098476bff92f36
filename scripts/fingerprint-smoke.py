"""Fingerprint the `smoke` run of every experiment: a refactoring must leave them equal.

    python scripts/fingerprint-smoke.py OUT.json [EXPERIMENT ...]

Runs `alexnet run NAME --preset smoke` for each experiment into a scratch results folder
and writes, per experiment, the sha256 of metrics.csv and summary.json with the timing
columns and keys (seconds, images/s, ...) removed: those differ from run to run, everything
else must be bitwise equal before and after a change that is meant not to move numbers.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

TIMING = ("seconds", "images_per_s", "seconds_trained", "seconds_to_target", "ratio_seconds",
          "ratio_seconds_std", "ratio_seconds_values", "ms", "time")


def _timing(key: str) -> bool:
    return any(key == t or key.startswith(t + "_") or key.endswith("_" + t) for t in TIMING)


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if not _timing(str(k))}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def fingerprint(path: Path) -> dict:
    metrics = pd.read_csv(path / "metrics.csv")
    metrics = metrics[[c for c in metrics.columns if not _timing(c)]]
    buf = io.StringIO()
    metrics.to_csv(buf, index=False)
    summary = json.dumps(_strip(json.loads((path / "summary.json").read_text())), sort_keys=True)
    return dict(metrics=hashlib.sha256(buf.getvalue().encode()).hexdigest(),
                summary=hashlib.sha256(summary.encode()).hexdigest(), rows=len(metrics))


def main(argv: list[str]) -> int:
    from alexnet.experiments import names, run_experiment
    out, wanted = Path(argv[0]), argv[1:] or names()
    prints = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ALEXNET_RUNS"] = str(Path(tmp) / "runs")
        for name in wanted:
            path = run_experiment(name, "smoke", results=Path(tmp) / "results")
            prints[name] = fingerprint(path)
            print(name, prints[name], flush=True)
    out.write_text(json.dumps(prints, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
