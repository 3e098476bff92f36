"""§3.4: overlapping pooling (z=3, s=2) against the traditional grid (z=s=2).

"This scheme reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as
compared with the non-overlapping scheme s = 2, z = 2, which produces output of equivalent
dimensions. We generally observe during training that models with overlapping pooling find
it slightly more difficult to overfit."

The `cpu` preset trains the AlexNet-shaped CIFAR-10 net (`cifar_alexnet`: conv, pool, LRN,
conv, LRN, pool, fc6, fc7, fc8, dropout 0.5 in fc6/fc7 as §4.2) with both pools at the same
budget and seeds, and records test error, the clean training error (test mode, on the
training images) and so the train-test gap, and each layer's output size. Both variants
produce the same sizes (the overlapping pool pads by one pixel on CIFAR-10's even sides),
as in the paper. The `paper` preset is the ImageNet ablation on `alexnet_paper`.
"""
from __future__ import annotations

from ..config import Config
from ..evaluation.metrics import clean_train_error
from ..models import build_model
from ..models.summary import output_sizes
from ..stats import difference, per_variant
from . import presets
from .paper_tables import CLAIMS
from .runner import Outcome, run_variants

TITLE = "Overlapping (z=3, s=2) vs plain (z=s=2) max pooling"
SECTION = "§3.4"
VARIANTS = {"overlap": dict(pool="overlap"), "plain": dict(pool="plain")}
PAPER = CLAIMS["pooling"]          # §3.4: overlapping is better by these

PRESETS = presets.of("pooling")
SEEDS = presets.seeds("pooling")
COLUMNS = ("val_top1_err", "val_top5_err", "train_clean_top1_err", "gap", "train_err", "seconds")


def run(cfg: Config, preset: str, seeds: list[int]) -> Outcome:
    classes = {}

    def measure(variant, seed, result):
        classes["n"] = result.data.num_classes
        return clean_train_error(result)
    metrics, fingerprint, configs = run_variants("pooling", preset, cfg, VARIANTS, seeds, on_result=measure)
    last = metrics.sort_values("epoch").groupby(["variant", "seed"]).tail(1).copy()
    last["gap"] = last.val_top1_err - last.train_clean_top1_err
    summary = dict(variants=per_variant(last, COLUMNS), paper=PAPER)
    for variant, changes in VARIANTS.items():     # for one image of the size trained on
        model = build_model(cfg.replace(**changes), classes["n"], 3)
        summary["variants"][variant]["output_sizes"] = output_sizes(model, (3, cfg.image_size, cfg.image_size))
    over, plain = summary["variants"]["overlap"], summary["variants"]["plain"]
    # > 0 means overlapping pooling is better (lower error, smaller gap), as the paper reports.
    summary["gain_top1"] = difference(plain["val_top1_err"], over["val_top1_err"])
    summary["gain_top5"] = difference(plain["val_top5_err"], over["val_top5_err"])
    summary["gap_reduction"] = difference(plain["gap"], over["gap"])
    return Outcome(metrics, summary, fingerprint, configs)
