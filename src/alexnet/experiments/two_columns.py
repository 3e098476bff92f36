"""§3.2: two columns (the paper's two GPUs) against one column with half the kernels.

"The two-GPU net takes slightly less time to train than the one-GPU net" and "reduces our
top-1 and top-5 error rates by 1.7% and 1.2%, respectively, as compared with a net with
half as many kernels in each convolutional layer trained on one GPU" — where the one-GPU
net keeps conv5 and the FC layers at full size, so both nets have about the same number
of parameters (`alexnet.models.one_column_half`).

On one device the two columns are grouped convolutions (`columns=2`; `alexnet.parallel`
shows it is the same function as the two-GPU split). The `cpu` preset compares
`alexnet_small` with columns=2 and columns=1 on CIFAR-10 (a 10,000-image subset, 3 epochs,
3 seeds); the `paper` preset is the ImageNet comparison itself.
"""
from __future__ import annotations

from ..evaluation import probes
from ..evaluation.metrics import clean_train_error
from ..models import build_model
from ..harness import presets
from ..harness.declare import Claim, Experiment, paired, Regime
from ..harness.paper_tables import CLAIMS
from ..harness.runner import Outcome, final_summary, run_counting_parameters
from ..stats import moves, pct

VARIANTS = {"two_columns": dict(columns=2), "one_column_half": dict(columns=1)}


def measure(variant: str, seed: int, result) -> dict[str, float]:
    """Two checks of a trained net that cost no training: its error on its own training images
    in test mode (how much capacity is left over) and conv1's colourfulness per column, trained
    and at init (Figure 3 on CIFAR-10; the half-width net's two halves of kernels are no columns,
    a control). The run's seed rebuilds its initial weights."""
    init = build_model(result.cfg, result.data.num_classes, 3)
    return {**clean_train_error(result), **probes.column_colour(result.model, init)}


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    return run_counting_parameters("two_columns", preset, cfg, VARIANTS, seeds, summarize_metrics)   # and `measure`


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err", "seconds",
                                      "train_clean_top1_err", *probes.COLOUR_COLUMNS))   # measured: where present
    two, one = summary["two_columns"], summary["one_column_half"]
    summary["gain_top1"] = one["val_top1_err"]["mean"] - two["val_top1_err"]["mean"]   # > 0: two columns better
    summary["gain_top5"] = one["val_top5_err"]["mean"] - two["val_top5_err"]["mean"]
    summary["paper"] = dict(CLAIMS["two_columns"])                                   # §3.2
    return summary


def facts(record) -> dict[str, str]:
    """What the multi-GPU chapter quotes: the change in top-1/top-5 error, in points (positive:
    two columns better), and how many more parameters the two-column net has."""
    s = record.summary
    two, one = s["two_columns"].get("parameters"), s["one_column_half"].get("parameters")
    out = dict(gain_top1=f"{100 * s['gain_top1']:+.1f}", gain_top5=f"{100 * s['gain_top5']:+.1f}",
               extra_params=f"{two / one - 1:.0%}" if two and one else "–",
               train_images=f"{record.config.get('base', record.config)['train_limit']:,}",
               moves_top1=moves(s["gain_top1"], "top-1 error"), moves_top5=moves(s["gain_top5"], "top-5 error"))
    for v, key in (("two_columns", "two"), ("one_column_half", "one")):   # the check of the likely reason
        train, test = s[v]["train_err"]["mean"], s[v]["val_top1_err"]["mean"]
        out.update({f"train_{key}": pct(train), f"test_{key}": pct(test), f"gap_{key}": f"{100 * (test - train):.0f}"})
        clean = s[v].get("train_clean_top1_err")                           # measured: where the record has it
        out[f"clean_{key}"] = pct(clean["mean"]) if clean else "–"
        out[f"clean_range_{key}"] = f"{pct(min(clean['values']))}–{pct(max(clean['values']))}" if clean else "–"
        out[f"clean_gap_{key}"] = f"{100 * (test - clean['mean']):.0f}" if clean else "–"
        out.update({f"{k}_{key}": text for k, text in probes.split_facts(s[v]).items()})
    two = s["two_columns"]
    if "train_clean_top1_err" in two:
        out["moves_clean"] = moves(s["one_column_half"]["train_clean_top1_err"]["mean"]
                                   - two["train_clean_top1_err"]["mean"], "the clean training error")
    out["col_moved"] = f"{probes.colour_moved(two):.3f}"
    out["col_lowest"] = f"{min(min(two[c]['values']) for c in ('col1', 'col2')):.2f}" if "col1" in two else "–"
    return out


def _colour_split(summary: dict) -> list[float]:
    """Per seed: how much more the two columns' conv1 kernels differ in colourfulness than random
    halves of them do (`probes.split_excess`; > 0: Figure 3's split)."""
    return summary["two_columns"].get("col_split", {}).get("values", [])


def _conv1_learned(summary: dict) -> tuple[bool, str]:
    return probes.conv1_learned(summary["two_columns"])


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="Two columns vs one half-width column", section="§3.2",
    # cpu: ~8 minutes (bf16, channels_last): 10,000 images x 3 epochs per run, 6 runs; 5,000 test images.
    presets=dict(smoke=presets.SMOKE_SMALL, paper=presets.IMAGENET,
                 cpu=dict(presets.CIFAR_SMALL, epochs=3, train_limit=10000, val_limit=5000),
                 long=dict(presets.LONG_SMALL),
                 regime=dict(presets.REGIME_SMALL)),      # the gate's design: §5's schedule to its end
    seeds=dict(presets.THREE, regime=[0, 1, 2, 3]), variants=VARIANTS,
    claims=(Claim("two_columns", "Two columns beat one half-width column (§3.2)", "1.7 points lower top-1", "multi_gpu",
                  paired(("one_column_half", "val_top1_err"), ("two_columns", "val_top1_err")),
                  CLAIMS["two_columns"]["gain_top1"], regime=Regime()),
            Claim("colour_split_proxy", "conv1's columns differ in colour (Fig. 3, CIFAR-10 proxy)", "qualitative",
                  "learned", _colour_split, unit="plain", regime=Regime(learned=_conv1_learned))))
