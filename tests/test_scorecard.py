"""The scorecard: every claim gets a verdict from THE rule (version 2), read from records through
its declared effect and regime gate, paired by seed id, never typed."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from alexnet import records, stats
from alexnet.claims import evidence, scorecard
from alexnet.claims.checks import CODE_CHECKS
from alexnet.harness import registry
from alexnet.harness.runner import record_config

ROOT = Path(__file__).resolve().parents[1]


def test_every_claim_has_a_verdict_of_the_rule_and_a_chapter():
    card = scorecard.table()
    assert len(card) >= 27 and card.id.is_unique
    assert {stats.word(v) for v in card.verdict} <= set(stats.VERDICTS)
    pages = {p.stem for p in (ROOT / "chapters").glob("*.md")}
    assert set(card.chapter) <= pages
    assert (card.regime != "").all() | (card.verdict == "not run").any()
    assert len(scorecard.checks(card)) == len(CODE_CHECKS)          # code checks counted apart
    assert "empirical claims" in scorecard.tally(card)


def test_code_checks_hold_live():
    for c in CODE_CHECKS:
        ok, text = c.holds()
        assert ok, (c.claim, text)


def test_every_empirical_claim_is_declared_by_its_experiment_with_a_positive_size():
    for name in registry.names():
        for c in registry.declared(name).claims:
            assert c.experiment == name and c.effect is not None
            assert c.size is None or c.size > 0
    a_lrn = scorecard.claim("vgg_a_lrn")
    assert a_lrn.margin is not None and a_lrn.size is None         # "no better than": a margin
    assert scorecard.claim("dropout_iterations").size == pytest.approx(1.0)   # the paper's 2x, as 2 - 1


def _epoch_rows(lrs, err, seeds=(0, 1, 2), train=0.2):
    return [dict(variant=v, seed=s, epoch=e + 1, lr=lr, val_top1_err=err, train_err=train,
                 train_clean_top1_err=train) for v in ("plain", "overlap") for s in seeds
            for e, lr in enumerate(lrs)]


def _fake_pooling(root: Path, plain, overlap, lrs=(0.01, 0.01, 0.01), seeds=((0, 1, 2), (0, 1, 2))):
    node = lambda vals, ss: {"values": vals, "seeds": list(ss)}     # noqa: E731
    summary = {"variants": {"plain": {"val_top1_err": node(plain, seeds[0]), "gap": node(plain, seeds[0])},
                            "overlap": {"val_top1_err": node(overlap, seeds[1]), "gap": node(overlap, seeds[1])}}}
    records.write("pooling", "long", config={"base": {"dataset": "cifar10", "train_limit": 8000, "epochs": len(lrs)}},
                  metrics=pd.DataFrame(_epoch_rows(lrs, 0.3)), summary=summary,
                  provenance={"started_utc": "2026-01-01T00:00:00Z", "ended_utc": "2026-01-01T01:00:00Z",
                              "hardware": {"torch_threads": 1}}, root=root)


def test_a_record_turns_into_the_rules_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RESULTS", str(tmp_path))
    _fake_pooling(tmp_path, [0.304, 0.305, 0.306], [0.300, 0.301, 0.302])   # 0.4 points better: the paper's size
    row = scorecard.row(scorecard.claim("pooling_error"))
    assert row["verdict"] == "reproduced" and "long" in row["scale"] and row["regime"].startswith("converged ✓")
    assert row["ours"].startswith("0.40 ± 0.00 points (n=3)")
    assert evidence("pooling_error").row == row                              # a chapter sees the same row
    hours = scorecard.cpu_hours(tmp_path)
    assert hours.cpu_hours.sum() == 1.0


def test_pairing_is_by_seed_id(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RESULTS", str(tmp_path))
    # overlap's values listed in seed order 2, 0, 1: paired by position this would be noise
    _fake_pooling(tmp_path, [0.304, 0.305, 0.306], [0.302, 0.300, 0.301], seeds=((0, 1, 2), (2, 0, 1)))
    assert scorecard.row(scorecard.claim("pooling_error"))["ours"].startswith("0.40 ± 0.00 points")


def test_different_seeds_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RESULTS", str(tmp_path))
    _fake_pooling(tmp_path, [0.304, 0.305, 0.306], [0.300, 0.301, 0.302], seeds=((0, 1, 2), (0, 1, 3)))
    with pytest.raises(stats.PairingError, match="different seeds"):
        scorecard.row(scorecard.claim("pooling_error"))


def test_a_record_outside_the_regime_is_inconclusive(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RESULTS", str(tmp_path))
    _fake_pooling(tmp_path, [0.304, 0.305, 0.306], [0.300, 0.301, 0.302], lrs=(0.01, 0.005, 0.001))   # annealed
    row = scorecard.row(scorecard.claim("pooling_error"))
    assert row["verdict"] == "inconclusive (regime)" and "converged ✗" in row["regime"]
    over = scorecard.row(scorecard.claim("pooling_overfit"))                  # gap 10 points: overfits
    assert "the plain arm overfits ✓" in over["regime"]


def _colour_record(moved: float, gaps=(0.30, 0.28, 0.32)):
    """An imagenet_sample record whose chosen net's conv1 colourfulness moved by `moved` (column 1)."""
    node = lambda v: {"mean": float(sum(v) / len(v)), "values": list(v), "seeds": [0, 1, 2]}   # noqa: E731
    net = {"col1": node([2 / 3 - moved] * 3), "col1_init": node([2 / 3] * 3), "col2": node([2 / 3] * 3),
           "col2_init": node([2 / 3] * 3), "col_split": node(gaps)}
    return records.Record(path=Path("."), experiment="imagenet_sample", preset="long", config={},
                          metrics=pd.DataFrame(columns=["epoch", "val_top1_err"]), provenance={},
                          summary={"chosen": "kaiming", "kaiming": net})


def test_colour_split_counts_only_once_conv1_left_its_initialisation():
    """Figure 3's gate: a column gap measured on kernels still at their random start is not the split."""
    c = scorecard.claim("colour_split")
    still = scorecard.gate(c, _colour_record(0.005))
    assert still == (False, "learned ✗ (conv1's colourfulness moved 0.005 from initialisation, the split needs ≥ 0.05)")
    assert scorecard.gate(c, _colour_record(0.40))[0]
    assert scorecard.row(c, rec=_colour_record(0.005))["verdict"] == "inconclusive (regime)"
    assert scorecard.row(c, rec=_colour_record(0.40))["verdict"] == stats.verdict([0.30, 0.28, 0.32], None)


def test_init_counts_only_once_an_arm_left_chance():
    """§5's early stages: two arms both at chance measure chance, not a speed."""
    c = scorecard.claim("init")
    node = lambda v: {"mean": float(sum(v) / len(v)), "values": list(v), "seeds": [0, 1, 2]}   # noqa: E731
    def rec(paper_err):
        summary = {"chance_top1_err": 0.9,
                   "paper": {"train_err": node([paper_err] * 3), "mean_train_err": node([0.70, 0.71, 0.69])},
                   "zero_bias": {"train_err": node([0.90] * 3), "mean_train_err": node([0.80, 0.82, 0.81])}}
        return records.Record(path=Path("."), experiment="init", preset="regime", provenance={},
                              metrics=pd.DataFrame(columns=["epoch", "val_top1_err"]), config={}, summary=summary)
    assert scorecard.gate(c, rec(0.899)) == (False, "learned ✗ (the better arm's last training error 89.9%, "
                                                    "chance 90%; one arm must end ≥ 5 points below chance)")
    assert scorecard.row(c, rec=rec(0.899))["verdict"] == "inconclusive (regime)"
    assert scorecard.gate(c, rec(0.60))[0]
    assert scorecard.row(c, rec=rec(0.60))["verdict"] == stats.verdict([0.10, 0.11, 0.12], None)


def test_the_committed_summaries_match_their_metrics_seed_by_seed():
    """Re-derived records: each variant's last-epoch value per seed, from metrics.csv."""
    checked = 0
    for path in sorted((ROOT / "results").glob("*/*/summary.json")):
        summary, metrics = json.loads(path.read_text()), path.parent / "metrics.csv"
        m = pd.read_csv(metrics)
        if not {"variant", "seed", "epoch", "val_top1_err"} <= set(m.columns):
            continue
        last = m.dropna(subset=["epoch"]).sort_values(["seed", "epoch"], kind="stable").groupby(
            ["variant", "seed"]).tail(1)
        for variant, rows in last.groupby("variant"):
            node = summary.get(variant) or summary.get("variants", {}).get(variant)
            if isinstance(node, dict) and "seeds" in node.get("val_top1_err", {}):
                got = dict(zip(node["val_top1_err"]["seeds"], node["val_top1_err"]["values"]))
                assert got == pytest.approx(dict(zip(rows.seed.astype(int), rows.val_top1_err))), (path, variant)
                checked += 1
    assert checked >= 30


def test_shuffled_metrics_give_the_same_summary():
    """A record's metric rows in any order summarize the same (the old sort was not stable)."""
    for name, preset in (("lrn_cifar", "long"), ("pooling", "long"), ("depth_ablation", "long")):
        rec = records.load(name, preset, root=ROOT / "results")
        module, cfg = registry.get(name), record_config(rec)
        shuffled = rec.metrics.sample(frac=1.0, random_state=0).reset_index(drop=True)
        assert module.summarize_metrics(shuffled, cfg) == module.summarize_metrics(rec.metrics, cfg)


def test_no_chapter_words_a_verdict_its_own_way():
    words = re.compile(r"\b(verdict|interval|scorecard\.row|records\.load)\(")
    for page in (ROOT / "chapters").glob("*.md"):
        text = page.read_text()
        assert not words.search(text) and "except FileNotFoundError" not in text, page.name


def test_records_stay_json(tmp_path):
    _fake_pooling(tmp_path, [0.3], [0.3], seeds=((0,), (0,)))
    assert json.loads((tmp_path / "pooling" / "long" / "summary.json").read_text())["variants"]


def test_a_grown_record_costs_its_batches_not_the_gaps_between_them(tmp_path):
    """A record grown seed by seed over days: its CPU-hours are the sum of its batches'
    (threads x wall time), not its first start to its last end."""
    batch = lambda day, hours, threads: {"started_utc": f"2026-01-0{day}T00:00:00Z",   # noqa: E731
                                         "ended_utc": f"2026-01-0{day}T0{hours}:00:00Z", "threads": threads}
    records.write("pooling", "regime", config={"base": {}}, metrics=pd.DataFrame(_epoch_rows([0.01], 0.3)),
                  summary={}, provenance={"started_utc": "2026-01-01T00:00:00Z", "ended_utc": "2026-01-03T02:00:00Z",
                                          "hardware": {"torch_threads": 1},
                                          "batches": [batch(1, 1, 1), batch(3, 2, 2)]}, root=tmp_path)
    hours = scorecard.cpu_hours(tmp_path).set_index("record")
    assert hours.hours["pooling/regime"] == 3.0 and hours.cpu_hours["pooling/regime"] == 5.0


def test_a_seed_resumed_in_a_later_batch_costs_every_epoch_it_trained(tmp_path):
    """A seed stopped in one session and resumed in the next: its batch starts at the resumption,
    so the epochs' own training seconds (2 x 1.5 h here, against a 1-hour batch) count instead."""
    rows = pd.DataFrame(_epoch_rows([0.01], 0.3, seeds=(0,))).assign(seconds=5400.0)
    prov = {"started_utc": "2026-01-01T00:00:00Z", "ended_utc": "2026-01-01T01:00:00Z", "hardware": {"torch_threads": 1}}
    assert records.spent(prov, rows) == (3.0, 3.0) and records.spent(prov) == (1.0, 1.0)
    assert records.spent(prov, rows.assign(seconds=60.0)) == (1.0, 1.0)        # the batch, where it is longer
    records.write("pooling", "regime", config={"base": {}}, metrics=rows, summary={}, provenance=prov, root=tmp_path)
    assert scorecard.cpu_hours(tmp_path).set_index("record").cpu_hours["pooling/regime"] == 3.0


def test_a_record_made_before_its_claims_design_reads_as_not_run_not_a_traceback():
    """The ten-crop claim reads columns that records made before it lack: its row says
    "not run" with the command, and the chapter's per-seed text is a dash."""
    from types import SimpleNamespace

    from alexnet.claims import scorecard
    from alexnet.claims.evidence import Evidence
    c = scorecard.claim("ten_crop")
    old = SimpleNamespace(summary={"crop_flip_pca": {"val_top1_err": {"values": [0.3], "seeds": [0]}}},
                          preset="long", path=None)
    row = scorecard.row(c, rec=old)
    assert row["verdict"] == "not run" and row["scale"].endswith("alexnet run augmentation --preset regime makes one")
    assert Evidence("ten_crop", c.experiment, c, old, row).per_seed == "–"


def test_a_chapters_quick_record_is_described_by_its_own_scale(monkeypatch):
    """A chapter that shows a claim's quick record beside the scorecard's names that record's
    scale, not the row's (the row's verdict is still the scorecard's)."""
    monkeypatch.setenv("ALEXNET_RESULTS", str(Path(__file__).resolve().parents[1] / "results"))
    quick, read = evidence("init", preset="cpu"), evidence("init")
    assert quick.facts()["scale"] == scorecard.scale_text(quick.record) and quick.facts()["scale"].endswith(", cpu")
    assert read.facts()["scale"] == read.row["scale"] and quick.row == read.row


def test_the_scale_says_up_to_where_the_schedule_stopped_runs_at_different_epochs():
    """§5's schedule ends each run on its own: the row's scale gives the longest as "≤ N epochs";
    runs of one length give N."""
    import pandas as pd
    from alexnet import records as rec_mod
    m = pd.DataFrame(dict(variant=["a", "a", "b"], seed=[0, 0, 0], epoch=[1, 2, 1]))
    r = rec_mod.Record("x", "regime", None, {"base": {"train_limit": 8000, "epochs": 60, "dataset": "cifar10"}},
                       {}, m, {})
    assert scorecard.scale_text(r) == "cifar10, 8,000 images, ≤ 2 epochs, regime"
    r.metrics = m.assign(epoch=[1, 2, 2])
    assert scorecard.scale_text(r).endswith(", 2 epochs, regime")
