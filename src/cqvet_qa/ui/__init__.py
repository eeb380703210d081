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
