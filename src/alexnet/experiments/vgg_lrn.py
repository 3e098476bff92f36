"""VGG §4.1 / Table 3: A-LRN (A plus AlexNet's local response normalisation) is no better
than A, so the deeper nets B-E drop LRN. Measured on CIFAR-10 at CPU scale."""
from __future__ import annotations

from ..harness import presets
from ..harness.paper_tables import CLAIMS, PAPER_TABLE3
from ..harness.declare import Claim, Experiment, paired, Regime
from ..harness.presets import model_name
from ..harness.runner import Outcome, final_summary, run_variants
from ..stats import pm

CONFIGS = ("A", "A-LRN")


def run(cfg, preset, seeds) -> Outcome:
    variants = {c: dict(model=model_name(c, cfg)) for c in CONFIGS}
    metrics, fingerprint, configs = run_variants("vgg_lrn", preset, cfg, variants, seeds)
    return Outcome(metrics, summarize_metrics(metrics, cfg), fingerprint, configs)


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    return final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err", "images_per_s"))


def facts(record) -> dict[str, str]:
    """What the VGG chapter quotes ({glue:text}`vgg_a_lrn_<key>`): each net's errors (mean ± std
    over seeds, %) beside Table 3's (S = Q = 256), A-LRN's speed against A's, the run's size, and
    the claim's margin beside the B -> C step of Table 3 that the paper reads as a real gain."""
    s, base = record.summary, record.config.get("base", record.config)
    speed = record.metrics.groupby("variant").images_per_s.median()   # single epochs are noisy on a shared CPU
    step = PAPER_TABLE3[("B", "256", "256")][0] - PAPER_TABLE3[("C", "256", "256")][0]
    out = dict(seeds=str(s["A"]["val_top1_err"]["n"]), speed=f"{speed['A-LRN'] / speed['A']:.2f}×",
               epochs=str(base["epochs"]), train=f"{base['train_limit']:,}", val=f"{base['val_limit']:,}",
               margin=f"{100 * CLAIMS['vgg_lrn']['margin_top1']:.1f} points", step=f"{step:.1f}-point")
    for c in CONFIGS:
        paper, key = PAPER_TABLE3[(c, "256", "256")], c.replace("-", "_")
        out.update({f"{key}_top1": pm(s[c]["val_top1_err"]), f"{key}_top5": pm(s[c]["val_top5_err"]),
                    f"{key}_paper_top1": f"{paper[0]}", f"{key}_paper_top5": f"{paper[1]}"})
    return out

# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="VGG A vs A-LRN: does local response normalisation help?", section="VGG §4.1, Table 3",
    presets=dict(smoke=presets.VGG_SMOKE, cpu=presets.VGG_CPU, regime=presets.VGG_REGIME,
                 paper=presets.VGG_PAPER),
    seeds=dict(presets.THREE, regime=presets.VGG_REGIME_SEEDS),
    # "No better than": the effect is A-LRN's error minus A's (positive: LRN does not help); it
    # reproduces when its interval lies above -margin (any gain from LRN is under the margin).
    claims=(Claim("vgg_a_lrn", "VGG: A-LRN is no better than A (Table 3)", "29.7 vs 29.6", "vgg",
                  paired(("A-LRN", "val_top1_err"), ("A", "val_top1_err")), margin=CLAIMS["vgg_lrn"]["margin_top1"],
                  regime=Regime()),))
