"""A lean twin of the converted e5 tokenizer: the same token ids for a fraction of the cost.

The `tokenizers` library builds a trie over e5's 250k pieces that takes 0.45 s to load and about
250 MB of memory (measured), more than the int8 model itself. This keeps the pieces in a dict and
runs the same Unigram Viterbi in Python, about 0.3 ms for a question. It applies only to a
tokenizer of e5_convert's shape (per-codepoint normalisation, runs of spaces collapsed, metaspace,
Unigram, <s> … </s>), recognised from its tokenizer.json at export time, and only to text whose
characters cannot join into multi-codepoint graphemes, which `tokenizers` normalises as a whole;
other text returns None and goes to `tokenizers` (tests/test_unigram.py compares the two).
"""

from __future__ import annotations

import json
import marshal
import re
import unicodedata
from pathlib import Path

LEAN_FILE = "unigram.marshal"
METASPACE = "\u2581"
UNK_PENALTY = 10.0  # tokenizers' Unigram scores an unknown character at the lowest score minus this
# Characters that can extend a grapheme cluster: combining and format characters, Hangul jamo,
# regional indicators, emoji modifiers, carriage return.
_JOINING_CATEGORIES = {"Mn", "Mc", "Me", "Cf"}
_JOINING = re.compile("[\r\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff]")
_SPACES = re.compile(" {2,}")


def compile_lean(tokenizer_file: Path, out: Path, encode_special_tokens: bool) -> bool:
    """Write the lean tables for `tokenizer_file` to `out`; False when its shape is not e5_convert's."""
    from tokenizers import Tokenizer

    spec = json.loads(Path(tokenizer_file).read_text(encoding="utf-8"))
    if not (encode_special_tokens and _is_e5_shape(spec)):
        return False
    pieces = [piece for piece, _ in spec["model"]["vocab"]]
    scores = [float(score) for _, score in spec["model"]["vocab"]]
    normalizer = Tokenizer.from_file(str(tokenizer_file)).normalizer
    normalised = {}
    for code in range(0x110000):  # 0.5 s once: the precompiled charsmap as a plain map
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        if (mapped := normalizer.normalize_str(char)) != char:
            normalised[char] = mapped
    longest: dict[str, int] = {}
    for piece in pieces:
        longest[piece[0]] = max(longest.get(piece[0], 0), len(piece))
    special = spec["post_processor"]["special_tokens"]
    first, last = spec["post_processor"]["single"][0], spec["post_processor"]["single"][2]
    tables = {
        "ids": {piece: i for i, piece in enumerate(pieces)},
        "scores": scores,
        "unk_id": spec["model"]["unk_id"],
        "unk_score": min(scores) - UNK_PENALTY,
        "bos": special[first["SpecialToken"]["id"]]["ids"][0],
        "eos": special[last["SpecialToken"]["id"]]["ids"][0],
        "normalised": normalised,
        "longest": longest,
        "known": "".join(sorted({char for piece in pieces for char in piece})),
    }
    Path(out).write_bytes(marshal.dumps(tables))
    return True


def _is_e5_shape(spec: dict) -> bool:
    """True for the pipeline e5_convert writes, and nothing else."""
    try:
        norm, pre, post, model = spec["normalizer"], spec["pre_tokenizer"], spec["post_processor"], spec["model"]
        steps = [n["type"] for n in norm["normalizers"]]
        replace = norm["normalizers"][1]
        meta, split = pre["pretokenizers"]
        single = [next(iter(part)) for part in post["single"]]
        return (
            model["type"] == "Unigram" and not model.get("byte_fallback")
            and steps == ["Precompiled", "Replace"]
            and replace["pattern"] == {"Regex": " {2,}"} and replace["content"] == " "
            and meta == {"type": "Metaspace", "replacement": METASPACE, "prepend_scheme": "always", "split": False}
            and split["type"] == "Split" and split["behavior"] == "Isolated" and not split["invert"]
            and post["type"] == "TemplateProcessing" and single == ["SpecialToken", "Sequence", "SpecialToken"]
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


class LeanUnigram:
    """Token ids of e5_convert's tokenizer from the tables compile_lean wrote."""

    def __init__(self, path: Path) -> None:
        tables = marshal.loads(Path(path).read_bytes())
        self._ids: dict[str, int] = tables["ids"]
        self._scores: list[float] = tables["scores"]
        self._unk_id: int = tables["unk_id"]
        self._unk_score: float = tables["unk_score"]
        self._bos: int = tables["bos"]
        self._eos: int = tables["eos"]
        self._normalised: dict[str, str] = tables["normalised"]
        self._longest: dict[str, int] = tables["longest"]
        self._known = frozenset(tables["known"])

    def ids(self, text: str, max_length: int | None) -> list[int] | None:
        """<s>, the text's ids, </s>, at most `max_length` in all; None when `tokenizers` must do it."""
        if _JOINING.search(text) or any(unicodedata.category(c) in _JOINING_CATEGORIES for c in text if ord(c) > 0x7F):
            return None
        text = _SPACES.sub(" ", "".join(self._normalised.get(c, c) for c in text))
        if not text:
            return [self._bos, self._eos]
        text = text.replace(" ", METASPACE)
        if not text.startswith(METASPACE):
            text = METASPACE + text
        pieces = self._viterbi(text)
        return [self._bos, *(pieces if max_length is None else pieces[: max_length - 2]), self._eos]

    def _viterbi(self, text: str) -> list[int]:
        """The highest-scoring split into pieces; a character no piece covers alone is <unk>, runs of <unk> fused.

        A character that occurs in no piece at all is isolated by the original's pre-tokenizer:
        no piece can span it, and its <unk> is not fused with a neighbour's.
        """
        size = len(text)
        best = [0.0] + [float("-inf")] * size
        back: list[tuple[int, int]] = [(0, 0)] * (size + 1)
        for start in range(size):
            base = best[start]
            single = False
            for length in range(1, min(self._longest.get(text[start], 0), size - start) + 1):
                piece = self._ids.get(text[start : start + length])
                if piece is None:
                    continue
                single = single or length == 1
                if base + self._scores[piece] > best[start + length]:
                    best[start + length] = base + self._scores[piece]
                    back[start + length] = (start, piece)
            if not single and base + self._unk_score > best[start + 1]:
                best[start + 1] = base + self._unk_score
                back[start + 1] = (start, self._unk_id)
        path, end = [], size
        while end > 0:
            start, piece = back[end]
            path.append((start, piece))
            end = start
        out: list[int] = []
        fusable = False  # the previous token is an <unk> that a following <unk> joins
        for start, piece in reversed(path):
            unknown = piece == self._unk_id
            isolated = unknown and text[start] not in self._known
            if not (unknown and fusable and not isolated):
                out.append(piece)
            fusable = unknown and not isolated
        return out
