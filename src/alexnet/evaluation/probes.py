"""§6.1 "Qualitative evaluations": what a trained AlexNet learned, measured (Figures 3, 4).

- `conv1_kernels`: the 96 first-layer kernels (96, 3, 11, 11); Figure 3 splits them by column
  (kernels 0-47 fed conv2's first group — GPU 1 — and 48-95 the second).
- `colourfulness`: per kernel, the share of its variance that is colour (not grey): 0 for a
  kernel equal in R, G and B, 2/3 on average for i.i.d. noise such as the N(0, 0.01) init.
- `split_excess`: how much more two columns' kernels differ in colourfulness than two random
  halves of the same kernels do (Figure 3's split, "modulo a renumbering of the GPUs").
- `column_colour`: the measurements of one trained net for the book: per column, trained and at init.
- `top5`: softmax top-5 of images (Figure 4, left).
- `fc7_features` + `nearest`: Euclidean neighbours in the 4096-d fc7 space (Figure 4, right).

`alexnet visualize filters|predictions|neighbors --checkpoint PATH` draws them as PNGs
(`alexnet.figures`); a checkpoint's model comes from `alexnet.training.checkpoint.load_checkpoint`.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from ..stats import pm


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


MOVED = 0.05    # colourfulness: under a tenth of the fall from ~2/3 (random kernels) to ~0 of Figure 3's column 1


def split_excess(values: np.ndarray, draws: int = 2000, seed: int = 0) -> float:
    """|mean of the second half - mean of the first| of per-kernel `values` (K,), minus its mean
    over `draws` random equal splits of the same values: ~0 when the columns are two arbitrary
    halves, up to the gap itself when they are sorted apart. The sign of the gap is dropped:
    which GPU turns grey is chance (§6.1, "modulo a renumbering of the GPUs")."""
    v = np.asarray(values, dtype=np.float64)
    half = len(v) // 2
    gap = abs(v[half:].mean() - v[:half].mean())
    order = np.argsort(np.random.default_rng(seed).random((draws, len(v))), axis=1)   # (draws, K) permutations
    shuffled = v[order]
    return float(gap - np.abs(shuffled[:, half:].mean(1) - shuffled[:, :half].mean(1)).mean())


COLOUR_COLUMNS = tuple(f"{k}{when}" for when in ("", "_init") for k in ("col1", "col2", "col_gap", "col_split"))


def column_colour(model, init) -> dict[str, float]:
    """conv1's mean colourfulness per column (`col1`, `col2`), their gap (2 - 1) and `col_split`
    (`split_excess`), for the trained `model` and, suffixed `_init`, its initial weights `init`:
    the `COLOUR_COLUMNS` of a run's last epoch row."""
    out = {}
    for when, net in (("", model), ("_init", init)):
        values = colourfulness(conv1_kernels(net))
        one, two = (float(c.mean()) for c in by_column(values))
        out.update({f"col1{when}": one, f"col2{when}": two, f"col_gap{when}": two - one,
                    f"col_split{when}": split_excess(values)})
    return out


def colour_moved(variant: dict) -> float:
    """How far a variant's mean conv1 colourfulness moved from init (the column that moved
    most), from its summary (col1, col1_init, ...: {mean, ...})."""
    return max((abs(variant[f"col{c}"]["mean"] - variant[f"col{c}_init"]["mean"])
                for c in (1, 2) if f"col{c}" in variant), default=0.0)


def conv1_learned(variant: dict) -> tuple[bool, str]:
    """The gate of a Figure 3 claim: the split can only show once conv1 has left its random start."""
    moved = colour_moved(variant)
    return moved >= MOVED, f"conv1's colourfulness moved {moved:.3f} from initialisation, the split needs ≥ {MOVED}"


def split_facts(variant: dict) -> dict[str, str]:
    """What a chapter quotes of a variant's `col_split` summary, trained and at init: mean ± std
    over seeds ('–' for a record made before it was measured)."""
    return {key: pm(variant.get(key), scale=1.0, digits=3, signed=True) for key in ("col_split", "col_split_init")}


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
