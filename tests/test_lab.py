"""`make lab` (issue 26): JupyterLab starts as root, serves a chapter as a notebook through the
contents API, keeps its outputs in an ignored paired .ipynb, leaves the README a text file,
and loads jupyterlab-myst. The server runs on a free port with a known token, on copies of
the repository's jupytext settings and one chapter, so saving touches no tracked file."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow     # starts a JupyterLab server: 12-16 s on a busy 2-core machine
pytest.importorskip("jupyterlab")
pytest.importorskip("jupytext")
JUPYTER = Path(sys.executable).with_name("jupyter")
TOKEN = "alexnet-test"


def lab_command(port: int, root: Path) -> list[str]:
    """The Makefile's `lab` recipe, headless: --allow-root only when uid is 0."""
    cmd = [str(JUPYTER), "lab", f"--ServerApp.root_dir={root}", "--no-browser", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}"]
    return cmd + (["--allow-root"] if os.getuid() == 0 else [])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, path: str, method: str = "GET", body: dict | None = None):
    """(status, decoded JSON or text) of one request to the server."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                 headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if "json" in r.headers.get("Content-Type", "") else text)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab on a copy: README.md, chapters/jupytext.toml and one chapter,
    with the repository's .jupyter/ settings. Yields (base URL, root)."""
    root = tmp_path_factory.mktemp("lab")
    (root / "chapters").mkdir()
    for name in ("README.md", "chapters/jupytext.toml", "chapters/relu.md"):
        shutil.copy(ROOT / name, root / name)
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}
    proc = subprocess.Popen(lab_command(port, root), env=env, cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited {proc.returncode}: {proc.stdout.read()[-2000:]}")
            try:
                if call(base, "/api/status")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("jupyter lab did not answer within 30 s")
        yield base, root
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_chapter_opens_as_a_notebook(lab):
    base, _ = lab
    status, model = call(base, "/api/contents/chapters/relu.md?type=notebook&content=1")
    assert status == 200, model
    assert model["type"] == "notebook"
    nb = model["content"]
    kinds = {c["cell_type"] for c in nb["cells"]}
    assert kinds == {"markdown", "code"}, kinds
    assert any("{cite" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert nb["metadata"]["kernelspec"]["language"] == "python"


def test_the_readme_stays_a_text_file(lab):
    base, root = lab
    before = (root / "README.md").read_text()
    status, answer = call(base, "/api/contents/README.md?type=notebook&content=1")
    assert status == 400 and "Open With > Markdown Preview" in answer   # never served as a notebook
    status, model = call(base, "/api/contents/README.md?type=file&content=1")
    assert status == 200 and model["content"] == before


def test_outputs_survive_closing_and_reopening(lab):
    """Saving a chapter writes its outputs to chapters/_notebooks/ (not beside the .md, where
    the book would find two sources), and reopening reads them back."""
    base, root = lab
    _, model = call(base, "/api/contents/chapters/relu.md?type=notebook&content=1")
    nb = model["content"]
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "kept\n"}]
    code["execution_count"] = 1
    status, saved = call(base, "/api/contents/chapters/relu.md", "PUT",
                         {"type": "notebook", "format": "json", "content": nb})
    assert status == 200, saved
    assert (root / "chapters" / "_notebooks" / "relu.ipynb").is_file()
    assert sorted(p.name for p in (root / "chapters").iterdir()) == ["_notebooks", "jupytext.toml", "relu.md"]
    _, again = call(base, "/api/contents/chapters/relu.md?type=notebook&content=1")
    outputs = [o for c in again["content"]["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert outputs and outputs[0]["text"] == "kept\n"


def test_the_paired_notebooks_are_ignored_and_outside_the_book():
    assert "_notebooks/" in (ROOT / ".gitignore").read_text().split()
    assert "**/_notebooks" in (ROOT / "_config.yml").read_text()


def test_jupyterlab_myst_is_loaded(lab):
    base, _ = lab
    status, page = call(base, "/lab")
    assert status == 200
    assert '"jupyterlab-myst"' in page.replace("&#34;", '"') or "jupyterlab-myst" in page
