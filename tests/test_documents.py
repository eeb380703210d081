"""Bring your own documents: PDF and Markdown readers, skipped files, incremental builds, --doc.

Every test works on real files made here: a three-page Chinese PDF written with
reportlab's built-in CJK font (STSong-Light, a CID font pypdf reads back as
Unicode), a Markdown file, and files that cannot be read. One build of that
corpus is made per module; each test gets its own copy of corpus and index.
The embedding model is loaded once for the module, and the CLI is pointed at it.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

import cqvet_qa.assistant as assistant_module
from cqvet_qa.assistant import Assistant
from cqvet_qa.cli import main
from cqvet_qa.embedding.model import Embedder
from cqvet_qa.index_store import build_index, load_index
from cqvet_qa.passages import SplitSettings
from cqvet_qa.retrieval.base import UnknownDocument
from cqvet_qa.retrieval.hybrid import HybridRetriever

PDF_TITLE = "重庆示范学院2024年度质量报告"
FOOTER = "重庆示范学院质量年报 第{page}页"
PDF_PAGES = [
    ["1 学院概况", "1.1 办学规模", "2024年，重庆示范学院全日制在校生达到18650人，专任教师742名。"],
    [
        "1.2 实训条件",
        "学院建成校内实训基地36个，教学仪器设备总值达到2.87亿元。",
        "表1-1 2024年职业技能大赛获奖情况",
        "序号 赛项名称 获奖等级",
        "1 工业机器人技术应用 一等奖",
        "2 数控车加工技术 二等奖",
    ],
    ["2 社会服务", "2.1 技术服务", "学院全年横向技术服务到款额达到4127万元，同比增长23.5%。"],
]
MD_TITLE = "重庆山城职业学院年度报告"
MARKDOWN = f"""# {MD_TITLE}

## 1 办学基础

### 1.1 专业建设

学院开设专业58个，其中国家级骨干专业9个，
专业群对接重庆市“33618”现代制造业集群。

## 2 国际合作

学院与泰国、老挝等5个国家的院校共建“丝路学堂”3所。
"""
EXTRA_TITLE = "补充说明"
EXTRA = "# 教学成果\n\n学院2024年获批市级教学成果奖特等奖2项、一等奖5项。\n"
PDF, MD = "demo-report.pdf", "guide.md"
UNREADABLE = {
    "empty.txt": "the file is empty",
    "broken.pdf": "not a readable PDF",
    "scan.pdf": "no text layer",
}


def write_pdf(path: Path, pages: list[list[str]], title: str = "") -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    if title:
        pdf.setTitle(title)
    for number, lines in enumerate(pages, start=1):
        pdf.setFont("STSong-Light", 11)
        for i, line in enumerate(lines):
            pdf.drawString(60, 780 - 22 * i, line)
        pdf.drawString(240, 40, FOOTER.format(page=number))  # a running footer, to be dropped
        pdf.showPage()
    pdf.save()


def write_scan(path: Path) -> None:
    """A PDF whose page is a picture only: no text layer."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.rect(60, 400, 400, 300, fill=1)
    pdf.showPage()
    pdf.save()


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    write_pdf(folder / PDF, PDF_PAGES, title=PDF_TITLE)
    (folder / MD).write_text(MARKDOWN, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.pdf").write_bytes((folder / PDF).read_bytes()[:400])  # cut off mid-file
    write_scan(folder / "scan.pdf")
    return folder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def split(embedder) -> SplitSettings:
    return SplitSettings(max_tokens=embedder.info.max_seq_length)  # what Assistant.load uses


@pytest.fixture(scope="module")
def first_build(tmp_path_factory, embedder, split):
    root = tmp_path_factory.mktemp("docs")
    corpus = write_corpus(root / "corpus")
    report = build_index(corpus, root / "index", embedder, split)
    return root, report


@pytest.fixture
def site(tmp_path, first_build) -> tuple[Path, Path]:
    """(corpus, index): a private copy of the module's first build."""
    root, _ = first_build
    shutil.copytree(root / "corpus", tmp_path / "corpus")
    shutil.copytree(root / "index", tmp_path / "index", symlinks=True)
    return tmp_path / "corpus", tmp_path / "index"


@pytest.fixture
def encoded(monkeypatch, embedder) -> list[int]:
    """The CLI and Assistant use the module's model; each encode_passages call adds its batch size here."""
    calls: list[int] = []
    original = embedder.encode_passages

    def counting(texts, progress=False):
        calls.append(len(texts))
        return original(texts, progress=False)

    monkeypatch.setattr(embedder, "encode_passages", counting)
    monkeypatch.setattr(assistant_module, "Embedder", lambda model=None: embedder)
    return calls


def cli(capsys, *argv: str, corpus: Path, index: Path) -> tuple[int, str, str]:
    code = main([*argv, "--corpus", str(corpus), "--index", str(index)])
    out, err = capsys.readouterr()
    return code, out, err


def passages_of(index: Path, doc_id: str | None = None) -> list:
    return [p for p in load_index(index, tokenizer=False).passages if doc_id in (None, p.doc_id)]


# --- readers ----------------------------------------------------------------


def test_pdf_facts_are_found_on_their_page(site, encoded):
    corpus, index = site
    assistant = Assistant.load(corpus=corpus, index=index, rebuild=False)
    for query, fact, page, section in [
        ("重庆示范学院有多少专任教师？", "专任教师742名", 1, "1 学院概况 › 1.1 办学规模"),
        ("教学仪器设备总值是多少？", "2.87亿元", 2, "1 学院概况 › 1.2 实训条件"),
        ("横向技术服务到款额是多少？", "4127万元", 3, "2 社会服务 › 2.1 技术服务"),
    ]:
        hit = assistant.search(query, k=3, doc=PDF)[0]
        assert fact in hit.text and hit.page == page and hit.section == section, hit
        assert hit.doc == PDF_TITLE  # from the PDF's metadata
    row = assistant.search("工业机器人技术应用获得什么奖？", k=3, doc=PDF)[0]
    assert "工业机器人技术应用 一等奖" in row.text and row.page == 2
    assert row.section.endswith("表1-1 2024年职业技能大赛获奖情况")  # a table row under its title
    assert not [p for p in passages_of(index, PDF) if "第" in p.text and "页" in p.text]  # footer dropped


def test_markdown_headings_make_the_section_path(site):
    _, index = site
    passages = passages_of(index, MD)
    majors = next(p for p in passages if "开设专业58个" in p.text)
    assert majors.section == "1 办学基础 › 1.1 专业建设"  # the lone `#` title is the document, not a section
    assert majors.doc == MD_TITLE and majors.page == 1
    assert "国家级骨干专业9个，专业群对接" in majors.text  # wrapped source lines join without a space
    assert next(p for p in passages if "丝路学堂" in p.text).section == "2 国际合作"


def test_unreadable_files_are_skipped_and_the_rest_is_built(first_build):
    root, report = first_build
    skipped = dict(line.split(": ", 1) for line in report.skipped)
    assert sorted(skipped) == sorted(UNREADABLE)
    assert all(reason in skipped[name] for name, reason in UNREADABLE.items())
    assert report.documents == 5 and report.added == 5 and report.rebuilt
    assert {p.doc_id for p in passages_of(root / "index")} == {PDF, MD}


# --- incremental builds -------------------------------------------------------


def _model_must_not_load(model=None):
    raise AssertionError("an up-to-date build loaded the embedding model")


def test_unchanged_corpus_is_not_rebuilt_and_embeds_nothing(site, encoded, capsys, caplog, monkeypatch):
    corpus, index = site
    monkeypatch.setattr(assistant_module, "Embedder", _model_must_not_load)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="cqvet_qa"):
        code, out, _ = cli(capsys, "build", "--json", corpus=corpus, index=index)
    seconds = time.perf_counter() - started
    for name in UNREADABLE:  # every build says what it skipped, one line each
        assert [r for r in caplog.records if r.getMessage().startswith(f"skipped {name}: ")], name
    print(f"\nunchanged corpus: `cqvet-qa build` took {seconds:.2f} s (the build itself {json.loads(out)['seconds']} s)")
    report = json.loads(out)
    assert code == 0 and encoded == []
    assert {"documents", "added", "changed", "removed", "unchanged", "passages", "seconds", "rebuilt"} <= set(report)
    assert report | {"seconds": 0} == report | {
        "documents": 5, "added": 0, "changed": 0, "removed": 0, "unchanged": 5, "rebuilt": False, "embedded": 0, "seconds": 0
    }
    assert report["seconds"] < 2.0


def test_a_damaged_index_is_rebuilt_even_when_the_corpus_is_unchanged(site, encoded, capsys):
    corpus, index = site
    faiss_file = index / "current" / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:-64])
    code, out, err = cli(capsys, "build", "--json", corpus=corpus, index=index)
    assert code == 0, err
    assert json.loads(out)["rebuilt"] is True and encoded  # read and embedded again, not "up to date"
    assert len(passages_of(index)) == json.loads(out)["passages"]


def test_adding_a_document_embeds_only_its_passages(site, encoded, capsys, tmp_path):
    corpus, index = site
    before = len(passages_of(index))
    outside = tmp_path / "inbox"
    outside.mkdir()
    (outside / "extra.md").write_text(EXTRA, encoding="utf-8")
    (outside / "extra.meta.json").write_text(json.dumps({"title": EXTRA_TITLE}), encoding="utf-8")

    code, out, err = cli(capsys, "add", str(outside / "extra.md"), "--json", corpus=corpus, index=index)
    assert code == 0, err
    report = json.loads(out)
    assert report["copied"] == ["extra.md", "extra.meta.json"]  # the sidecar travels with its document
    new = passages_of(index, "extra.md")
    assert new and report["added"] == 1 and report["unchanged"] == 5 and report["changed"] == report["removed"] == 0
    assert encoded == [len(new)] and report["embedded"] == len(new)
    assert report["passages"] == before + len(new) == len(passages_of(index))
    assert new[0].doc == EXTRA_TITLE  # the sidecar's title wins over the first heading

    hit = Assistant.load(corpus=corpus, index=index, rebuild=False).search("市级教学成果奖特等奖有几项？", k=1)[0]
    assert "特等奖2项" in hit.text and hit.doc == EXTRA_TITLE


def test_an_edited_document_is_read_again_and_the_others_kept(site, encoded, embedder, split):
    corpus, index = site
    kept = passages_of(index, PDF)
    (corpus / MD).write_text(MARKDOWN.replace("58个", "61个"), encoding="utf-8")
    report = build_index(corpus, index, embedder, split)
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 1, 0, 4)
    assert encoded == [report.embedded] == [len(passages_of(index, MD))]
    assert any("开设专业61个" in p.text for p in passages_of(index, MD))
    assert passages_of(index, PDF) == kept


def test_deleting_a_document_removes_its_passages(site, encoded, embedder, split):
    corpus, index = site
    before, gone = len(passages_of(index)), len(passages_of(index, MD))
    (corpus / MD).unlink()
    report = build_index(corpus, index, embedder, split)
    assert (report.removed, report.unchanged, report.embedded) == (1, 4, 0) and encoded == []
    assert report.passages == before - gone and not passages_of(index, MD)
    loaded = load_index(index, tokenizer=False)
    with pytest.raises(UnknownDocument):
        HybridRetriever(loaded.passages, loaded.bm25, loaded.dense).rows_of(MD)


def test_other_split_settings_rebuild_every_document(site, encoded, embedder):
    corpus, index = site
    report = build_index(corpus, index, embedder, SplitSettings(chunk_size=120, chunk_overlap=40))
    assert report.rebuilt and report.embedded == report.passages == sum(encoded)


# --- the document filter and the listing ----------------------------------------


def test_doc_restricts_search_and_answers(site, encoded, capsys):
    corpus, index = site
    query = "学院与哪些国家共建丝路学堂？"
    assistant = Assistant.load(corpus=corpus, index=index, rebuild=False)
    assert assistant.search(query, k=1)[0].doc == MD_TITLE
    for name in ("demo-report", PDF_TITLE):  # file name without suffix, or title
        assert {h.doc for h in assistant.search(query, k=5, doc=name)} == {PDF_TITLE}
    code, out, _ = cli(capsys, "search", query, "--doc", PDF, "--json", corpus=corpus, index=index)
    hits = json.loads(out)["hits"]
    assert code == 0 and hits and {h["doc"] for h in hits} == {PDF_TITLE}

    unfiltered = assistant.ask("专任教师有多少名？")
    assert "742" in unfiltered.text and unfiltered.citations[0].doc == PDF_TITLE
    kept = assistant.ask("专任教师有多少名？", doc=MD)
    assert "742" not in kept.text and {h.doc for h in kept.hits} == {MD_TITLE}
    assert {c.doc for c in kept.citations} <= {MD_TITLE}
    code, out, err = cli(capsys, "search", query, "--doc", "no-such.pdf", corpus=corpus, index=index)
    assert code == 2 and out == "" and err.strip().startswith("cqvet-qa: error: no indexed document is called 'no-such.pdf'")


def test_docs_json_lists_the_documents(site, capsys):
    corpus, index = site
    code, out, err = cli(capsys, "docs", "--json", corpus=corpus, index=index)
    listing = json.loads(out)
    assert code == 0 and listing["corpus_changed"] is False
    docs = {d["doc_id"]: d for d in listing["documents"]}
    assert sorted(docs) == sorted([PDF, MD, *UNREADABLE])
    assert docs[PDF] | {"passages": 0} == {"doc_id": PDF, "title": PDF_TITLE, "passages": 0, "pages": 3, "skipped": "", "encoding": ""}
    assert docs[MD]["title"] == MD_TITLE and docs[MD]["pages"] is None and docs[MD]["encoding"] == "utf-8"
    assert docs[PDF]["passages"] == len(passages_of(index, PDF)) and docs[MD]["passages"] == len(passages_of(index, MD))
    assert all(docs[name]["passages"] == 0 and reason in docs[name]["skipped"] for name, reason in UNREADABLE.items())
