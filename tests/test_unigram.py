"""The lean tokenizer (embedding/unigram.py) gives the ids `tokenizers` gives, or hands the text over.

Compared on every passage of the shipped index, the dev questions, and text chosen to hit each rule: normalised characters, runs of spaces, a leading space or
metaspace, characters in no piece, literal special tokens, text past the token limit.
"""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer

from cqvet_qa.embedding.onnx_export import TOKENIZER_FILE
from cqvet_qa.embedding.unigram import LEAN_FILE, LeanUnigram
from repo_data import INDEX

LIMIT = 512
TRICKY = [
    "", " ", "a  b", " a", "\u2581lead", "<s>x</s>", "\t\ttab\n", "ＡＢＣ１２３", "\x01\x02ctrl", "ﬁ ligature",
    "㎏ ㍻ ①", "𠀀𠀁 rare", "Ǆ ǅ", "😀😀 emoji", "ab" * 600, "职业教育" * 300,
]
JOINING = ["é e\u0301", "a\r\nb", "🇨🇳", "👍🏽", "한\u1100"]  # can form multi-codepoint graphemes


@pytest.fixture(scope="module")
def tokenizers_pair(assistant):
    """(lean tokenizer, `tokenizers` tokenizer) of the default model's export."""
    directory = assistant.embedder._onnx_dir
    full = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
    full.encode_special_tokens = True
    full.enable_truncation(LIMIT)
    return LeanUnigram(directory / LEAN_FILE), full


def passages() -> list[str]:
    current = INDEX / "current" / "passages.jsonl"
    return [json.loads(line)["text"] for line in current.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_lean_tokenizer_gives_the_ids_of_tokenizers(tokenizers_pair, dev_questions):
    lean, full = tokenizers_pair
    compared = 0
    for text in passages() + dev_questions + TRICKY:
        for prompt in ("query: ", "passage: ", ""):
            ids = lean.ids(prompt + text, LIMIT)
            assert ids is not None, text
            assert ids == full.encode(prompt + text).ids, text[:80]
            compared += 1
    assert compared > 1000


@pytest.mark.parametrize("text", JOINING)
def test_text_that_may_join_graphemes_goes_to_tokenizers(tokenizers_pair, text):
    lean, _ = tokenizers_pair
    assert lean.ids(text, LIMIT) is None
