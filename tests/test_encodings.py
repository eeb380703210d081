"""Chinese text files in GB18030/GBK and UTF-16 with a BOM are read by detection, and say so (issue 17, finding 7).

Files are generated here in each encoding; the build indexes them (no longer skipped as "not
UTF-8"), their facts are found, and `cqvet-qa docs` names the encoding each was read as.
"""

from __future__ import annotations

import json

import pytest

import cqvet_qa.assistant as assistant_module
import cqvet_qa.embedding.model as model_module
from cqvet_qa.assistant import Assistant
from cqvet_qa.cli import main
from cqvet_qa.corpus.encoding import decode

TEXT = "# {school}质量年报\n\n## 1 办学规模\n\n{school}2024年全日制在校生{students}人，开设专业{majors}个，毕业生就业率为{rate}%。\n"
FILES = {  # name: (encoding written, encoding reported, school, students, majors, rate)
    "gbk.md": ("gbk", "gb18030", "丙校", 7300, 28, "95.1"),
    "gb18030.txt": ("gb18030", "gb18030", "丁校", 9100, 36, "94.4"),
    "utf16.md": ("utf-16", "utf-16", "戊校", 6200, 22, "96.7"),
    "utf8.md": ("utf-8", "utf-8", "己校", 5400, 19, "97.3"),
}


@pytest.mark.parametrize("written, reported", [(w, r) for w, r, *_ in FILES.values()] + [("utf-8-sig", "utf-8"), ("utf-16-be", "utf-16")])
def test_decode_detects_the_encoding(written, reported):
    text = TEXT.format(school="甲校", students=12000, majors=45, rate="96.2") * 3
    data = text.encode("utf-16-be") if written == "utf-16-be" else text.encode(written)
    if written == "utf-16-be":
        data = b"\xfe\xff" + data
    assert decode(data) == (text, reported)


def test_bytes_that_are_no_text_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="not UTF-8 text .* no other text encoding fits"):
        decode(bytes(range(256)) * 8)


@pytest.fixture
def corpus(tmp_path, assistant, monkeypatch):
    monkeypatch.setattr(assistant_module, "Embedder", lambda model=None: assistant.embedder)
    monkeypatch.setattr(model_module, "Embedder", lambda model=None: assistant.embedder)
    (tmp_path / "corpus").mkdir()
    for name, (written, _, school, students, majors, rate) in FILES.items():
        (tmp_path / "corpus" / name).write_bytes(TEXT.format(school=school, students=students, majors=majors, rate=rate).encode(written))
    return tmp_path


def test_chinese_text_files_in_any_encoding_are_indexed_and_say_which(corpus, assistant, capsys):
    qa = Assistant.load(corpus / "corpus", corpus / "index", embedder=assistant.embedder)
    infos = {d.doc_id: d for d in qa.documents()}
    for name, (_, reported, school, students, *_) in FILES.items():
        assert not infos[name].skipped and infos[name].encoding == reported
        answer = qa.ask(f"{school}2024年全日制在校生有多少人？", doc=name)
        assert answer.answered and f"{students}人" in answer.text, answer.text
    common = ["--corpus", str(corpus / "corpus"), "--index", str(corpus / "index")]
    assert main(["docs", *common]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["gbk.md"].endswith("read as gb18030") and lines["utf16.md"].endswith("read as utf-16")
    assert "read as" not in lines["utf8.md"]
    assert main(["docs", "--json", *common]) == 0
    assert {d["doc_id"]: d["encoding"] for d in json.loads(capsys.readouterr().out)["documents"]}["gb18030.txt"] == "gb18030"
