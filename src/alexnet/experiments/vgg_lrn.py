"""VGG §4.1 / Table 3: A-LRN (A plus AlexNet's local response normalisation) is no better
than A, so the deeper nets B-E drop LRN. Measured on CIFAR-10 at CPU scale."""
from __future__ import annotations

from ..harness import presets
from ..harness.paper_tables import CLAIMS
from ..harness.declare import Claim, Experiment, paired, Regime
from ..harness.presets import model_name
from ..harness.runner import Outcome, final_summary, run_variants

CONFIGS = ("A", "A-LRN")


def run(cfg, preset, seeds) -> Outcome:
    variants = {c: dict(model=model_name(c, cfg)) for c in CONFIGS}
    metrics, fingerprint, configs = run_variants("vgg_lrn", preset, cfg, variants, seeds)
    return Outcome(metrics, summarize_metrics(metrics, cfg), fingerprint, configs)


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    return final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err", "images_per_s"))


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="VGG A vs A-LRN: does local response normalisation help?", section="VGG §4.1, Table 3",
    presets=dict(smoke=presets.VGG_SMOKE, cpu=presets.VGG_CPU, paper=presets.VGG_PAPER),
    seeds=presets.THREE,
    # "No better than": the effect is A-LRN's error minus A's (positive: LRN does not help); it
    # reproduces when its interval lies above -margin (any gain from LRN is under the margin).
    claims=(Claim("vgg_a_lrn", "VGG: A-LRN is no better than A (Table 3)", "29.7 vs 29.6", "vgg",
                  paired(("A-LRN", "val_top1_err"), ("A", "val_top1_err")), margin=CLAIMS["vgg_lrn"]["margin_top1"],
                  regime=Regime()),))
