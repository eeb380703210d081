"""Text from a document or a language model reduced to plain words: no link, image or tag survives.

Used where such text goes on to something that may render or obey markup: passages quoted in an
LLM prompt, and the LLM's answer (which an API caller may show as Markdown). A link or image
keeps its words and loses its address; HTML tags go; a bare web address is removed.
"""

from __future__ import annotations

import re

from .inputs import strip_tags

_IMAGE_OR_LINK = re.compile(r"!?\[([^\[\]\n]{0,500})\]\s?\([^()\n]{0,2000}\)")
# [id]: http://… (without it, "[text][id]" and "[1][2]" are only characters)
_REFERENCE = re.compile(r"^[ \t]{0,3}\[[^\[\]\n]{1,100}\]:[ \t]*\S+.*$", re.M)
_ADDRESS = re.compile(r"\b(?:https?|ftp|file|data|javascript):\S*|\bwww\.\S+", re.I)
REMOVED = "(link removed)"


def plain_text(text: str) -> str:
    """`text` with Markdown links and images as their words, tags and web addresses removed."""
    text = _REFERENCE.sub("", text)
    text = _IMAGE_OR_LINK.sub(lambda m: m[1], text)
    text = strip_tags(text)
    return _ADDRESS.sub(REMOVED, text)
