"""Presets shared by the VGG experiments (vgg_lrn, vgg_depth, vgg_scale).

CPU scale: CIFAR-10 at 32x32 (the paper's 224 crop, scaled by 1/7), Table 1's networks with
1/4 of the channels (16 ... 128) and 512-wide fc6/fc7 (`vgg_*_small`, width=2), an 8,000-image
training subset, 5,000 test images and a cosine schedule over 6 epochs (minutes per net). Paper scale: ImageNet, batch 256,
lr 0.01, momentum 0.9, weight decay 5e-4, dropout 0.5, lr ÷10 on plateau three times, 74
epochs (§3.1: "370K iterations (74 epochs)")."""
from __future__ import annotations

SMOKE = dict(dataset="synthetic", model="vgg_a_small", image_size=32, init="xavier", epochs=1,
             batch_size=16, train_limit=64, val_limit=32, progress=False)
CPU = dict(dataset="cifar10", model="vgg_a_small", image_size=32, width=2.0,
           # He et al. 2015's init (zero biases): in a pilot, Glorot's (the paper's footnote) left
           # the narrow 19-layer E at chance for 3 epochs; vgg_depth measures that as "E-glorot".
           init="kaiming",
           epochs=6, batch_size=128, lr=0.02, schedule="cosine",   # a short run: cosine, not plateau
           train_limit=8_000, val_limit=5_000, augment="crop_flip", progress=False)
PAPER = dict(dataset="imagenet", model="vgg_a", image_size=224, batch_size=256,   # §3.1
             lr=0.01, momentum=0.9, weight_decay=5e-4, dropout=0.5, schedule="plateau", lr_drops=3,
             epochs=74, init="vgg", precision="bf16", channels_last=True)


def model_name(config: str, cfg) -> str:
    """'A-LRN' -> vgg_a_lrn (paper scale) or vgg_a_lrn_small (when the preset's model is small)."""
    small = "_small" if cfg.model.endswith("_small") else ""
    return f"vgg_{config.lower().replace('-', '_')}{small}"
