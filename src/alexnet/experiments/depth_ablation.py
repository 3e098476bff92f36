"""§7: remove one middle convolutional layer (conv3, conv4 or conv5), each in turn.

"Our network's performance degrades if a single convolutional layer is removed. For
example, removing any of the middle layers results in a loss of about 2% for the top-1
performance of the network." (§7)

The CPU-scale AlexNet and its three cut-down versions (`alexnet.models.depth`) train with
the same recipe and budget; the record holds each one's top-1 change against the full net,
paired by seed (same data order, same init seed), with its spread over seeds.
"""
from __future__ import annotations

import pandas as pd

from ..models.depth import MIDDLE
from ..models.summary import count_parameters
from ..stats import summarize
from . import presets
from .paper_tables import CLAIMS
from .runner import Outcome, final_summary, run_variants

TITLE = "Depth matters: remove one middle conv layer"
SECTION = "§7"
PRESETS = presets.of("depth_ablation")
SEEDS = presets.seeds("depth_ablation")
PAPER_TOP1_LOSS = CLAIMS["depth_ablation"]["top1_loss"]   # §7: "about 2%"


def variants(model: str) -> dict[str, dict]:
    return {"full": dict(model=model), **{f"no_{layer}": dict(model=f"{model}_no_{layer}")
                                          for layer in MIDDLE}}


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    vs, parameters = variants(cfg.model), {}    # parameters of each net as trained (the dataset's classes)
    metrics, fingerprint, configs = run_variants(
        "depth_ablation", preset, cfg, vs, seeds,
        on_result=lambda variant, seed, result: parameters.update({variant: count_parameters(result.model)}))
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err"))
    last = metrics.sort_values("epoch").groupby(["variant", "seed"]).tail(1).set_index(["variant", "seed"])
    for variant in vs:
        summary[variant]["parameters"] = parameters[variant]
        if variant != "full":
            # Paired by seed: error(without layer) - error(full); > 0 means the layer helped.
            deltas = pd.Series([last.loc[(variant, s), "val_top1_err"] - last.loc[("full", s), "val_top1_err"]
                                for s in seeds])
            summary[variant]["top1_change"] = summarize(deltas)
    summary["paper_top1_loss"] = PAPER_TOP1_LOSS
    return Outcome(metrics, summary, fingerprint, configs)
