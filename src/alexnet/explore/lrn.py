"""§3.3's LRN explorer: k, n, α, β (and the scale of the activities) against the response
curve of one unit and against a real conv1 map, with the paper's constants and
cuda-convnet's drawn beside the reader's.

    from alexnet import explore
    explore.lrn()

The curves and the map come from `models.local_response_norm`; in the page, `js/lrn.js`
recomputes the same formula as the sliders move."""
from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F

from .. import records
from ..models import LocalResponseNorm, local_response_norm
from ..models.cuda_convnet import CCN_LRN
from . import page, photos

WINDOW = 9                                    # channels shipped around the map's channel: n up to 9
A = np.logspace(-1, 4, 161)                   # the unit's activity, log-spaced
PAPER = {k: getattr(LocalResponseNorm(), k) for k in ("k", "size", "alpha", "beta")}     # §3.3
PRESETS = {"§3.3, the paper": PAPER, "cuda-convnet, CIFAR-10 11pct": dict(CCN_LRN)}   # scale=0.001, size=9
START = dict(k=PAPER["k"], n=PAPER["size"], log_alpha=float(np.log10(PAPER["alpha"])), beta=PAPER["beta"],
             log_scale=0.0)


def conv1_window(photo: str = "parachute"):
    """(maps (WINDOW, 55, 55) after the ReLU, the caption) of a photo through the trained conv1
    kernels of the `imagenet_sample` record; None without the sample, (None, why) without the record."""
    if photo not in photos.names():
        return None
    try:
        rec = records.load("imagenet_sample", "cpu")
    except FileNotFoundError:                     # a results folder without it (a scratch one)
        return None, "No imagenet_sample/cpu record here, so no trained conv1 kernels: the conv1 map is left out."
    kernels = torch.from_numpy(np.load(io.BytesIO(records.extra_files(rec)["conv1.npy"])).astype(np.float32))
    x = photos.load(photo).float()[:, 14:241, 14:241]                        # centre 227x227
    x = (x - x.mean((1, 2), keepdim=True)) / x.std(dim=(1, 2), keepdim=True)   # each channel standardised
    maps = F.relu(F.conv2d(x[None], kernels, stride=4))[0]                    # (96, 55, 55)
    half = WINDOW // 2
    c = half + int(maps[half:48 - half].mean((1, 2)).argmax())               # most active, inside column 1
    text = (f"conv1 map {c} of the {photo} photo (each channel standardised, centre 227×227) through the conv1 "
            f"kernels of the record imagenet_sample/cpu ({rec.config.get('base', {}).get('epochs')} epochs "
            "on the ImageNet sample; the record keeps the kernels, not the biases: bias 0), after the ReLU.")
    return maps[c - half:c + half + 1].numpy(), text


def curves(s: dict) -> list[dict]:
    """The response b(a) of one unit: neighbours silent, n - 1 as active; the paper's and
    cuda-convnet's constants (neighbours as active) beside them."""
    a = torch.from_numpy(A).float()

    def respond(k, n, alpha, beta, crowd):
        x = torch.zeros(len(a), n, 1, 1)
        x[:] = a.view(-1, 1, 1, 1) if crowd else 0
        x[:, n // 2, 0, 0] = a
        return local_response_norm(x, n, alpha, beta, k)[:, n // 2, 0, 0].numpy()

    now = (s["k"], int(s["n"]), 10 ** s["log_alpha"], s["beta"])
    lines = [("yours, neighbours silent", respond(*now, False), dict(color="#1f77b4")),
             (f"yours, {int(s['n']) - 1} neighbours as active", respond(*now, True), dict(color="#d62728"))]
    for (name, p), dash in zip(PRESETS.items(), ("dash", "dot")):
        lines.append((f"{name}, neighbours as active",
                      respond(p["k"], p["size"], p["alpha"], p["beta"], True), dict(color="#555555", dash=dash)))
    return [dict(type="scatter", mode="lines", x=A, y=np.round(y, 5), name=name, line=dict(width=2, **style),
                 hovertemplate="a = %{x:.3g}<br>b = %{y:.4g}<extra></extra>") for name, y, style in lines]


def maps(s: dict, window: np.ndarray) -> list[dict]:
    """The map a (times the activity scale) and LRN(a) with the reader's constants."""
    a = torch.from_numpy(window).float()[None] * 10 ** s["log_scale"]          # (1, WINDOW, 55, 55)
    b = local_response_norm(a, int(s["n"]), 10 ** s["log_alpha"], s["beta"], s["k"])
    mid = WINDOW // 2
    return [dict(type="heatmap", z=np.round(m[0, mid].numpy(), 4), xaxis=ax, yaxis=ay, colorscale="Viridis",
                 showscale=False, name=name, hovertemplate=name + " = %{z:.3g}<extra></extra>")
            for m, name, ax, ay in ((a, "a", "x2", "y2"), (b, "b", "x3", "y3"))]


def figure(s: dict, window=None) -> dict:
    """The explorer's figure in state `s` (k, n, log_alpha, beta, log_scale), computed here."""
    side = dict(showticklabels=False, showgrid=False, zeroline=False)
    lay = page.layout(height=400, xaxis=page.axis("activity a of the unit", type="log", domain=[0, 0.46]),
                      yaxis=page.axis("output b"), legend=dict(orientation="h", y=-0.25, font=dict(size=11)),
                      title=dict(text="response of one unit", x=0.02, font=dict(size=13)))
    data = curves(s)
    if window is not None:
        data += maps(s, window)
        lay.update(xaxis2=dict(domain=[0.53, 0.75], anchor="y2", **side),
                   yaxis2=dict(autorange="reversed", scaleanchor="x2", anchor="x2", **side),
                   xaxis3=dict(domain=[0.78, 1.0], anchor="y3", **side),
                   yaxis3=dict(autorange="reversed", scaleanchor="x3", anchor="x3", **side),
                   annotations=[dict(text=t, x=x, y=1.08, xref="paper", yref="paper", showarrow=False)
                                for t, x in (("conv1 map a", 0.64), ("LRN(a)", 0.89))])
    return dict(data=data, layout=lay)


def lrn(photo: str = "parachute") -> page.Explorer:
    """The explorer, with the conv1 map of `photo` (a class of the sample) where the data is."""
    window, text = conv1_window(photo) or (None, photos.MISSING + " The conv1 map is left out.")
    data = dict(start=START, a=A, presets=PRESETS, figure=figure(START, window), caption=text,
                window=page.uint16(window) if window is not None else None)
    return page.Explorer("lrn", data, "LRN explorer (§3.3): move k, n, α, β", lambda: widget(window, text))


def widget(window, text):
    """The live view: ipywidgets sliders, each move recomputed by `models.local_response_norm`."""
    import ipywidgets as w
    sliders = dict(k=w.FloatSlider(START["k"], min=0, max=4, step=0.1, description="k"),
                   n=w.IntSlider(START["n"], min=1, max=WINDOW, description="n"),
                   log_alpha=w.FloatSlider(START["log_alpha"], min=-6, max=-1, step=0.05, description="log₁₀ α"),
                   beta=w.FloatSlider(START["beta"], min=0.25, max=1.5, step=0.05, description="β"),
                   log_scale=w.FloatSlider(0, min=0, max=2.5, step=0.05, description="log₁₀ scale",
                                           disabled=window is None))               # scales the map only
    out, presets = w.Output(), [w.Button(description=name) for name in PRESETS]

    def draw(_=None):
        page.show_figure(out, figure({k: v.value for k, v in sliders.items()}, window))

    def preset(button):
        p = PRESETS[button.description]
        sliders["k"].value, sliders["n"].value, sliders["beta"].value = p["k"], p["size"], p["beta"]
        sliders["log_alpha"].value = float(np.log10(p["alpha"]))        # each move redraws: four draws
    for s in sliders.values():
        s.observe(draw, "value")
    for b in presets:
        b.on_click(preset)
    draw()
    return w.VBox([w.HBox(list(sliders.values())[:3]), w.HBox(list(sliders.values())[3:] + presets), out, w.HTML(text)])
