"""`alexnet bench d2l` end to end at toy sizes: d2l's own loop (its loaders pointed at our
data root, no download) and ours, on the same images; plus the timing wrapper."""
import time

import pytest

from alexnet.bench import d2l as bench
from conftest import real_data_root


def test_timed_counts_steps_after_the_skipped_ones():
    timed = bench.Timed(range(100), 5)
    seen = []
    for b in timed:
        time.sleep(0.01)
        seen.append(b)
    assert seen == [0, 1, 2, 3, 4] and len(timed) == 5 and len(timed.stamps) == 6
    # 4 steps of ~10 ms after skipping one: ~ 4 * batch / 0.04 s
    assert 0.5 * 400 < timed.rate(batch_size=4, skip=1) < 400 * 1.05


@pytest.mark.skipif(real_data_root() is None, reason="needs $ALEXNET_DATA with FashionMNIST/raw")
def test_d2l_loaders_read_our_root_and_cut_to_the_same_images():
    import torch
    from alexnet.config import resolve
    from alexnet.data import load_data
    train_iter, test_iter = bench.d2l_loaders(real_data_root(), 8, 96, train_limit=16, test_limit=8)
    assert len(train_iter.dataset) == 16 and len(test_iter.dataset) == 8
    x, y = next(iter(test_iter))                           # test loader is not shuffled
    assert x.shape == (8, 1, 96, 96)
    ours = load_data(resolve("smoke", dict(dataset="fashion_mnist", image_size=96, val_limit=8,
                                           train_limit=16, batch_size=8)))
    assert torch.equal(y, ours.val.labels)                 # the same first test images


def test_run_d2l_is_d2ls_own_loop_and_reports_each_epoch():
    import torch
    gen = torch.Generator().manual_seed(0)
    batches = [(torch.randn(4, 1, 96, 96, generator=gen), torch.randint(0, 10, (4,), generator=gen))
               for _ in range(5)]
    got = bench.run_d2l(batches, batches[:1], epochs=2, size=96)
    assert len(got["test_acc"]) == 2 and all(0 <= a <= 1 for a in got["test_acc"])
    assert got["reported_examples_per_s"] > 0 and 0 <= got["train_acc"] <= 1


def test_summary_ratio_and_targets():
    import pandas as pd
    table = pd.DataFrame([
        dict(part="speed", round=1, side="d2l", examples_per_s=10.0, d2l_reported_examples_per_s=11.0),
        dict(part="speed", round=1, side="ours", examples_per_s=35.0),
        dict(part="speed", round=2, side="d2l", examples_per_s=10.0, d2l_reported_examples_per_s=11.0),
        dict(part="speed", round=2, side="ours", examples_per_s=15.0),        # the median over rounds: 25
        dict(part="accuracy", side="d2l", recipe="d2l", epoch=3, test_acc=0.70),
        dict(part="accuracy", side="ours", recipe=bench.OURS, epoch=3, test_acc=0.80)])
    s = bench.summarize(table, dict(fp32=100.0, bf16=200.0), gflop_forward=2.0)
    assert s["speed"]["ratio"] == 2.5 and not s["speed"]["met"] and s["speed"]["target"] == 3.0
    assert s["speed"]["d2l_pct_of_fp32_peak"] == 100 * 10 * 6 / 100
    assert s["accuracy"]["met"] and s["accuracy"]["test_acc"]["d2l_d2l"] == 0.70
