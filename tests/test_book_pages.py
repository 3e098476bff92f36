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


MARK = re.compile(r'<span class="verdict" data-claim="([a-z0-9_]+)">([^<]*)</span>')


@pytest.mark.skipif(not PAGES, reason="no built book: run `make book` first")
def test_every_verdict_on_a_page_is_the_scorecards():
    """Issue 22: every verdict word in every built page equals the scorecard row for its
    claim, and each claim's own chapter shows it."""
    from alexnet.claims import scorecard
    import os
    os.environ["ALEXNET_RESULTS"] = str(ROOT / "results")          # the records the book was built from
    card = scorecard.table().set_index("id")
    shown = {}
    for page in PAGES:
        for claim, word in MARK.findall(page.read_text(encoding="utf-8")):
            assert word == card.verdict[claim], f"{page.name}: {claim} shows {word!r}, scorecard {card.verdict[claim]!r}"
            shown.setdefault(claim, set()).add(page.stem)
    missing = [c for c in card.index if card.chapter[c] not in shown.get(c, set())]
    assert not missing, f"claims whose chapter shows no verdict: {missing}"
    assert "scorecard" in set.union(*shown.values())


@pytest.mark.skipif(not PAGES, reason="no built book: run `make book` first")
def test_no_unmarked_verdict_phrase_on_a_page():
    """A verdict only through the claim's row: no page prints a category in its own words."""
    phrases = ("inside noise", "not reproduced", "inconclusive (")
    for page in PAGES:
        text = MARK.sub("", page.read_text(encoding="utf-8"))
        text = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)
        text = re.sub(r"<table.*?</table>", "", text, flags=re.S)       # the legend's table
        found = [p for p in phrases if p in re.sub(r"<[^>]+>", " ", text) and page.stem != "scorecard"]
        assert not found, f"{page.name} words a verdict outside a row: {found}"
