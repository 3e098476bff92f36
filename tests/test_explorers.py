"""The explorers (alexnet.explore, issue 26): in headless Chromium with the network off, each
one draws, every control changes what is drawn, and what the page computes agrees with the
package; the live (ipywidgets) views compute with the package; no machine path in any page.

The Chromium checks load a page the test writes (the explorers' HTML and the book's
_static/plotly-cartesian.min.js: seconds, no book build) and, when `make book` has built them,
the book's own pages. They skip where Chromium is not installed."""
from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from alexnet import explore
from alexnet.explore import page

ROOT = Path(__file__).resolve().parents[1]
PLOTLY = ROOT / "_static" / "plotly-cartesian.min.js"
BUILT = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
lrn_mod, sat_mod = (importlib.import_module(f"alexnet.explore.{m}") for m in ("lrn", "saturation"))

# Appended to a page: moves every control of every explorer in turn and notes whether the
# drawing changed; then sets the controls of `PLAN` and reports the plot's arrays.
PROBE = """<script>
(function () {
  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  async function run() {
    await wait(1500);
    var out = [], plan = %s;
    for (const root of document.querySelectorAll(".ax-explorer")) {
      var plot = root.querySelector(".ax-plot"), kind = root.getAttribute("data-kind");
      var res = {kind: kind, drawn: !!(plot.data && plot.data.length), controls: {}};
      for (const c of root.querySelectorAll(".ax-controls [data-name]")) {
        var before = plot.innerHTML, name = c.getAttribute("data-name");
        if (c.tagName === "BUTTON") { c.click(); name += ": " + c.textContent; }
        else if (c.tagName === "SELECT") { c.selectedIndex = (c.selectedIndex + 1) %% c.options.length; c.dispatchEvent(new Event("input")); }
        else { var lo = +c.min, hi = +c.max; c.value = +c.value - lo > (hi - lo) / 2 ? lo + (hi - lo) / 3 : hi - (hi - lo) / 3; c.dispatchEvent(new Event("input")); }
        await wait(500);
        res.controls[name] = plot.innerHTML !== before;
      }
      if (plan[kind]) {
        for (const [name, v] of Object.entries(plan[kind])) {
          var c = root.querySelector('.ax-controls [data-name="' + name + '"]');
          if (!c) continue;                  // e.g. the activity scale, shown only with a map
          c.value = v; c.dispatchEvent(new Event("input"));
        }
        await wait(500);
        res.final = plot.data.map(function (t) { return {y: t.y ? Array.from(t.y) : null, z: t.z || null}; });
      }
      out.push(res);
    }
    var pre = document.createElement("pre"); pre.id = "ax-probe"; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener("load", run);
})();
</script>"""
PLAN = {"lrn": dict(k=1.0, n=3, log_alpha=-2.0, beta=0.5, log_scale=1.0),
        "saturation": dict(activation="relu", log_sigma=0.5)}


def probe(html_page: Path) -> list[dict]:
    """What PROBE reports for `html_page`, loaded in headless Chromium with every host name
    unresolvable (no network); the probed copy lies beside the page, so its relative links hold."""
    copy = html_page.with_name(f".probe-{html_page.name}")
    copy.write_text(html_page.read_text().replace("</body>", PROBE % json.dumps(PLAN) + "</body>"))
    try:
        dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                              "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=30000",
                              copy.as_uri()], capture_output=True, text=True, timeout=120).stdout
    finally:
        copy.unlink()
    found = re.search(r'<pre id="ax-probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not finish on {html_page.name}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">"))


def responds(results: list[dict], kinds: set[str]) -> dict:
    """Every explorer of `kinds` drawn and changed by every control; the results by kind."""
    by_kind = {r["kind"]: r for r in results}
    assert kinds <= set(by_kind), f"explorers drawn: {sorted(by_kind)}, expected {sorted(kinds)}"
    for r in results:
        assert r["drawn"], f"{r['kind']}: nothing drawn"
        still = [name for name, changed in r["controls"].items() if not changed]
        assert r["controls"] and not still, f"{r['kind']}: the drawing did not change with {still}"
    return by_kind


@pytest.fixture(scope="module")
def shown():
    """The explorers a chapter shows, as displayed (the data root as the tests find it)."""
    return {"lrn": explore.lrn(), "saturation": explore.saturation(), "augmentation": explore.augmentation(),
            "curves": explore.curves()}


@pytest.fixture(scope="module")
def standalone(shown, tmp_path_factory):
    """One page: the book's Plotly (a file link, as _static is) and every explorer's HTML."""
    body = "\n".join(e._repr_mimebundle_()["text/html"] for e in shown.values())
    path = tmp_path_factory.mktemp("explorers") / "page.html"
    path.write_text(f'<!doctype html><html><head><meta charset="utf-8"><script src="{PLOTLY.as_uri()}"></script>'
                    f"</head><body>{body}</body></html>")
    return path


@pytest.fixture(scope="module")
def probed(standalone):
    return probe(standalone)


@needs_chromium
def test_each_explorer_draws_and_responds_offline(probed, shown):
    kinds = {k for k, e in shown.items() if isinstance(e, page.Explorer)}
    responds(probed, kinds)


@needs_chromium
def test_the_page_computes_what_the_package_computes(probed, shown):
    """The page's JavaScript and the package agree: LRN's curves and map, the saturation shares."""
    final = {r["kind"]: r["final"] for r in probed if "final" in r}
    window = shown["lrn"].data["window"]
    lrn = lrn_mod.figure(PLAN["lrn"], _decoded(window))["data"]
    for ours, theirs in zip(lrn[:2], final["lrn"][:2]):                         # yours: silent, as active
        np.testing.assert_allclose(theirs["y"], ours["y"], rtol=1e-3, atol=1e-4)
    if window is not None:                                                       # LRN(a) of the conv1 map
        np.testing.assert_allclose(final["lrn"][5]["z"], lrn[5]["z"], rtol=2e-3, atol=2e-3)
    sat = sat_mod.figure(PLAN["saturation"])["data"]
    for i in (2, 3, 4):                                                          # relu', and both histograms
        np.testing.assert_allclose(final["saturation"][i]["y"], sat[i]["y"], atol=1e-3)


def _decoded(window):
    """The map window as the page decodes it (uint16), so both sides start from the same numbers."""
    if window is None:
        return None
    import base64
    q = np.frombuffer(base64.b64decode(window["b64"]), "<u2").astype(np.float64)
    return (q * window["max"] / 65535).reshape(window["shape"])


BOOK_PAGES = {"book/records.html": {"curves"}, "chapters/lrn.html": {"lrn"}, "chapters/relu.html": {"saturation"},
              "chapters/augmentation.html": {"augmentation"}}


@needs_chromium
@pytest.mark.parametrize("name", sorted(BOOK_PAGES))
def test_the_built_book_pages_respond_offline(name):
    path = BUILT / name
    if not path.is_file() or "ax-explorer" not in path.read_text():
        pytest.skip(f"{name} is not built with an explorer (make book)")
    html = path.read_text()
    assert len(re.findall(r'<script[^>]+src="[^"]*plotly-cartesian\.min\.js', html)) == 1, \
        "the library is loaded once, from _static"
    assert "plotly.js (cartesian" not in html, "the page embeds no copy of the library"
    assert not re.search(r"<script[^>]+src=\"https?://[^\"]*plotly", html), "no Plotly from a CDN"
    responds(probe(path), BOOK_PAGES[name])


def test_no_machine_path_in_the_html(shown):
    home, here = str(Path.home()), str(ROOT)
    for kind, e in shown.items():
        text = e._repr_mimebundle_()["text/html"]
        for path in {home, here, str(ROOT.parent), ".cache"} - {"/"}:
            assert path not in text, f"{kind}'s page names a path of this machine ({path})"


def test_static_html_only_outside_a_live_kernel(shown, monkeypatch):
    monkeypatch.setenv("ALEXNET_EXPLORE", "live")                # asked for, but no kernel here
    bundle = shown["saturation"]._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert 'AX.start("saturation"' in bundle["text/html"]


def test_the_live_views_compute_with_the_package(monkeypatch):
    """Moving a live slider redraws the figure the package computes for the new state."""
    pytest.importorskip("ipywidgets")
    drawn = []
    monkeypatch.setattr(page, "show_figure", lambda out, fig: drawn.append(fig))
    view = sat_mod.widget()
    toggle, slider = view.children[0].children
    slider.value = 0.5
    toggle.value = "relu"
    assert len(drawn) == 3
    np.testing.assert_allclose(drawn[-1]["data"][2]["y"], sat_mod.figure(PLAN["saturation"])["data"][2]["y"])
    view = lrn_mod.widget(None, "no map")
    view.children[0].children[0].value = 1.0                     # k
    assert drawn[-1]["data"][0]["y"][0] == pytest.approx(0.1 / (1.0 + 1e-4 * 0.01) ** 0.75, rel=1e-4)


def test_without_the_data_one_line_and_no_map(monkeypatch, tmp_path):
    monkeypatch.setenv("ALEXNET_DATA", str(tmp_path))
    note = explore.augmentation()._repr_mimebundle_()
    assert note["text/plain"].startswith("Data not found") and "\n" not in note["text/plain"]
    e = explore.lrn()
    assert e.data["window"] is None and e.data["caption"].startswith("Data not found")
    assert len(e.data["figure"]["data"]) == 4                    # the curves, no map


def test_the_book_ships_the_plotly_the_package_draws_for():
    """_static's Plotly is the plotly.js version of the installed plotly package (one schema)."""
    plotly = pytest.importorskip("plotly.offline")
    head = PLOTLY.read_text()[:200]
    assert f"v{plotly.get_plotlyjs_version()}" in head, head


def test_curves_mark_the_gate_as_the_scorecard_words_it(shown):
    from alexnet.claims import scorecard
    entries = {e["name"]: e for e in shown["curves"].data["records"]}
    for c in scorecard.claims():
        if c.experiment and c.regime.gated:
            rec = scorecard.record(c.experiment)
            if rec is not None and f"{rec.experiment}/{rec.preset}" in entries:
                assert scorecard.gate(c, rec)[1] in entries[f"{rec.experiment}/{rec.preset}"]["note"]


@pytest.mark.skipif(not os.environ.get("ALEXNET_DATA") and not (ROOT / "data" / "imagenet-sample").is_dir(),
                    reason="the ImageNet sample is not laid out")
def test_with_the_data_the_map_is_a_real_conv1_map(shown):
    assert shown["lrn"].data["window"] is not None
    assert "imagenet_sample/cpu" in shown["lrn"].data["caption"]
    assert isinstance(shown["augmentation"], page.Explorer)
