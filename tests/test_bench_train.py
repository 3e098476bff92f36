"""`alexnet bench train` and the on-the-spot peak: a seconds-long run on the small net, and
the FLOP arithmetic checked against hand counts."""
import json


from alexnet.bench import peak
from alexnet.bench import train as bench


def test_peak_counts_matmul_and_conv_flops(monkeypatch):
    monkeypatch.setattr(peak, "best_seconds", lambda fn, repeats, warmup=1: (fn(), 2.0)[1])
    assert peak.matmul_flops("fp32", n=64, repeats=1) == 2 * 64 ** 3 / 2.0
    assert peak.conv1x1_flops("bf16", channels=16, side=4, batch=2, repeats=1) == 2 * 2 * 16 * 16 * 16 / 2.0


def test_measure_reports_positive_speeds_for_both_formats():
    from alexnet.models import alexnet_small
    for channels_last in (False, True):
        got = bench.measure(alexnet_small(10, 3, 32, 0.25), bench.random_batch((3, 32, 32), 10, 4),
                            bench.Option("bf16", channels_last), steps=1, warmup=0)
        assert got["train_images_per_s"] > 0 and got["eval_images_per_s"] > 0


def test_bench_train_record(monkeypatch):
    monkeypatch.setitem(bench.NETS, "alexnet_small", (3, 32, 10, 4))
    path = bench.run(["width=0.25"], nets=["alexnet_small"], steps=1, small=True)
    summary = json.loads((path / "summary.json").read_text())
    rows = summary["rows"]
    assert {bench.Option(r["precision"], r["channels_last"], r["compile"], r["threads"]) for r in rows} == \
        set(bench.OPTIONS) | set(bench.LARGE_OPTIONS)              # batch 4, then the large batch
    r = rows[0]     # GFLOP/s = 3 x forward FLOPs x images/s; % of the peak of its precision
    assert abs(r["train_gflop_per_s"] - 3 * r["gflop_forward"] * r["train_images_per_s"]) < 0.02 * r["train_gflop_per_s"] + 1e-3
    assert abs(r["train_pct_of_peak"] - 100 * r["train_gflop_per_s"] / summary["peak_gflop_per_s"][r["precision"]]) < 0.5
    assert summary["best"]["alexnet_small"]["speedup_vs_fp32_nchw"] > 0
    fused = summary["targets"]["alexnet_small_fused_speedup"]                  # same batch, same run
    large = {r["compile"]: r["train_images_per_s"] for r in rows
             if r["batch"] == bench.LARGE_BATCH and r["precision"] == "bf16" and r["channels_last"] and not r["threads"]}
    assert abs(fused["value"] - large[True] / large[False]) < 1e-9 and fused["target"] == 1.5


def test_report_tables_from_a_record(monkeypatch):
    """speed_table pivots a column per option (fused kernels apart); profile_table sums the
    layers by kind and keeps the whole step; targets_table reads the record's targets."""
    from types import SimpleNamespace

    import pandas as pd

    from alexnet.bench import report
    metrics = pd.DataFrame([dict(model="m", input="3x8x8", batch=128, precision="bf16", channels_last=True,
                                 compile=c, train_images_per_s=v, train_pct_of_peak=v / 10) for c, v in ((False, 10.0), (True, 15.0))])
    layer = lambda name, d, ms, c: dict(layer=name, direction=d, ms=ms, gflop=0.0, pct_of_peak=0.0, precision="bf16",
                                        channels_last=True, compile=c)
    profile = [layer(n, d, ms, c) for c in (False, True) for n, d, ms in
               (("conv1", "forward", 5.0), ("conv1", "backward", 6.0), ("norm1", "forward", 8.0 if not c else 2.0),
                ("act1", "forward", 1.0), ("other", "both", 3.0), ("step", "both", 23.0 if not c else 17.0))]
    targets = dict(alexnet_small_fused_speedup=dict(value=1.5, target=1.5, met=True))
    rec = SimpleNamespace(metrics=metrics, summary=dict(layer_profile=profile, targets=targets))
    speed = report.speed_table(rec)
    assert list(speed.columns) == ["bf16 CL", "bf16 CL fused"]
    assert speed.iloc[0].tolist() == [10.0, 15.0]
    table = report.profile_table(rec)
    assert table.loc["convolutions"].tolist() == [11.0, 11.0] and table.loc["LRN"].tolist() == [8.0, 2.0]
    assert table.loc["whole step"].tolist() == [23.0, 17.0] and "optimizer, casts, loss" in table.index
    assert report.targets_table(rec).met.tolist() == [True]
    from alexnet.plots.speed import profile_figure
    ax = profile_figure(table).axes[0]
    assert len(ax.patches) == 2 * 3 + 2                                # 2 options x 3 layer kinds, 2 whole steps
    assert [b.get_width() for b in ax.patches[-2:]] == [23.0, 17.0]    # the whole step's own bars
    assert [b.get_x() + b.get_width() for b in ax.patches[4:6]] == [20.0, 14.0]   # the layers' stacks end at their sum
