"""`alexnet eval` on a column-split run's checkpoint (issue 24): it joins the columns itself,
from one file (one process) or from the ranks' files beside it (torchrun), and evaluates the
network the run trained; with a rank's file missing it says so in one line, with the merge
command, instead of listing the model's key names."""
import json
import subprocess

import pandas as pd
import pytest
import torch

from alexnet.parallel import split_columns
from conftest import alexnet_cmd, cli_env, train_cli

SMOKE = ["--preset", "smoke", "threads=1", "dropout=0", "epochs=1", "val_limit=27"]


def _eval(ckpt):
    return subprocess.run([*alexnet_cmd(), "eval", "--checkpoint", str(ckpt)], capture_output=True, text=True,
                          env=cli_env(), timeout=120)


@pytest.fixture(scope="module")
def columns(tmp_path_factory):
    """A one-process column-split run (both columns in checkpoint.pt) and the val loss it logged."""
    out = tmp_path_factory.mktemp("columns")
    run = train_cli(out, SMOKE, parallel="columns")
    assert run.returncode == 0, run.stderr[-2000:]
    return out, pd.read_csv(out / "metrics.csv").val_loss.iloc[-1]


def test_eval_joins_both_columns_of_one_file(columns):
    out, val_loss = columns
    ev = _eval(out / "checkpoint.pt")
    assert ev.returncode == 0, ev.stderr[-2000:]
    assert json.loads(ev.stdout)["loss"] == pytest.approx(val_loss, rel=1e-4)    # the two-column net's


def test_eval_joins_the_ranks_files_or_says_to_merge(columns, tmp_path):
    out, val_loss = columns
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    for rank, share in enumerate(split_columns(state["model"])):   # as torchrun's ranks save them
        torch.save(dict(state, model=share), tmp_path / ("checkpoint.pt" if rank == 0 else f"checkpoint.rank{rank}.pt"))
    ev = _eval(tmp_path / "checkpoint.pt")
    assert ev.returncode == 0, ev.stderr[-2000:]
    assert json.loads(ev.stdout)["loss"] == pytest.approx(val_loss, rel=1e-4)
    assert not (tmp_path / "checkpoint.merged.pt").exists()          # joined in memory, nothing written
    rank1 = torch.load(tmp_path / "checkpoint.rank1.pt", weights_only=True)
    torch.save(dict(rank1, step=3), tmp_path / "checkpoint.rank1.pt")   # a stop between the ranks' saves
    ev = _eval(tmp_path / "checkpoint.pt")
    assert ev.returncode == 1 and "different steps" in ev.stderr and len(ev.stderr.strip().splitlines()) == 1
    (tmp_path / "checkpoint.rank1.pt").unlink()
    ev = _eval(tmp_path / "checkpoint.pt")
    lines = ev.stderr.strip().splitlines()
    assert ev.returncode == 1 and len(lines) == 1, ev.stderr[-2000:]
    assert "checkpoint.rank1.pt is not in" in lines[0] and "alexnet merge " in lines[0]
    assert "Missing key" not in ev.stderr and "Traceback" not in ev.stderr


def test_alexnet_merge_writes_the_one_device_checkpoint(columns, tmp_path):
    out, val_loss = columns
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    for rank, share in enumerate(split_columns(state["model"])):
        torch.save(dict(state, model=share), tmp_path / ("checkpoint.pt" if rank == 0 else f"checkpoint.rank{rank}.pt"))
    merge = subprocess.run([*alexnet_cmd(), "merge", str(tmp_path)], capture_output=True, text=True,
                           env=cli_env(), timeout=120)
    assert merge.returncode == 0 and str(tmp_path / "checkpoint.merged.pt") in merge.stdout, merge.stderr[-2000:]
    ev = _eval(tmp_path / "checkpoint.merged.pt")
    assert ev.returncode == 0 and json.loads(ev.stdout)["loss"] == pytest.approx(val_loss, rel=1e-4)
    alone = subprocess.run([*alexnet_cmd(), "merge", str(out)], capture_output=True, text=True,
                           env=cli_env(), timeout=120)                      # both columns in one file
    assert alone.returncode == 1 and len(alone.stderr.strip().splitlines()) == 1
    assert "holds no per-rank checkpoints" in alone.stderr


def test_visualize_draws_a_column_split_checkpoint(columns, tmp_path):
    """`alexnet visualize` reads a column split's checkpoint as eval does: the columns joined."""
    out, _ = columns
    run = subprocess.run([*alexnet_cmd(), "visualize", "filters", "--checkpoint", str(out / "checkpoint.pt"),
                          "--out", str(tmp_path)], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "filters.png").stat().st_size > 0
