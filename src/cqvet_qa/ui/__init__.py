"""The chat UI and HTTP API (Gradio): cited answers with each turn's evidence beside them.

In parts, each with one job:
  texts.py     the page's words in Chinese and English, and the example questions of each
  render.py    bubbles, evidence panel and Markdown export, drawn from the turns, everything escaped
  api.py       input validation and the /ask and /search endpoints (HTTP callers)
  chat.py      the turns (kept in the browser), streamed answers and feedback with a reason
  pageview.py  the whole cited page of a corpus document, sentence marked
  uploads.py   the owner's "add a document" (only with --allow-upload)
  layout.py    the page itself (`build_app`), its events and the shared concurrency limit
  page.css, page.js  phone layout; showing a turn's evidence, [n] links, the page view
  server.py    serving it safely (`start`, `launch`)

Gradio is imported only in this package.
"""

import sys


def _import_gradio_without_its_mcp_server() -> None:
    """Import gradio, 0.3 s sooner: at import time its MCP server class imports the `mcp` SDK inside a
    `try` (gradio 6.31, gradio/mcp.py), though a server started without mcp_server=True never uses
    it. The SDK is hidden while gradio loads, then importable again (the `mcp` command uses it)."""
    if "gradio" in sys.modules or "mcp" in sys.modules:
        return
    sys.modules["mcp"] = None  # type: ignore[assignment]  # "import mcp" raises ImportError meanwhile
    try:
        import gradio  # noqa: F401
    except ImportError:  # a gradio that needs the SDK outright: import it as it is
        for name in [m for m in sys.modules if m == "gradio" or m.startswith("gradio.")]:
            del sys.modules[name]
    finally:
        del sys.modules["mcp"]
    import gradio  # noqa: F401, F811


_import_gradio_without_its_mcp_server()

