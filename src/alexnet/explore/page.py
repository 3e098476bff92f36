"""What every explorer shares: one object that a chapter displays in one line.

In the rendered book (no kernel, no network) it is HTML: inputs and a Plotly figure, drawn by
`_static/plotly-cartesian.min.js` (loaded once by the book, `_config.yml`) and a few lines of
the explorer's own JavaScript (`js/`), which recompute small formulas or switch among states
the package computed at build time. In JupyterLab with a live kernel the same object is also
an ipywidgets view whose callbacks compute with the package; JupyterLab shows that, the book
(myst-nb, `nb_mime_priority_overrides`) shows the HTML.

Live means: a kernel started by a Jupyter server (`JPY_SESSION_NAME` set), or
ALEXNET_EXPLORE=live; ALEXNET_EXPLORE=static forces the HTML alone.
"""
from __future__ import annotations

import hashlib
import html
import json
import math
import os
from importlib import resources

import numpy as np

PLOTLY_MIME = "application/vnd.plotly.v1+json"     # JupyterLab draws it (jupyterlab-plotly)
FONT = dict(family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif", size=12)
CONFIG = {"displaylogo": False, "responsive": True}


def script(name: str) -> str:
    """The JavaScript of one explorer (`js/<name>.js`), shipped with the package."""
    return resources.files(__package__).joinpath("js", f"{name}.js").read_text()


def clean(obj):
    """`obj` with numpy/torch numbers as Python ones and NaN as None: valid JSON."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if hasattr(obj, "tolist"):
        return clean(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def to_json(obj) -> str:
    """Compact JSON, safe inside a <script> element."""
    text = json.dumps(clean(obj), separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/")


def layout(**kw) -> dict:
    """The book's Plotly layout: white, the book's font, tight margins."""
    base = dict(template=None, font=FONT, paper_bgcolor="white", plot_bgcolor="white",
                margin=dict(l=55, r=15, t=40, b=45), hovermode="closest",
                legend=dict(orientation="h", y=-0.2))
    return {**base, **kw}


def axis(title: str, **kw) -> dict:
    return dict(title=dict(text=title), gridcolor="#dddddd", zeroline=False, **kw)


def uint16(values) -> dict:
    """Non-negative array -> {"b64": little-endian uint16, "max", "shape"} (a quarter of JSON's size);
    the page decodes it with AX.uint16."""
    import base64
    a = np.asarray(values, dtype=np.float64)
    top = float(a.max()) or 1.0
    q = np.round(np.clip(a, 0, None) / top * 65535).astype("<u2")
    return {"b64": base64.b64encode(q.tobytes()).decode(), "max": top, "shape": list(a.shape)}


def live() -> bool:
    """Is this a kernel a reader drives (JupyterLab), with ipywidgets to drive it?"""
    mode = os.environ.get("ALEXNET_EXPLORE", "")
    if mode == "static" or not (mode == "live" or os.environ.get("JPY_SESSION_NAME")):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None and hasattr(get_ipython(), "kernel")


class Explorer:
    """A display object: `kind` names the JavaScript (`js/<kind>.js`) that draws `data` in the
    page; `widget`, a function returning the ipywidgets view for a live kernel (or None)."""

    def __init__(self, kind: str, data: dict, title: str, widget=None):
        self.kind, self.data, self.title, self.widget = kind, data, title, widget

    def html(self) -> str:
        payload = to_json(self.data)
        uid = f"ax-{self.kind}-{hashlib.sha1(payload.encode()).hexdigest()[:10]}"
        return (f'<div class="ax-explorer" id="{uid}" data-kind="{self.kind}">'
                f'<p class="ax-title"><strong>{html.escape(self.title)}</strong></p>'
                f'<div class="ax-controls"></div><div class="ax-plot"></div>'
                f'<p class="ax-note"></p></div>\n'
                f'<script>\n{script("common")}\n{script(self.kind)}\n'
                f'AX.start("{self.kind}", "{uid}", {payload});\n</script>')

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": self.title, "text/html": self.html()}
        if self.widget is not None and live():
            bundle.update(self.widget()._repr_mimebundle_())
        return bundle


class Note:
    """One line in place of an explorer (e.g. data not found): text, no traceback."""

    def __init__(self, text: str):
        self.text = text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.text, "text/html": f'<p class="ax-note">{html.escape(self.text)}</p>'}


def show_figure(output, fig: dict) -> None:
    """Draw a Plotly figure (a dict) into an ipywidgets Output, for the live views."""
    from IPython.display import display
    output.clear_output(wait=True)
    with output:
        display({PLOTLY_MIME: clean(fig), "text/plain": fig.get("layout", {}).get("title", {}).get("text", "")},
                raw=True)
