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

from . import Outcome
from .runner import final_summary, run_variants

TITLE = "Two columns vs one half-width column"
SECTION = "§3.2"
VARIANTS = {"two_columns": dict(columns=2), "one_column_half": dict(columns=1)}
PRESETS = {
    "smoke": dict(dataset="synthetic", model="alexnet_small", epochs=1),
    # ~8 minutes on 2 cores (bf16, channels_last): 10,000 training images x 3 epochs per run,
    # 6 runs; evaluated on 5,000 test images. Kaiming init: the §5 N(0, 0.01) init barely
    # moves a net this small in three epochs, which would compare two untrained nets.
    "cpu": dict(dataset="cifar10", model="alexnet_small", image_size=32, epochs=3, batch_size=128,
                train_limit=10000, val_limit=5000, lr=0.01, init="kaiming", schedule="constant"),
    "paper": dict(dataset="imagenet", model="alexnet_paper", precision="bf16", channels_last=True),
}
SEEDS = {"smoke": [0], "cpu": [0, 1, 2], "paper": [0]}


def run(cfg, preset: str, seeds: list[int]) -> Outcome:
    from ..models import count_parameters, build_model
    metrics, fingerprint, configs = run_variants("two_columns", preset, cfg, VARIANTS, seeds)
    summary = final_summary(metrics, ("val_top1_err", "val_top5_err", "train_err", "seconds"))
    for variant, changes in VARIANTS.items():
        model = build_model(cfg.replace(**changes), 10 if preset != "paper" else 1000, 3)
        summary[variant]["parameters"] = count_parameters(model)
    two, one = summary["two_columns"], summary["one_column_half"]
    summary["gain_top1"] = one["val_top1_err"]["mean"] - two["val_top1_err"]["mean"]   # > 0: two columns better
    summary["gain_top5"] = one["val_top5_err"]["mean"] - two["val_top5_err"]["mean"]
    summary["paper"] = dict(gain_top1=0.017, gain_top5=0.012)                        # §3.2
    return Outcome(metrics, summary, fingerprint, configs)
