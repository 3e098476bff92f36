"""`alexnet bench train` and the on-the-spot peak: a seconds-long run on the small net, and
the FLOP arithmetic checked against hand counts."""
import json


from alexnet.bench import peak
from alexnet.bench import train as bench


def test_peak_counts_matmul_and_conv_flops(monkeypatch):
    monkeypatch.setattr(peak, "best_seconds", lambda fn, repeats: (fn(), 2.0)[1])
    assert peak.matmul_flops("fp32", n=64, repeats=1) == 2 * 64 ** 3 / 2.0
    assert peak.conv1x1_flops("bf16", channels=16, side=4, batch=2, repeats=1) == 2 * 2 * 16 * 16 * 16 / 2.0


def test_measure_reports_positive_speeds_for_both_formats():
    from alexnet.models import alexnet_small
    for channels_last in (False, True):
        got = bench.measure(alexnet_small(10, 3, 32, 0.25), bench.random_batch((3, 32, 32), 10, 4), "bf16",
                            channels_last, steps=1, warmup=0)
        assert got["train_images_per_s"] > 0 and got["eval_images_per_s"] > 0


def test_bench_train_record(monkeypatch):
    monkeypatch.setitem(bench.NETS, "alexnet_small", (3, 32, 10, 4))
    path = bench.run(["width=0.25"], nets=["alexnet_small"], steps=1, small=True)
    summary = json.loads((path / "summary.json").read_text())
    rows = summary["rows"]
    assert {(r["precision"], r["channels_last"]) for r in rows} == set(bench.OPTIONS)
    r = rows[0]     # GFLOP/s = 3 x forward FLOPs x images/s; % of the peak of its precision
    assert abs(r["train_gflop_per_s"] - 3 * r["gflop_forward"] * r["train_images_per_s"]) < 0.02 * r["train_gflop_per_s"] + 1e-3
    assert abs(r["train_pct_of_peak"] - 100 * r["train_gflop_per_s"] / summary["peak_gflop_per_s"][r["precision"]]) < 0.5
    assert summary["best"]["alexnet_small"]["speedup_vs_fp32_nchw"] > 0
