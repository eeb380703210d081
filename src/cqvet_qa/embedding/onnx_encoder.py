"""Encode texts with the ONNX export: onnxruntime and tokenizers, never torch or transformers.

This is what keeps a lookup quick: these two import in about 0.2 s, where sentence-transformers
(with transformers, scipy, scikit-learn) and torch took about 7.5 s.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from .onnx_export import FLOAT32_FILE, INT8_FILE, TOKENIZER_FILE, read_config
from .unigram import LEAN_FILE, LeanUnigram

GRAPH_FILES = {"int8": INT8_FILE, "float32": FLOAT32_FILE}


class OnnxEncoder:
    """An export's graph in onnxruntime, with the tokenizer and prompts it was exported with.

    Text goes through the lean tokenizer when the export has one (unigram.py), else through
    `tokenizers`, loaded only then: for e5's 250k pieces it costs 0.45 s and about 250 MB. It is
    loaded once and never reconfigured, so queries and a build's passages share it across threads.
    """

    def __init__(self, directory: Path, precision: str, threads: int) -> None:
        config = read_config(directory)
        if config is None:
            raise FileNotFoundError(f"no ONNX export at {directory}")
        self.dim = int(config["dim"])
        self.max_seq_length = int(config["max_seq_length"])
        self._prompts = config["prompts"]
        self._directory = Path(directory)
        self._graph = self._directory / GRAPH_FILES[precision]
        self._encode_special_tokens = bool(config["encode_special_tokens"])
        lean = self._directory / LEAN_FILE
        self._lean = LeanUnigram(lean) if lean.exists() else None
        self._session = self._new_session(threads)

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        tokenizer = Tokenizer.from_file(str(self._directory / TOKENIZER_FILE))
        tokenizer.no_truncation()  # truncated per call instead (see _ids)
        tokenizer.no_padding()
        tokenizer.encode_special_tokens = self._encode_special_tokens
        return tokenizer

    def _new_session(self, threads: int) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Threads that spin waiting for work steal a shared core from the one doing it (see QUERY_THREADS).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(self._graph), options, providers=["CPUExecutionProvider"])

    def _ids(self, text: str, kind: str, truncate: bool = True) -> list[int]:
        """Token ids, cut to the model's limit as sentence-transformers cuts them: the text, not its special tokens."""
        text = self._prompts.get(kind, "") + text
        limit = self.max_seq_length if truncate else None
        if self._lean is not None and (ids := self._lean.ids(text, limit)) is not None:
            return ids
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        if truncate:
            encoding.truncate(self.max_seq_length - self._tokenizer.num_special_tokens_to_add(False))
        return self._tokenizer.post_process(encoding).ids

    def encode(self, texts: list[str], kind: str, threads: int | None = None) -> np.ndarray:
        """Unit vectors, one text per run; `threads` other than the session's runs a session of its own.

        One at a time on purpose: int8 activations are scaled over the whole input, padding rows
        included, so in a batch a text's vector would depend on its neighbours; alone, a passage
        gets the same vector however it is built, and a question the vector a search expects.
        """
        session = self._session if threads is None else self._new_session(threads)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.asarray([self._ids(text, kind)], dtype=np.int64)
            out[row] = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        return out

    def token_count(self, text: str, kind: str = "passage") -> int:
        """Tokens the model sees for a text, prompt and special tokens included (not truncated)."""
        return len(self._ids(text, kind, truncate=False))
