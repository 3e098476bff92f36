"""VGG §4.1 / Table 3: error falls as depth grows from 11 layers (A) to 19 (E), and C's 1x1
convolutions help less than D's 3x3 ones. Measured on CIFAR-10 at CPU scale."""
from __future__ import annotations

from ..harness import presets
from ..harness.paper_tables import CLAIMS, PAPER_TABLE3
from ..harness.declare import Claim, Experiment, paired, Regime
from ..harness.presets import model_name
from ..harness.runner import Outcome, final_summary, run_variants
from ..models import count_parameters
from ..models.vgg import WEIGHT_LAYERS
from .. import stats
from ..stats import pm

CONFIGS = ("A", "B", "C", "D", "E")
PAIR = ("A", "E")          # the `regime` record: only the two nets the claim compares


def run(cfg, preset, seeds) -> Outcome:
    variants = {c: dict(model=model_name(c, cfg)) for c in (PAIR if preset == "regime" else CONFIGS)}
    if preset != "regime":
        variants["E-glorot"] = dict(model=model_name("E", cfg), init="xavier")   # the Glorot init §3.1 names
    metrics, fingerprint, configs = run_variants(
        "vgg_depth", preset, cfg, variants, seeds,
        on_result=lambda variant, seed, result: dict(params=count_parameters(result.model)))
    summary = summarize_metrics(metrics, cfg)
    for v in variants:
        summary[v]["init"] = configs[v]["init"]
    return Outcome(metrics, summary, fingerprint, configs)


def summarize_metrics(metrics, cfg) -> dict:
    """The summary from the metrics alone (`alexnet run ... --resummarize` re-derives it)."""
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err", "images_per_s"))
    last = metrics.dropna(subset=["params"]).groupby("variant")["params"].first()
    for v in last.index:
        summary[v].update(weight_layers=WEIGHT_LAYERS[v.split("-")[0]], params=int(last[v]))
    return summary


def facts(record) -> dict[str, str]:
    """What the VGG chapter quotes ({glue:text}`vgg_depth_<key>`, "E-glorot" as `E_glorot`): per
    net its weight layers, parameters, init, errors (mean ± std over seeds, %) beside Table 3's
    (S = Q = 256; "—" for E-glorot), and the net with the lowest mean top-1 error."""
    s, out = record.summary, {}
    for v in (v for v in (*CONFIGS, "E-glorot") if v in s):       # a `regime` record holds A and E only
        paper, key = PAPER_TABLE3.get((v, "256", "256"), ("—", "—")), v.replace("-", "_")
        out.update({f"{key}_layers": str(s[v]["weight_layers"]), f"{key}_params": f"{s[v]['params']:,}",
                    f"{key}_init": s[v].get("init", "—"),
                    f"{key}_top1": pm(s[v]["val_top1_err"]), f"{key}_top5": pm(s[v]["val_top5_err"]),
                    f"{key}_train": pm(s[v]["train_err"]),
                    f"{key}_paper_top1": str(paper[0]), f"{key}_paper_top5": str(paper[1])})
        out.update(_schedule_ends(record, v, key))
    best = min((c for c in CONFIGS if c in s), key=lambda c: s[c]["val_top1_err"]["mean"])
    return dict(out, best=best, best_top1=out[f"{best}_top1"], seeds=str(s["A"]["val_top1_err"]["n"]))


def _schedule_ends(record, variant: str, key: str) -> dict[str, str]:
    """How a net's runs ended under the record's schedule: ÷10 drops per run (mean), the epochs the
    runs ended at, and the runs that reached the epoch ceiling (`E_drops` "1.4", `E_ended` "epochs 52–60",
    `E_ceiling` "5 of 5", `ceiling` "60"); "–" without epochs."""
    m = record.metrics
    if "lr" not in m or "epoch" not in m:
        return {f"{key}_drops": "–", f"{key}_ended": "–", f"{key}_ceiling": "–", "ceiling": "–"}
    rows = m[m.variant == variant].dropna(subset=["epoch"])
    drops, ends = stats.drops_made(rows), rows.groupby("seed").epoch.max().astype(int)
    ceiling = record.config.get("base", record.config).get("epochs")
    at = int((ends >= ceiling).sum()) if ceiling else 0
    ended = f"epoch {ends.min()}" if ends.min() == ends.max() else f"epochs {ends.min()}–{ends.max()}"
    reached = f"{at} of {len(drops)}" if at else f"none of the {len(drops)}"
    return {f"{key}_drops": f"{drops.mean():.1f}", f"{key}_ended": ended, f"{key}_ceiling": reached,
            "ceiling": str(ceiling or "–")}


# --- The declaration: presets, seeds, variants and the claims this experiment measures ---
EXPERIMENT = Experiment(
    title="VGG depth: configurations A to E", section="VGG §4.1, Table 3",
    presets=dict(smoke=presets.VGG_SMOKE, cpu=presets.VGG_CPU,   # cpu: ~8 minutes (18 runs)
                 regime=presets.VGG_DEPTH_REGIME, paper=presets.VGG_PAPER),
    seeds=dict(presets.THREE, regime=presets.VGG_REGIME_SEEDS),
    claims=(Claim("vgg_depth", "VGG: error falls with depth, A → E (Table 3)", "29.6 → 27.3 top-1", "vgg",
                  paired(("A", "val_top1_err"), ("E", "val_top1_err")), CLAIMS["vgg_depth"]["gain_top1"], regime=Regime()),))
