"""One place that cleans a question before any interface (CLI, Python API, HTTP API, UI) uses it.

`clean_question` returns the text to search and answer, plus a note when it had to cut it:

- lone surrogates (possible in JSON: "\\ud800"), terminal escape sequences, NUL and other
  control characters are dropped; newlines, tabs and other breaks become spaces, runs of
  spaces become one, and a space between two Chinese characters goes (Chinese is written
  without them: "有多少个\\n鲁班工坊" is "有多少个鲁班工坊", which jieba and the answerer need);
- invisible format characters (zero-width spaces, BOM, bidi overrides) are dropped;
- HTML markup is dropped: `<script>`/`<style>` elements whole, other tags leaving their
  text (a tag names nothing in the report, and its Latin words would make a Chinese
  question look English); a bare "<" or ">" as in "比例<50%" stays;
- full-width ASCII (`２０２４`, `ＡＢＣ`, `％`) and the ideographic space become plain ASCII,
  as the report prints them, so BM25 and the year/number cues see the same characters.
  Chinese punctuation (，。？！：；（）“”) is left alone: the report uses it (NFKC would
  turn ？ into ? and （ into ( ), and the answerer splits sentences on it;
- at most MAX_QUESTION_CHARS characters are kept; a longer question is cut and the
  result carries a note saying so. The raw text is cut first (to CLEAN_WINDOW characters,
  room for the markup and controls cleaning drops), then cleaned, so a huge question costs
  no more than a long one.

An empty question, or one with nothing left after cleaning, raises `InvalidQuestion`.
Cleaning is idempotent: a cleaned question cleans to itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUESTION_CHARS = 2000
CLEAN_WINDOW = 4 * MAX_QUESTION_CHARS  # raw characters looked at: cleaning never sees more
# What the HTTP API accepts before cleaning; more is refused in one line, not cut.
MAX_INPUT_CHARS = 10 * MAX_QUESTION_CHARS
MAX_HISTORY_TURNS = 20  # earlier turns a follow-up question is completed from

_BLOCK = re.compile(r"<(script|style)\b[^<>]{0,500}>.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]{0,500})?/?>|<!--.*?(-->|$)|<![A-Za-z][^<>]{0,500}>", re.DOTALL)
_SPACES = re.compile(r"\s+")
_CJK = "\u2e80-\u2fff\u3001-\u303f\u3400-\u9fff\uf900-\ufaff\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")  # a line break or space inside Chinese text
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")  # terminal colour/title codes
# Full-width forms of printable ASCII (U+FF01–U+FF5E), minus the punctuation Chinese text uses.
_KEEP_FULLWIDTH = set("，。？！：；（）、［］｛｝～＂＇｀")


class InvalidQuestion(ValueError):
    """The question cannot be asked: empty, or nothing left once control characters are removed."""


@dataclass(frozen=True)
class CleanQuestion:
    text: str  # what to search and answer
    note: str = ""  # set when the question was cut
    original_length: int = 0  # characters received, before cleaning

    @property
    def truncated(self) -> bool:
        return bool(self.note)


def _fold_char(ch: str) -> str:
    """One character as searched: control/format/surrogate characters go, full-width ASCII folds."""
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E and ch not in _KEEP_FULLWIDTH:
        return chr(code - 0xFEE0)
    if ch == "\u3000":
        return " "
    category = unicodedata.category(ch)
    if category in ("Cc", "Zl", "Zp"):
        return " " if ch.isspace() else ""  # \n \t \r \v \f and U+2028/9 separate words; NUL, ESC… go
    if category in ("Cf", "Cs"):
        return ""  # zero-width and bidi controls, BOM, lone surrogates
    return ch


def normalise(text: str) -> str:
    """The cleaning without the length limit or the emptiness check."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    text = "".join(_fold_char(ch) for ch in text)
    text = strip_tags(text)
    return _CJK_GAP.sub("", _SPACES.sub(" ", text)).strip()


def strip_tags(text: str) -> str:
    """HTML markup dropped: script and style elements whole, other tags leaving their text."""
    return _TAG.sub(" ", _BLOCK.sub(" ", text)) if "<" in text else text


def clean_question(question, max_chars: int = MAX_QUESTION_CHARS, lang: str | None = None) -> CleanQuestion:
    """The question ready to search and answer; raises InvalidQuestion when nothing is left.

    `lang` ("zh"/"en") chooses the language of the note; by default the question's own.
    """
    if question is None:
        raise InvalidQuestion("the question is empty")
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    text = normalise(question[:CLEAN_WINDOW])
    if not text:
        raise InvalidQuestion("the question is empty")
    note = ""
    if len(text) > max_chars or len(question) > CLEAN_WINDOW:
        text = text[:max_chars].rstrip()
        note = cut_note(len(question), max_chars, lang or _language(text))
    return CleanQuestion(text, note, len(question))


def cut_note(received: int, kept: int, lang: str = "zh") -> str:
    if lang == "en":
        return f"The question was {received:,} characters long; only its first {kept:,} were used."
    return f"问题共 {received:,} 字，只使用了前 {kept:,} 字。"


def clean_history(history) -> list[tuple[str, str]]:
    """Earlier (question, answer) turns, cleaned the same way; empty or broken turns are dropped."""
    pairs = []
    for item in history or []:
        try:
            question, answer = item
        except (TypeError, ValueError):
            continue
        question = _cut_and_clean(question)
        if question:
            pairs.append((question, _cut_and_clean(answer)))
    return pairs


def _cut_and_clean(text) -> str:
    return normalise(str(text or "")[:CLEAN_WINDOW])[:MAX_QUESTION_CHARS]


def _language(text: str) -> str:
    from .language import detect_language

    return detect_language(text)
