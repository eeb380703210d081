"""From a question (and the chat so far) to a cited Answer."""

from __future__ import annotations

from .types import Answer, Citation


def answer_question(assistant, question: str, history: list[tuple[str, str]], k: int = 5, mode: str | None = None) -> Answer:
    hits = assistant.search(question, k=k)
    if not hits:
        return Answer(text="报告中未找到相关内容。", answered=False, question=question)
    top = hits[0]
    quote = top.text.split("。")[0] + "。"
    return Answer(
        text=quote[:150],
        answered=True,
        citations=[Citation(top.doc, top.section, top.page, quote, top.chunk_id)],
        hits=hits,
        question=question,
    )
