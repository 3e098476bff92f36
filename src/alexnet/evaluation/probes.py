"""§6.1 "Qualitative evaluations": what a trained AlexNet learned, measured (Figures 3, 4).

- `conv1_kernels`: the 96 first-layer kernels (96, 3, 11, 11); Figure 3 splits them by column
  (kernels 0-47 fed conv2's first group — GPU 1 — and 48-95 the second).
- `colourfulness`: per kernel, the share of its variance that is colour (not grey): 0 for a
  kernel equal in R, G and B, 2/3 on average for i.i.d. noise such as the N(0, 0.01) init.
- `top5`: softmax top-5 of images (Figure 4, left).
- `fc7_features` + `nearest`: Euclidean neighbours in the 4096-d fc7 space (Figure 4, right).

`alexnet visualize filters|predictions|neighbors --checkpoint PATH` draws them as PNGs
(`alexnet.figures`); a checkpoint's model comes from `alexnet.training.checkpoint.load_checkpoint`.
"""
from __future__ import annotations

import copy

import numpy as np
import torch


def conv1_kernels(model) -> np.ndarray:
    """float32 (96, 3, 11, 11) for the paper's net: conv1's weights."""
    return model.conv1.weight.detach().float().cpu().numpy()


def colourfulness(kernels: np.ndarray) -> np.ndarray:
    """(K, 3, h, w) -> (K,): ||k - grey(k)||² / ||k - mean(k)||², grey = the mean over RGB."""
    k = kernels - kernels.mean(axis=(1, 2, 3), keepdims=True)
    chroma = k - k.mean(axis=1, keepdims=True)
    return (chroma ** 2).sum(axis=(1, 2, 3)) / np.maximum((k ** 2).sum(axis=(1, 2, 3)), 1e-20)


def by_column(values: np.ndarray, columns: int = 2) -> list[np.ndarray]:
    """Split per-kernel values into the columns (GPUs) whose conv2 group reads them."""
    return np.split(np.asarray(values), columns)


@torch.no_grad()
def top5(model, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Images x (B, 3, S, S) -> (indices (B, 5), probabilities (B, 5)), eval mode."""
    model.eval()
    probs = model(x).float().softmax(1)
    p, i = probs.topk(min(5, probs.shape[1]), dim=1)
    return i.numpy(), p.numpy()


@torch.no_grad()
def fc7_features(model, x: torch.Tensor) -> torch.Tensor:
    """(B, 3, S, S) -> (B, 4096): fc7's output after its ReLU, no dropout (eval mode)."""
    model.eval()
    h = torch.flatten(model.features(x), 1)
    return model.act(model.fc7(model.act(model.fc6(h)))).float()


def nearest(queries: torch.Tensor, bank: torch.Tensor, k: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of the k rows of `bank` nearest to each query row."""
    d = torch.cdist(queries.double(), bank.double())            # (Q, N)
    dist, idx = d.topk(min(k, bank.shape[0]), dim=1, largest=False)
    return idx.numpy(), dist.numpy()


def eval_loader(loader):
    """A copy of a folder/memory loader that yields every item once, in order, centre-cropped
    and unaugmented (for feature banks over the training images)."""
    plain = copy.copy(loader)
    plain.train, plain.augment, plain.drop_last = False, "none", False
    if hasattr(plain, "ten_crop"):
        plain.ten_crop = False
    if hasattr(plain, "_loader"):
        plain._loader = plain._sampler = None              # don't share DataLoader workers
    return plain


def features_of(model, loader, device=torch.device("cpu")) -> torch.Tensor:
    """fc7 features of every item of `eval_loader(loader)`, in item order: (N, 4096)."""
    return torch.cat([fc7_features(model, x.to(device)).cpu() for x, _ in eval_loader(loader).batches(0)])
