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

from .. import records
from ..models.depth import MIDDLE
from . import Outcome
from .runner import final_summary, run_variants

TITLE = "Depth matters: remove one middle conv layer"
SECTION = "§7"
PRESETS = {
    "smoke": dict(dataset="synthetic", model="alexnet_small", epochs=1),
    # ~14 minutes on 2 cores: 12 runs x 6 epochs x 8,000 CIFAR-10 images, LRN off (CPU
    # budget); Kaiming init, because §5's init barely moves this net (see `init`). A first
    # record (2 seeds x 3 epochs x 6,000) left the full net at 73% error with seed spreads of
    # up to 8 points, too early and too noisy to compare depths.
    "cpu": dict(dataset="cifar10", model="alexnet_small", image_size=32, epochs=6, batch_size=128,
                train_limit=8000, val_limit=5000, lr=0.01, lrn=False, init="kaiming",
                schedule="constant"),
    "paper": dict(dataset="imagenet", model="alexnet_paper", precision="bf16", channels_last=True),
}
SEEDS = {"smoke": [0], "cpu": [0, 1, 2], "paper": [0]}
PAPER_TOP1_LOSS = 0.02   # §7: "about 2%"


def variants(model: str) -> dict[str, dict]:
    return {"full": dict(model=model), **{f"no_{layer}": dict(model=f"{model}_no_{layer}")
                                          for layer in MIDDLE}}


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    from ..models import build_model, count_parameters
    vs = variants(cfg.model)
    metrics, fingerprint, configs = run_variants("depth_ablation", preset, cfg, vs, seeds)
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err"))
    last = metrics.sort_values("epoch").groupby(["variant", "seed"]).tail(1).set_index(["variant", "seed"])
    for variant, changes in vs.items():
        summary[variant]["parameters"] = count_parameters(build_model(cfg.replace(**changes), 10, 3))
        if variant != "full":
            # Paired by seed: error(without layer) - error(full); > 0 means the layer helped.
            deltas = pd.Series([last.loc[(variant, s), "val_top1_err"] - last.loc[("full", s), "val_top1_err"]
                                for s in seeds])
            summary[variant]["top1_change"] = records.summarize(deltas)
    summary["paper_top1_loss"] = PAPER_TOP1_LOSS
    return Outcome(metrics, summary, fingerprint, configs)
