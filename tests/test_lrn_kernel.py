"""The fused C++ LRN kernel (fused=true) against the eager formula, and its fallback."""
import warnings

import pytest
import torch

from alexnet.config import resolve
from alexnet.models import build_model, local_response_norm
from alexnet.models import lrn_kernel
from alexnet.models.lrn import LocalResponseNorm, local_response_norm_fused

needs_kernel = pytest.mark.skipif(not lrn_kernel.available(), reason="the C++ LRN kernel could not be built here")

# (size, alpha, beta, k, groups): the paper's (§3.3), cuda-convnet's size 9, an odd beta (pow path)
SETTINGS = [(5, 1e-3, 0.75, 2.0, 1), (5, 1e-3, 0.75, 2.0, 2), (9, 1e-3, 0.75, 1.0, 1), (4, 1e-3, 0.6, 2.0, 2)]


def channels_last(*shape, dtype=torch.float64, scale=30.0):
    return (torch.randn(*shape, dtype=torch.float64) * scale).to(dtype).contiguous(memory_format=torch.channels_last)


@needs_kernel
@pytest.mark.parametrize("size,alpha,beta,k,groups", SETTINGS)
def test_fused_equals_the_eager_formula_in_float64(size, alpha, beta, k, groups):
    a = channels_last(3, 12, 4, 5).requires_grad_()
    ref = a.detach().clone().requires_grad_()
    g = torch.randn(3, 12, 4, 5, dtype=torch.float64)
    out = local_response_norm_fused(a, size, alpha, beta, k, groups)
    want = local_response_norm(ref, size, alpha, beta, k, groups)
    assert out.grad_fn.name().startswith("FusedLRN") and out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(*(torch.autograd.grad(o, x, g)[0] for o, x in ((out, a), (want, ref))),
                               rtol=1e-12, atol=1e-12)


@needs_kernel
@pytest.mark.parametrize("size,alpha,beta,k,groups", SETTINGS)
def test_fused_passes_gradcheck(size, alpha, beta, k, groups):
    a = channels_last(2, 8, 3, 2, scale=20.0).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: local_response_norm_fused(x, size, alpha, beta, k, groups), (a,))


@needs_kernel
def test_fused_bf16_is_at_least_as_close_to_float64_as_eager_bf16():
    a = channels_last(16, 96, 7, 7, dtype=torch.bfloat16)
    g = channels_last(16, 96, 7, 7, dtype=torch.bfloat16, scale=1.0)
    exact = a.double().requires_grad_()
    want = local_response_norm(exact, groups=2)
    want_grad, = torch.autograd.grad(want, exact, g.double())
    errors = {}
    for fused in (False, True):
        x = a.clone().requires_grad_()
        out = (local_response_norm_fused if fused else local_response_norm)(x, groups=2)
        grad, = torch.autograd.grad(out, x, g)
        assert out.dtype == grad.dtype == torch.bfloat16
        errors[fused] = ((out.double() - want).abs().max(), (grad.double() - want_grad).abs().max())
    assert errors[True][0] <= errors[False][0] and errors[True][1] <= errors[False][1] * 1.01, errors


def test_nchw_inputs_and_a_failed_build_take_the_eager_path(monkeypatch):
    a = torch.randn(2, 8, 3, 3, dtype=torch.float64)
    nchw = local_response_norm_fused(a.clone().requires_grad_())
    assert nchw.grad_fn.name().startswith("_LRN")
    monkeypatch.setattr(lrn_kernel, "available", lambda: False)
    out = local_response_norm_fused(a.contiguous(memory_format=torch.channels_last).requires_grad_())
    assert out.grad_fn.name().startswith("_LRN")
    torch.testing.assert_close(out, local_response_norm(a))


def test_a_build_failure_warns_once_and_falls_back(monkeypatch):
    import torch.utils.cpp_extension as ext
    monkeypatch.setattr(ext, "load", lambda **kw: (_ for _ in ()).throw(RuntimeError("no compiler")))
    lrn_kernel._module.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert not lrn_kernel.available() and not lrn_kernel.available()
        assert len(caught) == 1 and "no compiler" in str(caught[0].message)
    finally:
        lrn_kernel._module.cache_clear()


def test_fused_switch_fuses_every_lrn_layer():
    for fused in (False, True):
        net = build_model(resolve("smoke", [f"fused={str(fused).lower()}", "model=alexnet_small"]), 10, 3)
        norms = [m for m in net.modules() if isinstance(m, LocalResponseNorm)]
        assert norms and all(m.fused is fused for m in norms)


@needs_kernel
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_relu_fused_into_the_kernel_is_bitwise_relu_then_lrn(dtype):
    from torch import nn

    from alexnet.models.lrn import act_then_norm
    norm = LocalResponseNorm(groups=2)
    norm.fused = True
    x = channels_last(4, 16, 5, 5, dtype=dtype)
    g = channels_last(4, 16, 5, 5, dtype=dtype, scale=1.0)
    fused_in, plain_in = x.clone().requires_grad_(), x.clone().requires_grad_()
    fused = act_then_norm(nn.ReLU(), norm, fused_in)
    plain = norm(torch.relu(plain_in))
    assert fused.grad_fn.name().startswith("FusedLRN") and plain.grad_fn.name().startswith("FusedLRN")
    assert torch.equal(fused, plain)
    assert torch.equal(torch.autograd.grad(fused, fused_in, g)[0], torch.autograd.grad(plain, plain_in, g)[0])
    eager = LocalResponseNorm(groups=2)                        # not fused: the ReLU stays its own op
    assert torch.equal(act_then_norm(nn.ReLU(), eager, x), eager(torch.relu(x)))


@needs_kernel
def test_a_fused_alexnet_equals_the_plain_one_in_float64(monkeypatch):
    """The whole paper-shaped net (small): forward and every gradient, fused vs not."""
    relu_flags, apply = [], lrn_kernel.FusedLRN.apply
    monkeypatch.setattr(lrn_kernel.FusedLRN, "apply", lambda *a: (relu_flags.append(a[2]), apply(*a))[1])
    nets = [build_model(resolve("smoke", [f"fused={c}", "model=alexnet_small", "width=0.25"]), 10, 3).double()
            .to(memory_format=torch.channels_last) for c in ("false", "true")]
    x = channels_last(2, 3, 32, 32, scale=1.0)
    outs = [net.eval()(x) for net in nets]
    assert relu_flags == [True, True]                 # norm1 and norm2, each with its ReLU, in the kernel
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-12, atol=1e-12)
    for out in outs:
        out.square().sum().backward()
    for (name, p), q in zip(nets[0].named_parameters(), nets[1].parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-12, msg=name)


@needs_kernel
@pytest.mark.parametrize("relu", [False, True])
def test_a_nan_stays_a_nan(relu):
    """No fast-math: a NaN in the input reaches the output (and the loss guard), as in eager."""
    x = channels_last(2, 8, 3, 3, dtype=torch.bfloat16)
    x[0, 3, 1, 1] = float("nan")
    out = lrn_kernel.FusedLRN.apply(x, (5, 1e-4, 0.75, 2.0, 1), relu)
    assert torch.isnan(out[0, 3, 1, 1]) and torch.isnan(out[0, 1:6, 1, 1]).all()   # its window
    assert torch.isfinite(out[1]).all()
