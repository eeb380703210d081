"""cqvet-qa: cited question answering over the Chongqing vocational education quality report.

The public API is `Assistant`, `Answer`, `Hit` and `Citation` (README, "Python"); everything
else is internal. The names are loaded on first use, so that `import cqvet_qa` stays light: no
model, torch, Gradio or LangChain until an `Assistant` is asked for.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING

# milvus-lite 2.5.1 (the Milvus store) needs setuptools<81, whose pkg_resources then warns when jieba
# and milvus-lite import it: nothing a user can act on, and a command line's stderr stays one line.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

__version__ = "0.1.0"
__all__ = ["Assistant", "Answer", "Hit", "Citation"]

_HOMES = {
    "Assistant": ".assistant",
    "Answer": ".answer.types",
    "Citation": ".answer.types",
    "Hit": ".retrieval.base",
}

if TYPE_CHECKING:
    from .answer.types import Answer, Citation
    from .assistant import Assistant
    from .retrieval.base import Hit


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
