"""Segment vectors in ChromaDB. This is the only module that imports chromadb.

One collection per embedding model (named after the model, cosine space, dimension checked), so vectors of
different models never mix. Each record is one window of one file; its id is derived from the file path and the
window index, so writing a file again is an idempotent upsert. A file counts as indexed only when its first and
last windows are both present with the same content hash: a crash part-way through a file leaves it "incomplete",
and the next run re-indexes it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

logger = logging.getLogger("audioret")

# HNSW settings of new collections. Chroma's defaults (max_neighbors 16, ef_construction 100, ef_search 100) give
# recall@10 0.989 at 100k vectors; these give 1.000 at 100k and 1M for 40 % more build time and 0.1-0.3 ms more
# per query (bench/scale.py, docs/BENCHMARKS.md "Scale").
HNSW = {"max_neighbors": 32, "ef_construction": 200, "ef_search": 200}
WRITER_LOCK = "audioret-writer.lock"  # in the embedded store's directory; its .pid sibling names the holder
_writer_locks: dict[str, object] = {}  # one lock per store directory per process, shared by its Store objects


class StoreError(RuntimeError):
    """The vector store refused or failed an operation; the message says what to do."""


RETRY_DELAYS_S = (0.5, 1, 2, 4, 8)  # waits between tries when a Chroma server does not answer (15.5 s in all)


def _retrying(fn, url: str):
    """``fn`` tried again with backoff while the server at ``url`` cannot be reached, then a StoreError.

    Every call the store makes is idempotent (upserts and deletes by deterministic ids, reads), so a call that
    reached the server before the connection broke can safely be made again.
    """
    import httpx

    def call(*args, **kwargs):
        for delay in (*RETRY_DELAYS_S, None):
            try:
                return fn(*args, **kwargs)
            except (httpx.TransportError, ConnectionError, ValueError) as e:
                if isinstance(e, ValueError) and "Could not connect" not in str(e):
                    raise
                if delay is None:
                    raise StoreError(
                        f"Cannot reach the Chroma server at {url} ({e}); tried {len(RETRY_DELAYS_S) + 1} times over "
                        f"{sum(RETRY_DELAYS_S):.0f} s. Start it with `chroma run --path DIR --host HOST --port PORT`, "
                        "or unset AUDIORET_CHROMA_URL to use the embedded store"
                    ) from e
                logger.warning("Chroma server at %s did not answer (%s); retrying in %s s", url, e, delay)
                time.sleep(delay)

    return call


class _RetryingCollection:
    """A Chroma collection on a server whose calls retry while the server is unreachable (see ``_retrying``)."""

    def __init__(self, collection, url: str):
        self._collection, self._url = collection, url

    def __getattr__(self, name):
        attr = getattr(self._collection, name)
        return _retrying(attr, self._url) if callable(attr) else attr


@dataclass(frozen=True)
class FileRecord:
    """What the store knows about one fully indexed file."""

    path: str
    hash: str
    size: int
    mtime_ns: int
    duration_s: float
    n_segments: int
    metadata: dict = field(default_factory=dict, compare=False, repr=False)  # the first record's, in full

    @property
    def hop_s(self) -> float:
        return float(self.metadata.get("hop_s", 0.0))


@dataclass(frozen=True)
class SegmentMatch:
    id: str
    score: float  # cosine similarity, 1.0 = same direction
    metadata: dict
    document: str | None = None  # the text of a text-channel record


def segment_id(path: str, index: int) -> str:
    """Deterministic id of window ``index`` of the file at ``path`` (an absolute path)."""
    return f"{hashlib.sha1(path.encode('utf-8', 'surrogateescape')).hexdigest()[:20]}-{index:06d}"


def collection_name(model: str, channel: str = "clap") -> str:
    """A valid Chroma collection name for a model id or a local model directory (and a channel other than CLAP)."""
    if os.path.isdir(model):
        stem = Path(model).resolve().name
        digest = hashlib.sha1(str(Path(model).resolve()).encode()).hexdigest()[:8]
        raw = f"local-{stem}-{digest}"
    else:
        raw = model.replace("/", "--")
    slug = re.sub(r"[^a-zA-Z0-9._-]", "-", raw).strip("-._")
    prefix = "audioret-" if channel == "clap" else f"audioret-{channel}-"
    return f"{prefix}{slug}"[:200].rstrip("-._")


class Store:
    """Segment vectors of one model in ChromaDB.

    Parameters
    ----------
    model : str
        The embedding model's id; it names the collection.
    dim : int or None
        The embedding dimension; a collection created with another dimension is refused. None defers the check
        to the first write (so opening a store never needs its model loaded).
    path : str or Path, optional
        Directory of the embedded ``PersistentClient`` (used when ``url`` is None).
    url : str, optional
        ``http://host:port`` of a ``chroma run`` server.
    channel : str
        "clap" for audio segments, "text" for the text channel's passages; each has its own collections.
    hnsw : dict, optional
        HNSW settings for a new collection (default ``HNSW``); an existing collection keeps its own.
    """

    def __init__(
        self,
        model: str,
        dim: int | None,
        path: str | os.PathLike | None = None,
        url: str | None = None,
        channel: str = "clap",
        hnsw: dict | None = None,
    ):
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            self.client = _retrying(
                lambda: chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or 8000,
                    ssl=parsed.scheme == "https",
                    settings=settings,
                ),
                url,
            )()
            self.location = url
        else:
            if path is None:
                raise ValueError("Store needs either a data directory (path) or a server url")
            Path(path).mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=settings)
            self.location = str(path)
        self.path = None if url else Path(path)
        self.model = model
        self.dim = dim
        self.channel = channel
        name = collection_name(model, channel)
        create = self.client.get_or_create_collection
        self.collection = (create if url is None else _retrying(create, url))(
            name,
            configuration={"hnsw": {"space": "cosine", **(HNSW if hnsw is None else hnsw)}},
            metadata={"model": model, "dim": dim} if dim else {"model": model},
            embedding_function=None,
        )
        if url:
            self.collection = _RetryingCollection(self.collection, url)
        if dim:
            self._check_dim(dim)
        self.batch_size = self.client.get_max_batch_size()
        self._has_records = False

    def _check_dim(self, dim: int):
        stored_dim = (self.collection.metadata or {}).get("dim")
        if stored_dim is None:
            self.collection.modify(metadata={**(self.collection.metadata or {}), "dim": dim})
        elif int(stored_dim) != dim:
            raise StoreError(
                f"Collection {self.collection.name!r} in {self.location} holds {stored_dim}-d vectors, but model "
                f"{self.model!r} makes {dim}-d vectors; use another data directory or remove the old index"
            )
        self.dim = dim

    def count(self) -> int:
        """The number of records; a scan, O(records) (42 ms at 1M): not for the query path."""
        return self.collection.count()

    def has_records(self) -> bool:
        """Whether the store holds anything; counted once, then remembered once true (for the query path)."""
        if not self._has_records:
            self._has_records = self.count() > 0
        return self._has_records

    def count_where(self, where: dict) -> int:
        return sum(1 for _ in self._metadatas(where))

    def add(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        metadatas: Sequence[dict],
        documents: Sequence[str] | None = None,
    ):
        """Upsert records in the order given (each file's first record first), in batches the server accepts."""
        if len(ids) != len(embeddings) or len(ids) != len(metadatas):
            raise ValueError(f"Expected as many ids, embeddings and metadatas, got {len(ids)}, "
                             f"{len(embeddings)} and {len(metadatas)}")  # fmt: skip
        self._writable()
        self._has_records = self._has_records or len(ids) > 0
        if self.dim is None and len(ids):
            self._check_dim(int(np.shape(embeddings)[1]))
        for lo in range(0, len(ids), self.batch_size):
            hi = lo + self.batch_size
            self.collection.upsert(
                ids=list(ids[lo:hi]),
                embeddings=np.asarray(embeddings[lo:hi]),
                metadatas=list(metadatas[lo:hi]),
                documents=list(documents[lo:hi]) if documents is not None else None,
            )

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict]):
        self._writable()
        for lo in range(0, len(ids), self.batch_size):
            hi = lo + self.batch_size
            self.collection.update(ids=list(ids[lo:hi]), metadatas=list(metadatas[lo:hi]))

    def delete_file(self, path: str):
        self._writable()
        self.collection.delete(where={"path": path})

    def _writable(self):
        """Takes the embedded store's writer lock for the rest of this process's life, or refuses.

        Two processes writing one embedded store would each keep their own copy of the HNSW index and overwrite
        each other's; readers are fine. Several writers need the server mode (AUDIORET_CHROMA_URL).
        """
        if self.path is None or str(self.path) in _writer_locks:
            return
        from filelock import FileLock, Timeout

        lock = FileLock(self.path / WRITER_LOCK)
        pid_file = self.path / (WRITER_LOCK + ".pid")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = pid_file.read_text().strip() if pid_file.exists() else "unknown"
            raise StoreError(
                f"Another audioret process (pid {holder}) is writing to the index in {self.path}; only one process "
                "may index or remove at a time. Wait for it to finish (or stop it), or run a Chroma server and "
                "point every process at it with AUDIORET_CHROMA_URL"
            ) from None
        pid_file.write_text(str(os.getpid()))
        _writer_locks[str(self.path)] = lock

    def files(self) -> tuple[dict[str, FileRecord], set[str]]:
        """All files in the store: ``(complete, incomplete_paths)``.

        A file is complete when its first and last windows are present with the same content hash.
        """
        firsts = {m["path"]: m for m in self._metadatas({"seg_index": 0})}
        lasts = {}
        for m in self._metadatas({"is_last": True}):
            lasts[m["path"]] = m
        complete = {}
        for path, first in firsts.items():
            last = lasts.get(path)
            if last is not None and last["hash"] == first["hash"] and last["seg_index"] == first["n_segments"] - 1:
                complete[path] = FileRecord(
                    path=path,
                    hash=first["hash"],
                    size=int(first["size"]),
                    mtime_ns=int(first["mtime_ns"]),
                    duration_s=float(first["duration_s"]),
                    n_segments=int(first["n_segments"]),
                    metadata=first,
                )
        incomplete = (set(firsts) | set(lasts)) - set(complete)
        return complete, incomplete

    def file_segments(self, path: str) -> tuple[list[str], list[dict]]:
        """Ids and metadata of every record of a file."""
        got = self.collection.get(where={"path": path}, include=["metadatas"])
        return got["ids"], got["metadatas"]

    def file_documents(self, path: str) -> list[tuple[dict, str]]:
        """Metadata and text of every record of a file, in record order."""
        got = self.collection.get(where={"path": path}, include=["metadatas", "documents"])
        pairs = zip(got["metadatas"], got["documents"] or [""] * len(got["ids"]))
        return sorted(pairs, key=lambda pair: pair[0]["seg_index"])

    def get(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray, list[dict]]:
        """The stored ids, vectors (shape = (n, dim)) and metadata of ``ids``; unknown ids are left out."""
        got = self.collection.get(ids=list(ids), include=["metadatas", "embeddings"])
        return got["ids"], np.asarray(got["embeddings"], np.float32), got["metadatas"]

    def query(self, embeddings: np.ndarray, n: int, where: dict | None = None) -> list[list[SegmentMatch]]:
        """The ``n`` nearest segments for each query vector, best first."""
        if len(embeddings) == 0:
            return []
        res = self.collection.query(  # fewer than n records (or none) is fine; count() would cost O(records)
            query_embeddings=np.asarray(embeddings, np.float32),
            n_results=n,
            where=where or None,
            include=["metadatas", "distances", "documents"],
        )
        documents = res.get("documents") or [[None] * len(ids) for ids in res["ids"]]
        return [
            [SegmentMatch(i, 1.0 - float(d), m, doc) for i, d, m, doc in zip(ids, dists, metas, docs or [None] * len(ids))]
            for ids, dists, metas, docs in zip(res["ids"], res["distances"], res["metadatas"], documents)
        ]

    def query_ids(self, embeddings: np.ndarray, n: int, where: dict | None = None) -> list[list[tuple[str, float]]]:
        """Like :meth:`query`, ids and cosine similarities only: a tenth of the cost for a few hundred results."""
        if len(embeddings) == 0:
            return []
        res = self.collection.query(
            query_embeddings=np.asarray(embeddings, np.float32), n_results=n, where=where or None, include=["distances"]
        )
        return [[(i, 1.0 - float(d)) for i, d in zip(ids, dists)] for ids, dists in zip(res["ids"], res["distances"])]

    def matches(self, scored: Sequence[tuple[str, float]]) -> list[SegmentMatch]:
        """:class:`SegmentMatch` of ``(id, score)`` pairs, with their metadata and text; unknown ids left out."""
        if not scored:
            return []
        got = self.collection.get(ids=[i for i, _ in scored], include=["metadatas", "documents"])
        found = dict(zip(got["ids"], zip(got["metadatas"], got["documents"] or [None] * len(got["ids"]))))
        return [SegmentMatch(i, score, *found[i]) for i, score in scored if i in found]

    def _metadatas(self, where: dict, page: int = 5000) -> Iterable[dict]:
        offset = 0
        while True:
            got = self.collection.get(where=where, include=["metadatas"], limit=page, offset=offset)
            yield from got["metadatas"]
            if len(got["ids"]) < page:
                return
            offset += page
