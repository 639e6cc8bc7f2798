"""Records in ChromaDB. This is the only module that imports chromadb, so every Chroma call is here: writing,
reading, and keeping a word index in step. How a query picks each file's best record is
:mod:`audioret.ranking.nearest`.

One collection per channel and model (named after both, cosine space, dimension checked), so vectors of
different models never mix. The text channel's store keeps a word index beside it (:mod:`audioret.store.word_index`).
The record schema (ids, metadata, what counts as a complete file) is :mod:`audioret.store.records`. The embedded store
belongs to one writing process at a time (a lock file); several writers use a ``chroma run`` server, whose calls
are retried with backoff while it does not answer.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ..errors import IndexBusy, StoreError
from .connection import RetryingCollection, hold_writer_lock, retrying
from .filters import is_under
from .kept import KeptRecords, nearest
from .records import FileRecord, SegmentMatch, collection_name, complete_files, parse_id
from .word_index import WordIndex, any_word_pattern, fts_phrase, phrase_pattern
from .word_index import available as words_available

logger = logging.getLogger("audioret")

# HNSW settings of new collections: a higher recall@10 than Chroma's defaults (16, 100, 100) at 100k and 1M vectors,
# for more build time and a little more per query (bench/scale.py, docs/BENCHMARKS.md "Scale").
HNSW = {"max_neighbors": 32, "ef_construction": 200, "ef_search": 200}
# The background sample of a collection (calibration.Null), from evenly spaced places (docs/BENCHMARKS.md, "Fusion").
BACKGROUND_SIZE = 1024
BACKGROUND_SLICES = 64  # 16 records each: the records of a folder written together are not all skipped
TEXT_MATCH_LIMIT = 5000  # records returned by one full-text match; a word in more than that is a common word


class Store:
    """Records of one channel and model in ChromaDB.

    Args:
        model: the embedding model's id; it names the collection.
        dim: the embedding dimension; a collection created with another dimension is refused. None defers the
            check to the first write (so opening a store never needs its model loaded).
        path: the directory of the embedded ``PersistentClient`` (used when ``url`` is None).
        url: ``http://host:port`` of a ``chroma run`` server.
        channel: the channel whose records these are; each channel has its own collections (None: the sound
            channel's, named before there were others).
        hnsw: HNSW settings for a new collection (default ``HNSW``); an existing collection keeps its own.
        words: keep a word index of the records' text beside an embedded store (:mod:`audioret.store.word_index`);
            a server's records are scanned instead.
    """

    def __init__(
        self,
        model: str,
        dim: int | None,
        path: str | os.PathLike | None = None,
        url: str | None = None,
        channel: str | None = None,
        hnsw: dict | None = None,
        words: bool = False,
        key: bytes = b"",
    ):
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")

            def connect():
                return chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or 8000,
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )

            self.client = retrying(connect, url)()
            self.location = url
        else:
            if path is None:
                raise ValueError("Store needs either a data directory (path) or a server url")
            Path(path).mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=settings)
            self.location = str(path)
        self.path = None if url else Path(path)
        self.model, self.dim, self.channel = model, dim, channel
        create = self.client.get_or_create_collection
        self.collection = (create if url is None else retrying(create, url))(
            collection_name(model, channel),
            configuration={"hnsw": {"space": "cosine", **(HNSW if hnsw is None else hnsw)}},
            metadata={"model": model, "dim": dim} if dim else {"model": model},
            embedding_function=None,
        )
        if url:
            self.collection = RetryingCollection(self.collection, url)
        if dim:
            self._check_dim(dim)
        self.batch_size = self.client.get_max_batch_size()
        # the records' words, in an inverted index beside an embedded store; a server's are scanned
        with_words = words and path is not None and not url and words_available()
        self.words = WordIndex(self.path / f"{self.collection.name}.words.sqlite3") if with_words else None
        self._words_checked = False
        self._has_records = False
        self._background: tuple[np.ndarray, int] | None = None
        self._kept = KeptRecords(self.path)  # used by an embedded store only
        self.key = key  # the index's id key (idkey.py); b"": unkeyed ids
        # records under these folders (a public page's visitors) stay out of the background sample and its count,
        # and writing them keeps the sample: one visitor's uploads never move another's scores
        self.private_roots: tuple[str, ...] = ()
        from .idkey import ensure

        ensure(self)

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

    # -- writing -------------------------------------------------------------------------------------------------

    def add(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        metadatas: Sequence[dict],
        documents: Sequence[str] | None = None,
    ):
        """Upsert records in the order given (each file's first record first), in batches the server accepts."""
        if len(ids) != len(embeddings) or len(ids) != len(metadatas):
            raise ValueError(
                f"Expected as many ids, embeddings and metadatas, got {len(ids)}, "
                f"{len(embeddings)} and {len(metadatas)}"
            )
        self._writable()
        self._has_records = self._has_records or len(ids) > 0
        if not all(self.is_private(m["path"]) for m in metadatas):
            self._background = None
        self._kept.forget()
        if self.dim is None and len(ids):
            self._check_dim(int(np.shape(embeddings)[1]))
        words = self.words if documents is not None and len(ids) else None
        if words:
            words.unsynced()
        for lo in range(0, len(ids), self.batch_size):
            hi = lo + self.batch_size
            self.collection.upsert(
                ids=list(ids[lo:hi]),
                embeddings=np.asarray(embeddings[lo:hi]),
                metadatas=list(metadatas[lo:hi]),
                documents=list(documents[lo:hi]) if documents is not None else None,
            )
        if words:
            words.put(ids, metadatas, documents)

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict]):
        self._writable()
        self._kept.forget()
        if self.words:
            self.words.unsynced()
        for lo in range(0, len(ids), self.batch_size):
            hi = lo + self.batch_size
            self.collection.update(ids=list(ids[lo:hi]), metadatas=list(metadatas[lo:hi]))
        if self.words:
            self.words.update(ids, metadatas)

    def delete_file(self, path: str):
        self._writable()
        if not self.is_private(path):
            self._background = None
        self._kept.forget()
        if self.words:
            self.words.unsynced()
        self.collection.delete(where={"path": path})
        if self.words:
            self.words.delete_path(path)

    def _writable(self):
        if self.path is not None:
            hold_writer_lock(self.path)
            if not self._words_checked:
                self._words_checked = True
                self.sync_words()

    def sync_words(self) -> None:
        """Rebuilds the word index from the store when it is missing, was left unsynced by a crash or holds
        another number of passages (the writer only; readers scan meanwhile)."""
        if self.words is None:
            return
        try:
            hold_writer_lock(self.path)
        except IndexBusy:
            return  # another process writes: it keeps the index
        self._words_checked = True
        count = self.count()
        try:
            if self.words.synced() and self.words.count() == count:
                return
            self._rebuild_words(count)
        except sqlite3.DatabaseError as e:  # not a database any more (a disk error, a stray write): made anew
            logger.warning("The word index %s is damaged (%s); it is made again from the store", self.words.path, e)
            self.words.remove()
            self._rebuild_words(count)

    def _rebuild_words(self, count: int, page: int = 5000) -> None:
        if count:
            logger.info("Building the word index of %d passages (once)", count)
        self.words.rebuild(self._page(lo, page) for lo in range(0, count, page))

    # -- reading -------------------------------------------------------------------------------------------------

    def count(self) -> int:
        """The number of records; a scan, O(records): not for the query path (docs/BENCHMARKS.md, "Scale")."""
        return self.collection.count()

    def has_records(self) -> bool:
        """Whether the store holds anything; counted once, then remembered once true (for the query path)."""
        if not self._has_records:
            self._has_records = self.count() > 0
        return self._has_records

    def background(self, size: int = BACKGROUND_SIZE) -> tuple[np.ndarray, int]:
        """A fixed sample of the stored vectors (at most ``size``, from evenly spaced places in the collection)
        and the number of records: what a query scores on this channel in general. Kept until this object writes;
        each sampled record's file in :meth:`background_files`."""
        if self._background is None:
            count = self.count()
            slices = 1 if count <= size else BACKGROUND_SLICES
            step, per = count / slices, min(size, count) // slices
            include = ["embeddings", "metadatas"] if self.private_roots else ["embeddings"]
            got = [self.collection.get(limit=per, offset=int(i * step), include=include) for i in range(slices)]
            metadatas = [g["metadatas"] or [None] * len(g["ids"]) for g in got]  # fetched for private roots only
            rows = [r for g, m in zip(got, metadatas) if len(g["ids"]) for r in zip(g["embeddings"], g["ids"], m)]
            if self.private_roots:  # the shared records only
                rows = [r for r in rows if not self.is_private(r[2]["path"])]
                count -= sum(f.n_segments for p, f in self.files()[0].items() if self.is_private(p))
            sample = np.asarray([r[0] for r in rows], np.float32) if rows else np.zeros((0, self.dim or 0), np.float32)
            self._background, self._background_files = (sample, count), [parse_id(r[1])[0] for r in rows]
        return self._background

    def background_files(self) -> list[str]:
        self.background()
        return self._background_files  # each sample record's file (its key in the record ids), in its order

    def is_private(self, path: str) -> bool:
        """Whether ``path`` lies under :attr:`private_roots` (kept out of the background and the word counts)."""
        return bool(self.private_roots) and is_under(path, self.private_roots)

    def text_matches(self, pattern: str, limit: int = TEXT_MATCH_LIMIT) -> list[SegmentMatch]:
        """Records whose text matches a regular expression (:func:`records.word_pattern`), with metadata and text:
        a scan of every record."""
        got = self.collection.get(where_document={"$regex": pattern}, include=["metadatas", "documents"], limit=limit)
        return [SegmentMatch(i, 1.0, m, d) for i, m, d in zip(got["ids"], got["metadatas"], got["documents"])]

    def word_matches(self, words: Sequence[str], limit: int | None = TEXT_MATCH_LIMIT) -> list[SegmentMatch]:
        """Records whose text may hold any of ``words`` (at most ``limit`` for each word), with metadata and text,
        from the word index; a superset of the whole-word matches, which the caller checks in the text. Without a
        synced word index, one scan for all the words (:func:`records.any_word_pattern`)."""
        queries = [fts_phrase([w]) for w in words]
        if self._words_usable() and None not in queries:
            try:
                found = {i: (m, t) for q in queries for i, m, t in self.words.matching(q, limit)}
                return [SegmentMatch(i, 1.0, m, t) for i, (m, t) in found.items()]
            except sqlite3.Error as e:  # e.g. locked by a long rebuild: the scan answers
                logger.info("The word index could not be read (%s); scanning", e)
        return self.text_matches(any_word_pattern(words), limit=None if limit is None else limit * len(words))

    def phrase_matches(self, words: Sequence[str], limit: int | None = TEXT_MATCH_LIMIT) -> list[SegmentMatch]:
        """Records whose text may hold ``words`` in this order (a superset, as :meth:`word_matches`)."""
        query = fts_phrase(words)
        if self._words_usable() and query is not None:
            try:
                return [SegmentMatch(i, 1.0, m, t) for i, m, t in self.words.matching(query, limit)]
            except sqlite3.Error as e:
                logger.info("The word index could not be read (%s); scanning", e)
        return self.text_matches(phrase_pattern(words, checked=False), limit=limit)

    def _words_usable(self) -> bool:
        return self.words is not None and self.words.synced()

    def _page(self, offset: int, limit: int) -> tuple[list[str], list[dict], list[str]]:
        got = self.collection.get(include=["metadatas", "documents"], limit=limit, offset=offset)
        return got["ids"], got["metadatas"], got["documents"]

    def count_where(self, clause: dict) -> int:
        return sum(1 for _ in self._metadatas(clause))

    def files(self) -> tuple[dict[str, FileRecord], set[str]]:
        """All files in the store: ``(complete, incomplete_paths)`` (see :func:`records.complete_files`)."""
        return complete_files(self._metadatas({"seg_index": 0}), self._metadatas({"is_last": True}))

    def file_records(self, path: str, documents: bool = False) -> list[SegmentMatch]:
        """Every record of a file in record order (score 1.0), with its text on request."""
        got = self.collection.get(where={"path": path}, include=["metadatas"] + ["documents"] * documents)
        texts = got.get("documents") or [None] * len(got["ids"])
        found = [SegmentMatch(i, 1.0, m, t) for i, m, t in zip(got["ids"], got["metadatas"], texts)]
        return sorted(found, key=lambda m: m.metadata["seg_index"])

    def file_vectors(self, path: str) -> np.ndarray:
        """The vectors of a file's records in record order, shape (n, dim); empty when the file is not stored."""
        got = self.collection.get(where={"path": path}, include=["metadatas", "embeddings"])
        if not got["ids"]:
            return np.zeros((0, self.dim or 0), np.float32)
        order = np.argsort([m["seg_index"] for m in got["metadatas"]], kind="stable")
        return np.asarray(got["embeddings"], np.float32)[order]

    def records_of(self, paths: Sequence[str], vectors: bool = False) -> list[SegmentMatch]:
        """Every record of ``paths`` (in no set order; score 1.0), with vectors on request: one call for many files."""
        include = ["metadatas"] + ["embeddings"] * vectors
        got = self.collection.get(where={"path": {"$in": list(paths)}}, include=include)
        found = np.asarray(got["embeddings"], np.float32) if vectors else [None] * len(got["ids"])
        return [SegmentMatch(i, 1.0, m, None, v) for i, m, v in zip(got["ids"], got["metadatas"], found)]

    def get(self, ids: Sequence[str], vectors: bool = True) -> tuple[list[str], np.ndarray, list[dict]]:
        """The stored ids, vectors (shape = (n, dim); none without ``vectors``) and metadata of ``ids``; unknown ids
        are left out."""
        got = self.collection.get(ids=list(ids), include=["metadatas"] + ["embeddings"] * vectors)
        return got["ids"], np.asarray(got["embeddings"] if vectors else [], np.float32), got["metadatas"]

    def query(self, embeddings: np.ndarray, n: int, clause: dict | None = None) -> list[list[SegmentMatch]]:
        """The ``n`` nearest records for each query vector, best first."""
        if len(embeddings) == 0:
            return []
        res = self.collection.query(  # fewer than n records (or none) is fine; count() would cost O(records)
            query_embeddings=np.asarray(embeddings, np.float32),
            n_results=n,
            where=clause or None,
            include=["metadatas", "distances", "documents"],
        )
        rows = zip(res["ids"], res["distances"], res["metadatas"], res.get("documents") or [None] * len(res["ids"]))
        return [
            [SegmentMatch(i, 1.0 - float(d), m, t) for i, d, m, t in zip(*row[:3], row[3] or [None] * len(row[0]))]
            for row in rows
        ]

    def query_ids(self, embeddings: np.ndarray, n: int, clause: dict | None = None) -> list[list[tuple[str, float]]]:
        """Like :meth:`query`, ids and cosine similarities only; a small embedded store exactly (kept.AllVectors)."""
        if len(embeddings) == 0:
            return []
        if (held := None if clause else self._kept.vectors.get(self.count, self._every_vector)) is not None:
            return nearest(held, embeddings, n)
        res = self.collection.query(
            query_embeddings=np.asarray(embeddings, np.float32),
            n_results=n,
            where=clause or None,
            include=["distances"],
        )
        return [[(i, 1.0 - float(d)) for i, d in zip(ids, dists)] for ids, dists in zip(res["ids"], res["distances"])]

    def _every_vector(self) -> tuple[list[str], np.ndarray]:
        got = self.collection.get(include=["embeddings"])
        return got["ids"], got["embeddings"]

    def matches(self, scored: Sequence[tuple[str, float]], vectors: bool = False) -> list[SegmentMatch]:
        """:class:`SegmentMatch` of ``(id, score)`` pairs, with their metadata, text and (on request) vector;
        unknown ids are left out. An embedded store keeps the records it fetched (:mod:`audioret.store.kept`) until its
        files change, so a warm query fetches only the records it has not seen."""
        if not scored:
            return []
        kept = {}
        if self.path is not None:
            kept = self._kept.take([i for i, _ in scored])
        missing = [i for i, _ in scored if i not in kept or (vectors and kept[i][2] is None)]
        if missing:
            got = self.collection.get(ids=missing, include=["metadatas", "documents"] + ["embeddings"] * vectors)
            n = len(got["ids"])
            embeddings = np.asarray(got["embeddings"], np.float32) if vectors else [None] * n
            fetched = dict(zip(got["ids"], zip(got["metadatas"], got["documents"] or [None] * n, embeddings)))
            kept.update(fetched)
            if self.path is not None:
                self._kept.keep(fetched)
        return [
            SegmentMatch(i, score, *kept[i][:2], kept[i][2] if vectors else None) for i, score in scored if i in kept
        ]

    def metadatas(self, ids: Sequence[str]) -> dict[str, dict]:
        """The metadata of ``ids``, by id; unknown ids are left out."""
        got = self.collection.get(ids=list(ids), include=["metadatas"])
        return dict(zip(got["ids"], got["metadatas"]))

    def _metadatas(self, clause: dict, page: int = 5000) -> Iterable[dict]:
        offset = 0
        while True:
            got = self.collection.get(where=clause, include=["metadatas"], limit=page, offset=offset)
            yield from got["metadatas"]
            if len(got["ids"]) < page:
                return
            offset += page
