"""The README's code blocks, so that tests run exactly what it shows."""

from __future__ import annotations

import re

from repo_data import REPO

README = REPO / "README.md"
CHECKOUT = "/path/to/cqvet-qa"  # how the README's snippets name the folder of the checkout


def code_block(heading: str, language: str) -> str:
    """The first ```language block after the README line `heading` (e.g. "### LangChain")."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    block = re.compile(rf"^```{language}\n(.*?)^```", re.S | re.M).search(text, start)
    assert block, f"no {language} block under {heading!r} in README.md"
    return block.group(1)
