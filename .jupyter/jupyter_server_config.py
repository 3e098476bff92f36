"""`make lab`'s server (read through JUPYTER_CONFIG_PATH=.jupyter): jupytext's contents manager,
which opens a .md file as a notebook, limited to the book's notebooks in chapters/ and book/.
Any other .md (README.md, data/README.md, ...) is a text file: asked for as a notebook (the
notebook is the default viewer of .md, .jupyter/labconfig/), the server says how to open it
instead, so the file is never rewritten as a notebook."""
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class
from tornado.web import HTTPError

NOTEBOOK_FOLDERS = ("chapters", "book")


class BookContentsManager(build_async_jupytext_contents_manager_class(AsyncLargeFileManager)):
    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        path = path.strip("/")
        if type == "notebook" and path.endswith(".md") and path.split("/")[0] not in NOTEBOOK_FOLDERS:
            raise HTTPError(400, f"{path} is a text file, not a notebook: open it with right-click > "
                                 "Open With > Markdown Preview (only chapters/ and book/ open as notebooks)")
        return await super().get(path, content=content, type=type, format=format, require_hash=require_hash)


c.ServerApp.contents_manager_class = BookContentsManager  # noqa: F821 (`c` is the config jupyter passes)
