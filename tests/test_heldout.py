"""The held-out check (`alexnet run heldout`): finished nets read back, measured on the test
images their schedule never read; each claim re-read on them through the one rule."""
import pandas as pd
import pytest
import torch

from alexnet import records
from alexnet.claims import heldout as check
from alexnet.claims.scorecard import claim, effects
from alexnet.config import ConfigError
from alexnet.evaluation.metrics import evaluate
from alexnet.experiments import heldout, run_experiment
from alexnet.harness.runner import at_seeds, scratch_path
from alexnet.training.checkpoint import load_checkpoint
from conftest import real_data_root

SOURCE = ["dataset=cifar10", "train_limit=256", "val_limit=100", "threads=1", "progress=false"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A pooling smoke record on real CIFAR-10 (100 test images read by its schedule) and the check."""
    if real_data_root() is None:
        pytest.skip("needs CIFAR-10 ($ALEXNET_DATA)")
    tmp = tmp_path_factory.mktemp("heldout")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALEXNET_RUNS", str(tmp / "runs"))
        mp.setenv("ALEXNET_RESULTS", str(tmp / "elsewhere"))      # `--results` (below) is where both live
        run_experiment("pooling", "smoke", SOURCE, results=tmp / "results")
        run_experiment("heldout", "smoke", ["threads=1", "progress=false"], results=tmp / "results")
        yield tmp


def test_the_schedules_images_give_the_recorded_error_and_the_rest_partition_the_test_set(made, monkeypatch):
    monkeypatch.setenv("ALEXNET_RUNS", str(made / "runs"))
    root = made / "results"
    runs = records.load("heldout", "smoke", root=root).metrics
    source = records.load("pooling", "smoke", root=root)
    assert len(runs) == 2 and (runs.n_schedule == 100).all() and (runs.n_heldout == 9_900).all()
    # the training loop's own number, measured again on the same 100 images
    assert (runs.schedule_top1_err == runs.recorded_top1_err).all()
    last = source.metrics.dropna(subset=["epoch"]).groupby("variant").tail(1).set_index("variant")
    assert list(runs.recorded_top1_err) == list(last.loc[runs.variant, "val_top1_err"])
    # the two parts are the whole test set: their errors weighted by size give the error on all 10,000
    from alexnet.data import load_data
    for row in runs.itertuples():
        cfg, model = load_checkpoint(scratch_path("pooling", "smoke", row.variant, row.seed) / "checkpoint.pt")
        every = evaluate(model, load_data(cfg.replace(val_limit=0)).val.batches(0), torch.device("cpu"),
                         cfg.precision, cfg.channels_last)
        assert every["n"] == 10_000
        assert (100 * row.schedule_top1_err + 9_900 * row.heldout_top1_err) / 10_000 == pytest.approx(every["top1_err"])


def test_each_claim_is_read_again_on_the_held_out_images_through_the_one_rule(made):
    root = made / "results"
    made_check, source = check.check(root, "smoke"), records.load("pooling", "smoke", root=root)
    runs = made_check.metrics
    # with the held-out errors equal to the recorded ones the re-read record is the record
    same = runs.assign(heldout_top1_err=runs.recorded_top1_err,
                       heldout_top5_err=runs.schedule_top5_err)
    c = claim("pooling_error")
    assert effects(c, check.on_heldout(source, same)) == pytest.approx(effects(c, at_seeds(source, [0])))
    # the claim (plain minus overlap) moves by exactly what the plain net's error moved
    moved = same.assign(heldout_top1_err=same.heldout_top1_err + (same.variant == "plain") * 0.1)
    assert effects(c, check.on_heldout(source, moved))[0] == pytest.approx(effects(c, source)[0] + 0.1)
    # the curves the gate reads stay as they ran
    pd.testing.assert_frame_equal(check.on_heldout(source, moved).metrics, at_seeds(source, [0]).metrics)
    t = check.table(root, "smoke")
    assert {"pooling_error", "pooling_overfit"} <= set(t.index)
    assert t.loc["pooling_error", "seeds read"] == "1 of 1"
    ours = effects(c, check.on_heldout(source, runs))[0]
    assert t.loc["pooling_error", "held-out images"].startswith(f"{100 * ours:.2f}")
    facts = heldout.facts(made_check)
    assert facts["shift"] == f"pooling {100 * (runs.heldout_top1_err - runs.schedule_top1_err).mean():+.1f}"
    assert facts["runs"] == "2" and facts["heldout"] == "9,900" and facts["recheck"] == "exactly"
    verdicts = t[["verdict there", "verdict on them"]]
    kept = int((verdicts.iloc[:, 0] == verdicts.iloc[:, 1]).sum())
    assert check.agreement(t).startswith(f"{kept} of the {len(t)} claims keep their verdict")


def test_a_checkpoint_that_is_not_the_recorded_net_stops_the_check(made, monkeypatch, tmp_path):
    monkeypatch.setenv("ALEXNET_RUNS", str(made / "runs"))
    monkeypatch.setenv("ALEXNET_RESULTS", str(made / "results"))
    row = records.load("pooling", "smoke", root=made / "results").metrics.dropna(subset=["epoch"]).iloc[-1]
    later = row.copy()
    later["epoch"] = row.epoch + 1
    with pytest.raises(ConfigError, match="ends at epoch 1 where the record's run ended at 2"):
        heldout.measure_run("pooling", "smoke", later, {})
    wrong = row.copy()
    wrong["val_top1_err"] = row.val_top1_err + 0.2
    with pytest.raises(ConfigError, match="not the net the record describes"):
        heldout.measure_run("pooling", "smoke", wrong, {})
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path))
    with pytest.raises(ConfigError, match="checkpoint.pt is missing.*--seeds 0 --results runs/remake"):
        heldout.measure_run("pooling", "smoke", row, {})


def test_the_words_for_a_claim_that_moves_name_no_verdict():
    t = pd.DataFrame([dict(claim="a", **{"held-out images": "1.00 points (n=4)", "verdict there": "reproduced",
                                         "schedule's images": "1.10 points (n=4)",
                                         "verdict on them": "reproduced", "seeds read": "4 of 4"}),
                      dict(claim="b", **{"held-out images": "0.50 points (n=4)", "verdict there": "reproduced",
                                         "schedule's images": "1.20 points (n=4)",
                                         "verdict on them": "inconclusive", "seeds read": "4 of 4"}),
                      # a record grown since the check: the mark compares the same seeds on both parts
                      dict(claim="c", **{"held-out images": "0.70 points (n=4)", "verdict there": "direction",
                                         "schedule's images": "0.80 points (n=4)",
                                         "verdict on them": "direction", "seeds read": "4 of 6 (not 4, 5)"})]).set_index("claim")
    assert check.moved(t) == {"b": "inconclusive"} and check.kept(t) == "2 of the 3"
    assert check.agreement(t) == "2 of the 3 claims keep their verdict on the held-out images; b moves from reproduced to inconclusive"
    facts = check.facts(t)
    assert facts["c_seeds"] == "4 of 6 (not 4, 5)"
    assert facts["b_ours"] == "0.50 points (n=4)" and facts["b_there"] == "1.20 points (n=4)" and "‡" in facts["b_same"] and "‡" not in facts["a_same"] + facts["c_same"]
    words = ("reproduced", "inconclusive", "direction", "opposite")
    assert not any(w in text for text in facts.values() for w in words)
    assert check.moved(pd.DataFrame()) == {} and check.kept(pd.DataFrame()) == "none of the 0"


def test_a_chapters_table_carries_the_scorecards_marks_linking_to_it(monkeypatch):
    from alexnet import records as R
    from alexnet.claims import marked
    from alexnet.claims.evidence import frame
    monkeypatch.setenv("ALEXNET_RESULTS", str(R.project_root() / "results"))     # the committed records
    by_mark = marked()
    for claim_id in ("vgg_depth", "two_columns", "pooling_error"):
        cell = frame(claim_id).verdict.iloc[0]
        assert ('href="scorecard.html#heldout-check"' in cell) == (claim_id in by_mark["heldout-check"])
        assert ('href="scorecard.html#after-look"' in cell) == (claim_id in by_mark["after-look"])
    monkeypatch.setenv("ALEXNET_RETRAIN", "1")
    assert marked() == {}


def test_the_check_grows_by_net_and_leaves_out_a_seed_whose_checkpoints_are_gone(made, tmp_path, monkeypatch, capsys):
    import shutil
    for part in ("runs", "results"):              # a copy: the other tests read the fixture as made
        shutil.copytree(made / part, tmp_path / part)
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path / "runs"))
    root = tmp_path / "results"
    before = records.load("heldout", "smoke", root=root)
    run_experiment("pooling", "smoke", SOURCE, results=root, seeds=[1, 2])      # seeds land after the check
    shutil.rmtree(scratch_path("pooling", "smoke", "plain", 2))                  # trained on another machine
    run_experiment("heldout", "smoke", ["threads=1", "progress=false"], results=root, seeds=[0, 1, 2])
    assert "not read, their checkpoints are not on this machine: pooling seed 2; `alexnet run pooling --preset smoke " \
        "--seeds 2 --results runs/remake`" in capsys.readouterr().out
    grown = records.load("heldout", "smoke", root=root)
    # the nets it had are kept as they were measured; seed 1's are added; seed 2 is left out whole
    pd.testing.assert_frame_equal(grown.metrics.iloc[:2], before.metrics)
    assert sorted(zip(grown.metrics.seed, grown.metrics.variant)) == [(0, "overlap"), (0, "plain"), (1, "overlap"), (1, "plain")]
    assert grown.summary["runs"] == 4 and [b["seeds"] for b in grown.provenance["batches"]] == [[0], [1]]
    assert check.table(root, "smoke").loc["pooling_error", "seeds read"] == "2 of 3 (not 2)"
    from alexnet.cli import main
    assert main(["run", "heldout", "--preset", "smoke", "--seeds", "0,1", "--results", str(root),
                 "threads=1", "progress=false"]) == 0
    said = capsys.readouterr().out
    assert "nothing to run" in said and "record written" not in said     # and the record is as it was
    pd.testing.assert_frame_equal(records.load("heldout", "smoke", root=root).metrics, grown.metrics)
