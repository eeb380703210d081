"""The chat page in a real headless Chromium, at 1366×900 and on a phone (390×844, 320 px).

Answers and evidence per turn, [n] links, the page view, a reload, export, feedback with a
reason, language, the phone layout and, with --allow-upload, adding a PDF. Uses Debian's
/usr/bin/chromium (never `playwright install`). Screenshots go to test-output/; with
CQVET_UPDATE_SCREENSHOT=1 they also refresh docs/ui-desktop.png and docs/ui-phone.png.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import pytest

from cqvet_qa.ui.texts import EXAMPLES, TEXTS
from school_reports import SCHOOL_REPORTS, write_corpus
from test_documents import PDF_PAGES, write_pdf

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's /usr/bin/chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402

ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parents[1]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
BOT = "#cq-chat [data-testid='bot']"
USER = "#cq-chat [data-testid='user']"
RATE = "2024年办学条件总体达标率是多少？"
STUDENTS = "2024年高职毕业生毕业去向落实率是多少？"


def squash(text: str) -> str:
    """Compare text as shown: no whitespace, no private-use glyphs."""
    return re.sub(r"[\s\ue000-\uf8ff]+", "", text)


def screenshot(page: Page, name: str) -> None:
    shots = [REPO / "test-output" / name]
    if os.environ.get("CQVET_UPDATE_SCREENSHOT") == "1":
        shots.append(REPO / "docs" / name)
    for path in shots:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))


@pytest.fixture(scope="module")
def server(app_server):
    return app_server


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str, viewport: dict = DESKTOP, **options) -> Page:
    page = browser.new_context(viewport=viewport, **options).new_page()
    page.goto(url)
    page.wait_for_selector("#cq-question textarea", timeout=30_000)
    return page


@pytest.fixture(scope="module")
def shared_page(browser, server):
    """One page for the module (loading the app costs seconds); tests start from a new conversation."""
    page = open_page(browser, server[0], accept_downloads=True)
    yield page
    page.context.close()


@pytest.fixture
def page(shared_page):
    if shared_page.locator(BOT).count():
        shared_page.click("#cq-new")
        shared_page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length === 0", timeout=10_000)
    if "Send" in shared_page.locator("#cq-send").inner_text():
        shared_page.get_by_label("中文").check()
        shared_page.wait_for_function("document.querySelector('#cq-send').innerText.includes('发送')", timeout=10_000)
    return shared_page


def wait_for_answer(page: Page, bots_before: int) -> str:
    """Wait until a new bot message has its final answer (not the 'searching' line); return its text."""
    page.wait_for_function(
        """([sel, n, busy]) => {
            const bots = document.querySelectorAll(sel);
            return bots.length > n && !busy.some(b => bots[bots.length - 1].innerText.includes(b));
        }""",
        arg=[BOT, bots_before, [TEXTS["zh"]["thinking"], TEXTS["en"]["thinking"]]],
        timeout=30_000,
    )
    return page.locator(BOT).last.inner_text()


def ask(page: Page, question: str) -> str:
    before = page.locator(BOT).count()
    page.fill("#cq-question textarea", question)
    page.press("#cq-question textarea", "Enter")
    return wait_for_answer(page, before)


def active_evidence(page: Page):
    return page.locator("#cq-evidence .ev-turn.active")


def last_feedback(path: Path, count: int) -> dict:
    deadline = time.time() + 10
    while time.time() < deadline and (not path.exists() or len(path.read_text(encoding="utf-8").splitlines()) < count):
        time.sleep(0.1)
    return json.loads(path.read_text(encoding="utf-8").splitlines()[-1])


def feedback_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def test_question_answered_with_evidence_and_feedback(page, assistant, server):
    expected = assistant.ask(RATE)
    shown = ask(page, RATE)
    assert squash(expected.text)[:20] in squash(shown)

    card = active_evidence(page).locator(".ev-cited").first
    card.wait_for()
    citation = expected.citations[0]
    assert f"第 {citation.page} 页" in card.inner_text()
    mark = card.locator("mark").first
    assert squash(mark.inner_text()) and squash(mark.inner_text()) in squash(citation.quote)
    assert "得分" not in page.locator("#cq-evidence").inner_text()  # no unexplained retrieval scores
    screenshot(page, "ui-desktop.png")

    before = feedback_lines(server[1])
    page.locator("#cq-chat button[aria-label='Like']").last.click()
    record = last_feedback(server[1], before + 1)
    assert record["question"] == RATE and record["liked"] is True
    assert record["answer"] == expected.text and record["citations"][0]["page"] == citation.page
    assert record["time"]


def test_dislike_takes_a_category_and_a_comment(page, server):
    ask(page, RATE)
    before = feedback_lines(server[1])
    page.locator("#cq-chat button[aria-label='Dislike']").last.click()
    assert last_feedback(server[1], before + 1)["liked"] is False
    page.locator("#cq-reason-send").wait_for()
    page.get_by_label(TEXTS["zh"]["reasons"]["wrong_source"]).check()
    page.fill("#cq-reason-comment textarea", "页码不对")
    page.click("#cq-reason-send")
    record = last_feedback(server[1], before + 2)
    assert record == {**record, "question": RATE, "liked": False, "category": "wrong_source", "comment": "页码不对"}
    page.locator("#cq-reason-send").wait_for(state="hidden")


def test_example_question_is_answered(page):
    example = EXAMPLES["zh"][0]
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


def test_empty_question_gets_its_own_message(page):
    first = ask(page, RATE)
    before = page.locator(BOT).count()
    page.click("#cq-send")
    assert wait_for_answer(page, before).strip() == TEXTS["zh"]["empty"]
    assert page.locator(BOT).nth(before - 1).inner_text() == first  # the previous answer is untouched


def test_an_earlier_answer_shows_its_own_evidence(page, assistant):
    ask(page, RATE)
    ask(page, STUDENTS)
    assert STUDENTS in active_evidence(page).locator(".ev-question").first.inner_text()

    page.locator(BOT).first.click(position={"x": 10, "y": 10})
    assert RATE in active_evidence(page).locator(".ev-question").first.inner_text()

    page.locator(BOT).last.locator("a.cq-cite").first.click()  # [1] of the latest answer
    card = page.locator("#cq-ev-1-1")
    assert card.is_visible() and "flash" in card.get_attribute("class")
    quote = assistant.ask(STUDENTS).citations[0].quote
    assert squash(card.locator("mark").inner_text()) in squash(quote)
    assert page.evaluate("document.querySelector('#cq-ev-1-1 mark').getBoundingClientRect().top") < DESKTOP["height"]


def test_a_citation_opens_its_page(page, assistant):
    ask(page, RATE)
    citation = assistant.ask(RATE).citations[0]
    active_evidence(page).locator(".ev-open").first.click()
    view = page.locator("#cq-evidence .ev-modal .ev-page-view")
    view.locator("mark").wait_for()
    assert f"第 {citation.page} 页" in view.locator("h3").inner_text()
    assert squash(view.locator("mark").inner_text()) == squash(citation.quote)
    assert len(squash(view.inner_text())) > len(squash(citation.quote)) * 2  # the whole page, not just the quote
    page.keyboard.press("Escape")
    page.locator("#cq-evidence .ev-modal").wait_for(state="hidden")


def test_the_conversation_survives_a_reload_until_a_new_one(page):
    ask(page, RATE)
    shown = ask(page, STUDENTS)
    page.reload()
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length === 2", timeout=30_000)
    assert page.locator(BOT).last.inner_text() == shown
    assert STUDENTS in active_evidence(page).inner_text()
    page.click("#cq-new")
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length === 0", timeout=10_000)
    page.reload()
    page.wait_for_selector("#cq-question textarea", timeout=30_000)
    page.wait_for_timeout(1_000)
    assert page.locator(BOT).count() == 0


def test_export_downloads_the_conversation_as_markdown(page, assistant):
    ask(page, RATE)
    with page.expect_download() as download:
        page.click("#cq-export")
    assert download.value.suggested_filename.endswith(".md")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    expected = assistant.ask(RATE)
    citation = expected.citations[0]
    assert RATE in text and expected.text in text
    assert citation.section in text and f"第 {citation.page} 页" in text and citation.quote in text


def test_language_switch_relabels_the_whole_page(page):
    ask(page, RATE)
    page.get_by_label("English").check()
    page.wait_for_function("document.querySelector('#cq-send').innerText.includes('Send')", timeout=10_000)
    page.wait_for_function(f"document.title === {json.dumps(TEXTS['en']['title'])}", timeout=10_000)
    body = page.locator("body").inner_text()
    assert TEXTS["en"]["title"] in body and TEXTS["en"]["new_chat"] in body and TEXTS["en"]["export"] in body
    examples = page.locator("#cq-examples").inner_text()
    assert EXAMPLES["en"][0] in examples and EXAMPLES["zh"][0] not in examples
    answer = page.locator(BOT).last.inner_text()
    assert TEXTS["en"]["source"].strip() in answer and TEXTS["zh"]["source"] not in answer  # the old answer too
    assert "p. " in active_evidence(page).inner_text() and "第" not in active_evidence(page).locator(".ev-meta").first.inner_text()


def test_one_document_shows_no_document_filter(page):
    assert not page.locator("#cq-doc").is_visible()


def fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_layout(browser, server):
    page = open_page(browser, server[0], PHONE)
    try:
        box = page.locator("#cq-question textarea").bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"]  # the input box is on the first screen
        title = page.locator("#cq-header h1").bounding_box()
        assert title["height"] < 40  # one line
        assert fits(page)
        ask(page, RATE)
        assert fits(page)
        question_box = page.locator("#cq-ask").bounding_box()
        evidence_top = page.locator("#cq-evidence-box").bounding_box()["y"]
        assert 0 < evidence_top - (question_box["y"] + question_box["height"]) < 120  # the evidence right below
        screenshot(page, "ui-phone.png")
        page.set_viewport_size({"width": 320, "height": 700})
        page.wait_for_timeout(300)
        assert fits(page)
    finally:
        page.context.close()


def test_document_filter_keeps_the_answer_to_the_chosen_document(browser, two_school_server):
    page = open_page(browser, two_school_server)
    try:
        page.click("#cq-doc input")
        page.get_by_role("option", name="乙校质量年报").click()
        shown = ask(page, "2024年全日制在校生有多少人？")
        assert "8600人" in shown and "12000" not in shown
        assert "《乙校质量年报》" in shown  # several documents: each source names its document
        assert "乙校质量年报" in active_evidence(page).locator(".ev-cited").first.inner_text()
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def upload_server(assistant, tmp_path_factory):
    """The app with --allow-upload over a small corpus of its own, sharing the session's model."""
    from cqvet_qa.assistant import Assistant
    from cqvet_qa.ui.server import start

    root = tmp_path_factory.mktemp("uploads")
    schools = Assistant.load(write_corpus(root / "corpus", SCHOOL_REPORTS), root / "index", embedder=assistant.embedder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo, url = start(schools, port=port, feedback_path=root / "feedback.jsonl", warm_up=False, allow_upload=True)
    try:
        yield url, schools, root
    finally:
        demo.close()


def test_an_uploaded_pdf_becomes_answerable_with_its_page(browser, upload_server):
    url, schools, root = upload_server
    pdf = root / "示范 学院<2024>.pdf"
    write_pdf(pdf, PDF_PAGES, title="重庆示范学院2024年度质量报告")
    page = open_page(browser, url)
    try:
        page.click("#cq-upload-box button")
        page.set_input_files("#cq-upload input[type=file]", str(pdf))
        page.wait_for_function(
            "document.querySelector('#cq-upload-status').innerText.includes('✅')", timeout=120_000
        )
        stored = [p.name for p in schools.corpus.iterdir() if p.suffix == ".pdf"]
        assert len(stored) == 1 and re.fullmatch(r"示范_学院_?2024\.pdf", stored[0]), stored  # the name made safe
        page.click("#cq-doc input")
        page.get_by_role("option", name="重庆示范学院2024年度质量报告").click()
        shown = ask(page, "横向技术服务到款额是多少？")
        assert "4127万元" in shown and "第 3 页" in shown
        assert "第 3 页" in active_evidence(page).locator(".ev-cited").first.inner_text()
    finally:
        page.context.close()
