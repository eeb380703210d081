"""The ONNX query path against sentence-transformers: the same vectors and the same rankings.

Questions are encoded by onnxruntime on the model's ONNX export, passages at float32 by
sentence-transformers; the two must agree at the same precision. At int8 both sides run the
same int8 graph, so they agree by construction (checked here too).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cqvet_qa.embedding import model as model_module
from cqvet_qa.embedding.onnx_encoder import OnnxEncoder
from cqvet_qa.settings import Settings

MIN_COSINE = 0.999
TOP = 10

@pytest.fixture(scope="module")
def float32_pair(assistant):
    """(ONNX float32 encoder, sentence-transformers float32 encoder) of the default model."""
    embedder = assistant.embedder
    onnx = OnnxEncoder(embedder._onnx_dir, "float32", model_module.QUERY_THREADS)
    return onnx, model_module._SentenceTransformerEncoder(embedder._path)


def test_float32_onnx_gives_the_vectors_of_sentence_transformers(float32_pair, dev_questions):
    onnx, torch_model = float32_pair
    for kind, texts in (("query", dev_questions), ("passage", dev_questions[:5])):
        cosines = np.sum(onnx.encode(texts, kind) * torch_model.encode(texts, kind), axis=1)
        assert cosines.min() >= MIN_COSINE, (kind, float(cosines.min()))


def test_float32_onnx_ranks_the_dev_questions_as_sentence_transformers(float32_pair, dev_questions, assistant):
    onnx, torch_model = float32_pair
    for question in dev_questions:
        tops = [
            [h.chunk_id for h in assistant.searcher.search(question, lambda: encoder.encode([question], "query")[0], TOP)]
            for encoder in (onnx, torch_model)
        ]
        assert tops[0] == tops[1], question


def test_int8_queries_and_passages_share_one_graph(assistant):
    """A passage embedded by a build and the same text asked as a question differ only by the prompt."""
    embedder = assistant.embedder
    assert embedder.info.precision == "int8"
    text = "2024年职业学校办学条件总体达标率"
    built = embedder.encode_passages([text])[0]
    direct = embedder._queries.encode([text], "passage")[0]
    assert np.array_equal(built, direct)


def test_a_model_that_cannot_be_exported_runs_on_sentence_transformers(assistant, tmp_path, caplog):
    """Max pooling has no ONNX graph here: such a --model is used at float32 through sentence-transformers."""
    source = assistant.embedder._path
    user_model = tmp_path / "max-pooled"
    shutil.copytree(source, user_model, ignore=shutil.ignore_patterns("model.safetensors"))
    (user_model / "model.safetensors").symlink_to(source / "model.safetensors")
    pooling = user_model / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({**json.loads(pooling.read_text()), "pooling_mode": "max"}))
    settings = Settings.from_env(model=str(user_model)).with_overrides(cache=tmp_path / "cache")
    with caplog.at_level("WARNING", logger="cqvet_qa"):
        embedder = model_module.Embedder(settings)
    assert "runs on sentence-transformers at float32" in caplog.text
    assert embedder.info.precision == "float32"
    vector = embedder.encode_query("鲁班工坊")
    assert vector.shape == (embedder.info.dim,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
