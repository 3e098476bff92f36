"""The scorecard: every claim gets a verdict from THE rule, read from records, never typed."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from alexnet import records, stats
from alexnet.experiments import claims, scorecard

ROOT = Path(__file__).resolve().parents[1]


def test_every_claim_has_a_verdict_of_the_rule_and_a_chapter():
    card = scorecard.table()
    assert len(card) == len(claims.CLAIMS) >= 22
    assert set(card.verdict) <= set(stats.VERDICTS)
    pages = {p.stem for p in (ROOT / "chapters").glob("*.md")}
    assert set(card.chapter) <= pages


def test_counts_and_equivalences_hold_live():
    for c in claims.CLAIMS:
        if c.holds is not None:
            ok, text = c.holds()
            assert ok, (c.claim, text)


def _fake_pooling(root: Path, plain, overlap):
    summary = {"variants": {"plain": {"val_top1_err": {"values": plain}, "gap": {"values": plain}},
                            "overlap": {"val_top1_err": {"values": overlap}, "gap": {"values": overlap}}}}
    records.write("pooling", "long", config={"base": {"dataset": "cifar10", "train_limit": 8000, "epochs": 15}},
                  metrics=pd.DataFrame({"epoch": [1]}), summary=summary,
                  provenance={"started_utc": "2026-01-01T00:00:00Z", "ended_utc": "2026-01-01T01:00:00Z",
                              "hardware": {"torch_threads": 1}}, root=root)


def test_a_record_turns_into_the_rules_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_RESULTS", str(tmp_path))
    _fake_pooling(tmp_path, [0.304, 0.305, 0.306], [0.300, 0.301, 0.302])   # 0.4 points better: the paper's size
    row = scorecard.row(next(c for c in claims.CLAIMS if c.claim.startswith("Overlapping pooling lowers")))
    assert row["verdict"] == "reproduced" and "long" in row["scale"]
    assert row["ours"].startswith("0.40 ± 0.00 points (n=3)")
    hours = scorecard.cpu_hours(tmp_path)
    assert hours.cpu_hours.sum() == 1.0


def test_no_chapter_words_a_verdict_its_own_way():
    for page in (ROOT / "chapters").glob("*.md"):
        text = page.read_text()
        assert "ttest" not in text and not re.search(r"^def verdict", text, re.M), page.name


def test_records_stay_json(tmp_path):
    _fake_pooling(tmp_path, [0.3], [0.3])
    assert json.loads((tmp_path / "pooling" / "long" / "summary.json").read_text())["variants"]
