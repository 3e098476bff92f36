"""The project's own promises: environment.yml mirrors pyproject, the CLI answers."""
import re
import subprocess
import sys
import tomllib

import yaml

from conftest import ROOT

CONDA_NAMES = {"torch": "pytorch"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), 1)[0].lower()


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    wanted = {CONDA_NAMES.get(_name(s), _name(s)): re.sub(r"^[A-Za-z0-9_.\-]+", "", s) for s in specs}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    have = {_name(d): re.sub(r"^[A-Za-z0-9_.\-]+", "", d) for d in env if isinstance(d, str)}
    have.pop("python"), have.pop("pip")
    assert have == wanted


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "alexnet", *args], capture_output=True, text=True)


def test_cli_list_and_layers():
    out = run_cli("list")
    assert out.returncode == 0 and "alexnet_paper" in out.stdout
    out = run_cli("layers", "alexnet_paper")
    assert out.returncode == 0 and "60,965,224" in out.stdout


def test_cli_rejects_bad_keys_with_the_valid_ones():
    out = run_cli("train", "--preset", "smoke", "lrr=0.1")
    assert out.returncode == 2 and "valid keys" in out.stderr and "weight_decay" in out.stderr
