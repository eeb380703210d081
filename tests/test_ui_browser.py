"""The chat page in a real headless Chromium: answers, evidence, examples, escaping, feedback, language.

Uses Debian's /usr/bin/chromium (never `playwright install`). A screenshot goes to
test-output/; with CQVET_UPDATE_SCREENSHOT=1 it also refreshes docs/screenshot.png.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from cqvet_qa.ui.texts import TEXTS

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's /usr/bin/chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402

ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parents[1]
BOT = "#cq-chat [data-testid='bot']"
USER = "#cq-chat [data-testid='user']"


def squash(text: str) -> str:
    """Compare text as shown: no whitespace, no private-use glyphs."""
    return re.sub(r"[\s\ue000-\uf8ff]+", "", text)


@pytest.fixture(scope="module")
def server(app_server):
    return app_server


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shared_page(browser, server):
    """One page for the module (loading the app costs seconds); tests start from a cleared chat."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server[0])
    page.wait_for_selector("#cq-question textarea", timeout=30_000)
    yield page
    context.close()


@pytest.fixture
def page(shared_page):
    if shared_page.locator(BOT).count():
        shared_page.click("#cq-clear")
        shared_page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length === 0", timeout=10_000)
    return shared_page


def wait_for_answer(page: Page, bots_before: int) -> str:
    """Wait until a new bot message has its final answer (not the 'searching' line); return its text."""
    page.wait_for_function(
        """([sel, n, busy]) => {
            const bots = document.querySelectorAll(sel);
            return bots.length > n && !bots[bots.length - 1].innerText.includes(busy);
        }""",
        arg=[BOT, bots_before, TEXTS["zh"]["thinking"]],
        timeout=30_000,
    )
    return page.locator(BOT).last.inner_text()


def ask(page: Page, question: str) -> str:
    before = page.locator(BOT).count()
    page.fill("#cq-question textarea", question)
    page.press("#cq-question textarea", "Enter")
    return wait_for_answer(page, before)


def test_question_answered_with_evidence_and_feedback(page, assistant, server):
    question = "2024年办学条件总体达标率是多少？"
    expected = assistant.ask(question)
    shown = ask(page, question)
    assert squash(expected.text)[:20] in squash(shown)

    card = page.locator("#cq-evidence .ev-cited").first
    card.wait_for()
    citation = expected.citations[0]
    assert f"第 {citation.page} 页" in card.inner_text()
    mark = card.locator("mark").first
    assert squash(mark.inner_text()) and squash(mark.inner_text()) in squash(citation.quote)
    assert card.locator("details").count() == 1

    shots = [REPO / "test-output" / "ui.png"]
    if os.environ.get("CQVET_UPDATE_SCREENSHOT") == "1":
        shots.append(REPO / "docs" / "screenshot.png")
    for path in shots:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)

    page.locator("#cq-chat button[aria-label='Like']").last.click()
    feedback = server[1]
    deadline = time.time() + 10
    while time.time() < deadline and not feedback.exists():
        time.sleep(0.1)
    record = json.loads(feedback.read_text(encoding="utf-8").splitlines()[-1])
    assert record["question"] == question and record["liked"] is True
    assert record["answer"] == expected.text and record["citations"][0]["page"] == citation.page
    assert record["time"]


def test_example_question_is_answered(page):
    example = "有多少个鲁班工坊？"
    before = page.locator(BOT).count()
    page.locator("#cq-examples button.gallery-item", has_text=example).click()
    shown = wait_for_answer(page, before)
    assert page.locator(USER).last.inner_text().strip() == example
    assert shown.strip() and TEXTS["zh"]["error"] not in shown


def test_markup_in_a_question_is_shown_as_text(page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    question = "<script>alert(1)</script><img src=x onerror=alert(2)>鲁班工坊"
    ask(page, question)
    assert "<script>alert(1)</script>" in page.locator(USER).last.inner_text()
    assert page.evaluate("document.querySelectorAll('#cq-chat script, #cq-evidence script, #cq-chat img').length") == 0
    page.wait_for_timeout(300)
    assert dialogs == []


def test_empty_question_gets_a_friendly_message(page):
    before = page.locator(BOT).count()
    page.click("#cq-send")
    assert TEXTS["zh"]["empty"] in wait_for_answer(page, before)


def test_language_switch_relabels_the_page(page):
    page.get_by_label("English").check()
    page.wait_for_function("document.querySelector('#cq-send').innerText.includes('Send')", timeout=10_000)
    assert TEXTS["en"]["title"] in page.locator("body").inner_text()
    assert TEXTS["en"]["evidence_empty"] in page.locator("#cq-evidence").inner_text()


def test_one_document_shows_no_document_filter(page):
    assert not page.locator("#cq-doc").is_visible()


def test_document_filter_keeps_the_answer_to_the_chosen_document(browser, two_school_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(two_school_server)
        page.wait_for_selector("#cq-question textarea", timeout=30_000)
        page.click("#cq-doc input")
        page.get_by_role("option", name="乙校质量年报").click()
        shown = ask(page, "2024年全日制在校生有多少人？")
        assert "8600人" in shown and "12000" not in shown
        assert "《乙校质量年报》" in shown  # several documents: each source names its document
        assert "乙校质量年报" in page.locator("#cq-evidence .ev-cited").first.inner_text()
    finally:
        context.close()
