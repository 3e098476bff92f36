"""The closing chapter's campaign table: the queue's plan beside the committed records."""
import pandas as pd
import pytest

from alexnet import records
from alexnet.claims import campaign
from alexnet.config import ConfigError


def _record(root, experiment, preset, batches):
    """A record grown in `batches` of (seeds, started, ended, threads)."""
    prov = dict(seeds=sorted(s for b in batches for s in b[0]), started_utc=batches[0][1], ended_utc=batches[-1][2],
                hardware=dict(torch_threads=1),
                batches=[dict(seeds=s, started_utc=a, ended_utc=b, threads=t) for s, a, b, t in batches])
    records.write(experiment, preset, root=root, config={}, metrics=pd.DataFrame(dict(epoch=[1])),
                  summary={}, provenance=prov)


def test_rows_follow_the_queue_with_seeds_done_and_measured_hours(tmp_path):
    q = tmp_path / "queue.txt"
    q.write_text("# experiment preset seeds minutes\npooling regime 0,1,2 60\ndropout regime 0,1 30\n")
    _record(tmp_path, "pooling", "regime", [([0, 1], "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 1),
                                             ([2], "2026-01-02T00:00:00Z", "2026-01-02T00:30:00Z", 2)])
    t = campaign.table(q, root=tmp_path)
    assert list(t.index) == ["pooling/regime", "dropout/regime"]
    assert t.loc["pooling/regime", "seeds done"] == 3 and t.loc["dropout/regime", "seeds done"] == 0
    assert t.loc["pooling/regime", "CPU-h spent"] == 2.0                # 1 h x 1 thread + 0.5 h x 2 threads
    assert t.loc["pooling/regime", "est. CPU-h"] == 3.0                 # 3 seeds x 60 minutes
    assert "pooling_error" in t.loc["pooling/regime", "claims"]
    assert t.loc["pooling/regime", "design"].startswith("8,000 images, ≤ ")
    total = campaign.totals(t)
    assert total["scale"] == pytest.approx(2 / 3)                       # the finished line: 2.0 spent of 3.0
    assert total["to_come"] == pytest.approx(1.0 * 2 / 3)               # dropout's 1.0 estimated, rescaled
    assert (total["seeds_done"], total["seeds_planned"]) == (3, 5)
    _record(tmp_path, "init", "cpu", [([0], "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z", 1)])   # not queued
    assert campaign.spent_text(t, tmp_path) == ("2.0 CPU-hours for the records it grows, 3 of its 5 seeds "
                                                "committed (2.5 CPU-hours for all 2 committed records)")


def test_a_later_line_that_adds_seeds_to_a_record_is_one_row_counted_once(tmp_path):
    q = tmp_path / "queue.txt"
    q.write_text("pooling regime 0,1 60\ndropout regime 0 30\npooling regime 2,3,4 20\n")
    _record(tmp_path, "pooling", "regime", [([0, 1], "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 1)])
    t = campaign.table(q, root=tmp_path)
    assert list(t.index) == ["pooling/regime", "dropout/regime"]
    assert (t.loc["pooling/regime", "seeds planned"], t.loc["pooling/regime", "seeds done"]) == (5, 2)
    assert t.loc["pooling/regime", "est. CPU-h"] == 3.0                 # 2 x 60 + 3 x 20 minutes
    assert campaign.totals(t)["spent"] == 1.0                           # its one hour, not once per line
    _record(tmp_path, "dropout", "regime", [([7], "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z", 1)])
    row = campaign.table(q, root=tmp_path).loc["dropout/regime"]           # seed 7: made before the queue
    assert (row["seeds planned"], row["seeds done"]) == (2, 1)


def test_no_queue_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="campaign-queue.txt"):
        campaign.queue(tmp_path / "missing.txt")


def test_seeds_added_after_a_look_are_listed_with_the_verdicts_before_and_after(tmp_path, monkeypatch):
    """Only a later line of the same record counts as a look (its repeated seeds are not new);
    the verdict at the first seeds is the record re-read at those seeds alone."""
    from alexnet.claims import scorecard
    from alexnet.harness.runner import at_seeds
    monkeypatch.setenv("ALEXNET_RESULTS", str(records.project_root() / "results"))     # the committed records
    q = tmp_path / "queue.txt"
    q.write_text("pooling regime 0,1,2 30\ndropout regime 0,1 30\npooling regime 2,3,4 30\n")
    t = campaign.after_look(q)
    assert list(t.index) == ["pooling/regime"]
    row, rec = t.loc["pooling/regime"], records.load("pooling", "regime")
    assert row["seeds first planned"] == "0, 1, 2" and row["seeds added after a look"] == "3, 4"
    c = scorecard.claim("pooling_error")
    assert f"pooling_error: {scorecard.row(c)['verdict']}" in row["verdicts now"]
    then = at_seeds(rec, [0, 1, 2])
    assert f"pooling_error: {scorecard.row(c, rec=then)['verdict']}" in row["verdicts at those seeds"]
    assert sorted(then.metrics.seed.unique()) == [0, 1, 2] and scorecard.effects(c, then) == scorecard.effects(c, rec)[:3]
    q.write_text("pooling regime 0,1,2 30\n")
    assert campaign.after_look(q).empty


def test_the_scorecard_marks_a_verdict_that_seeds_added_after_a_look_changed(tmp_path, monkeypatch):
    from alexnet.claims import scorecard
    from alexnet.harness.runner import at_seeds
    monkeypatch.setenv("ALEXNET_RESULTS", str(records.project_root() / "results"))     # the committed records
    rec, c, q = records.load("pooling", "regime"), scorecard.claim("pooling_overfit"), tmp_path / "queue.txt"
    now, before = scorecard.row(c, rec=rec)["verdict"], scorecard.row(c, rec=at_seeds(rec, [0, 1]))["verdict"]
    assert before != now                                       # two seeds leave it undecided
    q.write_text("pooling regime 0,1 30\npooling regime 2,3,4 30\n")
    moved = campaign.moved_after_look(q)
    assert moved["pooling_overfit"] == before
    page = scorecard.html(scorecard.table(), marks=scorecard.marks({"after-look": moved}))
    assert f'data-claim="pooling_overfit">{now}</span> <a class="mark" href="#after-look" ' \
           f'title="at the seeds first planned: {before}">†</a>' in page
    assert page.count('class="mark"') == len(moved)
    both = scorecard.marks({"after-look": moved, "heldout-check": {"pooling_overfit": "inconclusive"}})
    assert both["pooling_overfit"].endswith('title="on the test images their schedule did not read: inconclusive">‡</a>')
    q.write_text("pooling regime 0,1 30\ndropout regime 0,1 30\n")
    assert campaign.moved_after_look(q) == {}
