"""What an experiment declares, in one place (its module's `EXPERIMENT`): its presets and
seeds, its variants, and the claims of the paper it measures, each with the regime its record
must show. The runner, the scorecard and the chapters read only this.

    EXPERIMENT = Experiment(
        title="Overlapping (z=3, s=2) vs plain (z=s=2) max pooling", section="§3.4",
        presets=dict(smoke=..., cpu=..., long=..., paper=IMAGENET),   # config changes per scale
        seeds=dict(smoke=[0], cpu=[0, 1, 2], long=[0, 1, 2], paper=[0]),
        variants={"overlap": dict(pool="overlap"), "plain": dict(pool="plain")},
        claims=(Claim("pooling_error", "Overlapping pooling lowers the error (§3.4)", "−0.4 top-1",
                      "pooling", effect=..., size=0.004, regime=Regime()),))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..config import PRESETS as SCALES
from ..stats import paired as join


@dataclass(frozen=True)
class Regime:
    """The gate a claim's record must pass before its interval counts (`stats.regime`):
    `converged` (every variant's schedule finished, its test error settled at a rate that is
    not ~0); for claims about overfitting, `overfits`: this variant (the unregularised
    one) ends >= 10 points above its training error; `learned`: summary -> (passes, why),
    training has begun to do what the claim is about (Figure 3's conv1 left its random
    start; §5's early stages left chance)."""
    converged: bool = True
    overfits: str | None = None
    learned: Callable | None = None

    def text(self) -> str:
        parts = (["converged"] if self.converged else []) + ([f"{self.overfits} overfits"] if self.overfits else []) \
            + (["learned"] if self.learned else [])
        return " + ".join(parts) or "none"

    @property
    def gated(self) -> bool:
        return bool(self.converged or self.overfits or self.learned)


NO_GATE = Regime(converged=False)


@dataclass(frozen=True)
class Claim:
    """One claim of a paper, as the scorecard measures it."""
    id: str                          # how chapters ask for it: evidence("lrn_cifar_13_11")
    claim: str                       # what the paper says, in a few words
    paper: str                       # the paper's value as the paper gives it
    chapter: str                     # the book page that discusses it
    effect: Callable | None = None   # summary -> per-seed effects, paired by seed (positive = the paper's way)
    size: float | None = None        # the paper's effect in the same units, positive (None: none stated)
    margin: float | None = None      # a "no better than" claim's equivalence margin (fixed in advance)
    regime: Regime = NO_GATE         # what the record must show
    holds: Callable | None = None    # () -> (bool, text): a code check ("exact")
    unit: str = "points"             # how `ours` is shown: points (x100), x-1 (a ratio), epochs, plain
    experiment: str | None = None    # set by the registry: the record it is read from

    def __post_init__(self):
        if self.size is not None and not self.size > 0:
            raise ValueError(f"claim {self.id}: the paper's size must be positive (orient the effect the "
                             f"paper's way), got {self.size}")


@dataclass(frozen=True)
class Experiment:
    title: str                               # what it measures
    section: str                             # where the paper says it
    presets: dict[str, dict]                 # preset -> config changes (paper defaults <- scale <- these)
    seeds: dict[str, list[int]]              # preset -> the seeds a record holds
    variants: dict[str, dict] = field(default_factory=dict)   # variant -> config changes
    claims: tuple[Claim, ...] = ()

    def __post_init__(self):
        unknown = set(self.presets) - set(SCALES)
        if unknown:
            raise ValueError(f"{self.title}: presets {sorted(unknown)} are no scale; choose from {SCALES}")
        # a shared seed table (presets.THREE) may name scales this experiment does not declare
        object.__setattr__(self, "seeds", {p: list(s) for p, s in self.seeds.items() if p in self.presets})

    def preset_names(self) -> list[str]:
        """Its presets in the order smoke, cpu, long, paper."""
        return [p for p in SCALES if p in self.presets]


# --- Reading a claim's per-seed effect from a record's summary ---------------------------
def node(summary: dict, path: tuple) -> dict:
    """summary[path...]: a per-seed summary from `stats.summarize` (values keyed by seed)."""
    for key in path:
        summary = summary[key]
    return summary


def values(*path) -> Callable:
    """An effect read as it is: summary -> the per-seed values at `path` (in seed order)."""
    return lambda summary: [float(v) for v in node(summary, path)["values"]]


def paired(worse: tuple, better: tuple) -> Callable:
    """An effect `worse - better`, per seed, joined on the seed id (`stats.paired` refuses
    two variants whose seeds differ); positive = the paper's way."""
    return lambda summary: join(node(summary, worse), node(summary, better), f"{worse} - {better}")["values"]
