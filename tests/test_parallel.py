"""The parallel forms in one process: the two-device column split against the grouped-conv
model, the communication derived from shapes against hand arithmetic, sharding, modes."""
import pytest
import torch
import torch.nn.functional as F

from alexnet.models import alexnet_paper, alexnet_small
from alexnet.parallel import (ColumnsOneProcess, ShardedLoader, derived_bytes, merge, pick_mode,
                              reduce_eval, ring_bytes, Dist)


def _pair(make, seed=0):
    torch.manual_seed(seed)
    ref = make()
    return ref, ColumnsOneProcess(ref, ("cpu", "cpu"))


def _rel(a, b):
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("make, side, batch", [
    (lambda: alexnet_paper(1000, dropout=0.0), 227, 2),      # the full-size paper net
    (lambda: alexnet_small(10, dropout=0.0), 32, 8),
])
def test_two_device_columns_match_the_grouped_model(make, side, batch):
    ref, cols = _pair(make)
    x = torch.randn(batch, 3, side, side, generator=torch.Generator().manual_seed(1))
    y = torch.arange(batch) % 10
    ref_out, out = ref(x), cols(x)
    assert _rel(out, ref_out) < 1e-5
    F.cross_entropy(ref_out, y).backward()
    F.cross_entropy(out, y).backward()
    for c, col in enumerate(cols.columns):
        for name, p in col.named_parameters():
            g = ref.get_parameter(name).grad
            n = g.shape[0] // 2
            assert _rel(p.grad, g[c * n:(c + 1) * n]) < 1e-4, name


def test_columns_use_half_of_every_layer_and_merge_back():
    ref, cols = _pair(lambda: alexnet_paper(1000))
    c0, c1 = cols.columns
    assert c0.conv1.weight.shape == (48, 3, 11, 11)          # Figure 2: 48 kernels per GPU
    assert c0.conv2.weight.shape == (128, 48, 5, 5)          # sees only its own column's 48 maps
    assert c0.conv3.weight.shape == (192, 256, 3, 3)         # sees both columns
    assert c0.fc6.weight.shape == (2048, 9216)
    n = sum(p.numel() for p in cols.parameters())
    assert n == 60_965_224                                   # the paper's count, split in two
    full = merge([c0.state_dict(), c1.state_dict()])
    for k, v in ref.state_dict().items():
        assert torch.equal(full[k], v), k


def test_derived_bytes_of_the_paper_net_at_batch_128():
    model = alexnet_paper(1000)
    rows = {(r["exchange"], r["direction"]): r["bytes"] for r in derived_bytes(model, "columns", 128)}
    # conv3's input: each GPU sends its 128 maps of 13x13 per image, fp32, forward and back.
    assert rows[("conv3", "forward")] == rows[("conv3", "backward")] == 128 * 128 * 13 * 13 * 4
    assert rows[("fc6", "forward")] == 128 * 128 * 6 * 6 * 4
    assert rows[("fc7", "forward")] == rows[("fc8", "forward")] == 128 * 2048 * 4
    assert rows[("logits", "forward")] == 128 * 500 * 4 and ("logits", "backward") not in rows
    ddp = derived_bytes(model, "ddp", 128)
    assert [r["bytes"] for r in ddp] == [60_965_224 * 4]     # a 2-rank ring all-reduce sends it once
    trick = {r["exchange"]: r["bytes"] for r in derived_bytes(model, "weird_trick", 128)}
    fc_params = 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert trick["gradients"] == (60_965_224 - fc_params) * 4


def test_ring_bytes():
    assert ring_bytes("all_reduce", 100, 2) == 100
    assert ring_bytes("all_reduce", 100, 4) == 150
    assert ring_bytes("all_gather", 100, 4) == 300
    assert ring_bytes("reduce_scatter", 100, 4) == 75


class _Loader:
    batch_size = 5

    def __len__(self):
        return 3

    def batches(self, epoch=0, start=0):
        for step in range(start, 3):
            x = torch.arange(5) + 100 * epoch + 5 * step
            yield x, x


def test_sharded_loader_splits_every_batch_without_padding():
    full = list(_Loader().batches(1))
    shards = [list(ShardedLoader(_Loader(), r, 2).batches(1)) for r in range(2)]
    for step, (x, _) in enumerate(full):
        mine = [shards[r][step][0] for r in range(2)]
        assert torch.equal(torch.cat(mine), x)               # disjoint, complete, same order
    assert len(ShardedLoader(_Loader(), 1, 2)) == 3
    assert list(ShardedLoader(_Loader(), 1, 2).batches(0, start=2))[0][0].tolist() == [13, 14]


def test_modes_fail_clearly():
    assert pick_mode("auto", 1) == "none" and pick_mode("auto", 2) == "ddp"
    with pytest.raises(ValueError, match="torchrun"):
        pick_mode("ddp", 1)
    with pytest.raises(ValueError, match="parallel=none"):
        pick_mode("none", 2)
    with pytest.raises(ValueError, match="2 processes"):
        pick_mode("columns", 4)
    r = dict(loss=1.0, top1_err=0.5, top5_err=0.1, n=10)
    assert reduce_eval(r, Dist()) == r
