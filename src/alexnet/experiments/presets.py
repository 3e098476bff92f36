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


# The paper's ImageNet (ILSVRC-2012) numbers the chapter sets beside ours: top-1 / top-5
# validation error in %, full scale (224 crops, 4096-wide FC, 1,000 classes, 4 GPUs).
# Table 3, single test scale: (config, train S, test Q) -> (top-1, top-5).
PAPER_TABLE3 = {
    ("A", "256", "256"): (29.6, 10.4), ("A-LRN", "256", "256"): (29.7, 10.5),
    ("B", "256", "256"): (28.7, 9.9),
    ("C", "256", "256"): (28.1, 9.4), ("C", "384", "384"): (28.1, 9.3), ("C", "[256,512]", "384"): (27.3, 8.8),
    ("D", "256", "256"): (27.0, 8.8), ("D", "384", "384"): (26.8, 8.7), ("D", "[256,512]", "384"): (25.6, 8.1),
    ("E", "256", "256"): (27.3, 9.0), ("E", "384", "384"): (26.9, 8.7), ("E", "[256,512]", "384"): (25.5, 8.0),
}
# Table 5: S in [256, 512], Q in {256, 384, 512}: evaluation method -> (top-1, top-5).
PAPER_TABLE5 = {
    ("D", "dense"): (24.8, 7.5), ("D", "multi-crop"): (24.6, 7.5), ("D", "dense+multi-crop"): (24.4, 7.2),
    ("E", "dense"): (24.8, 7.5), ("E", "multi-crop"): (24.6, 7.4), ("E", "dense+multi-crop"): (24.4, 7.1),
}
# Table 6, post-submission: fusion of D and E (multi-crop & dense) -> (top-1 val, top-5 val, top-5 test).
PAPER_TABLE6 = {"D + E, multi-crop & dense": (23.7, 6.8, 6.8)}
# Table 7, against the state of the art: (top-1 val, top-5 val, top-5 test).
PAPER_TABLE7 = {"VGG, 1 net": (24.4, 7.1, 7.0), "VGG, 2 nets": (23.7, 6.8, 6.8),
                "Krizhevsky et al. 2012, 5 nets": (38.1, 16.4, 16.4)}
