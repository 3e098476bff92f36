"""The rendered book (when `make book` has built it): no page shows stderr, a traceback, or
a path of the machine that built it; math is served from the build, not a CDN."""
import re

import pytest

from conftest import ROOT

HTML = ROOT / "_build" / "html"
PAGES = sorted((HTML / "chapters").glob("*.html")) + sorted((HTML / "book").glob("*.html"))
# Words that mean a page shows something it should not (in the text a reader sees).
FORBIDDEN = ("stderr", "Traceback", "/work/", "/root/", "/home/")


def visible(page) -> str:
    """The page without scripts, styles and tags: what a reader sees."""
    html = page.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.skipif(not PAGES, reason="no built book: run `make book` first")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_is_clean(page):
    html = page.read_text(encoding="utf-8")
    assert 'class="output stderr"' not in html
    text = visible(page)
    found = [w for w in FORBIDDEN if w in text]
    assert not found, f"{page.name} shows {found}"


@pytest.mark.skipif(not PAGES, reason="no built book: run `make book` first")
def test_math_is_served_offline():
    html = (HTML / "chapters" / "lrn.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net" not in html and "mathjax" in html.lower()
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists()
