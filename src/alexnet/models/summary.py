"""The layer table of a network, measured by running it: output shape, parameters,
neurons and multiply-adds per layer (what the architecture chapter shows)."""
from __future__ import annotations

import pandas as pd
import torch
from torch import nn

COUNTED = (nn.Conv2d, nn.Linear)


def _macs(m: nn.Module, out: torch.Tensor) -> int:
    """Multiply-accumulates for one image: every output value needs (in/groups)*k*k of them."""
    if isinstance(m, nn.Conv2d):
        kh, kw = m.kernel_size
        return out[0].numel() * (m.in_channels // m.groups) * kh * kw
    if isinstance(m, nn.Linear):
        return m.in_features * m.out_features
    return 0


def layer_table(model: nn.Module, input_shape: tuple[int, ...], all_layers: bool = False) -> pd.DataFrame:
    """One row per conv/linear layer (or per leaf module with `all_layers`), for one image of
    `input_shape` (C, H, W). FLOPs count a multiply-add as two operations."""
    rows, hooks = [], []

    def hook(name):
        def record(m, _inp, out):
            rows.append(dict(layer=name, type=type(m).__name__, output=tuple(out.shape[1:]),
                             params=sum(p.numel() for p in m.parameters(recurse=False)),
                             neurons=out[0].numel() if isinstance(m, COUNTED) else 0,
                             macs=_macs(m, out)))
        return record

    for name, m in model.named_modules():
        if (isinstance(m, COUNTED) or (all_layers and not list(m.children()))) and name:
            hooks.append(m.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    model.train(was_training)
    for h in hooks:
        h.remove()
    table = pd.DataFrame(rows)
    table["gflops"] = 2 * table["macs"] / 1e9
    return table


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def forward_flops(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    """FLOPs of one forward pass for one image (2 per multiply-add, convs and linears only)."""
    return float(2 * layer_table(model, input_shape)["macs"].sum())


def output_sizes(model, input_shape) -> list[dict]:
    """(layer, C x H x W) after every conv, pool, LRN and fc layer for one image."""
    table = layer_table(model, input_shape, all_layers=True)
    keep = table[table.type.isin(["Conv2d", "MaxPool2d", "LocalResponseNorm", "Linear"])]
    return [dict(layer=r.layer, type=r.type, output="x".join(map(str, r.output)), params=int(r.params))
            for r in keep.itertuples()]
