"""A damaged manifest.json is refused in one line and repaired by a plain build (issue 17, finding 5).

Single-bit flips spread over every byte of a built index's manifest: each one is refused by the
loader (none loads silently with a changed title or page count), `cqvet-qa docs` and `search`
say so in one line with no traceback, and `cqvet-qa build` (no --force) makes a good index again.
"""

from __future__ import annotations

import json
import shutil

import pytest

import cqvet_qa.assistant as assistant_module
import cqvet_qa.embedding.model as model_module
from cqvet_qa.cli import main
from cqvet_qa.index_store import CURRENT, IndexUnusable, build_index, current_manifest, load_index
from cqvet_qa.passages import SplitSettings
from mini_report import NAME, SIZE_AND_CAPACITY

FLIPS = 400  # single-bit flips, spread evenly over the file's bytes


@pytest.fixture(scope="module")
def pristine(assistant, tmp_path_factory):
    root = tmp_path_factory.mktemp("manifest")
    (root / "corpus").mkdir()
    (root / "corpus" / NAME).write_text("\n".join(SIZE_AND_CAPACITY) + "\n", encoding="utf-8")
    build_index(root / "corpus", root / "index", assistant.embedder, SplitSettings(max_tokens=assistant.embedder.info.max_seq_length))
    return root


@pytest.fixture
def copy(pristine, tmp_path, monkeypatch, assistant):
    monkeypatch.setattr(assistant_module, "Embedder", lambda model=None: assistant.embedder)
    monkeypatch.setattr(model_module, "Embedder", lambda model=None: assistant.embedder)
    shutil.copytree(pristine / "corpus", tmp_path / "corpus")
    shutil.copytree(pristine / "index", tmp_path / "index", symlinks=True)
    manifest = (tmp_path / "index" / CURRENT).resolve() / "manifest.json"
    return tmp_path, manifest, manifest.read_bytes()


def flipped(data: bytes, n: int) -> bytes:
    at = n * len(data) // FLIPS
    return data[:at] + bytes([data[at] ^ (1 << (n % 8))]) + data[at + 1 :]


def test_every_flipped_bit_is_refused(copy):
    root, manifest, original = copy
    loaded = []
    for n in range(FLIPS):
        manifest.write_bytes(flipped(original, n))
        try:
            current_manifest(root / "index")
            loaded.append(n)
        except IndexUnusable as refused:
            assert "\n" not in str(refused)
    assert loaded == []
    manifest.write_bytes(original)
    assert current_manifest(root / "index").passages > 0


@pytest.mark.parametrize("n", [3, 57, 133, 211, 290, 371])
def test_the_cli_refuses_in_one_line_and_a_plain_build_repairs(copy, n, capsys):
    root, manifest, original = copy
    common = ["--corpus", str(root / "corpus"), "--index", str(root / "index")]
    manifest.write_bytes(flipped(original, n))
    for command in (["docs"], ["search", "办学条件总体达标率", "--no-rebuild"]):
        assert main([*command, *common]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err and "TypeError" not in err
    assert main(["build", *common]) == 0
    capsys.readouterr()
    assert load_index(root / "index").manifest.documents.keys() == {NAME}
    assert main(["docs", "--json", *common]) == 0
    assert json.loads(capsys.readouterr().out)["documents"][0]["doc_id"] == NAME
