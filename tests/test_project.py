"""The project's own promises: environment.yml mirrors pyproject, the CLI answers."""
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import torch
import yaml
from packaging.specifiers import SpecifierSet

from conftest import ROOT

CONDA_NAMES = {"torch": "pytorch"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), 1)[0].lower()


def _requirements(specs) -> dict:
    """name (conda's spelling) -> the version range as a SpecifierSet (order-free)."""
    return {CONDA_NAMES.get(_name(s), _name(s)): SpecifierSet(re.sub(r"^[A-Za-z0-9_.\-]+", "", s.strip()).strip())
            for s in specs}


def pyproject_requirements() -> dict:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return _requirements([*project["dependencies"], *(s for extra in project["optional-dependencies"].values()
                                                      for s in extra)])


def environment_requirements(env: dict) -> dict:
    """Conda's packages and those under `pip:` (less the project itself, `-e .`)."""
    deps = env["dependencies"]
    pip = [s for d in deps if isinstance(d, dict) for s in d.get("pip", []) if not s.startswith("-e")]
    have = _requirements([d for d in deps if isinstance(d, str)] + pip)
    have.pop("python"), have.pop("pip")
    return have


def mismatches(have: dict, wanted: dict) -> list[str]:
    return sorted(f"{k}: environment.yml {have.get(k)}, pyproject {wanted.get(k)}"
                  for k in set(have) | set(wanted) if have.get(k) != wanted.get(k))


def test_environment_yml_mirrors_pyproject_names_and_versions():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert mismatches(environment_requirements(env), pyproject_requirements()) == []
    env["dependencies"] = [d.replace("numpy>=1.24", "numpy>=1.20") if isinstance(d, str) else d
                           for d in env["dependencies"]]      # the comparison sees a version drift
    assert mismatches(environment_requirements(env), pyproject_requirements()) == \
        ["numpy: environment.yml >=1.20, pyproject >=1.24"]


def test_environment_yml_is_conda_forge_only():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"][0] == "conda-forge" and "pytorch" not in env["channels"]
    assert set(env["channels"]) <= {"conda-forge", "nodefaults"}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "alexnet", *args], capture_output=True, text=True)


def test_cli_list_and_layers():
    out = run_cli("list")
    assert out.returncode == 0 and "alexnet_paper" in out.stdout
    out = run_cli("layers", "alexnet_paper")
    assert out.returncode == 0 and "60,965,224" in out.stdout


def test_cli_rejects_bad_keys_naming_the_nearest():
    out = run_cli("train", "--preset", "smoke", "--lrr", "0.1")
    assert out.returncode == 2 and out.stderr.startswith("alexnet: unknown config key 'lrr' — did you mean lr?")
    assert len(out.stderr.splitlines()) == 1


@pytest.mark.skipif(shutil.which("make") is None or torch.cuda.is_available(),
                    reason="needs make, and no GPU (with one the target runs the whole check)")
def test_make_gpu_check_on_a_cpu_is_one_line_and_exit_0():
    """`-o` takes the venv as made (its stamp would reinstall it otherwise); PY= this interpreter.
    --no-print-directory: under `make test` this make is a sub-make, which would print
    "Entering directory" lines around the one line a user sees."""
    got = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed-stamp", "gpu-check",
                          f"PY={sys.executable}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == [
        "gpu-check: no CUDA device here (torch.cuda.is_available() is False); nothing to check"]
