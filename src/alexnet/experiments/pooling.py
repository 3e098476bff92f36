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
from ..stats import difference, interval, pct, per_variant
from .. import stats
from ..harness import presets
from ..harness.declare import Claim, Experiment, paired, Regime
from ..harness.paper_tables import CLAIMS
from ..harness.runner import Outcome, last_epochs, run_variants

VARIANTS = {"overlap": dict(pool="overlap"), "plain": dict(pool="plain")}
PAPER = CLAIMS["pooling"]          # §3.4: overlapping is better by these

COLUMNS = ("val_top1_err", "val_top5_err", "train_clean_top1_err", "gap", "train_err", "seconds")


def run(cfg: Config, preset: str, seeds: list[int]) -> Outcome:
    classes = {}

    def measure(variant, seed, result):
        classes["n"] = result.data.num_classes
        return clean_train_error(result)
    metrics, fingerprint, configs = run_variants("pooling", preset, cfg, VARIANTS, seeds, on_result=measure)
    summary = summarize_metrics(metrics, cfg)
    for variant, changes in VARIANTS.items():     # for one image of the size trained on
        model = build_model(cfg.replace(**changes), classes["n"], 3)
        summary["variants"][variant]["output_sizes"] = output_sizes(model, (3, cfg.image_size, cfg.image_size))
    return Outcome(metrics, summary, fingerprint, configs)


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    last = last_epochs(metrics).copy()
    last["gap"] = last.val_top1_err - last.train_clean_top1_err
    summary = dict(variants=per_variant(last, COLUMNS), paper=PAPER)
    over, plain = summary["variants"]["overlap"], summary["variants"]["plain"]
    # > 0 means overlapping pooling is better (lower error, smaller gap), as the paper reports.
    summary["gain_top1"] = difference(plain["val_top1_err"], over["val_top1_err"])
    summary["gain_top5"] = difference(plain["val_top5_err"], over["val_top5_err"])
    summary["gap_reduction"] = difference(plain["gap"], over["gap"])
    return summary


def _points(d: dict) -> str:
    """Paired per-seed differences as '+0.72 points (95% interval +0.10 to +1.34)'."""
    ci = interval(d["values"])
    if ci["n"] < 2:
        return f"{100 * ci['mean']:+.2f} points (one seed)"
    return f"{100 * ci['mean']:+.2f} points (95% interval over the seeds {100 * ci['lo']:+.2f} to {100 * ci['hi']:+.2f})"


def _pools(variant: dict) -> str:
    """The recorded output sizes of the pools and fc6's parameters: 'pool1 64×16×16, ...'."""
    rows = {r["layer"]: r for r in variant.get("output_sizes", [])}
    pools = ", ".join(f"{k} {r['output'].replace('x', '×')}" for k, r in rows.items() if r["type"] == "MaxPool2d")
    return f"{pools}; fc6 {rows['fc6']['params']:,} parameters" if "fc6" in rows else pools or "–"


def facts(record) -> dict[str, str]:
    """The strings the chapter quotes from a record: means over seeds per pool, and the
    paired per-seed differences plain - overlapping (positive: overlapping is better)."""
    v = record.summary["variants"]
    out = dict(n=str(v["overlap"]["val_top1_err"]["n"]))
    for name in ("overlap", "plain"):
        out.update({f"err_{name}": pct(v[name]["val_top1_err"]["mean"]),
                    f"train_{name}": pct(v[name]["train_clean_top1_err"]["mean"]),
                    f"gap_{name}": f"{100 * v[name]['gap']['mean']:.1f} points",
                    f"std_{name}": f"{100 * v[name]['val_top1_err']['std']:.1f} points",
                    f"sizes_{name}": _pools(v[name])})
    gain = stats.paired(v["plain"]["val_top1_err"], v["overlap"]["val_top1_err"])
    out.update(gain=_points(gain), gap_reduction=_points(stats.paired(v["plain"]["gap"], v["overlap"]["gap"])),
               noise=f"{200 * interval(gain['values'])['se']:.1f} points" if gain["n"] > 1 else "– (one seed)")
    return out


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="Overlapping (z=3, s=2) vs plain (z=s=2) max pooling", section="§3.4",
    # cpu: 6 runs of 8,000 images x 8 epochs (crops + flips, §4.1), ~1,000 images/s: ~7 minutes.
    # Cosine, so both pools end at the same small rate; 2,000 test images per evaluation.
    presets=dict(smoke=dict(presets.SMOKE_CIFAR_ALEXNET, epochs=1), paper=presets.IMAGENET,
                 cpu=dict(presets.CIFAR_ALEXNET, dropout=0.5, epochs=8, train_limit=8000, val_limit=2000,
                          augment="crop_flip", schedule="cosine"),
                 long=dict(presets.LONG_ALEXNET, dropout=0.5, augment="none", schedule="cosine"),
                 # the gate's design: the same net and data, §5's schedule to its end; 5 seeds, since
                 # the paper's effect (0.4 points) is under 1 point
                 regime=dict(presets.REGIME_ALEXNET, dropout=0.5, augment="none")),
    seeds=dict(presets.THREE, regime=[0, 1, 2, 3, 4]), variants=VARIANTS,
    claims=(Claim("pooling_error", "Overlapping pooling lowers the error (§3.4)", "0.4 points lower top-1", "pooling",
                  paired(("variants", "plain", "val_top1_err"), ("variants", "overlap", "val_top1_err")),
                  PAPER["gain_top1"], regime=Regime()),
            Claim("pooling_overfit", "Overlapping pooling makes overfitting harder (§3.4)",
                  "\"slightly more difficult to overfit\"", "pooling",
                  paired(("variants", "plain", "gap"), ("variants", "overlap", "gap")),
                  regime=Regime(overfits="plain"))))
