"""`alexnet.stats`: means over seeds, differences and THE verdict rule (issue 12)."""
import math
import statistics

import pandas as pd
import pytest

from alexnet import stats
from alexnet.stats import VERDICTS, interval, verdict


def test_summarize_is_mean_sample_std_and_n():
    s = stats.summarize([0.4, 0.5, 0.6])
    assert s["mean"] == pytest.approx(0.5) and s["std"] == pytest.approx(0.1) and s["n"] == 3
    assert s["values"] == [0.4, 0.5, 0.6] and "seeds" not in s      # no seed ids given: none recorded
    assert stats.summarize([0.3])["std"] == 0.0                  # one seed: no spread, not NaN
    assert stats.summarize(v for v in (1.0, 2.0))["n"] == 2       # any iterable


def test_summarize_keys_values_by_seed_in_seed_order():
    s = stats.summarize([0.5, 0.4, 0.6], seeds=[1, 0, 2])
    assert s["seeds"] == [0, 1, 2] and s["values"] == [0.4, 0.5, 0.6]
    by_index = stats.summarize(pd.Series([0.7, 0.3], index=pd.Index([4, 2], name="seed")))
    assert by_index["seeds"] == [2, 4] and by_index["values"] == [0.3, 0.7]
    with pytest.raises(stats.PairingError):
        stats.summarize([0.1, 0.2], seeds=[3, 3])


def test_paired_joins_on_the_seed_not_the_position():
    # the 13pct / 11pct case of issue 22: one variant's rows came out in seed order 1, 0
    a = dict(values=[0.30, 0.40, 0.50], seeds=[0, 1, 2])
    b = dict(values=[0.37, 0.28, 0.49], seeds=[1, 0, 2])
    d = stats.paired(a, b)
    assert d["seeds"] == [0, 1, 2] and d["values"] == pytest.approx([0.02, 0.03, 0.01])
    assert d["std"] == pytest.approx(0.01)                        # far less than either's spread
    by_position = [x - y for x, y in zip(a["values"], b["values"])]     # the old pairing
    assert by_position != pytest.approx(d["values"])


def test_paired_refuses_different_or_missing_seeds():
    with pytest.raises(stats.PairingError, match="different seeds"):
        stats.paired(dict(values=[0.3, 0.4], seeds=[0, 1]), dict(values=[0.3, 0.4], seeds=[0, 2]))
    with pytest.raises(stats.PairingError, match="no seed ids"):
        stats.paired(dict(values=[0.3, 0.4]), dict(values=[0.3, 0.4], seeds=[0, 1]))


def test_difference_and_per_variant():
    last = pd.DataFrame(dict(variant=["a", "a", "b", "b"], seed=[0, 1, 0, 1], err=[0.3, 0.5, 0.2, math.nan]))
    out = stats.per_variant(last, ["err"])
    assert out["a"]["err"]["mean"] == pytest.approx(0.4) and out["a"]["err"]["censored"] == 0
    assert out["b"]["err"]["n"] == 1 and out["b"]["err"]["censored"] == 1   # the NaN run dropped, counted
    d = stats.difference(out["a"]["err"], out["b"]["err"])
    assert d["mean"] == pytest.approx(0.2) and d["inside_noise"] is not None


def test_convergence_and_first_epoch():
    rows = pd.DataFrame(dict(epoch=[1, 2, 3, 4], val_top1_err=[0.9, 0.5, 0.41, 0.40],
                             train_loss=[2.0, 1.5, 1.2, 1.1]))
    got = stats.convergence(rows, plateau=0.01, loss_threshold=1.0)
    assert got["epochs_to_plateau"] == 3.0                        # 0.41 <= 0.40 + 0.01
    assert math.isnan(got["epochs_to_loss"])                      # never at 1.0: censored
    assert stats.first_epoch([5, 3, 1], [1, 2, 3], lambda v: v < 4) == 2.0


def test_every_verdict_is_reachable():
    got = {verdict(holds=True), verdict(holds=False), verdict([0.02, 0.021, 0.019], 0.02),
           verdict([0.10, 0.11, 0.09], 0.02), verdict([0.001, -0.001, 0.0005], 0.02),
           verdict([0.03, -0.03, 0.02], 0.02), verdict([-0.02, -0.021, -0.019], 0.02), verdict([], 0.02)}
    assert {stats.word(v) for v in got} == set(VERDICTS)
    assert verdict([0.10, 0.11, 0.09], 0.02) == "direction"      # 5x the paper's size
    assert verdict([0.001, 0.0011, 0.0009], 0.02) == "direction"  # a twentieth of it
    assert verdict([-0.02, -0.021, -0.019], 0.02) == "opposite"


def test_the_rule_can_say_no():
    # interval [-0.5, 0.6] points: excludes the paper's 2 points -> not reproduced
    assert verdict([0.001, -0.001, 0.0005, 0.0, 0.0002], 0.02) == "not reproduced"
    # interval wide enough to hold both 0 and the paper's size -> inconclusive
    assert verdict([0.05, -0.04, 0.01], 0.02) == "inconclusive"
    assert verdict([0.05, -0.04, 0.01], None) == "inconclusive"   # no size: nothing to rule out


def test_sizes_are_signed_the_papers_way():
    with pytest.raises(ValueError, match="positive"):
        verdict([0.01, 0.02], -0.001)                              # orient the effect instead
    with pytest.raises(ValueError, match="positive"):
        verdict([0.01, 0.02], 0.0)


def test_no_better_than_uses_its_margin():
    m = 0.005
    assert verdict([0.001, -0.001, 0.002], margin=m) == "reproduced"          # any gain < 0.5 points
    assert verdict([-0.02, -0.021, -0.019], margin=m) == "opposite"            # clearly better
    assert verdict([0.01, -0.03, -0.005], margin=m) == "inconclusive"          # straddles -margin


def test_the_regime_gate_and_one_seed():
    assert verdict([0.02, 0.021, 0.019], 0.02, regime=False) == "inconclusive (regime)"
    assert verdict([0.05], 0.02) == "inconclusive (one seed)"
    assert verdict([], 0.02, regime=False) == "not run"


def test_the_factor_of_two_edges():
    same = lambda x: [x, x, x]                                   # noqa: E731 (zero spread: the interval is the point)
    assert verdict(same(0.5), 0.25) == "reproduced"               # exactly 2x (binary-exact numbers)
    assert verdict(same(0.125), 0.25) == "reproduced"             # exactly 0.5x
    assert verdict(same(0.5001), 0.25) == "direction"
    assert verdict(same(0.1249), 0.25) == "direction"
    assert verdict(same(0.03), None) == "reproduced"              # the paper states no size


def test_one_seed_has_no_interval():
    ci = interval([0.05])
    assert ci["n"] == 1 and ci["lo"] == -math.inf and ci["hi"] == math.inf


def _epochs(lrs, errs, seeds=(0, 1), train=0.0):
    return pd.DataFrame([dict(seed=s, epoch=e + 1, lr=lr, val_top1_err=err, train_err=train)
                         for s in seeds for e, (lr, err) in enumerate(zip(lrs, errs))])


def test_regime_converged_needs_one_rate_and_a_settled_error():
    flat = [0.5, 0.4, 0.35, 0.349, 0.348, 0.347]
    assert stats.regime(_epochs([0.01] * 6, flat), 6)["converged"]                 # constant rate, settled
    plateau = [0.01, 0.01, 0.001, 0.0001, 0.0001, 0.0001]                          # drops done, then settled
    assert stats.regime(_epochs(plateau, flat), 6)["converged"]
    cosine = [0.01 * (1 + math.cos(math.pi * e / 6)) / 2 for e in range(6)]
    r = stats.regime(_epochs(cosine, flat), 6)
    assert not r["converged"] and not r["one_rate"]                                # annealed to ~0
    assert not stats.regime(_epochs([0.01] * 6, [0.5, 0.4, 0.35, 0.33, 0.31, 0.29]), 6)["converged"]
    assert not stats.regime(_epochs([0.01] * 6, flat), 8)["converged"]             # schedule unfinished
    assert not stats.regime(_epochs([0.0] * 6, flat), 6)["converged"]              # a zero rate


def test_regime_overfits_by_ten_points():
    rows = _epochs([0.01] * 3, [0.4, 0.4, 0.4], train=0.29)
    assert stats.regime(rows)["overfits"] and stats.regime(rows)["gap"] == pytest.approx(0.11)
    assert not stats.regime(_epochs([0.01] * 3, [0.4, 0.4, 0.4], train=0.31))["overfits"]


def test_nans_are_dropped():
    ci = interval([0.02, math.nan, 0.021, None, 0.019])
    assert ci["n"] == 3 and ci["values"] == [0.02, 0.021, 0.019]
    assert verdict([0.02, math.nan, 0.021, 0.019], 0.02) == "reproduced"
    assert verdict([math.nan, math.nan], 0.02) == "not run"
    assert verdict(iter([0.02, 0.021, 0.019]), 0.02) == "reproduced"   # a generator is read once


def test_interval_is_the_t_interval():
    ci = interval([1.0, 2.0, 3.0])
    half = 4.303 * 1.0 / math.sqrt(3)                              # t(0.975, 2) * sd / sqrt(n)
    assert ci["lo"] == pytest.approx(2.0 - half) and ci["hi"] == pytest.approx(2.0 + half)
    assert ci["se"] == pytest.approx(1 / math.sqrt(3))


def test_t_table_against_scipy():
    t = pytest.importorskip("scipy.stats").t
    for df in list(range(1, 61)) + [80, 120, 500, 10_000]:
        assert stats.t975(df) == pytest.approx(t.ppf(0.975, df), abs=6e-4), df
    with pytest.raises(ValueError):
        stats.t975(0)


def test_formatting_helpers():
    assert stats.pct(0.1234) == "12.3%" and stats.pct(None) == "–" and stats.pct(math.nan) == "–"
    assert stats.pm(dict(mean=0.1234, std=0.01, n=3)) == "12.3 ± 1.0"
    assert stats.pm(dict(mean=0.1234, std=0.0, n=1)) == "12.3 (1 seed)"
    assert stats.pm(None) == "–" and stats.pm(dict(mean=math.nan, std=0.0, n=0)) == "–"


def test_a_plateau_run_that_stopped_after_its_drops_has_finished():
    lrs = [0.01, 0.01, 0.001, 0.0001, 0.00001, 0.00001, 0.00001]
    errs = [0.5, 0.4, 0.35, 0.34, 0.339, 0.3385, 0.338]
    assert not stats.regime(_epochs(lrs, errs), 20)["finished"]           # stopped before epoch 20 ...
    assert stats.regime(_epochs(lrs, errs), 20, drops=3)["converged"]      # ... because its 3 drops were done
    assert not stats.regime(_epochs(lrs[:4] + [0.0001] * 3, errs), 20, drops=3)["finished"]


def test_runs_that_stop_at_different_epochs_are_compared_end_to_end():
    a = _epochs([0.01, 0.001, 0.0001, 0.0001, 0.0001], [0.5, 0.4, 0.35, 0.351, 0.35], seeds=(0,))
    b = _epochs([0.01, 0.01, 0.001, 0.0001, 0.0001, 0.0001, 0.0001], [0.6, 0.5, 0.45, 0.4, 0.3, 0.301, 0.3],
                seeds=(1,))
    r = stats.regime(pd.concat([a, b]), 20, drops=2)
    assert r["converged"] and r["last3_span"] == pytest.approx(0.001)   # epoch by epoch it would jump 5 points


def test_seeds_to_decide_is_the_first_n_whose_interval_clears_the_nearest_boundary():
    from alexnet.stats import seeds_to_decide, t975, verdict
    vals = [0.01, -0.004, 0.02, 0.003]                 # mean 0.00725, sd ~0.0101: covers zero
    n = seeds_to_decide(vals)
    mean, sd = statistics.mean(vals), statistics.stdev(vals)
    assert t975(n - 1) * sd / n ** 0.5 < mean <= t975(n - 2) * sd / (n - 1) ** 0.5
    # the same mean and sd over n seeds would be decisive, over n - 1 not
    def like(k):                                         # k values with exactly that mean and sd
        base = [(-1) ** i for i in range(k)] if k % 2 == 0 else [(-1) ** i for i in range(k - 1)] + [0]
        b = statistics.stdev(base)
        return [mean + sd * x / b for x in base]
    assert verdict(like(n)) != "inconclusive" and verdict(like(n - 1)) == "inconclusive"
    # a paper's size far above the mean: "not reproduced" comes sooner than clearing zero
    noisy = [0.03, -0.01, 0.02, -0.005]
    assert seeds_to_decide(noisy, paper=0.2) < seeds_to_decide(noisy)
    assert seeds_to_decide(noisy, margin=0.01) < seeds_to_decide(noisy)  # -margin is farther than 0
    assert seeds_to_decide([0.01]) is None
    assert seeds_to_decide([0.02, -0.02]) is None                        # mean at zero: never


def test_moves_words_the_direction_of_a_gain():
    from alexnet.stats import moves
    assert moves(0.012) == "lower the test error by 1.2 points"
    assert moves(-0.0758) == "raise the test error by 7.6 points"
    assert moves(-0.0005, "top-1 error", one=True) == "raises top-1 error by 0.1 points"
    assert moves(0.0) == "leave the test error unchanged"


def test_pm_signs_a_change_and_gives_one_seed_no_spread():
    from alexnet.stats import pm
    assert pm(dict(mean=0.012, std=0.003, n=3), signed=True) == "+1.2 ± 0.3"
    assert pm(dict(mean=-0.018, std=0.0, n=1), signed=True) == "-1.8 (1 seed)"
    assert pm(dict(mean=0.376, std=0.0, n=1), unit="%") == "37.6% (1 seed)"
