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

GRAPH_FILES = {"int8": INT8_FILE, "float32": FLOAT32_FILE}


class OnnxEncoder:
    """One onnxruntime session over an export, with the tokenizer and prompts it was exported with."""

    def __init__(self, directory: Path, precision: str, threads: int) -> None:
        config = read_config(directory)
        if config is None:
            raise FileNotFoundError(f"no ONNX export at {directory}")
        self.dim = int(config["dim"])
        self.max_seq_length = int(config["max_seq_length"])
        self._prompts = config["prompts"]
        self._directory = Path(directory)
        self._encode_special_tokens = bool(config["encode_special_tokens"])
        self._tokenizer = self._load_tokenizer(truncate=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Threads that spin waiting for work steal a shared core from the one doing it (see QUERY_THREADS).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(Path(directory) / GRAPH_FILES[precision]), options, providers=["CPUExecutionProvider"]
        )

    def _load_tokenizer(self, truncate: bool) -> Tokenizer:
        tokenizer = Tokenizer.from_file(str(self._directory / TOKENIZER_FILE))
        tokenizer.no_padding()
        if truncate:
            tokenizer.enable_truncation(self.max_seq_length)
        else:
            tokenizer.no_truncation()
        tokenizer.encode_special_tokens = self._encode_special_tokens
        return tokenizer

    @cached_property
    def _counting_tokenizer(self) -> Tokenizer:
        """Untruncated, for a build's passage splitting; loaded only by a build."""
        return self._load_tokenizer(truncate=False)

    def encode(self, texts: list[str], kind: str) -> np.ndarray:
        """Unit vectors, one text per run.

        One at a time on purpose: int8 activations are scaled over the whole input, padding rows
        included, so in a batch a text's vector would depend on its neighbours; alone, a passage
        gets the same vector however it is built, and a question the vector a search expects.
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.asarray([self._tokenizer.encode(self._prompts.get(kind, "") + text).ids], dtype=np.int64)
            out[row] = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        return out

    def token_count(self, text: str, kind: str = "passage") -> int:
        """Tokens the model sees for a text, prompt and special tokens included (not truncated)."""
        return len(self._counting_tokenizer.encode(self._prompts.get(kind, "") + text).ids)
