"""VGG §4.1 / Table 3: error falls as depth grows from 11 layers (A) to 19 (E), and C's 1x1
convolutions help less than D's 3x3 ones. Measured on CIFAR-10 at CPU scale."""
from __future__ import annotations

from . import presets
from .presets import model_name
from .runner import Outcome, final_summary, run_variants
from ..models import count_parameters
from ..models.vgg import WEIGHT_LAYERS

TITLE = "VGG depth: configurations A to E"
SECTION = "VGG §4.1, Table 3"
PRESETS = presets.of("vgg_depth")
SEEDS = presets.seeds("vgg_depth")   # cpu: ~8 minutes (18 runs)
CONFIGS = ("A", "B", "C", "D", "E")


def run(cfg, preset, seeds) -> Outcome:
    variants = {c: dict(model=model_name(c, cfg)) for c in CONFIGS}
    variants["E-glorot"] = dict(model=model_name("E", cfg), init="xavier")   # the Glorot init §3.1 names
    metrics, fingerprint, configs = run_variants(
        "vgg_depth", preset, cfg, variants, seeds,
        on_result=lambda variant, seed, result: dict(params=count_parameters(result.model)))
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err", "images_per_s"))
    last = metrics.dropna(subset=["params"]).groupby("variant")["params"].first()
    for v in variants:
        summary[v].update(weight_layers=WEIGHT_LAYERS[v.split("-")[0]], params=int(last[v]), init=configs[v]["init"])
    return Outcome(metrics, summary, fingerprint, configs)
