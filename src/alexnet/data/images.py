"""Decoding and the paper's fixed preprocessing of one photo (§2).

"We down-sampled the images to a fixed resolution of 256x256. Given a rectangular image,
we first rescaled the image such that the shorter side was of length 256, and then cropped
out the central 256x256 patch from the resulting image."

Images come out as uint8 tensors (3, H, W), RGB whatever the file held: ILSVRC-2012's
training set has grayscale JPEGs, CMYK JPEGs and a PNG named .JPEG. torchvision.io decodes
all of these (libjpeg-turbo, faster than PIL here); PIL is the fallback for anything else.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch
from torchvision.io import ImageReadMode, decode_image
from torchvision.transforms.v2 import functional as TF

# torchvision 0.29 deprecates torchvision.io's decoders for torchcodec (not installed here);
# they still work and are the fast path, so say it once in this docstring, not per image.
warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision",
                        category=DeprecationWarning)

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png", ".bmp", ".webp", ".ppm", ".tif", ".tiff")
SIDE = 256          # §2: fixed resolution 256x256


class UnreadableImage(ValueError):
    """A file that neither torchvision nor PIL can decode; the message says why."""


def decode(path: str | Path) -> torch.Tensor:
    """uint8 (3, H, W) RGB from an image file; UnreadableImage(path: reason) if it can't be."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise UnreadableImage(f"{path}: {err.strerror or err}") from None
    try:
        raw = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        return decode_image(raw, mode=ImageReadMode.RGB)           # grayscale/CMYK -> RGB too
    except (RuntimeError, ValueError) as first:
        reason = str(first).rsplit(",", 1)[-1].strip() or type(first).__name__
    try:  # formats torchvision.io doesn't read (TIFF, some BMPs); truncated files fail here too
        import io

        from PIL import Image
        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(im.convert("RGB"))
        return torch.from_numpy(rgb.copy()).permute(2, 0, 1).contiguous()
    except Exception as err:  # noqa: BLE001 - any decoder failure means: skip and report
        raise UnreadableImage(f"{path}: {reason}; PIL: {err}") from None


def resize_short_side(img: torch.Tensor, side: int = SIDE) -> torch.Tensor:
    """Rescale (3, H, W) so the shorter side is `side` (bilinear, antialiased when shrinking)."""
    return TF.resize(img, [side], antialias=True)


def center_crop(img: torch.Tensor, size: int) -> torch.Tensor:
    """The central size x size patch of (..., H, W)."""
    h, w = img.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return img[..., top:top + size, left:left + size]


def load_256(path: str | Path, side: int = SIDE) -> torch.Tensor:
    """§2's preprocessing: decode, shorter side -> 256, centre crop 256x256. uint8 (3, 256, 256)."""
    img = center_crop(resize_short_side(decode(path), side), side)
    # resize hands back (H, W, C) strides; torch's strided copy of a small uint8 image to
    # (C, H, W) took ~8 ms on 2 busy cores (thread start-up), numpy's 0.08 ms
    return torch.from_numpy(np.ascontiguousarray(img.numpy()))


def list_images(folder: Path) -> list[Path]:
    """Image files directly in `folder`, sorted (hidden files skipped)."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)


def evenly(items: list, limit: int) -> list:
    """`limit` items evenly spaced (the folders are sorted by class: keep classes balanced)."""
    if not limit or limit >= len(items):
        return items
    return [items[math.floor(i * len(items) / limit)] for i in range(limit)]
