"""The per-layer profile of `alexnet bench train`: a row per layer call and direction, FLOPs
from the layer table, the whole step beside them."""
from alexnet.bench import train as bench
from alexnet.models import alexnet_small


def test_layer_profile_rows():
    model = alexnet_small(10, 3, 32, 0.25)
    t = bench.layer_profile(model, bench.random_batch((3, 32, 32), 10, 4), bench.Option("bf16", True), 1e11, repeats=1)
    layers = list(t.layer)
    for name in ("conv1", "norm1", "pool1", "conv5", "pool5", "fc6", "fc8", "act1", "act7"):
        assert name in layers
    assert set(t.direction) == {"forward", "backward", "both"}
    conv2 = t[(t.layer == "conv2")].set_index("direction").gflop
    assert abs(conv2["backward"] - 2 * conv2["forward"]) < 1e-12 and conv2["forward"] > 0
    conv1 = t[(t.layer == "conv1")].set_index("direction").gflop      # no input gradient: one forward's worth
    assert abs(conv1["backward"] - conv1["forward"]) < 1e-12
    step = t[t.layer == "step"].iloc[0]
    assert step.ms > 0 and abs(step.gflop - t[t.direction != "both"].gflop.sum()) < 1e-9
    assert (t.ms[t.layer != "other"] >= 0).all()
