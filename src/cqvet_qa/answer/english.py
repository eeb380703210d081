"""An English reader's lead: the figure in English words, the report's own span kept beside it.

"56 rural revitalization colleges (56个)", "192,800 people (19.28万人)", "31 May 2024
(2024年5月31日)": the counted thing comes from the question's own "how many …" words, amounts
in 万/亿 are written out, and the Chinese span stays so the quote can be checked against it.
"""

from __future__ import annotations

import re

from .spans import Span

_HOW_MANY = re.compile(r"how many\s+([a-z][a-z\-' ]*)")
_STOP = frozenset(
    "are were did do does have has had is was be been in at on of by for from with to there that which who "
    "got get took take came come went joined made set up opened built".split()
)
MAX_NOUN_WORDS = 4
_MAGNITUDE = {"万": 10_000, "亿": 100_000_000}
_MONEY = {"元": "yuan"}
_PEOPLE = {"人": "people", "人次": "person-times", "名": "people"}
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)(万|亿)?(余|多)?(.*)")
_DATE = re.compile(r"(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?$")


def _number(value: str, magnitude: str) -> str:
    amount = float(value) * _MAGNITUDE.get(magnitude, 1)
    if amount >= 100_000_000:
        return f"{amount / 1_000_000:,.6g} million".replace(".0 ", " ")
    return f"{amount:,.2f}".rstrip("0").rstrip(".") if amount % 1 else f"{int(amount):,}"


def counted_thing(question: str) -> str:
    """What a "how many …" question counts, in its own words ("" when it does not say): the words
    after "how many" up to the first verb or preposition ("how many schools were …" → schools)."""
    m = _HOW_MANY.search(question.lower())
    words = []
    for word in (m.group(1).split() if m else []):
        if word in _STOP or word.endswith("ed") or len(words) == MAX_NOUN_WORDS:
            break
        words.append(word)
    return " ".join(words)


def english_lead(span: Span, question: str) -> str:
    """The span in English, with the report's wording after it in brackets."""
    date = _DATE.match(span.text)
    if date:
        year, month, day = date.groups()
        words = " ".join(part for part in (day, _MONTHS[int(month) - 1] if month else "", year) if part)
        return f"{words} ({span.text})" if month else span.text
    m = _FIGURE.fullmatch(span.text)
    if not m or span.text.endswith("%"):
        return span.text
    value, magnitude, about, unit = m.groups()
    number = _number(value, magnitude or "")
    noun = _MONEY.get(unit) or counted_thing(question) or _PEOPLE.get(unit, "")
    words = " ".join(part for part in ("over" if about else "", number, noun) if part)
    return f"{words} ({span.text})" if words != span.text else span.text
