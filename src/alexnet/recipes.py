"""Training recipes shared by an experiment and a benchmark: plain dicts of config changes.

Bottom layer (imports nothing from the package), so that `experiments/` and `bench/` both read
the same recipe without importing each other: `experiments.warmup` trains the d2l warm-up
with them, `bench.d2l` sets d2l's own loop beside ours with the same setting.
"""
from __future__ import annotations

# d2l's chapter "Deep Convolutional Neural Networks (AlexNet)": network, data, batch, learning
# rate, schedule and dropout that every warm-up recipe shares (d2l uses no augmentation; a
# constant 0.01: three epochs are too few for §5's divide-by-ten-on-plateau to act).
D2L_FASHION = dict(model="alexnet_d2l", dataset="fashion_mnist", batch_size=128, lr=0.01,
                   schedule="constant", augment="none", dropout=0.5,
                   pixel_scale="std")      # d2l's inputs are not §2's raw units, at every scale
# ~15 minutes on 2 cores (3 recipes): 96x96 inputs, the first 45,000 training images for
# 2 epochs (~700 steps of 128) and all 10,000 test images. Measured before: ~320 training
# images/s here in bf16 + channels_last with the machine to itself; 8,000 images x 3
# epochs (188 steps) left paper_xavier at 0.766 test accuracy, short of the 0.90 target.
D2L_FASHION_CPU = dict(D2L_FASHION, image_size=96, epochs=2, train_limit=45000, val_limit=0)

# The optimiser and initialisation of each warm-up recipe (the variants of `warmup`).
WARMUP_RECIPES = {
    "paper": dict(momentum=0.9, weight_decay=5e-4, init="paper"),     # §5
    # §5's optimiser with d2l's Xavier init: without LRN the paper's N(0, 0.01) start can sit
    # at chance for a long time; this isolates the optimiser from the initialisation.
    "paper_xavier": dict(momentum=0.9, weight_decay=5e-4, init="xavier"),
    "d2l": dict(momentum=0.0, weight_decay=0.0, init="xavier"),       # d2l.train_ch6
}

# A modern recipe (issue 13), named beside the paper's and d2l's: AlexNet's shape at
# Fashion-MNIST's own 28x28 instead of blown up to 224, as d2l's text suggests — the network is
# `alexnet_small` (conv1 5x5 stride 1 where the paper's is 11x11 stride 4, half the kernels,
# 1024-wide fc6/fc7, LRN, overlapping pools), 28x cheaper per image than alexnet_d2l at 224 —
# trained with a linear warm-up then a cosine rate, per step (one cycle over the run), Nesterov
# momentum, label smoothing 0.1, He init, bf16, and the fused kernels (fused=true).
MODERN_FASHION = dict(model="alexnet_small", image_size=28, lr=0.05, momentum=0.9, nesterov=True,
                      weight_decay=5e-4, init="kaiming", schedule="warmup_cosine", warmup_epochs=0.5,
                      label_smoothing=0.1, augment="none", dropout=0.5, fused=True)
# At the `cpu` preset it sees all 60,000 training images, 4 epochs (the others: 45,000 x 2).
MODERN_FASHION_CPU = dict(MODERN_FASHION, epochs=4, train_limit=0)
