"""ONE table: for every experiment, the config changes of each preset and the seeds it runs.

`alexnet run NAME --preset P` resolves paper defaults <- `config.BASE_PRESETS[P]` <-
`PRESETS[NAME][P]` <- the command line's overrides. Each experiment module reads its entry
(`PRESETS = presets.of("pooling")`, `SEEDS = presets.seeds("pooling")`). Scales:
`smoke` seconds, synthetic data; `cpu` minutes on 2 cores, the numbers the book shows;
`paper` the paper's scale. The comments give the budget each `cpu` preset was sized for.
"""
from __future__ import annotations

from ..config import PRESETS as SCALES
from ..recipes import D2L_FASHION, D2L_FASHION_CPU
from .paper_tables import PAPER_TABLE3, PAPER_TABLE5, PAPER_TABLE6, PAPER_TABLE7  # noqa: F401 (chapters/vgg.md)

# Every AlexNet ablation's `paper` preset: the paper's own net and recipe on ImageNet.
IMAGENET = dict(dataset="imagenet", model="alexnet_paper", precision="bf16", channels_last=True)
SMOKE_SMALL = dict(dataset="synthetic", model="alexnet_small", epochs=1)
# The CPU-scale AlexNet on CIFAR-10. Kaiming init: §5's N(0, 0.01) init barely moves a net this
# small in a few epochs (measured by `init`), which would compare two untrained nets.
CIFAR_SMALL = dict(dataset="cifar10", model="alexnet_small", image_size=32, batch_size=128, lr=0.01,
                   init="kaiming", schedule="constant")
# The AlexNet-shaped CIFAR-10 net with §4.2's own (vanilla) dropout. Kaiming init: §5's leaves
# it at chance for the first epochs (measured: 3 epochs at 90% error). lr 0.02: at 0.01 it was
# still far from converged after 10 epochs of 5,000 images (measured).
CIFAR_ALEXNET = dict(dataset="cifar10", model="cifar_alexnet", image_size=32, batch_size=128,
                     init="kaiming", lr=0.02, dropout_style="vanilla")
SMOKE_CIFAR_ALEXNET = dict(dataset="synthetic", model="cifar_alexnet", init="kaiming", dropout_style="vanilla")
# The four-layer CIFAR-10 net of §3.1 and §3.3 (cuda-convnet's): SGD with momentum, constant
# rate, no weight decay, dropout or augmentation. Glorot (xavier) init, designed for tanh.
CIFAR4 = dict(model="cifar4", dataset="cifar10", image_size=32, init="xavier", weight_decay=0.0,
              augment="none", schedule="constant", dropout=0.0, progress=False)
LRN_RECIPE = dict(CIFAR4, activation="relu", lr=0.01)
RELU_RECIPE = dict(CIFAR4, lrn=False)

# VGG at CPU scale: CIFAR-10 at 32x32 (the paper's 224 crop, scaled by 1/7), Table 1's networks
# with 1/4 of the channels (16 ... 128) and 512-wide fc6/fc7 (`vgg_*_small`, width=2), an
# 8,000-image training subset, 5,000 test images and a cosine schedule over 6 epochs (minutes
# per net). Paper scale: ImageNet, batch 256, lr 0.01, momentum 0.9, weight decay 5e-4,
# dropout 0.5, lr ÷10 on plateau three times, 74 epochs (§3.1: "370K iterations (74 epochs)").
VGG_SMOKE = dict(dataset="synthetic", model="vgg_a_small", image_size=32, init="xavier", epochs=1,
                 batch_size=16, train_limit=64, val_limit=32, progress=False)
VGG_CPU = dict(dataset="cifar10", model="vgg_a_small", image_size=32, width=2.0,
               # He et al. 2015's init (zero biases): in a pilot, Glorot's (named in the paper's §3.1) left
               # the narrow 19-layer E at chance for 3 epochs; vgg_depth measures that as "E-glorot".
               init="kaiming",
               epochs=6, batch_size=128, lr=0.02, schedule="cosine",   # a short run: cosine, not plateau
               train_limit=8_000, val_limit=5_000, augment="crop_flip", progress=False)
VGG_PAPER = dict(dataset="imagenet", model="vgg_a", image_size=224, batch_size=256,   # §3.1
                 lr=0.01, momentum=0.9, weight_decay=5e-4, dropout=0.5, schedule="plateau", lr_drops=3,
                 epochs=74, init="vgg", precision="bf16", channels_last=True)
# The full-size AlexNet on the workplace's 10-class ImageNet sample (1,000 + 400 images).
IMAGENET_SAMPLE = dict(dataset="imagenet_sample", model="alexnet_paper", image_size=227, augment="crop_flip_pca")

PRESETS: dict[str, dict[str, dict]] = {
    # 9 runs of 3,000 images x 6 epochs, 2,000 test images: fits 10 minutes (bf16,
    # channels_last; ~375 images/s with evaluation, as measured for two_columns).
    "augmentation": dict(smoke=SMOKE_SMALL, paper=IMAGENET,
                         cpu=dict(CIFAR_SMALL, epochs=6, train_limit=3000, val_limit=2000)),
    # ~14 minutes: 12 runs x 6 epochs x 8,000 images, LRN off (CPU budget). A first record
    # (2 seeds x 3 epochs x 6,000) left the full net at 73% error with seed spreads of up to
    # 8 points, too early and too noisy to compare depths.
    "depth_ablation": dict(smoke=SMOKE_SMALL, paper=IMAGENET,
                           cpu=dict(CIFAR_SMALL, epochs=6, train_limit=8000, val_limit=5000, lrn=False)),
    # 6 runs of 4,000 images x 16 epochs, ~1,000 images/s: ~7 minutes; 2,000 test images. A
    # constant rate and no augmentation: dropout is the only regulariser that differs, and
    # "converged" is not blurred by a schedule.
    "dropout": dict(smoke=dict(SMOKE_CIFAR_ALEXNET, epochs=3), paper=IMAGENET,
                    cpu=dict(CIFAR_ALEXNET, augment="none", schedule="constant", epochs=16,
                             train_limit=4000, val_limit=2000)),
    # <= 12 minutes: the full net trains at 10-40 images/s here (bf16, channels_last; 4.4 GFLOP
    # per training image; the range is other jobs sharing the cores), so 5 epochs of 1,000
    # images per variant, then 10-crop and the fc7 feature bank. Batch 32 rather than 128:
    # 1,000 images would give only 7 steps an epoch. Smoke at 128 pixels: 3x cheaper.
    "imagenet_sample": dict(
        smoke=dict(IMAGENET_SAMPLE, image_size=128, epochs=1, batch_size=8, train_limit=0, val_limit=0),
        cpu=dict(IMAGENET_SAMPLE, epochs=5, batch_size=32, lr=0.01, schedule="plateau", patience=2),
        paper=dict(IMAGENET_SAMPLE, precision="bf16", channels_last=True)),
    # ~4 minutes: 4 runs x 5 epochs x 6,000 images, §5's own init against Kaiming's. LRN off
    # (it halves CPU throughput; §3.3 has its own chapter); with LRN the paper's init starts
    # slower still, since LRN with k=2 divides small activations by about 2^0.75.
    "init": dict(smoke=dict(SMOKE_SMALL, epochs=2), paper=IMAGENET,
                 cpu=dict(dataset="cifar10", model="alexnet_small", image_size=32, epochs=5, batch_size=128,
                          train_limit=6000, val_limit=2000, lr=0.01, lrn=False, schedule="constant")),
    # 3 seeds x 3 variants x 3 epochs of 10,000 images at batch 32 (~800 img/s on one thread of
    # this busy machine, measured first), tested on all 10,000 test images. `paper`:
    # cuda-convnet's CIFAR-10 runs: all 50,000 images, crops and flips, many epochs.
    "lrn": dict(smoke=dict(LRN_RECIPE, dataset="synthetic", train_limit=64, val_limit=32, batch_size=16, epochs=1),
                cpu=dict(LRN_RECIPE, train_limit=10_000, epochs=3, batch_size=32, lr=0.02, threads=1),
                paper=dict(LRN_RECIPE, precision="fp32", augment="crop_flip", epochs=100, schedule="plateau")),
    # 6 runs of 8,000 images x 8 epochs (crops + flips, §4.1), ~1,000 images/s: ~7 minutes.
    # Cosine, so both pools end at the same small rate; 2,000 test images per evaluation.
    "pooling": dict(smoke=dict(SMOKE_CIFAR_ALEXNET, epochs=1), paper=IMAGENET,
                    cpu=dict(CIFAR_ALEXNET, dropout=0.5, epochs=8, train_limit=8000, val_limit=2000,
                             augment="crop_flip", schedule="cosine")),
    # ~1,900 img/s on one thread (two threads on a busy 2-core machine ran 2.5x slower).
    # 10,000 images at batch 32 (more steps per image than 128): one seed's sweep and both
    # runs take ~3 minutes; three seeds give the ratio a spread.
    "relu_vs_tanh": dict(smoke=dict(RELU_RECIPE, dataset="synthetic", train_limit=128, val_limit=32, batch_size=32),
                         cpu=dict(RELU_RECIPE, train_limit=10_000, val_limit=500, batch_size=32, threads=1),
                         paper=dict(RELU_RECIPE, precision="fp32")),
    # ~6 minutes: 6 runs x 8 epochs x 4,000 images, LRN off. Patience 1 and a step every 3
    # epochs put the drops inside this short budget. lr 0.01 (the paper's start): at 0.02 one
    # of two seeds collapsed to chance in epoch 2 under both schedules (record made at commit
    # 65edc21), leaving nothing to compare. Kaiming init, so both schedules start from a net
    # that learns in 8 epochs.
    "schedule": dict(smoke=dict(SMOKE_SMALL, epochs=3, patience=1, step_every=1), paper=IMAGENET,
                     cpu=dict(dataset="cifar10", model="alexnet_small", image_size=32, epochs=8, batch_size=128,
                              train_limit=4000, val_limit=2000, lr=0.01, lrn=False, init="kaiming",
                              patience=1, step_every=3, lr_drops=3)),
    # ~8 minutes (bf16, channels_last): 10,000 images x 3 epochs per run, 6 runs; 5,000 test images.
    "two_columns": dict(smoke=SMOKE_SMALL, paper=IMAGENET,
                        cpu=dict(CIFAR_SMALL, epochs=3, train_limit=10000, val_limit=5000)),
    "vgg_depth": dict(smoke=VGG_SMOKE, cpu=VGG_CPU, paper=VGG_PAPER),     # cpu: ~8 minutes (18 runs)
    "vgg_lrn": dict(smoke=VGG_SMOKE, cpu=VGG_CPU, paper=VGG_PAPER),
    "vgg_scale": dict(smoke=VGG_SMOKE, cpu=dict(VGG_CPU, val_limit=2_000), paper=VGG_PAPER),  # cpu: ~2.5 min a seed
    # d2l's Fashion-MNIST setting (`alexnet.recipes`); smoke: synthetic images at the smallest
    # input alexnet_d2l accepts comfortably; paper: d2l's chapter exactly (224, 60,000, 10 epochs).
    "warmup": dict(smoke=dict(D2L_FASHION, dataset="synthetic", image_size=96, epochs=2, batch_size=16,
                              train_limit=64, val_limit=32),
                   cpu=D2L_FASHION_CPU,
                   paper=dict(D2L_FASHION, image_size=224, epochs=10, precision="bf16", channels_last=True)),
}


# --- `long` (issue 14): CIFAR-10 proxies of the paper's ImageNet claims in the paper's regime ---
# One thread each, so two experiments run side by side on this 2-core machine; sized for about
# 30-45 minutes an experiment (cifar_alexnet trains at ~450-600 images/s on one busy thread):
# 8,000 training images x 15 epochs, 2,000 test images. Without augmentation the net overfits
# (training error far below test error); the cosine schedule ends each run at a tiny rate, so
# the test error has settled by the last three epochs (`stats.regime` checks both). The dropout
# run keeps a constant rate: its claim is about how long training takes to converge.
LONG_ALEXNET = dict(CIFAR_ALEXNET, train_limit=8_000, val_limit=2_000, epochs=15, threads=1)
PRESETS["dropout"]["long"] = dict(LONG_ALEXNET, augment="none", schedule="constant")
PRESETS["pooling"]["long"] = dict(LONG_ALEXNET, dropout=0.5, augment="none", schedule="cosine")
PRESETS["augmentation"]["long"] = dict(LONG_ALEXNET, dropout=0.5, schedule="cosine")
# The CPU-scale AlexNet (two columns, LRN) for §3.2 and §7, at the same budget; it trains
# ~2.5x slower than cifar_alexnet, hence 12 epochs (and 2 seeds for the 4-variant depth run).
LONG_SMALL = dict(CIFAR_SMALL, train_limit=8_000, val_limit=2_000, epochs=12, threads=1,
                  schedule="cosine", augment="none")
PRESETS["two_columns"]["long"] = dict(LONG_SMALL)
PRESETS["depth_ablation"]["long"] = dict(LONG_SMALL, lrn=False)
# §5's weight-decay claim, on the same net and budget as the other `long` runs; crops and flips
# and dropout on, as in the paper's recipe, so decay is not the only thing holding overfitting.
PRESETS["weight_decay"] = dict(
    smoke=dict(SMOKE_CIFAR_ALEXNET, epochs=2),
    cpu=dict(CIFAR_ALEXNET, dropout=0.5, augment="crop_flip", schedule="cosine", epochs=8,
             train_limit=4000, val_limit=2000),
    long=dict(LONG_ALEXNET, dropout=0.5, augment="crop_flip", schedule="cosine"))
# Figure 1's "why": tanh saturation through training, at the `cpu` scale of relu_vs_tanh and
# the rate its record chose for both units (0.01); 8 epochs x 4 inits (~4 minutes, one thread).
PRESETS["saturation"] = dict(
    smoke=dict(RELU_RECIPE, dataset="synthetic", train_limit=128, val_limit=32, batch_size=32, epochs=2),
    cpu=dict(RELU_RECIPE, train_limit=10_000, val_limit=500, batch_size=32, lr=0.01, epochs=8, threads=1))
# cuda-convnet's layers-conv-local-13pct / -11pct (§3.3's CIFAR-10 claim): its recipe mapped to
# ours (`alexnet.models.cuda_convnet`): per-layer weight decay inside the model (so
# weight_decay=0 here), batch 128, epsW 0.001, crops + flips (the model takes the centre 24x24
# of a 32x32 image translated by up to 4 px). One net and one seed in <= ~22 minutes on one
# thread: 9 epochs of all 50,000 images (13pct ~538, 11pct ~394 images/s measured) — about 2%
# of cuda-convnet's 520 epochs: the curves and the gap at equal epochs, not 13% / 11%.
CCN = dict(model="cuda_convnet", dataset="cifar10", image_size=32, init="torch", lr=0.001,
           momentum=0.9, weight_decay=0.0, batch_size=128, augment="crop_flip",
           schedule="constant", dropout=0.0, progress=False)
CCN_LONG = dict(CCN, epochs=9, threads=1, precision="bf16", channels_last=True)
PRESETS["lrn_cifar"] = dict(
    smoke=dict(CCN, dataset="synthetic", train_limit=64, val_limit=32, batch_size=16, epochs=2, lr=0.01),
    cpu=CCN_LONG, long=CCN_LONG,
    paper=dict(CCN, precision="fp32", epochs=520, schedule="step", step_every=500))  # 500 at 0.001, 20 at 0.0001

ONE = {"smoke": [0], "cpu": [0], "paper": [0]}
THREE = {"smoke": [0], "cpu": [0, 1, 2], "long": [0, 1, 2], "paper": [0]}
SEEDS: dict[str, dict[str, list[int]]] = {
    **{name: THREE for name in PRESETS},
    "imagenet_sample": ONE, "warmup": ONE,
    "init": {"smoke": [0], "cpu": [0, 1], "paper": [0]},
    "lrn": {"smoke": [0], "cpu": [0, 1, 2], "paper": [0, 1, 2]},   # the paper preset is CIFAR-10 too
    "saturation": {"smoke": [0], "cpu": [0]},
    "depth_ablation": {"smoke": [0], "cpu": [0, 1, 2], "long": [0, 1], "paper": [0]},
    "lrn_cifar": {"smoke": [0], "cpu": [0, 1], "long": [0, 1], "paper": [0, 1]},
}


def of(experiment: str) -> dict[str, dict]:
    """preset -> config changes of `experiment`, in the order smoke, cpu, paper (copies: a
    caller may change them)."""
    table = PRESETS[experiment]
    return {preset: dict(table[preset]) for preset in SCALES if preset in table}


def seeds(experiment: str) -> dict[str, list[int]]:
    """preset -> the seeds `experiment` runs."""
    table = SEEDS[experiment]
    return {preset: list(table[preset]) for preset in SCALES if preset in table}


def model_name(config: str, cfg) -> str:
    """VGG 'A-LRN' -> vgg_a_lrn (paper scale) or vgg_a_lrn_small (when the preset's model is small)."""
    small = "_small" if cfg.model.endswith("_small") else ""
    return f"vgg_{config.lower().replace('-', '_')}{small}"
