"""Sphinx extension: the download menu of each chapter offers the chapter as an executed
notebook (.ipynb, with the outputs the page shows).

myst-nb keeps every executed notebook in `_build/jupyter_execute/<page>.ipynb`; this copies
it beside the page's source in `_build/html/_sources/` and names it in the page context as
`ipynb_source`, the key sphinx-book-theme's download menu reads (the theme itself does so
only when launch buttons are configured)."""
from __future__ import annotations

import shutil
from pathlib import Path


def add_notebook(app, pagename, templatename, context, doctree):
    """Before the theme builds its download menu (priority 501), put the page's executed
    notebook where the menu links to."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if doctree is None or not executed.is_file() or context.get("ipynb_source"):
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("html-page-context", add_notebook, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
