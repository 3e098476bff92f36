"""LRN's analytic backward against autograd and torch's module; the lrn experiment's smoke run."""
import json

import pytest
import torch
from torch import nn

from alexnet.experiments import run_experiment
from alexnet.models import local_response_norm
from alexnet.models.lrn import local_response_norm_autograd, window_sum


@pytest.mark.parametrize("size,groups", [(5, 1), (5, 2), (3, 1), (4, 2)])
def test_analytic_backward_passes_gradcheck(size, groups):
    a = (torch.randn(2, 8, 3, 2, dtype=torch.float64) * 20).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: local_response_norm(x, size, 1e-3, 0.75, 2.0, groups), (a,))


def test_gradients_equal_torch_modules():
    a = (torch.randn(4, 96, 5, 5, dtype=torch.float64) * 40).requires_grad_()
    g = torch.randn(4, 96, 5, 5, dtype=torch.float64)
    ours, = torch.autograd.grad(local_response_norm(a), a, g)
    theirs, = torch.autograd.grad(nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)(a), a, g)   # alpha * n
    ref, = torch.autograd.grad(local_response_norm_autograd(a), a, g)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(ours, ref)


def test_window_sum_and_its_transpose():
    x = torch.arange(6.0).view(1, 1, 6, 1, 1)
    assert window_sum(x, 2, 1).flatten().tolist() == [1, 3, 6, 10, 14, 12]   # sum of x[i-2 .. i+1]
    y = torch.randn(1, 1, 6, 1, 1)
    # <S x, y> == <x, S^T y>: the transpose swaps lo and hi
    assert torch.allclose((window_sum(x, 2, 1) * y).sum(), (x * window_sum(y, 1, 2)).sum())


@pytest.mark.parametrize("size,groups", [(5, 1), (5, 2), (4, 2)])
def test_channels_last_band_matmul_equals_the_shifted_slices(size, groups):
    a = torch.randn(3, 12, 4, 5, dtype=torch.float64) * 30
    cl = a.contiguous(memory_format=torch.channels_last).requires_grad_()
    nchw = a.clone().requires_grad_()
    g = torch.randn(3, 12, 4, 5, dtype=torch.float64)
    out_cl, out = (local_response_norm(x, size, 1e-3, 0.75, 2.0, groups) for x in (cl, nchw))
    assert out_cl.is_contiguous(memory_format=torch.channels_last)      # the layout is kept
    torch.testing.assert_close(out_cl, out)
    torch.testing.assert_close(*(torch.autograd.grad(o, x, g)[0] for o, x in ((out_cl, cl), (out, nchw))))
    assert torch.autograd.gradcheck(lambda x: local_response_norm(x, size, 1e-3, 0.75, 2.0, groups), (cl,))


def test_channels_last_bf16_matches_fp32():
    a = torch.randn(8, 32, 6, 6) * 30
    cl = a.to(torch.bfloat16).contiguous(memory_format=torch.channels_last).requires_grad_()
    out = local_response_norm(cl, groups=2)
    out.sum().backward()
    ref = a.clone().requires_grad_()
    local_response_norm(ref, groups=2).sum().backward()
    torch.testing.assert_close(out.float(), local_response_norm(a, groups=2), rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(cl.grad.float(), ref.grad, rtol=3e-2, atol=3e-2)


def test_bad_shapes_say_what_is_wanted():
    with pytest.raises(ValueError, match="divisible by groups"):
        local_response_norm(torch.zeros(1, 5, 2, 2), groups=2)


def test_lrn_smoke_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    out = run_experiment("lrn", "smoke", results=tmp_path)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= {"none", "paper_lrn", "ccn_lrn", "timing"}
    assert summary["paper_lrn"]["delta_vs_none"]["n"] == 1
    layers = {(r["model"].split()[0], r["layer"], r["impl"]) for r in summary["timing"]}
    assert ("alexnet_paper", "norm1", "autograd") in layers and ("alexnet_small", "conv5", "ours") in layers
