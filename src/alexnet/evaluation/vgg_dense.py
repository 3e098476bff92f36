"""VGG's testing (Simonyan & Zisserman 2014, §3.2 and §4.2-4.4): dense evaluation, multi-crop
evaluation, both combined, and fusion of several networks.

Dense: "the fully-connected layers are first converted to convolutional layers (the first
FC layer to a 7x7 conv. layer, the last two FC layers to 1x1 conv. layers). The resulting
fully-convolutional net is then applied to the whole (uncropped) image ... a class score
map ... is spatially averaged (sum-pooled)"; the soft-max posteriors of the image and its
horizontal flip are averaged. Multi-crop: 50 crops per scale (a 5x5 grid, and flips),
softmax averaged. Fusion (§4.4): the soft-max posteriors of several models are averaged.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..data.augment import grid_offsets, rescale
from ..models.vgg import VGG
from .metrics import topk_errors


class DenseVGG(nn.Module):
    """A `VGG` with fc6/fc7/fc8 as convolutions: any input >= the training size gives a
    class score map (B, classes, h, w); at the training size h = w = 1."""

    def __init__(self, model: VGG):
        super().__init__()
        self.features = model.features
        c_out, c_in = model.fc6.out_features, model.fc6.in_features
        channels = [m for m in model.features if isinstance(m, nn.Conv2d)][-1].out_channels
        side = round((c_in // channels) ** 0.5)                          # 7 at 224 (224 / 2^5)
        self.fc6 = nn.Conv2d(channels, c_out, side)                       # the "7x7 conv. layer"
        self.fc7 = nn.Conv2d(c_out, model.fc7.out_features, 1)
        self.fc8 = nn.Conv2d(model.fc7.out_features, model.fc8.out_features, 1)
        # flatten(1) orders fc6's inputs (C, H, W), so a view gives the kernel in conv layout
        self.fc6.weight.data.copy_(model.fc6.weight.data.view(c_out, channels, side, side))
        for conv, fc in ((self.fc7, model.fc7), (self.fc8, model.fc8)):
            conv.weight.data.copy_(fc.weight.data[:, :, None, None])
        for conv, fc in ((self.fc6, model.fc6), (self.fc7, model.fc7), (self.fc8, model.fc8)):
            conv.bias.data.copy_(fc.bias.data)
        self.relu = nn.ReLU(inplace=True)
        self.drop6, self.drop7 = model.drop6, model.drop7

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)                                  # (B, 512, Q/32, Q/32)
        x = self.drop6(self.relu(self.fc6(x)))                # (B, 4096, Q/32 - 6, Q/32 - 6)
        x = self.drop7(self.relu(self.fc7(x)))
        return self.fc8(x)                                    # (B, classes, h, w): the class score map


def to_dense(model: VGG) -> DenseVGG:
    """The fully convolutional twin of `model` (shares its conv layers; copies fc6-fc8)."""
    return DenseVGG(model).to(next(model.parameters()).device)


@torch.no_grad()
def dense_posteriors(dense: DenseVGG, x: torch.Tensor, flip: bool = True) -> torch.Tensor:
    """x (B, C, Q, Q) normalised, whole images -> (B, classes) soft-max posteriors: the
    score map is averaged spatially, then soft-maxed; with `flip`, averaged with the flip's."""
    dense.eval()
    views = [x, x.flip(3)] if flip else [x]
    return torch.stack([dense(v).float().mean((2, 3)).softmax(1) for v in views]).mean(0)


def grid_crops(x: torch.Tensor, crop: int, grid: int = 5, flip: bool = True) -> torch.Tensor:
    """x (B, C, Q, Q) -> (B, grid*grid*(1+flip), C, crop, crop): a regular grid of crops and
    their mirror images (§4.3: 5x5 grid, 2 flips = 50 crops per scale)."""
    ys = grid_offsets(x.shape[-2], crop, grid)
    xs = grid_offsets(x.shape[-1], crop, grid)
    crops = [x[:, :, y:y + crop, c:c + crop] for y in ys for c in xs]
    if flip:
        crops += [c.flip(3) for c in crops]
    return torch.stack(crops, 1)


@torch.no_grad()
def multicrop_posteriors(model: VGG, x: torch.Tensor, crop: int, grid: int = 5,
                         flip: bool = True) -> torch.Tensor:
    """Soft-max posteriors averaged over the grid of crops of each image: (B, classes)."""
    model.eval()
    crops = grid_crops(x, crop, grid, flip)                  # (B, n, C, crop, crop)
    probs = model(crops.flatten(0, 1)).float().softmax(1)
    return probs.view(x.shape[0], crops.shape[1], -1).mean(1)


METHODS = ("dense", "multi-crop", "dense+multi-crop")


@dataclass
class ImageSet:
    """A uint8 test set (N, C, H, W) and the per-channel mean and std that normalise it."""
    images: torch.Tensor
    mean: object                  # C numbers (a list or a tensor)
    std: object
    batch_size: int = 100


@torch.no_grad()
def posteriors(model: VGG, test: ImageSet, q: int, method: str = "dense",
               crop: int | None = None, grid: int = 5) -> torch.Tensor:
    """Soft-max posteriors (N, classes) of `test`'s images rescaled to smallest side `q`, by
    one of METHODS; "dense+multi-crop" averages the two (§4.3, Table 5)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    crop = crop or model.input_size
    if q < crop:
        raise ValueError(f"test scale Q={q} is smaller than the network's input {crop}")
    mean = torch.as_tensor(test.mean, dtype=torch.float32).reshape(1, -1, 1, 1)
    std = torch.as_tensor(test.std, dtype=torch.float32).reshape(1, -1, 1, 1)
    dense, out, images, batch = to_dense(model), [], test.images, test.batch_size
    for i in range(0, len(images), batch):
        x = (rescale(images[i:i + batch].float().div(255), q) - mean) / std
        parts = []
        if method in ("dense", "dense+multi-crop"):
            parts.append(dense_posteriors(dense, x))
        if method in ("multi-crop", "dense+multi-crop"):
            parts.append(multicrop_posteriors(model, x, crop, grid))
        out.append(torch.stack(parts).mean(0))
    return torch.cat(out)


def fuse(*probs: torch.Tensor) -> torch.Tensor:
    """§4.4: "we combine the outputs of several models by averaging their soft-max class posteriors"."""
    return torch.stack(probs).mean(0)


def errors(probs: torch.Tensor, y: torch.Tensor) -> dict:
    """Top-1 and top-5 error (fractions) of posteriors (N, classes) against labels (N,)."""
    wrong = topk_errors(probs, y)
    return dict(top1_err=wrong[1] / len(y), top5_err=wrong[5] / len(y))
