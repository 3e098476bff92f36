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
from ..stats import per_variant, pm, summarize
from ..harness import presets
from ..harness.declare import Claim, Experiment, Regime, values
from ..harness.runner import Outcome, last_epochs, run_variants

VARIANTS = {"decay": dict(weight_decay=5e-4), "no_decay": dict(weight_decay=0.0)}
COLUMNS = ("train_err", "train_clean_top1_err", "val_top1_err", "train_loss")


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    metrics, fingerprint, configs = run_variants(
        "weight_decay", preset, cfg, VARIANTS, seeds,
        on_result=lambda variant, seed, result: clean_train_error(result))
    return Outcome(metrics, summarize_metrics(metrics, cfg), fingerprint, configs)


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    last = last_epochs(metrics)
    summary = per_variant(last, COLUMNS)
    by_seed = last.pivot(index="seed", columns="variant")      # paired by seed
    summary["train_err_gain"] = summarize(by_seed.train_err.no_decay - by_seed.train_err.decay)
    summary["clean_train_err_gain"] = summarize(by_seed.train_clean_top1_err.no_decay
                                                - by_seed.train_clean_top1_err.decay)
    summary["paper"] = dict(claim="weight decay reduces the training error (§5)")
    return summary


def facts(record) -> dict[str, str]:
    """The clean training error and the test error of each arm, 'mean ± std%', for the prose."""
    s = record.summary
    return dict(clean_on=pm(s["decay"]["train_clean_top1_err"], unit="%"),
                clean_off=pm(s["no_decay"]["train_clean_top1_err"], unit="%"),
                test_on=pm(s["decay"]["val_top1_err"], unit="%"),
                test_off=pm(s["no_decay"]["val_top1_err"], unit="%"))


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="Weight decay lowers the training error (§5)", section="§5",
    # §5's weight-decay claim, on the same net and budget as the other `long` runs; crops and flips
    # and dropout on, as in the paper's recipe, so decay is not the only thing holding overfitting.
    presets=dict(smoke=dict(presets.SMOKE_CIFAR_ALEXNET, epochs=2),
                 cpu=dict(presets.CIFAR_ALEXNET, dropout=0.5, augment="crop_flip", schedule="cosine", epochs=8,
                          train_limit=4000, val_limit=2000),
                 long=dict(presets.LONG_ALEXNET, dropout=0.5, augment="crop_flip", schedule="cosine"),
                 regime=dict(presets.REGIME_ALEXNET, dropout=0.5, augment="crop_flip")),   # issue 25
    seeds={"smoke": [0], "cpu": [0, 1, 2], "long": [0, 1, 2], "regime": [0, 1, 2, 3, 4]}, variants=VARIANTS,
    claims=(Claim("weight_decay", "Weight decay lowers the training error (§5)",
                  "\"reduces the model's training error\"", "learning", values("clean_train_err_gain"),
                  regime=Regime()),))
