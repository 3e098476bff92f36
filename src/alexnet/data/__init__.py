"""Datasets and the paper's preprocessing (§2, §4.1).

`load_data(cfg)` returns a `DataBundle`: training and validation loaders (`loader.Loader`)
that yield normalised float batches `(x (B, C, S, S), y (B,))`, plus what a run records
about the data (classes, channels, fingerprint). Datasets live under `cfg.data`, else
`$ALEXNET_DATA`, else the repository's `data/` (from any directory), in torchvision's layout.

    registry   DataBundle, DataError, data_root, LOADERS, register, load_data
    loader     the Loader protocol, MemoryLoader, step_seed
    augment    crops/flips, scale jitter, PCA lighting, ten-crop (each once)
    small      synthetic, fashion_mnist, cifar10          folders/imagenet  imagenet, imagenet_sample
    images     decoding, §2's 256x256                       pca/stats          PCA, mean image
    scale      VGG's scale-jittered loader                  ilsvrc             preparing ILSVRC-2012
    download   download=true: Fashion-MNIST, CIFAR-10, the sample from Imagenette (never ImageNet)
"""
from .registry import LOADERS, DataBundle, DataError, data_root, load_data, register
from . import small  # noqa: E402,F401  (registers synthetic, fashion_mnist, cifar10)
from . import imagenet  # noqa: E402,F401  (registers imagenet, imagenet_sample)

__all__ = ["LOADERS", "DataBundle", "DataError", "data_root", "load_data", "register"]
