"""Finding blocks of a cleaned document in tests."""

import re


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def block_with(doc, fragment, kind=None):
    found = [b for b in doc.blocks if fragment in b.text and (kind is None or b.kind == kind)]
    assert len(found) == 1, f"expected one block with {fragment!r}, got {[b.text for b in found]}"
    return found[0]
