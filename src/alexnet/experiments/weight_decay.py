"""§5: "this small amount of weight decay was important for the model to learn. In other
words, weight decay here is not merely a regularizer: it reduces the model's training error."

Two variants of the same net, recipe and seeds: weight decay 0.0005 (§5) and none. The claim
is about the *training* error, so the record keeps the running training error of every epoch
and, at the end, the clean training error (test mode, no augmentation or dropout) on the first
2,000 training images; `train_err_gain` is, per seed, (no decay) - (decay): positive where
weight decay lowers the training error, as §5 says.
"""
from __future__ import annotations

from ..evaluation.metrics import clean_train_error
from ..stats import per_variant
from . import presets
from .runner import Outcome, run_variants

TITLE = "Weight decay lowers the training error (§5)"
SECTION = "§5"
PRESETS = presets.of("weight_decay")
SEEDS = presets.seeds("weight_decay")
VARIANTS = {"decay": dict(weight_decay=5e-4), "no_decay": dict(weight_decay=0.0)}
COLUMNS = ("train_err", "train_clean_top1_err", "val_top1_err", "train_loss")


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    metrics, fingerprint, configs = run_variants(
        "weight_decay", preset, cfg, VARIANTS, seeds,
        on_result=lambda variant, seed, result: clean_train_error(result))
    last = metrics.sort_values("epoch").groupby(["variant", "seed"]).tail(1)
    summary = per_variant(last, COLUMNS)
    by_seed = last.pivot(index="seed", columns="variant")
    summary["train_err_gain"] = dict(values=[float(v) for v in
                                             by_seed.train_err.no_decay - by_seed.train_err.decay])
    summary["clean_train_err_gain"] = dict(values=[float(v) for v in by_seed.train_clean_top1_err.no_decay
                                                   - by_seed.train_clean_top1_err.decay])
    summary["paper"] = dict(claim="weight decay reduces the training error (§5)")
    return Outcome(metrics, summary, fingerprint, configs)
