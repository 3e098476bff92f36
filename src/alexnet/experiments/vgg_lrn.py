"""VGG §4.1 / Table 3: A-LRN (A plus AlexNet's local response normalisation) is no better
than A, so the deeper nets B-E drop LRN. Measured on CIFAR-10 at CPU scale."""
from __future__ import annotations

from . import presets
from .presets import model_name
from .runner import Outcome, final_summary, run_variants

TITLE = "VGG A vs A-LRN: does local response normalisation help?"
SECTION = "VGG §4.1, Table 3"
PRESETS = presets.of("vgg_lrn")
SEEDS = presets.seeds("vgg_lrn")
CONFIGS = ("A", "A-LRN")


def run(cfg, preset, seeds) -> Outcome:
    variants = {c: dict(model=model_name(c, cfg)) for c in CONFIGS}
    metrics, fingerprint, configs = run_variants("vgg_lrn", preset, cfg, variants, seeds)
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err", "images_per_s"))
    return Outcome(metrics, summary, fingerprint, configs)
