"""A chapter runs as a notebook (jupytext -> nbclient, the kernel Jupyter uses) with its
RETRAIN switch on: it reruns its experiment at the smoke preset into a scratch folder and
reads that record instead of the committed one."""
import pytest

from conftest import ROOT

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")


@pytest.mark.slow
def test_lrn_chapter_retrains_at_smoke(monkeypatch):
    monkeypatch.setenv("ALEXNET_RETRAIN", "1")
    monkeypatch.setenv("ALEXNET_PRESET", "smoke")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = jupytext.read(ROOT / "chapters" / "lrn.md")
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "chapters")}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "Run record lrn/smoke" in text          # the provenance line of the fresh record
