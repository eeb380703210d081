"""The passages in a Milvus collection: its schema, keeping it in step with the local build, and the search.

The same code talks to Milvus Lite (the real Milvus core in-process, a file under index/) and to
a Milvus server or cluster: only the URI differs, and the dense index (exact FLAT in Lite, which
has no graph index; HNSW on a server). Each row is a passage: its id, document, section, page
and offsets, its text, the dense vector (cosine) and BM25's sparse vector (`sparse.py`), with
an inverted index on the document for filters. A search asks Milvus for both top lists, dense
and BM25, then for each list's scores of the other's passages (two searches filtered by passage
id), so the retriever fuses exact scores as the local search does (retrieval/milvus.py).
pymilvus is imported only here (and only when a Milvus store is chosen).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pymilvus import DataType, MilvusClient, MilvusException

from ..index_store import IndexUnusable
from ..passages import Passage
from ..settings import StoreSettings
from .sparse import passage_vector

SCHEMA_VERSION = 1  # raise when the collection's fields or vectors change: older collections are rebuilt
INSERT_BATCH = 2_000  # rows per insert: about 4 MB, far below gRPC's 64 MB message limit
MAX_TEXT_BYTES = 65_535  # Milvus's VARCHAR limit; a passage is at most a few kB
NAME_BYTES = 1_024
DENSE, SPARSE = "dense", "sparse"
# Lite has only exact search; a server gets HNSW with dense.py's M and ef, built more thoroughly (once, off the query path).
LITE_DENSE_INDEX = {"index_type": "FLAT", "params": {}}
SERVER_DENSE_INDEX = {"index_type": "HNSW", "params": {"M": 16, "efConstruction": 200}}
SERVER_EF_SEARCH = 256  # candidates per query, above the hybrid's top-100 depth
LITE_BUSY_OR_DAMAGED = " (another cqvet-qa may be using it; if none is, the file is damaged: delete it and build again)"


def _quiet_milvus_logs() -> None:
    """pymilvus and milvus-lite log their failures (milvus-lite on the root logger): here they reach the
    user as one line instead (IndexUnusable)."""
    for name in ("pymilvus", "pymilvus.milvus_client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger().addFilter(lambda record: "milvus_lite" not in record.pathname)


_quiet_milvus_logs()


class MilvusStore:
    """One collection of passages on a Milvus Lite file or server (a `SearchStore`, retrieval/base.py)."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self.name = settings.collection
        where = "Milvus Lite file" if settings.lite else "Milvus server"
        self._where = f"the {where} {settings.uri}"
        if settings.lite:
            Path(settings.uri).parent.mkdir(parents=True, exist_ok=True)
        with self._errors("cannot be opened", LITE_BUSY_OR_DAMAGED if settings.lite else ""):
            self.client = MilvusClient(uri=settings.uri, token=settings.token or "")

    @property
    def record(self) -> dict:
        """What the manifest keeps of the store (no token): another one makes the index stale."""
        return {"engine": "milvus", "uri": self.settings.uri, "collection": self.name, "schema": SCHEMA_VERSION}

    def problem(self, passages: int) -> str | None:
        """Why the collection does not hold the index's `passages` passages, or None."""
        return self._schema_problem() or self._count_problem(passages)

    def sync(self, passages: list[Passage], vectors: np.ndarray, tokenize: Callable[[str], list[str]],
             unchanged: set[str] | None) -> None:
        """Make the collection hold exactly `passages`: the passages of every document not in `unchanged`
        are deleted, then that document's new passages inserted; None (or a collection that is missing
        or of another schema) makes it anew. Running it twice is harmless, so a build killed midway is
        repaired by the next.

        Unchanged documents keep their BM25 vectors: terms mined from a new document cut them
        differently only after `cqvet-qa build --force`.
        """
        if unchanged is None or not unchanged or self._schema_problem():
            self._create(vectors.shape[1])
            unchanged = set()
        else:
            with self._errors("cannot be updated"):
                self.client.delete(self.name, filter=f"doc_id not in {_literal(sorted(unchanged))}")
        fresh = [i for i, p in enumerate(passages) if p.doc_id not in unchanged]
        with self._errors("cannot be updated"):
            for lo in range(0, len(fresh), INSERT_BATCH):
                rows = [_row(passages[i], vectors[i], tokenize) for i in fresh[lo : lo + INSERT_BATCH]]
                self.client.insert(self.name, rows)
        if reason := self._count_problem(len(passages)):
            raise IndexUnusable(f"{reason} after an update")

    def search(self, vector: np.ndarray, sparse: dict[int, float], depth: int,
               doc_id: str | None = None) -> tuple[dict[str, float], dict[str, float]]:
        """The best `depth` passages by meaning and by BM25, each list completed with the other's
        passages: ({passage id: cosine}, {passage id: BM25}) over the same candidates, as the local
        search scores them (a passage without any of the terms has no BM25 entry: 0).
        `doc_id` keeps the search to one document."""
        where = f"doc_id == {_literal(doc_id)}" if doc_id else ""
        query = vector.astype(np.float32).tolist()
        dense = self._scores(query, DENSE, self._dense_search, depth, where)
        bm25 = self._scores(sparse, SPARSE, {"metric_type": "IP"}, depth, where) if sparse else {}
        dense.update(self._scores(query, DENSE, self._dense_search, where=where, only=[c for c in bm25 if c not in dense]))
        if sparse:
            bm25.update(self._scores(sparse, SPARSE, {"metric_type": "IP"}, where=where, only=[c for c in dense if c not in bm25]))
        return dense, bm25

    def _scores(self, query, field: str, params: dict, limit: int = 0, where: str = "",
                only: list[str] | None = None) -> dict[str, float]:
        """{passage id: score} of the top `limit` passages, or of the passages `only` names."""
        if only is not None:
            if not only:
                return {}
            where = " and ".join(filter(None, [where, f"chunk_id in {_literal(only)}"]))
            limit = len(only)
        with self._errors("cannot be searched"):
            [found] = self.client.search(self.name, [query], anns_field=field, search_params=params, limit=limit, filter=where)
        return {hit["id"]: float(hit["distance"]) for hit in found}

    @property
    def _dense_search(self) -> dict:
        params = {} if self.settings.lite else {"ef": SERVER_EF_SEARCH}
        return {"metric_type": "COSINE", "params": params}

    def _create(self, dim: int) -> None:
        """The collection anew (an older one is dropped), with its indexes, loaded for search."""
        schema = MilvusClient.create_schema(auto_id=False, description=json.dumps({"cqvet_schema": SCHEMA_VERSION}))
        schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=NAME_BYTES)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=NAME_BYTES)
        schema.add_field("doc", DataType.VARCHAR, max_length=NAME_BYTES)
        schema.add_field("section", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
        schema.add_field("page", DataType.INT64)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
        schema.add_field(DENSE, DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field(SPARSE, DataType.SPARSE_FLOAT_VECTOR)
        indexes = self.client.prepare_index_params()
        dense = LITE_DENSE_INDEX if self.settings.lite else SERVER_DENSE_INDEX
        indexes.add_index(DENSE, metric_type="COSINE", **dense)
        indexes.add_index(SPARSE, index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        indexes.add_index("doc_id", index_type="INVERTED")
        with self._errors("cannot be created"):
            if self.client.has_collection(self.name):
                self.client.drop_collection(self.name)
            # Strong: a search sees a document as soon as `cqvet-qa build` has said it is added.
            self.client.create_collection(self.name, schema=schema, index_params=indexes, consistency_level="Strong")

    def _schema_problem(self) -> str | None:
        with self._errors("cannot be read"):
            if not self.client.has_collection(self.name):
                return f"{self._where} has no collection {self.name!r}"
            description = self.client.describe_collection(self.name).get("description", "")
        try:
            version = json.loads(description).get("cqvet_schema")
        except (ValueError, AttributeError):
            version = None
        if version != SCHEMA_VERSION:
            return f"the collection {self.name!r} on {self._where} has schema {version}, not {SCHEMA_VERSION}"
        return None

    def _count_problem(self, passages: int) -> str | None:
        with self._errors("cannot be read"):
            [row] = self.client.query(self.name, filter="", output_fields=["count(*)"])
        held = int(row["count(*)"])
        if held != passages:
            return f"the collection {self.name!r} on {self._where} holds {held} passages, the index {passages}"
        return None

    @contextmanager
    def _errors(self, what: str, hint: str = "") -> Iterator[None]:
        """A Milvus failure as one line (IndexUnusable) naming the store."""
        try:
            yield
        except MilvusException as exc:
            message = " ".join(str(exc.message or exc).split())
            raise IndexUnusable(f"{self._where} {what}: {message}{hint}") from exc


def _literal(value: str | list[str]) -> str:
    """A string (or list of strings) as a Milvus expression literal: JSON's quoting is Milvus's.

    (Milvus Lite 2.5.1 does not parse filter templates, `doc_id == {doc}` with filter_params.)"""
    return json.dumps(value, ensure_ascii=False)


def _row(passage: Passage, vector: np.ndarray, tokenize: Callable[[str], list[str]]) -> dict:
    return {
        "chunk_id": passage.chunk_id, "doc_id": passage.doc_id, "doc": passage.doc, "section": passage.section,
        "page": passage.page, "start": passage.start, "end": passage.end, "text": passage.text,
        DENSE: vector.tolist(), SPARSE: passage_vector(tokenize(passage.index_text)),
    }
