"""The CUDA paths, for the day a GPU is here (`make gpu-check` runs the tests marked `cuda`),
and what of them a CPU can check: the autocast dtype each device gets (capabilities mocked),
the vendor peaks and the GPU check's one line without CUDA.

On a GPU: both AlexNets forward and backward on the GPU equal to the CPU within fp32 (TF32
off) or bf16 tolerance, LRN on the GPU, the two-column split in one process (two GPUs, or
both columns on one), DDP and the column split over NCCL (two GPUs), a checkpoint saved on
the GPU resuming bitwise, and pinned batches reaching the GPU unchanged.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F

from alexnet import devices, parallel
from alexnet.config import resolve
from alexnet.models import LocalResponseNorm, alexnet_paper, alexnet_small
from alexnet.parallel import check

ROOT = Path(__file__).resolve().parents[1]
HAS_CUDA = torch.cuda.is_available()
GPUS = torch.cuda.device_count() if HAS_CUDA else 0
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
needs_two = pytest.mark.skipif(GPUS < 2, reason="needs two CUDA devices")
BACKEND = "nccl"
NETS = {"alexnet_paper": (alexnet_paper, 227, 1000, 4), "alexnet_small": (alexnet_small, 32, 10, 8)}


def cuda(test):
    """Marked `cuda` (pytest -m cuda) and skipped without a GPU."""
    return pytest.mark.cuda(needs_cuda(test))


def rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


@pytest.fixture
def no_tf32():
    """fp32 comparisons in fp32: cuDNN's convolutions default to TF32 on Ampere and later."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


# --- on a CPU: the device's dtype, the peaks, the check's one line --------------------------
@pytest.mark.parametrize("precision, expected", [("fp32", None), ("bf16", torch.bfloat16),
                                                 ("auto", torch.bfloat16), ("fp16", torch.float16)])
def test_cpu_autocast_dtype(precision, expected):
    cpu = torch.device("cpu")
    assert devices.autocast_dtype(cpu, precision) == expected
    assert devices.needs_grad_scaler(cpu, expected) == (expected == torch.float16)


@pytest.mark.parametrize("bf16, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_autocast_dtype_follows_the_capability(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: bf16)
    gpu = torch.device("cuda")
    for precision in ("bf16", "auto"):
        assert devices.autocast_dtype(gpu, precision) == expected
        assert devices.needs_grad_scaler(gpu, expected) == (not bf16)    # V100: fp16 + scaler
    assert devices.autocast_dtype(gpu, "fp32") is None
    with pytest.raises(ValueError, match="precision"):
        devices.autocast_dtype(gpu, "fp8")


def test_emulated_bf16_does_not_count(monkeypatch):
    """torch's default says a V100 supports bf16 (by emulation): only native support counts,
    and a torch without the argument is asked without it."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert not devices.cuda_bf16()
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert devices.cuda_bf16()


def test_pick_device(monkeypatch):
    cfg = resolve("smoke")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.pick_device(cfg) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.pick_device(cfg) == torch.device("cuda")
    assert devices.pick_device(cfg.replace(device="cuda:1")) == torch.device("cuda:1")


def test_autocast_context_on_cpu():
    a = torch.randn(4, 4)
    with devices.autocast(torch.device("cpu"), "bf16"):
        assert (a @ a).dtype == torch.bfloat16
    with devices.autocast(torch.device("cpu"), "fp32"):
        assert (a @ a).dtype == torch.float32


@pytest.mark.parametrize("name, label", [
    ("Tesla V100-SXM2-32GB", "V100"), ("NVIDIA A100-SXM4-80GB", "A100"), ("NVIDIA A10", "A10"),
    ("NVIDIA H100 PCIe", "H100 PCIe"), ("NVIDIA H100 80GB HBM3", "H100 SXM"), ("NVIDIA H200", "H200"),
    ("NVIDIA L4", "L4"), ("NVIDIA GeForce RTX 4090", "RTX 4090"), ("NVIDIA L40S", None), ("NVIDIA A10G", None)])
def test_vendor_peak_by_name(name, label):
    got = devices.vendor_peak(name)
    assert (got[0] if got else None) == label
    if label == "V100":
        assert got[1:] == (125e12, "fp16")        # no bf16 on Volta


def test_gpu_line_names_the_peak():
    from alexnet.bench.pipeline import gpu_line
    r = dict(mode="ddp", world=2, precision="bf16", name="NVIDIA H100 80GB HBM3", images_per_s=20_000.0,
             peak_gib=3.5)
    line = gpu_line(r, 4.0e9)
    assert "20,000 img/s" in line and "3.50 GiB" in line and "4.0% of the H100 SXM's bf16 peak" in line
    assert "no vendor peak" in gpu_line(dict(r, name="NVIDIA GeForce GTX 1080"), 4.0e9)


@pytest.mark.skipif(HAS_CUDA, reason="with CUDA the script runs the whole check")
def test_gpu_check_without_cuda_is_one_line():
    got = subprocess.run(["bash", str(ROOT / "scripts" / "gpu-check.sh")], capture_output=True, text=True,
                         env={**os.environ, "PYTHON": sys.executable}, timeout=120)
    assert got.returncode == 0, got.stderr
    assert len(got.stdout.splitlines()) == 1 and "no CUDA device" in got.stdout and not got.stderr


# --- on a GPU -------------------------------------------------------------------------------
def _forward_backward(model, x, y, precision: str):
    model.zero_grad(set_to_none=True)
    with devices.autocast(x.device, precision):
        logits = model(x)
    F.cross_entropy(logits.float(), y).backward()
    return logits.float(), {n: p.grad for n, p in model.named_parameters()}


@cuda
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("name", list(NETS))
def test_model_on_gpu_equals_cpu(no_tf32, name, precision, channels_last):
    make, side, classes, batch = NETS[name]
    torch.manual_seed(0)
    cpu_net = make(classes, dropout=0.0)
    gpu_net = make(classes, dropout=0.0)
    gpu_net.load_state_dict(cpu_net.state_dict())
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(batch, 3, side, side, generator=gen), torch.randint(0, classes, (batch,), generator=gen)
    ref_logits, ref_grads = _forward_backward(cpu_net, x, y, "fp32")
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    gpu_net = gpu_net.cuda().to(memory_format=fmt)
    logits, grads = _forward_backward(gpu_net, x.cuda().contiguous(memory_format=fmt), y.cuda(), precision)
    # fp32: the same function up to summation order; bf16 (fp16 where the GPU has no bf16)
    # against fp32: 8 mantissa bits (on a CPU, bf16 autocast gives about 0.003 and 0.25).
    tol_logits, tol_grads = (1e-4, 1e-3) if precision == "fp32" else (2e-2, 0.6)
    assert rel_l2(logits, ref_logits) < tol_logits
    worst = max(grads, key=lambda n: rel_l2(grads[n], ref_grads[n]))
    assert rel_l2(grads[worst], ref_grads[worst]) < tol_grads, worst


@cuda
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
def test_lrn_on_gpu_equals_cpu(no_tf32, channels_last):
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(4, 96, 55, 55, generator=gen) * 20          # conv1-sized, large enough to normalise
    g = torch.randn(a.shape, generator=gen)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    outs = []
    for device in ("cpu", "cuda"):
        x = a.to(device).contiguous(memory_format=fmt).requires_grad_()
        out = LocalResponseNorm(groups=2)(x)
        out.backward(g.to(device))
        outs.append((out, x.grad))
    (out_cpu, grad_cpu), (out_gpu, grad_gpu) = outs
    assert rel_l2(out_gpu, out_cpu) < 1e-5 and rel_l2(grad_gpu, grad_cpu) < 1e-5


@cuda
@pytest.mark.parametrize("two", [False, pytest.param(True, marks=needs_two)], ids=["one_gpu", "two_gpus"])
def test_columns_one_process_on_gpus(no_tf32, two):
    """§3.2's split in one process, column c on cuda:c (or both columns on cuda:0), against
    the one-device network: the same logits and gradients."""
    cases = []
    for device in ("cuda:0", "cuda:0"):
        torch.manual_seed(0)
        cases.append(alexnet_paper(1000, dropout=0.0).to(device))
    ref, split = cases
    net = parallel.ColumnsOneProcess(split, ("cuda:0", "cuda:1") if two else ("cuda:0", "cuda:0"))
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(4, 3, 227, 227, generator=gen).cuda(), torch.randint(0, 1000, (4,), generator=gen).cuda()
    ref_logits, _ = _forward_backward(ref, x, y, "fp32")
    logits, _ = _forward_backward(net, x, y, "fp32")
    assert rel_l2(logits, ref_logits) < 1e-4
    for c, column in enumerate(net.columns):
        for name, p in column.named_parameters():
            want = check._reference_grad(name, ref, 2, c, "columns")
            assert rel_l2(p.grad, want) < 1e-3, (c, name)


def _compare_on_gpu(device, mode: str, model_name: str, batch: int, classes: int) -> dict:
    """check.compare on this rank's GPU: the parallel form against the one-device network."""
    rank, world = dist.get_rank(), dist.get_world_size()
    side = check.SIZES[model_name]
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 3, side, side, generator=gen).to(device)
    y = torch.randint(0, classes, (batch,), generator=gen).to(device)
    ref = check._model(model_name, classes, 0).to(device)
    ref_logits, _ = _forward_backward(ref, x, y, "fp32")
    net = parallel.wrap(check._model(model_name, classes, 0).to(device),
                        parallel.Dist(mode, rank, world, device))
    rows = slice(None) if mode == "columns" else slice(rank * batch // world, (rank + 1) * batch // world)
    logits, grads = _forward_backward(net, x[rows], y[rows], "fp32")
    worst = max(rel_l2(g, check._reference_grad(n, ref, world, rank, mode)) for n, g in grads.items())
    return dict(mode=mode, rank=rank, logits=rel_l2(logits, ref_logits[rows]), max_grad=worst)


def _nccl_rank(rank: int, world: int, port: int, cases: list, queue) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    device = torch.device("cuda", rank)
    torch.cuda.set_device(device)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    dist.init_process_group(BACKEND, rank=rank, world_size=world)
    try:
        queue.put((rank, [_compare_on_gpu(device, *case) for case in cases]))
    finally:
        dist.destroy_process_group()


@cuda
@needs_two
def test_ddp_and_columns_over_nccl():
    """Both two-process modes of `torchrun -m alexnet train` (parallel=ddp, parallel=columns),
    started with torch.multiprocessing on two GPUs, equal the one-device network."""
    import torch.multiprocessing as mp

    from alexnet.parallel.launch import free_port
    cases = [("ddp", "alexnet_small", 8, 10), ("ddp", "alexnet_paper", 4, 1000),
             ("columns", "alexnet_paper", 4, 1000)]
    queue = mp.get_context("spawn").SimpleQueue()
    mp.spawn(_nccl_rank, args=(2, free_port(), cases, queue), nprocs=2, join=True)
    for _ in range(2):
        rank, results = queue.get()
        for r in results:
            assert r["logits"] < 1e-4 and r["max_grad"] < 1e-3, r


RESUME = r"""
import sys, torch
torch.use_deterministic_algorithms(True, warn_only=True)      # cuDNN: deterministic kernels
from alexnet.config import resolve
from alexnet.training.loop import train
def run(epochs, out):
    cfg = resolve("smoke", ["device=cuda", f"epochs={epochs}", "precision=bf16", "channels_last=true"])
    return train(cfg, out_dir=out, log=lambda *a, **k: None).model.state_dict()
whole, again = run(3, sys.argv[1] + "/whole"), run(3, sys.argv[1] + "/again")
run(1, sys.argv[1] + "/split")                                 # stop after epoch 1 (checkpoint on the GPU)
resumed = run(3, sys.argv[1] + "/split")                       # the same command, more epochs: resume
same = lambda a, b: [k for k in a if not torch.equal(a[k], b[k])]
print("repeat differs:", same(whole, again), "resume differs:", same(whole, resumed))
"""


@cuda
def test_checkpoint_on_gpu_resumes_bitwise(tmp_path):
    env = {**os.environ, "CUBLAS_WORKSPACE_CONFIG": ":4096:8", "PYTHONWARNINGS": "ignore"}
    got = subprocess.run([sys.executable, "-c", RESUME, str(tmp_path)], capture_output=True, text=True,
                         env=env, timeout=240)
    assert got.returncode == 0, got.stderr[-2000:]
    assert (tmp_path / "split" / "checkpoint.pt").exists()
    assert got.stdout.strip().endswith("repeat differs: [] resume differs: []"), got.stdout


@cuda
@pytest.mark.filterwarnings("ignore::DeprecationWarning")     # torchvision.io's encoder, for torchcodec
def test_pinned_batches_reach_the_gpu_unchanged(tmp_path):
    """DataLoader(pin_memory=True) over the folder dataset (its collate passes a list of
    failures along), then the loop's non_blocking copy."""
    from torch.utils.data import DataLoader
    from torchvision.io import encode_jpeg

    from alexnet.data.folders import Folder, collate
    gen = torch.Generator().manual_seed(0)
    items = []
    for i in range(6):
        path = tmp_path / f"{i}.JPEG"
        path.write_bytes(encode_jpeg(torch.randint(0, 256, (3, 300, 400), dtype=torch.uint8, generator=gen))
                         .numpy().tobytes())
        items.append((str(path), i % 2))
    loader = DataLoader(Folder(items), batch_size=3, collate_fn=collate, num_workers=1, pin_memory=True)
    for x, y, failed in loader:
        assert x.is_pinned() and y.is_pinned() and failed == []
        on_gpu = x.to("cuda", non_blocking=True)
        torch.cuda.synchronize()
        assert torch.equal(on_gpu.cpu(), x)
