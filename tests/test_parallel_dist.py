"""Two gloo processes: the column split, DDP and the weird trick compute the one-device
network's outputs and gradients, and send the bytes derived from the shapes."""
import pytest

from alexnet.parallel import check, launch

CASES = [("columns", "alexnet_paper", 2, 1000),    # the full-size paper net, batch 2
         ("columns", "alexnet_small", 4, 10),
         ("ddp", "alexnet_small", 4, 10),         # gradients vs the concatenated batch
         ("weird_trick", "alexnet_small", 4, 10)]


@pytest.fixture(scope="module")
def results():
    return launch.spawn(check.compare_many, 2, CASES)      # [rank][case]


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_parallel_form_equals_one_device(results, i):
    for rank in range(2):
        r = results[rank][i]
        assert r["logits"] < 1e-5, r
        assert r["max_grad"] < 1e-4, {k: v for k, v in r["grads"].items() if v >= 1e-4}
        assert r["bytes_measured"] == r["bytes_derived"] > 0


def test_each_column_holds_half_the_paper_net(results):
    assert results[0][0]["params"] + results[1][0]["params"] == 60_965_224
