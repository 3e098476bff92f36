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
from . import Outcome
from ..evaluation.metrics import clean_train_error
from ..models.summary import output_sizes
from ..stats import difference, per_variant
from .runner import run_variants

TITLE = "Overlapping (z=3, s=2) vs plain (z=s=2) max pooling"
SECTION = "§3.4"
VARIANTS = {"overlap": dict(pool="overlap"), "plain": dict(pool="plain")}
PAPER = dict(gain_top1=0.004, gain_top5=0.003)          # §3.4: overlapping is better by these

# Kaiming init: §5's N(0, 0.01) leaves a net this small at chance for the first epochs
# (measured: 3 epochs at 90% error), which would compare two untrained nets. lr 0.02: at
# 0.01 the net was still far from converged after 10 epochs of 5,000 images (measured).
CIFAR = dict(dataset="cifar10", model="cifar_alexnet", image_size=32, batch_size=128,
             init="kaiming", lr=0.02, dropout=0.5, dropout_style="vanilla")
PRESETS = {
    "smoke": dict(dataset="synthetic", model="cifar_alexnet", init="kaiming", epochs=1),
    # 6 runs of 8,000 training images x 8 epochs (crops + flips, §4.1), ~1,000 images/s on
    # 2 cores: ~7 minutes. Cosine schedule so both variants end at the same small learning
    # rate; 2,000 test images per evaluation.
    "cpu": dict(CIFAR, epochs=8, train_limit=8000, val_limit=2000, augment="crop_flip",
                schedule="cosine"),
    # The ablation itself: the paper's net and recipe on ImageNet, pool switched.
    "paper": dict(dataset="imagenet", model="alexnet_paper", precision="bf16", channels_last=True),
}
SEEDS = {"smoke": [0], "cpu": [0, 1, 2], "paper": [0]}
COLUMNS = ("val_top1_err", "val_top5_err", "train_clean_top1_err", "gap", "train_err", "seconds")


def run(cfg: Config, preset: str, seeds: list[int]) -> Outcome:
    from ..models import build_model
    metrics, fingerprint, configs = run_variants(
        "pooling", preset, cfg, VARIANTS, seeds,
        on_result=lambda variant, seed, result: clean_train_error(result))
    last = metrics.sort_values("epoch").groupby(["variant", "seed"]).tail(1).copy()
    last["gap"] = last.val_top1_err - last.train_clean_top1_err
    summary = dict(variants=per_variant(last, COLUMNS), paper=PAPER)
    nc, side = (1000, 227) if preset == "paper" else (10, cfg.image_size)
    for variant, changes in VARIANTS.items():
        model = build_model(cfg.replace(**changes), nc, 3)
        summary["variants"][variant]["output_sizes"] = output_sizes(model, (3, side, side))
    over, plain = summary["variants"]["overlap"], summary["variants"]["plain"]
    # > 0 means overlapping pooling is better (lower error, smaller gap), as the paper reports.
    summary["gain_top1"] = difference(plain["val_top1_err"], over["val_top1_err"])
    summary["gain_top5"] = difference(plain["val_top5_err"], over["val_top5_err"])
    summary["gap_reduction"] = difference(plain["gap"], over["gap"])
    return Outcome(metrics, summary, fingerprint, configs)
