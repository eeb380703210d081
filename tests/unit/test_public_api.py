"""The public Python API: four names, importable from a fresh interpreter, and `import cqvet_qa` stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import cqvet_qa

HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "langchain_core", "mcp", "faiss")


def fresh(code: str) -> str:
    """Run `code` in a new interpreter (same path as this one) and return what it printed."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return proc.stdout


def test_import_cqvet_qa_loads_no_model_and_no_heavy_library():
    loaded = json.loads(fresh(f"import sys, cqvet_qa; print(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))"))
    assert loaded == []


def test_the_public_names_import_from_a_fresh_interpreter():
    out = fresh("from cqvet_qa import Assistant, Answer, Hit, Citation; print(Assistant.load.__name__, Answer.__name__, Hit.__name__, Citation.__name__)")
    assert out.split() == ["load", "Answer", "Hit", "Citation"]


def test_all_lists_the_public_names_and_they_are_documented():
    assert sorted(cqvet_qa.__all__) == ["Answer", "Assistant", "Citation", "Hit"]
    for name in cqvet_qa.__all__:
        assert getattr(cqvet_qa, name).__doc__, name


def test_the_dataclass_fields_are_the_documented_json_keys():
    from cqvet_qa import Answer, Citation, Hit

    assert [f.name for f in fields(Hit)] == ["rank", "score", "text", "doc", "section", "page", "chunk_id"]
    assert [f.name for f in fields(Citation)] == ["doc", "section", "page", "quote", "chunk_id"]
    assert [f.name for f in fields(Answer)] == ["text", "answered", "citations", "hits", "question", "mode", "note", "confidence"]


def test_the_package_is_marked_typed():
    assert (Path(cqvet_qa.__file__).parent / "py.typed").is_file()
