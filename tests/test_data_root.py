"""The default data root is the repository's data/ from any working directory, as the book's
how-to-run promises (issue 24); --data and $ALEXNET_DATA come first."""
import subprocess
import sys
from pathlib import Path

import pytest

from alexnet.config import resolve
from alexnet.data import DataError, data_root, load_data
from conftest import ROOT, cli_env


def test_without_data_or_alexnet_data_the_root_is_the_repository_s(tmp_path, monkeypatch):
    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.chdir(tmp_path)                              # not the checkout
    assert data_root() == ROOT / "data" and data_root(resolve("smoke", {})) == ROOT / "data"
    monkeypatch.setenv("ALEXNET_DATA", str(tmp_path / "mine"))
    assert data_root() == tmp_path / "mine"
    assert data_root(resolve("smoke", {"data": str(tmp_path / "given")})) == tmp_path / "given"


def test_a_missing_dataset_is_named_under_the_repository_s_data(tmp_path, monkeypatch):
    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    if (ROOT / "data" / "imagenet" / "train").is_dir():
        pytest.skip("this checkout holds ILSVRC-2012 under data/")
    with pytest.raises(DataError, match=str(ROOT / "data" / "imagenet")):
        load_data(resolve("smoke", {"dataset": "imagenet"}))


def test_a_process_started_elsewhere_looks_in_the_repository(tmp_path):
    env = {k: v for k, v in cli_env().items() if k != "ALEXNET_DATA"}
    out = subprocess.run([sys.executable, "-c", "from alexnet.data import data_root; print(data_root())"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == ROOT / "data"
