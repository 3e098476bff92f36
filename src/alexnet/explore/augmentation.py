"""§4.1's augmentation explorer: a real photo of the ImageNet sample, a random 224×224 crop
(reflected or not) and PCA lighting at a chosen σ (the paper's 0.1), with "another draw".

    explore.augmentation()                      # the widely used ImageNet PCA
    explore.augmentation(pca=inet.train.pca)    # the sample's own (eigenvalues, eigenvectors)

The draws come from the package's augmentation code (`data.augment.random_offsets`,
`flip_draws`, `pca_shift`), a few per photo, made here; in the page `js/augmentation.js`
applies them to the photo: the crop, the reflection, and σ times the drawn RGB shift."""
from __future__ import annotations

import base64
import io

import numpy as np
import torch

from ..data.augment import flip_draws, flip_where, pca_shift, random_offsets
from ..data.pca import IMAGENET_EIGVALS, IMAGENET_EIGVECS
from . import page, photos

CROP, SIDE, DRAWS = 224, 256, 8          # §4.1: 224×224 patches of the 256×256 images
SHOWN = ("parachute", "church", "golf ball", "English springer")
START = dict(photo=SHOWN[0], sigma=0.1, draw=0)
CAPTION = ("Photos of the ImageNet sample (natural/), §2's 256×256; the draws are the package's "
           "(data.augment: random_offsets, flip_draws, pca_shift, seed 0), the shift σ times the drawn one; "
           "the display clips to 0–255, the loaders do not.")


def uri(img: torch.Tensor, fmt: str = "JPEG") -> str:
    """(3, H, W) float in [0, 1] or uint8 -> a data: URI the page shows as it is."""
    from PIL import Image
    a = img if img.dtype == torch.uint8 else (img.clamp(0, 1) * 255).round().to(torch.uint8)
    buf = io.BytesIO()
    Image.fromarray(a.permute(1, 2, 0).numpy()).save(buf, fmt, quality=88)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()


def draws(pca, seed: int = 0) -> dict:
    """DRAWS random choices of §4.1 from a seeded generator: crop corners, reflections, and the
    RGB shift at σ = 1 (`pca_shift` is linear in σ: the page scales it)."""
    gen = torch.Generator().manual_seed(seed)
    top, left = random_offsets(DRAWS, SIDE, SIDE, CROP, gen)
    flip = flip_draws(DRAWS, gen)
    shift = pca_shift(DRAWS, *pca, std=1.0, generator=gen)                    # (DRAWS, 3), [0, 1] units
    return dict(top=top, left=left, flip=flip.int(), shift=np.round(shift.numpy(), 6))


def augmented(photo: torch.Tensor, d: dict, i: int, sigma: float) -> torch.Tensor:
    """Draw i applied to a uint8 (3, 256, 256) photo by the package: crop, reflection, lighting."""
    t, l = int(d["top"][i]), int(d["left"][i])
    x = photo[None, :, t:t + CROP, l:l + CROP].float() / 255
    x = flip_where(x, torch.tensor([bool(d["flip"][i])]))
    return x + sigma * torch.as_tensor(d["shift"][i]).float().view(1, 3, 1, 1)     # as `pca_noise_batch` adds it


def figure(photo: torch.Tensor, d: dict, i: int, sigma: float) -> dict:
    t, l, flip = int(d["top"][i]), int(d["left"][i]), bool(d["flip"][i])
    box = dict(type="rect", x0=l - 0.5, x1=l + CROP - 0.5, y0=t - 0.5, y1=t + CROP - 0.5, xref="x", yref="y",
               line=dict(color="#ffdd00", width=2, dash="dash" if flip else "solid"))
    off = dict(showticklabels=False, showgrid=False, zeroline=False)
    lay = page.layout(height=330, shapes=[box], margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(domain=[0, 0.48], **off), yaxis=dict(scaleanchor="x", **off),
                      xaxis2=dict(domain=[0.52, 1], anchor="y2", **off), yaxis2=dict(scaleanchor="x2", anchor="x2", **off),
                      annotations=[dict(text=txt, x=x, y=1.07, xref="paper", yref="paper", showarrow=False)
                                   for txt, x in ((f"256×256 photo, crop {'reflected (dashed)' if flip else '(solid)'}", 0.24),
                                                  (f"224×224 input, σ = {sigma:.2f}", 0.76))])
    return dict(data=[dict(type="image", source=uri(photo), hoverinfo="skip"),
                      dict(type="image", source=uri(augmented(photo, d, i, sigma)[0]), xaxis="x2", yaxis="y2",
                           hoverinfo="skip")], layout=lay)


def augmentation(pca=None, source: str = "") -> page.Explorer | page.Note:
    """The explorer on the sample's photos; one line where the data is not there. `pca`:
    (eigenvalues, eigenvectors) to light along, `source` says whose (default: ImageNet's)."""
    names = [n for n in SHOWN if n in photos.names()]
    if not names:
        return page.Note(photos.MISSING + " The augmentation explorer is left out.")
    which = "the widely used ImageNet PCA" if pca is None else (source or "the PCA passed in")
    pca = pca or (IMAGENET_EIGVALS, IMAGENET_EIGVECS)
    imgs = {n: photos.load(n) for n in names}
    d = draws(pca)
    data = dict(start=dict(START, photo=names[0]), photos={n: uri(im) for n, im in imgs.items()}, draws=d,
                crop=CROP, figure=figure(imgs[names[0]], d, 0, START["sigma"]), caption=CAPTION + f" Lighting along {which}.")
    return page.Explorer("augmentation", data, "Augmentation explorer (§4.1): crops, reflections, PCA lighting",
                         lambda: widget(imgs, pca))


def widget(imgs: dict, pca):
    """The live view: "another draw" asks the package for new draws (a new seed every DRAWS)."""
    import ipywidgets as w
    pick = w.Dropdown(options=list(imgs), description="photo")
    sigma = w.FloatSlider(START["sigma"], min=0, max=1, step=0.05, description="σ")
    again = w.Button(description="another draw")
    out, n = w.Output(), {"draw": 0}

    def draw(_=None):
        d = draws(pca, seed=n["draw"] // DRAWS)
        page.show_figure(out, figure(imgs[pick.value], d, n["draw"] % DRAWS, sigma.value))

    def another(_):
        n["draw"] += 1
        draw()
    pick.observe(draw, "value")
    sigma.observe(draw, "value")
    again.on_click(another)
    draw()
    return w.VBox([w.HBox([pick, sigma, again]), out])
