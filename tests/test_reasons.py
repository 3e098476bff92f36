"""The closing chapter's reasons: every measured claim that is not `reproduced` appears once,
with the scorecard's own verdict, under the reason its verdict category names."""
import re

import pytest

from alexnet.claims import reasons, scorecard
from conftest import ROOT


@pytest.fixture(autouse=True)
def _committed_results(monkeypatch):
    """The committed records (read only): the table the closing chapter shows."""
    monkeypatch.setenv("ALEXNET_RESULTS", str(ROOT / "results"))


def test_every_unreproduced_claim_once_with_the_scorecards_verdict():
    card = scorecard.table()
    table = reasons.reasons(card)
    emp = scorecard.empirical(card)
    wanted = emp[emp.verdict != "reproduced"].set_index("id").verdict
    assert sorted(table.id) == sorted(wanted.index)
    assert dict(zip(table.id, table.verdict)) == wanted.to_dict()
    gates = emp.set_index("id").regime
    keys = [reasons.group(i, v, gates[i]) for i, v in zip(table.id, table.verdict)]
    assert all(r == reasons.GROUPS[k][0] for r, k in zip(table.reason, keys))
    # "needs ImageNet" only for claims with no CPU experiment
    assert all((k == "not run") == (scorecard.claim(i).experiment is None) for i, k in zip(table.id, keys)
               if k.startswith("not run"))
    order = [list(reasons.GROUPS).index(k) for k in keys]
    assert order == sorted(order)


def test_html_marks_each_verdict_and_names_each_reason_once():
    table = reasons.reasons()
    page = reasons.html(table)
    marks = re.findall(r'data-claim="([a-z0-9_]+)">([^<]*)<', page)
    assert marks == list(zip(table.id, table.verdict))
    for reason in set(table.reason):
        assert page.count(f"<th colspan=\"6\">{reason}.") == 1


def test_regime_command_only_where_the_preset_exists():
    table = reasons.reasons().set_index("id")
    assert table[table.verdict != "not run"].cpu_hours.notna().all()      # every record's cost, from provenance
    if "lrn_proxy" in table.index and table.verdict["lrn_proxy"] == "inconclusive (regime)":
        assert table.command["lrn_proxy"] == "`alexnet run lrn --preset regime`"
    if "lrn_cifar_13_11" in table.index and table.verdict["lrn_cifar_13_11"] == "inconclusive (regime)":
        assert "no `regime` design fits its budget" in table.command["lrn_cifar_13_11"]   # the LRN chapter's cost


def test_each_inconclusive_row_says_how_many_seeds_would_decide_it():
    """The count is stats.seeds_to_decide of the very effects the scorecard judged."""
    from alexnet import stats
    table = reasons.reasons().set_index("id")
    for cid, row in table[table.verdict == "inconclusive"].iterrows():
        c = scorecard.claim(cid)
        n = stats.seeds_to_decide(scorecard.effects(c, scorecard.record(c.experiment)), c.size, c.margin)
        assert (f"{n} seeds in all" if n else "more than 1,000 seeds") in row.why


def test_a_more_seeds_command_names_seeds_the_record_lacks():
    import re
    table = reasons.reasons().set_index("id")
    for cid, row in table[table.verdict.isin(["inconclusive", "inconclusive (one seed)"])].iterrows():
        preset = re.search(r"--preset (\w+)", row.command).group(1)
        have = {int(s) for s in scorecard.record(scorecard.claim(cid).experiment, (preset,)).provenance["seeds"]}
        asked = {int(s) for s in re.search(r"--seeds ([\d,]+)", row.command).group(1).split(",")}
        assert asked and not asked & have, f"{cid}: {row.command} repeats seeds {sorted(asked & have)}"


def test_a_regime_record_that_misses_its_gate_proposes_no_rerun_of_itself():
    """A `regime` record read by the scorecard and still inconclusive (regime): the row says no
    design within the campaign decides it, never `alexnet run ... --preset regime` again."""
    verdict, scale = "inconclusive (regime)", "cifar10, all images, 20 epochs, regime"
    assert reasons._command("init", verdict, scale).startswith("none within this campaign: its `regime` record")
    assert reasons._command("init", verdict, "cifar10, 6,000 images, 5 epochs, cpu") == "`alexnet run init --preset regime`"


def test_a_claim_whose_training_never_began_is_grouped_apart_with_no_rerun():
    """A `learned ✗` gate (§5's arms at chance, conv1 at its random start) is not "stopped too
    early, run the regime preset": its own group, and no command of this campaign."""
    assert reasons.group("init", "inconclusive (regime)", "learned ✗ (the better arm's ...)") == "not begun"
    assert reasons.group("init", "inconclusive (regime)", "converged ✗ (unfinished)") == "inconclusive (regime)"
    table = reasons.reasons().set_index("id")
    for cid in table.index[table.reason == reasons.GROUPS["not begun"][0]]:
        assert "learned ✗" in table.why[cid] and table.command[cid].startswith("none within this campaign")


def test_the_seeds_command_names_every_seed_the_count_asks_for():
    """'39 seeds in all (+34)' proposes the 34 seeds after the record's last, as one range;
    '3 seeds in all (+1)' proposes exactly one seed, not the next three."""
    from alexnet.cli import seed_list
    table = reasons.reasons().set_index("id")
    for cid, row in table[table.verdict == "inconclusive"].iterrows():
        extra = re.search(r"\(\+(\d+)", row.why)
        if extra:
            seeds = seed_list(re.search(r"--seeds (\S+)`", row.command).group(1))
            rec = scorecard.record(scorecard.claim(cid).experiment)
            have = {int(s) for s in rec.provenance["seeds"]}
            assert len(seeds) == int(extra.group(1)) and not have & set(seeds)



def test_a_chapter_shows_the_reasons_of_its_undecided_claims_and_only_those():
    """Under a chapter's "paper vs ours" table: the scorecard's reasons row (why, command, cost)
    of each of its claims whose verdict is inconclusive, none for a decided or code-check claim."""
    import importlib
    ev = importlib.import_module("alexnet.claims.evidence")
    card = scorecard.table().set_index("id")
    for chapter, ids in card.groupby("chapter").groups.items():
        html = ev.undecided(*ids)
        for cid in ids:
            shown = f'data-claim="{cid}"' in html
            assert shown == card.verdict[cid].startswith("inconclusive"), (chapter, cid, card.verdict[cid])
        if html:
            assert "<th>chapter</th>" not in html and "<th>command</th>" in html


def test_claims_per_group_key_count_every_row_once():
    table = reasons.reasons()
    g = reasons.by_group(table)
    assert set(g) == set(reasons.GROUPS) and sum(g.values()) == len(table)
