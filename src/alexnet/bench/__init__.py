"""`alexnet bench WHAT`: throughput benchmarks, one module per WHAT (data, train, ...).

Each module defines `TITLE` and `run(overrides: list[str]) -> Path`, and writes its result
as a run record under results/bench_<what>/<preset>/ (through `alexnet.records`), so the
book's tables carry the same provenance as every other number. Speed targets are checked
against these records, never by timed tests. The timer is `alexnet.timing`; bench never imports
`alexnet.experiments` (shared recipes live in `alexnet.recipes`).
"""
from __future__ import annotations

import importlib
import pkgutil


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def main(what: str, overrides: list[str]) -> int:
    if what not in names():
        print(f"alexnet bench: unknown benchmark {what!r}; choose one of {', '.join(names()) or '(none yet)'}")
        return 2
    path = importlib.import_module(f"{__name__}.{what}").run(overrides)
    print(f"benchmark record written to {path}")
    return 0
