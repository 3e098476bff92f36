import os
import signal
from pathlib import Path

import pytest

# A test session started in the background (`nohup pytest &`) inherits SIGINT ignored, and so
# would every process it starts; the Ctrl-C tests need what a terminal gives: Python's default.
signal.signal(signal.SIGINT, signal.default_int_handler)

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


def cli_env() -> dict:
    """The environment for `alexnet` subprocesses: one thread each, no warnings on stderr."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def alexnet_cmd(nproc: int = 1) -> list[str]:
    """`python -m alexnet`, under torchrun with `nproc` processes when nproc > 1."""
    import sys
    if nproc == 1:
        return [sys.executable, "-m", "alexnet"]
    from alexnet.parallel.launch import free_port
    return [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
            f"--master_port={free_port()}", "-m", "alexnet"]


def train_cli(out, smoke: list[str], *extra, nproc: int = 1, parallel: str = "none"):
    """Run `alexnet train` with the args `smoke` and `extra` into `out`; the finished process."""
    import subprocess
    return subprocess.run([*alexnet_cmd(nproc), "train", *smoke, f"parallel={parallel}", f"out={out}", *extra],
                          capture_output=True, text=True, env=cli_env(), timeout=120)
