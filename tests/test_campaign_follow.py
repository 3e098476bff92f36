"""The campaign grows the held-out check by each seed that lands (scripts/campaign.py `follow`),
while the seed's checkpoints are on the machine that trained it."""
import importlib.util
from pathlib import Path

import pytest

from alexnet import records

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def campaign(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("campaign_script", ROOT / "scripts" / "campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(module, "STATE", tmp_path / "state")
    monkeypatch.setattr(module.time, "sleep", lambda s: None)
    ran, committed = [], []
    monkeypatch.setattr(module, "commit", committed.append)
    module.ran, module.committed = ran, committed
    return module


def _log(tmp_path, last: str) -> Path:
    log = tmp_path / "job.log"
    log.write_text(f"training...\n{last}\n")
    return log


def test_a_landed_seed_grows_the_check_of_its_preset_and_commits_it(campaign, tmp_path, monkeypatch):
    job = dict(experiment="two_columns", preset="regime", seed=9)
    log = _log(tmp_path, "done")
    monkeypatch.setattr(campaign, "_run", lambda cmd, **kw: campaign.ran.append(cmd) or 0)
    campaign.follow(job, 1, {}, log)
    assert campaign.ran == [] and campaign.committed == []            # no check at this preset: nothing
    records.record_dir("heldout", "regime", tmp_path / "results").mkdir(parents=True)
    campaign.follow(job, 1, {}, log)
    assert campaign.ran[0][2:] == ["alexnet", "run", "heldout", "--preset", "regime", "--seeds", "9",
                                   "threads=1", "progress=false"]
    assert campaign.committed == [dict(experiment="heldout", preset="regime", seed=9)]


def test_it_waits_while_another_worker_grows_the_check_and_gives_up_on_a_failure(campaign, tmp_path, monkeypatch, capsys):
    records.record_dir("heldout", "regime", tmp_path / "results").mkdir(parents=True)
    job = dict(experiment="depth_ablation", preset="regime", seed=7)
    log = _log(tmp_path, "error: results/heldout/regime is in use by pid 12 (another worker)")
    codes = iter([1, 1, 0])             # in use twice (the other worker's growth), then it runs
    monkeypatch.setattr(campaign, "_run", lambda cmd, **kw: next(codes))
    campaign.follow(job, 1, {}, log)
    assert campaign.committed == [dict(experiment="heldout", preset="regime", seed=7)]
    log = _log(tmp_path, "error: a checkpoint is not the net the record describes")
    monkeypatch.setattr(campaign, "_run", lambda cmd, **kw: 1)
    campaign.follow(job, 1, {}, log)
    assert len(campaign.committed) == 1
    assert "the held-out check did not grow by depth_ablation-regime-seed7" in capsys.readouterr().out
