"""§3.1's saturation explorer: tanh or ReLU, and the scale σ of the pre-activations (x ~ N(0, σ²)).
Left, the unit f(x) and its slope f'(x), the share of the gradient it lets back, over the
pre-activations; right, how the units split by that share, and (in the title) the share of
units saturated (tanh: |x| > 2, where tanh' < 0.07, the `saturation` experiment's threshold)
or off (ReLU: x <= 0).

    explore.saturation()

Slopes come from autograd here; in the page `js/saturation.js` evaluates the same expectation
on the same grid."""
from __future__ import annotations

import numpy as np
import torch

from ..experiments.saturation import SATURATED
from . import page

T = np.linspace(-5, 5, 401)              # standard-normal grid: x = σ t, weights φ(t)
X = np.linspace(-6, 6, 241)              # where f and f' are drawn
BINS = np.linspace(0, 1, 11)            # slope bins: [0, 0.1), ..., [0.9, 1]
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}
START = dict(activation="tanh", log_sigma=0.0)


def slope(activation: str, x: np.ndarray) -> np.ndarray:
    """f'(x) by autograd (ReLU's slope at 0 taken as 0, as torch does)."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ACTIVATIONS[activation](t).sum().backward()
    return t.grad.numpy()


def stats(activation: str, sigma: float) -> dict:
    """Mean slope over x ~ N(0, σ²), and the share of units saturated (tanh) or off (ReLU)."""
    w = np.exp(-T ** 2 / 2)
    w /= w.sum()
    x = sigma * T
    stuck = np.abs(x) > SATURATED if activation == "tanh" else x <= 0
    g = slope(activation, x)
    share = np.bincount(np.clip(np.digitize(g, BINS) - 1, 0, len(BINS) - 2), weights=w, minlength=len(BINS) - 1)
    return dict(mean_slope=float((w * g).sum()), stuck=float((w * stuck).sum()), share=share)


def figure(s: dict) -> dict:
    act, sigma = s["activation"], 10 ** s["log_sigma"]
    f = ACTIVATIONS[act](torch.tensor(X)).numpy()
    density = np.exp(-(X / sigma) ** 2 / 2)
    st = {a: stats(a, sigma) for a in ACTIVATIONS}
    data = [dict(type="scatter", x=X, y=np.round(density, 4), fill="tozeroy", mode="none", name="pre-activations x",
                 fillcolor="rgba(120,120,120,0.2)", hoverinfo="skip"),
            dict(type="scatter", x=X, y=np.round(f, 4), name=f"{act}(x)", line=dict(color="#1f77b4")),
            dict(type="scatter", x=X, y=np.round(slope(act, X), 4), name=f"{act}'(x): gradient passed",
                 line=dict(color="#d62728")),
            *[dict(type="bar", x=np.round(BINS[:-1] + 0.05, 2), y=np.round(100 * st[a]["share"], 3), xaxis="x2",
                   yaxis="y2", name=f"{a}: units by gradient passed", opacity=1.0 if a == act else 0.35,
                   marker=dict(color="#1f77b4" if a == "relu" else "#d62728"),
                   hovertemplate="slope %{x:.2f} ± 0.05: %{y:.1f}% of units<extra></extra>") for a in ACTIVATIONS]]
    lay = page.layout(height=380, barmode="group",
                      xaxis=page.axis("pre-activation x", domain=[0, 0.5]), yaxis=page.axis("", range=[-1.1, 1.1]),
                      xaxis2=page.axis("gradient passed, f'(x)", domain=[0.6, 1], anchor="y2", range=[0, 1]),
                      yaxis2=page.axis("% of units", range=[0, 100], anchor="x2"),
                      title=dict(text=note(act, sigma, st[act]), x=0.02, font=dict(size=13)))
    return dict(data=data, layout=lay)


def note(act: str, sigma: float, st: dict) -> str:
    what = f"beyond ±{SATURATED:g} (saturated)" if act == "tanh" else "off (x ≤ 0)"
    return (f"σ = {sigma:.3g}: {100 * st['stuck']:.1f}% of {act} units {what}; "
            f"mean gradient passed {st['mean_slope']:.3f}")


def saturation() -> page.Explorer:
    data = dict(start=START, t=T, threshold=SATURATED, bins=BINS, figure=figure(START))
    return page.Explorer("saturation", data, "Saturation explorer (§3.1): tanh or ReLU, and the scale of the inputs",
                         widget)


def widget():
    """The live view: each move recomputed here (autograd slopes)."""
    import ipywidgets as w
    act = w.ToggleButtons(options=list(ACTIVATIONS), value=START["activation"], description="unit")
    sig = w.FloatSlider(START["log_sigma"], min=-1, max=1, step=0.02, description="log₁₀ σ")
    out = w.Output()

    def draw(_=None):
        page.show_figure(out, figure(dict(activation=act.value, log_sigma=sig.value)))
    act.observe(draw, "value")
    sig.observe(draw, "value")
    draw()
    return w.VBox([w.HBox([act, sig]), out])
