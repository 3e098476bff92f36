"""ReLU before max pooling computed as max pooling before ReLU (`act_then_pool`): the same
function bitwise, outputs and gradients, in float64, fp32 and bf16 autocast, NCHW and
channels_last; tanh keeps the written order."""
import importlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alexnet.models import alexnet_small, cifar4, cifar_alexnet
from alexnet.models.alexnet import act_then_pool


def plain(act, pool, x):
    return pool(act(x))


def outputs_and_grads(model, x, y, precision, order, monkeypatch):
    for name in ("alexnet", "cifar4", "cifar_alexnet"):     # the modules (the package's names are factories)
        monkeypatch.setattr(importlib.import_module(f"alexnet.models.{name}"), "act_then_pool", order)
    model.zero_grad(set_to_none=True)
    torch.manual_seed(1)                                  # the same dropout masks both times
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        out = model(x)
    F.cross_entropy(out.float(), y).backward()
    return out.detach(), [p.grad.clone() for p in model.parameters()]


NETS = [lambda: cifar4(lrn=True), lambda: cifar4(lrn=False), lambda: cifar_alexnet(width=0.25),
        lambda: cifar_alexnet(width=0.25, pool="plain"), lambda: alexnet_small(10, 3, 32, 0.25)]


@pytest.mark.parametrize("make", NETS)
@pytest.mark.parametrize("precision,channels_last", [("float64", False), ("fp32", False), ("fp32", True),
                                                     ("bf16", True)])
def test_pool_before_relu_is_bitwise_the_same(make, precision, channels_last, monkeypatch):
    torch.manual_seed(0)
    model = make()
    x = torch.randn(6, 3, 32, 32)
    if precision == "float64":
        model, x = model.double(), x.double()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model, x = model.to(memory_format=fmt), x.contiguous(memory_format=fmt)
    y = torch.arange(6) % 10
    out1, g1 = outputs_and_grads(model, x, y, precision, plain, monkeypatch)
    out2, g2 = outputs_and_grads(model, x, y, precision, act_then_pool, monkeypatch)
    assert torch.equal(out1, out2)
    assert all(torch.equal(a, b) for a, b in zip(g1, g2))


def test_only_relu_and_max_pool_swap():
    x = torch.randn(2, 4, 9, 9)
    calls = []
    act = nn.Tanh()
    act.register_forward_hook(lambda m, i, o: calls.append(i[0].shape))
    act_then_pool(act, nn.MaxPool2d(3, 2), x)
    assert calls == [x.shape]                             # tanh ran on the unpooled map
    assert torch.equal(act_then_pool(nn.ReLU(), nn.AvgPool2d(3, 2), x), F.avg_pool2d(F.relu(x), 3, 2))
