"""§7: remove one middle convolutional layer (conv3, conv4 or conv5), each in turn.

"Our network's performance degrades if a single convolutional layer is removed. For
example, removing any of the middle layers results in a loss of about 2% for the top-1
performance of the network." (§7)

The CPU-scale AlexNet and its three cut-down versions (`alexnet.models.depth`) train with
the same recipe and budget; the record holds each one's top-1 change against the full net,
paired by seed (same data order, same init seed), with its spread over seeds.
"""
from __future__ import annotations

from ..models.depth import MIDDLE
from ..stats import epochs_trained, pm, summarize
from .. import stats
from ..harness import presets
from ..harness.declare import Claim, Experiment, Regime
from ..harness.paper_tables import CLAIMS
from ..harness.runner import Outcome, final_summary, last_epochs, run_counting_parameters

PAPER_TOP1_LOSS = CLAIMS["depth_ablation"]["top1_loss"]   # §7: "about 2%"


def variants(model: str) -> dict[str, dict]:
    return {"full": dict(model=model), **{f"no_{layer}": dict(model=f"{model}_no_{layer}")
                                          for layer in MIDDLE}}


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    return run_counting_parameters("depth_ablation", preset, cfg, variants(cfg.model), seeds, summarize_metrics)


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err"))
    err = last_epochs(metrics).pivot(index="seed", columns="variant", values="val_top1_err")
    for variant in err.columns.drop("full"):
        # Paired by seed: error(without layer) - error(full); > 0 means the layer helped.
        summary[variant]["top1_change"] = summarize(err[variant] - err["full"])
    summary["paper_top1_loss"] = PAPER_TOP1_LOSS
    return summary


def facts(record) -> dict[str, str]:
    """The strings the chapter quotes from a record: its budget and, per network, parameters,
    test error and the paired change against the full net (mean ± std over seeds, points)."""
    s, base = record.summary, record.config.get("base", record.config)
    out = dict(epochs=epochs_trained(record.metrics, base["epochs"]), train=f"{base['train_limit']:,}",
               test=f"{base['val_limit']:,}",
               n=str(s["full"]["val_top1_err"]["n"]))
    for variant in ("full", *(f"no_{layer}" for layer in MIDDLE)):
        change = s[variant].get("top1_change")
        out.update({f"params_{variant}": f"{s[variant]['parameters']:,}" if "parameters" in s[variant] else "–",
                    f"err_{variant}": pm(s[variant]["val_top1_err"], unit="%"),
                    f"change_{variant}": pm(change, signed=True)})
    return out


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
def _depth(summary: dict) -> list[float]:
    """Per seed, the mean over conv3/4/5 of the top-1 change when one is removed."""
    per = [stats.by_seed(summary[f"no_{c}"]["top1_change"]) for c in ("conv3", "conv4", "conv5")]
    seeds = sorted(set.intersection(*(set(p) for p in per)))
    return [sum(p[s] for p in per) / len(per) for s in seeds]


EXPERIMENT = Experiment(
    title="Depth matters: remove one middle conv layer", section="§7",
    # cpu: ~14 minutes: 12 runs x 6 epochs x 8,000 images, LRN off (CPU budget). A first record
    # (2 seeds x 3 epochs x 6,000) left the full net at 73% error with seed spreads of up to
    # 8 points, too early and too noisy to compare depths.
    presets=dict(smoke=presets.SMOKE_SMALL, paper=presets.IMAGENET,
                 cpu=dict(presets.CIFAR_SMALL, epochs=6, train_limit=8000, val_limit=5000, lrn=False),
                 long=dict(presets.LONG_SMALL, lrn=False),
                 regime=dict(presets.REGIME_SMALL, lrn=False)),     # issue 25: converged, >= 4 seeds
    seeds={"smoke": [0], "cpu": [0, 1, 2], "long": [0, 1], "regime": [0, 1, 2, 3], "paper": [0]},
    claims=(Claim("depth", "Removing a middle conv layer costs ~2% top-1 (§7)", "≈2 top-1", "depth", _depth,
                  PAPER_TOP1_LOSS, regime=Regime()),))
