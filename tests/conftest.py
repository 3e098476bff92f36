import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_results(tmp_path, monkeypatch):
    """Tests never write into the committed results/ or runs/."""
    monkeypatch.setenv("ALEXNET_RESULTS", str(tmp_path / "results"))
    yield


def real_data_root():
    """$ALEXNET_DATA when it holds the real datasets (CI lays them out), else None."""
    root = os.environ.get("ALEXNET_DATA")
    return Path(root) if root and Path(root).exists() else None
