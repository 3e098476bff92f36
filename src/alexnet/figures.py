"""`alexnet visualize filters|predictions|neighbors --checkpoint PATH`: §6.1's figures of a
trained net as PNGs (Figure 3's conv1 kernels, Figure 4's top-5 predictions and fc7 nearest
neighbours). The measurements are `alexnet.evaluation.probes`'; the drawing is `alexnet.plots`'.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch

from .config import ConfigError
from .evaluation.probes import by_column, colourfulness, conv1_kernels
from .training.checkpoint import load_checkpoint


def visualize(what: str, checkpoint, out, overrides: list[str] | None = None) -> list[Path]:
    """Write `what`'s PNG into the folder `out`; the paths written."""
    from .plots import DENSITY, DPI
    from .plots.learned import kernels_figure
    from .evaluation.weights import one_device_state
    # a rank's share of a column split is joined with the others, as `alexnet eval` does
    cfg, model = load_checkpoint(checkpoint, overrides, one_device_state(Path(checkpoint)))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if what == "filters":
        figs = {"filters.png": kernels_figure(k := conv1_kernels(model), text=f"conv1 of {checkpoint}.",
                                                  colour=by_column(colourfulness(k)))}
    else:
        figs = {f"{what}.png": _figure4(what, cfg, model, checkpoint)}
    paths = []
    for name, fig in figs.items():
        fig.savefig(out / name, bbox_inches="tight", dpi=DENSITY * DPI)   # 2x, as in the book
        paths.append(out / name)
    return paths


def _figure4(what: str, cfg, model, checkpoint):
    """Figure 4's left (predictions) or right (neighbors) half, from the ImageNet-style folder."""
    from .data import load_data
    from .data.imagenet import class_names
    from .experiments.imagenet_sample import learned
    from .plots.learned import neighbours_figure, predictions_figure, read_sheet
    if cfg.dataset not in ("imagenet", "imagenet_sample"):
        raise ConfigError(f"`visualize {what}` needs an ImageNet-style folder (dataset=imagenet "
                          "or imagenet_sample); "
                          f"this checkpoint was trained on {cfg.dataset!r}")
    data = load_data(cfg)
    result = SimpleNamespace(cfg=cfg, model=model, device=torch.device("cpu"), data=data)
    info, files = learned(result, class_names(cfg, data.classes))
    draw = predictions_figure if what == "predictions" else neighbours_figure
    return draw(info, read_sheet(files["thumbs.jpg"]), text=f"{checkpoint}.")
