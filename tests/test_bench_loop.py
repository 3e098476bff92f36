"""`alexnet bench loop`: the campaign's nets timed through training.loop's own step."""
import pytest

from alexnet import records
from alexnet.bench import loop
from alexnet.config import ConfigError


def test_the_speed_is_the_loops_own_and_every_step_is_the_loops(monkeypatch):
    import alexnet.training.loop as training_loop
    calls = []
    real = training_loop._step

    def counted(run, epoch, step, x, y):
        calls.append((epoch, step, x.shape[0]))
        return real(run, epoch, step, x, y)
    monkeypatch.setattr(training_loop, "_step", counted)
    rate = loop.loop_speed("cifar4", threads=1, steps=3)
    assert rate > 0
    assert [(e, s) for e, s, _ in calls] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert {b for *_, b in calls} == {loop.batch_of("cifar4")} == {32}     # the LRN regime's batch


def test_a_record_with_both_thread_counts_and_the_share_of_peak(tmp_path):
    path = loop.run(["nets=cifar4", "steps=2"], small=True, results=tmp_path)
    rec = records.load("bench_loop", "cpu", root=tmp_path)
    assert path == rec.path
    m = rec.metrics
    assert sorted(m.threads) == [1, 2] and set(m.model) == {"cifar4"}
    row = m.iloc[0]
    assert row.train_gflop_per_s == pytest.approx(3 * loop.forward_gflop("cifar4") * row.images_per_s)
    assert row.pct_of_peak == pytest.approx(100 * row.train_gflop_per_s / row.peak_gflop_per_s)
    one, two = m.set_index("threads").images_per_s
    assert m.two_jobs_vs_one.iloc[0] == pytest.approx(2 * one / two)


@pytest.mark.parametrize("bad, says", [(["nets=resnet"], "unknown net 'resnet'"), (["epochs=3"], "not epochs")])
def test_bad_options_are_one_line(bad, says, tmp_path):
    with pytest.raises(ConfigError, match=says):
        loop.run(bad, small=True, results=tmp_path)
    assert not (tmp_path / "bench_loop").exists()


def test_side_by_side_reads_the_campaigns_own_epochs(tmp_path):
    """The campaign's choice, measured by its records: per regime record, the median of its
    training epochs' images/s against the benchmark's one thread alone and one two-thread job."""
    import pandas as pd
    from alexnet.bench.report import side_by_side
    amd = {"cpu": "AMD EPYC"}
    bench = records.Record(experiment="bench_loop", preset="cpu", path=tmp_path, config={}, summary={},
                           provenance={"hardware": amd},
                           metrics=pd.DataFrame(dict(model=["cifar_alexnet"] * 2, batch=[128, 128], threads=[1, 2],
                                                     images_per_s=[800.0, 1200.0])))
    # a two-thread record is not the campaign's, and one made on another CPU is not comparable
    for exp, threads, cpu in (("pooling", 1, "AMD EPYC"), ("dropout", 2, "AMD EPYC"), ("two_columns", 1, "Intel Xeon")):
        records.write(exp, "regime", root=tmp_path, summary={},
                      config={"base": {"model": "cifar_alexnet", "batch_size": 128}},
                      metrics=pd.DataFrame(dict(variant=["a", "a", "b"], epoch=[1, 2, 1], images_per_s=[600.0, 700.0, 650.0])),
                      provenance={"hardware": {"torch_threads": threads, "cpu": cpu}})
    table = side_by_side(bench, tmp_path)
    assert list(table.index) == ["pooling/regime"]
    row = table.loc["pooling/regime"]
    assert row["epochs (all arms and seeds)"] == 3 and row["images/s per job (median)"] == 650
    assert row["÷ one thread alone"] == round(650 / 800, 2) and row["2 jobs ÷ one 2-thread job"] == round(1300 / 1200, 2)

