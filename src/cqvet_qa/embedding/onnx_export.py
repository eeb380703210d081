"""Export a sentence-transformers model to ONNX once, so that questions are encoded without torch.

The graph holds the transformer, the model's pooling (mean or CLS) and the L2 normalisation, so
onnxruntime returns the finished vector. Beside it goes an int8 copy made with onnxruntime's
dynamic quantisation, the tokenizer sentence-transformers uses (as `tokenizer.json`) and
`encoder.json` (prompts, token limit, dimension), and for e5_convert's tokenizer the tables of
its lean twin (unigram.py). Each graph keeps its weights in a `.data` file beside it, which
onnxruntime maps rather than copies. Everything is written into a temporary sibling and renamed
into place, so a reader never sees half an export; torch, sentence-transformers and the
quantiser are imported only here, when an export is made.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import uuid
import warnings
from pathlib import Path

from .unigram import LEAN_FILE, compile_lean

EXPORT_VERSION = "3"  # 2: the lean tokenizer tables (unigram.py); 3: weights beside the graphs
FLOAT32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
OPSET = 17
WEIGHTS_INLINE_BELOW = 1024  # bytes: smaller tensors stay in the graph file
POOLING_MODES = ("mean", "cls")
# Per-channel weight scales: on the dev set (61 questions) per-tensor int8 lost 0.010 MRR against
# today's index (0.931 vs 0.941), per-channel keeps it (0.940, hit@5 1.0 both).
PER_CHANNEL = True


class NotExportable(Exception):
    """The model cannot run on the ONNX path (its pooling, tokenizer or graph is unsupported)."""


def export_dir(cache: Path, files_fingerprint: str) -> Path:
    """Where the export of a model with these files lives: beside the converted models in the cache."""
    return Path(cache) / "onnx" / f"{files_fingerprint[:16]}-v{EXPORT_VERSION}"


def read_config(directory: Path) -> dict | None:
    """The export's encoder.json, or None when there is no complete export there."""
    try:
        return json.loads((Path(directory) / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def ensure_export(model_path: Path, directory: Path) -> Path:
    """The export of `model_path` at `directory`, made first if it is missing (one-off, about 20 s)."""
    if read_config(directory) is None:
        print("Exporting the embedding model to ONNX (one-off, ~20 s)…", file=sys.stderr, flush=True)
        export(model_path, directory)
        _remove_older_exports(directory)
    return directory


def _remove_older_exports(directory: Path) -> None:
    """Exports of the same model files by an older EXPORT_VERSION: about 600 MB each."""
    stem = directory.name.rsplit("-v", 1)[0]
    for old in directory.parent.glob(f"{stem}-v*"):
        if old != directory:
            shutil.rmtree(old, ignore_errors=True)


def export(model_path: Path, directory: Path) -> None:
    """Write the float32 and int8 graphs, tokenizer and encoder.json for `model_path` to `directory`."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f".{directory.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        config = _export_graph(model_path, tmp)
        _quantize(tmp / FLOAT32_FILE, tmp / INT8_FILE)
        for graph in (FLOAT32_FILE, INT8_FILE):
            _weights_beside(tmp / graph)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            os.rename(tmp, directory)
        except OSError:
            if read_config(directory) is None:  # not another process's finished export of the same files
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _export_graph(model_path: Path, out: Path) -> dict:
    """The float32 graph and tokenizer in `out`; returns what the encoder needs to know."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True).eval()
    modules = list(model)
    if not modules or not isinstance(modules[0], Transformer):
        raise NotExportable("its first module is not a transformer")
    pooling = next((m for m in modules if isinstance(m, Pooling)), None)
    mode = getattr(pooling, "pooling_mode", None)
    if mode not in POOLING_MODES or any(not isinstance(m, (Transformer, Pooling, Normalize)) for m in modules):
        raise NotExportable(f"only {' or '.join(POOLING_MODES)} pooling of a transformer is exported, not {mode or modules}")
    tokenizer = getattr(model.tokenizer, "backend_tokenizer", None)
    if tokenizer is None:
        raise NotExportable("its tokenizer has no tokenizers.Tokenizer behind it")
    tokenizer.save(str(out / TOKENIZER_FILE))
    encode_special_tokens = bool(getattr(tokenizer, "encode_special_tokens", False))
    compile_lean(out / TOKENIZER_FILE, out / LEAN_FILE, encode_special_tokens)

    graph = _pooled(modules[0].auto_model, mode).eval()
    sample = model.tokenizer(["query: 样例"], return_tensors="pt")
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        try:
            # dynamo=False: the TorchScript exporter handles this BERT with dynamic_axes and needs no onnxscript.
            torch.onnx.export(
                graph, (sample["input_ids"], sample["attention_mask"]), str(out / FLOAT32_FILE),
                input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                dynamic_axes=axes, opset_version=OPSET, dynamo=False,
            )
        except Exception as exc:  # the exporter raises many types for graphs it cannot trace
            raise NotExportable(f"torch.onnx could not export it ({type(exc).__name__}: {exc})") from exc
    return {
        "export_version": EXPORT_VERSION,
        "prompts": dict(model.prompts or {}),
        "max_seq_length": int(model.max_seq_length),
        "dim": int(model.get_embedding_dimension()),
        "encode_special_tokens": encode_special_tokens,
    }


def _pooled(transformer, mode: str):
    """The transformer with pooling and L2 normalisation, as one module for the exporter."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask):
            tokens = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            if mode == "cls":
                pooled = tokens[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Pooled()


def _weights_beside(graph: Path) -> None:
    """Move the weights into GRAPH.data, which onnxruntime maps from disk instead of copying.

    Measured on the int8 graph: a session loads in 0.09 s instead of 0.23 and adds 44 MB to the
    process instead of 156 (only the embedding rows a text uses are read), at the same speed.
    """
    import onnx

    model = onnx.load(str(graph))
    onnx.save_model(model, str(graph), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=graph.name + ".data", size_threshold=WEIGHTS_INLINE_BELOW)


def _quantize(source: Path, target: Path) -> None:
    """int8 weights (MatMul and the embedding Gather), activations scaled per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()

    def advice(record: logging.LogRecord) -> bool:  # the quantiser's generic tip, logged on the root logger
        return "pre-processing before quantization" not in record.getMessage()

    root.addFilter(advice)
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=PER_CHANNEL)
    finally:
        root.removeFilter(advice)
