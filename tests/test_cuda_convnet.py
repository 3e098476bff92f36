"""cuda-convnet's 13pct / 11pct CIFAR-10 nets (§3.3): counts from the configs, the locally
connected layer and cuda-convnet's cross-map normalisation against direct loops, the smoke run."""
import json

import pytest
import torch
import torch.nn.functional as F

from alexnet.models.cuda_convnet import CCN_LRN, CudaConvnetCifar, LocallyConnected2d


def _count(lrn: bool) -> int:
    """By hand from layers-conv-local-{13,11}pct.cfg (24x24 input, pools 24 -> 12 -> 6)."""
    local3 = 64 if lrn else 32
    conv1 = 3 * 5 * 5 * 64 + 64                           # shared biases
    conv2 = 64 * 5 * 5 * 64 + 64
    local3_n = 36 * (64 * 3 * 3) * local3 + 36 * local3     # unshared weights and biases, 6x6 positions
    local4_n = 36 * (local3 * 3 * 3) * 32 + 36 * 32
    fc10 = 6 * 6 * 32 * 10 + 10
    return conv1 + conv2 + local3_n + local4_n + fc10


@pytest.mark.parametrize("lrn, expected", [(False, 1_116_490), (True, 2_112_970)])
def test_parameter_counts(lrn, expected):
    model = CudaConvnetCifar(lrn=lrn)
    assert _count(lrn) == expected
    assert sum(p.numel() for p in model.parameters()) == expected
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_locally_connected_matches_loop():
    torch.manual_seed(0)
    layer = LocallyConnected2d(3, 4, in_size=5, kernel_size=3, padding=1)
    torch.nn.init.normal_(layer.bias)
    x = torch.randn(2, 3, 5, 5)
    padded = F.pad(x, (1, 1, 1, 1))
    ref = torch.empty(2, 4, 5, 5)
    for i in range(5):
        for j in range(5):
            patch = padded[:, :, i:i + 3, j:j + 3].reshape(2, -1)          # (B, C*k*k), unfold's order
            ref[:, :, i, j] = patch @ layer.weight[i * 5 + j].T + layer.bias[:, i, j]
    torch.testing.assert_close(layer(x), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size, k, pad, stride", [(6, 3, 1, 1), (7, 3, 0, 2), (5, 2, 1, 1)])
@pytest.mark.parametrize("bf16", [False, True])
def test_locally_connected_equals_unfold_einsum(size, k, pad, stride, bf16):
    """The gathered-windows forward against the F.unfold + einsum one it replaced (a second
    implementation): the same outputs and gradients, in fp32 and under bf16 autocast (equal to
    the last bit in bf16 on the machine that made this change; the matmul kernels may sum in
    another order for other operand layouts, so the test allows fp32 rounding)."""
    torch.manual_seed(0)
    layer = LocallyConnected2d(6, 5, in_size=size, kernel_size=k, padding=pad, stride=stride)
    torch.nn.init.normal_(layer.bias)
    x = torch.randn(4, 6, size, size).contiguous(memory_format=torch.channels_last)

    def by_unfold(x):
        cols = F.unfold(x, k, padding=pad, stride=stride)                            # (B, C*k*k, L)
        out = torch.einsum("bkl,lok->bol", cols, layer.weight.to(cols.dtype))
        return out.unflatten(2, (layer.out_size, layer.out_size)) + layer.bias.to(out.dtype)
    grads = []
    for f in (layer, by_unfold):
        xi = x.clone().requires_grad_(True)
        layer.zero_grad()
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            y = f(xi)
        y.float().square().sum().backward()
        grads.append((y.detach(), xi.grad, layer.weight.grad.clone(), layer.bias.grad.clone()))
    for got, want in zip(*grads):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def _cmrnorm_loop(a: torch.Tensor, size=9, scale=0.001, pow_=0.75) -> torch.Tensor:
    """cuda-convnet's kFCNorm: window [f - size//2, f - size//2 + size) clipped to the
    channels; denominator 1 + (scale / size) * sum a^2 (layer.py divides scale by size)."""
    out = torch.empty_like(a)
    n = a.shape[1]
    for f in range(n):
        start = f - size // 2
        window = a[:, max(0, start):min(n, start + size)]
        out[:, f] = a[:, f] * (1 + scale / size * (window ** 2).sum(1)) ** -pow_
    return out


def test_cmrnorm_matches_cuda_convnet_formula():
    torch.manual_seed(0)
    a = torch.randn(2, 16, 3, 3) * 20                    # activations of a size where LRN bites
    model = CudaConvnetCifar(lrn=True)
    torch.testing.assert_close(model.rnorm1(a), _cmrnorm_loop(a), rtol=1e-5, atol=1e-5)
    assert CCN_LRN == dict(size=9, alpha=0.001 / 9, beta=0.75, k=1.0)
    torch_lrn = torch.nn.LocalResponseNorm(9, alpha=0.001, beta=0.75, k=1.0)   # torch averages
    torch.testing.assert_close(torch_lrn(a), _cmrnorm_loop(a), rtol=1e-5, atol=1e-5)


def test_per_layer_decay_and_bias_rate():
    """One SGD step with the hooks = cuda-convnet's update with per-layer wc, epsB = 2 epsW."""
    torch.manual_seed(0)
    model = CudaConvnetCifar(lrn=True)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    x, y = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    plain = CudaConvnetCifar(lrn=True)
    plain.load_state_dict(model.state_dict())
    for handle in sum(plain._hooks, []):                 # the raw gradients, for reference
        handle.remove()
    for m in (model, plain):
        F.cross_entropy(m(x), y).backward()
    grads = dict(plain.named_parameters())
    wc = dict(conv1=0.0, conv2=0.0, local3=0.004, local4=0.004, fc10=0.01)
    for name, p in model.named_parameters():
        layer, kind = name.split(".")
        g = grads[name].grad
        expected = 2 * g if kind == "bias" else g + wc[layer] * before[name]
        torch.testing.assert_close(p.grad, expected)


def test_smoke_run(tmp_path, monkeypatch):
    from alexnet.experiments import run_experiment
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    path = run_experiment("lrn_cifar", "smoke", results=tmp_path / "results")
    summary = json.loads((path / "summary.json").read_text())
    assert set(summary["paper"]) >= {"13pct", "11pct"}
    assert summary["gap_val_top1_err"]["n"] == 1
    assert 0.0 <= summary["11pct"]["val_top1_err_multiview"]["mean"] <= 1.0
    assert [row["epoch"] for row in summary["gap_by_epoch"]] == [1, 2]
