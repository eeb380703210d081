"""The chat UI and HTTP API (Gradio): cited answers with their evidence beside them.

In parts, each with one job:
  texts.py   the page's words in Chinese and English, and the example questions
  render.py  HTML and Markdown of answers and evidence, everything escaped
  api.py     input validation and the /ask and /search endpoints (HTTP callers)
  chat.py    the chat's turns, streamed answers and feedback (the page)
  layout.py  the page itself (`build_app`), its events and the shared concurrency limit
  server.py  serving it safely (`start`, `launch`)

Gradio is imported only in this package.
"""
