"""Records in ChromaDB. This is the only module that imports chromadb, so every Chroma call is here (about 430
lines: writing, reading, the filtered nearest-file search and keeping the word index in step).

One collection per channel and model (named after both, cosine space, dimension checked), so vectors of
different models never mix. The text channel's store keeps a word index beside it (:mod:`audioret.store.word_index`). The
record schema (ids, metadata, what counts as a complete file) is :mod:`audioret.store.records`. The embedded store
belongs to one writing process at a time (a lock file); several writers use a ``chroma run`` server, whose calls
are retried with backoff while it does not answer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ..errors import IndexBusy, StoreError
from ..ranking.nearest import best_per_file
from ..types import Filters
from .connection import RetryingCollection, hold_writer_lock, retrying
from .filters import accepts, where
from .records import FileRecord, SegmentMatch, complete_files, file_key
from .word_index import WordIndex, any_word_pattern, fts_phrase, phrase_pattern
from .word_index import available as words_available

logger = logging.getLogger("audioret")

# HNSW settings of new collections. Chroma's defaults (max_neighbors 16, ef_construction 100, ef_search 100) give
# recall@10 0.989 at 100k vectors; these give 1.000 at 100k and 1M for 40 % more build time and 0.1-0.3 ms more
# per query (bench/scale.py, docs/BENCHMARKS.md "Scale").
HNSW = {"max_neighbors": 32, "ef_construction": 200, "ef_search": 200}
# The background sample of a collection (fusion.Null): 1,024 vectors from 8 evenly spaced places. Its median and
# spread settle to within 1 % from about 500 records (docs/BENCHMARKS.md, "Fusion").
BACKGROUND_SIZE = 1024
BACKGROUND_SLICES = 8
# A filter is checked on the nearest candidates (with their metadata), widening as the files found so far say, as
# long as at least 1 in RARE_FILTER candidates passes and fewer than POST_FILTER_LIMIT were fetched; a rarer
# extension or duration goes to the store's own index, which is fast when few records match (97 ms at 1M) and
# slow when many do (1.4-3.1 s). docs/BENCHMARKS.md, "Scale".
POST_FILTER_LIMIT = 4096
RARE_FILTER = 40
TEXT_MATCH_LIMIT = 5000  # records returned by one full-text match; a word in more than that is a common word
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
    """Records of one channel and model in ChromaDB.

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

    def __init__(self, model: str, dim: int | None, path: str | os.PathLike | None = None, url: str | None = None,
                 channel: str = "clap", hnsw: dict | None = None):  # fmt: skip
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            connect = lambda: chromadb.HttpClient(host=parsed.hostname or "localhost", port=parsed.port or 8000,  # noqa: E731
                                                  ssl=parsed.scheme == "https", settings=settings)  # fmt: skip
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
        # the text channel's words, in an inverted index beside an embedded store (words.py); a server's are scanned
        with_words = channel == "text" and path is not None and not url and words_available()
        self.words = WordIndex(self.path / f"{self.collection.name}.words.sqlite3") if with_words else None
        self._words_checked = False
        self._has_records = False
        self._background: tuple[np.ndarray, int] | None = None

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

    def add(self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[dict],
            documents: Sequence[str] | None = None):  # fmt: skip
        """Upsert records in the order given (each file's first record first), in batches the server accepts."""
        if len(ids) != len(embeddings) or len(ids) != len(metadatas):
            raise ValueError(f"Expected as many ids, embeddings and metadatas, got {len(ids)}, "
                             f"{len(embeddings)} and {len(metadatas)}")  # fmt: skip
        self._writable()
        self._has_records = self._has_records or len(ids) > 0
        self._background = None
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
        if self.words:
            self.words.unsynced()
        for lo in range(0, len(ids), self.batch_size):
            hi = lo + self.batch_size
            self.collection.update(ids=list(ids[lo:hi]), metadatas=list(metadatas[lo:hi]))
        if self.words:
            self.words.update(ids, metadatas)

    def delete_file(self, path: str):
        self._writable()
        self._background = None
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
        """The number of records; a scan, O(records) (42 ms at 1M): not for the query path."""
        return self.collection.count()

    def has_records(self) -> bool:
        """Whether the store holds anything; counted once, then remembered once true (for the query path)."""
        if not self._has_records:
            self._has_records = self.count() > 0
        return self._has_records

    def background(self, size: int = BACKGROUND_SIZE) -> tuple[np.ndarray, int]:
        """A fixed sample of the stored vectors (at most ``size``, from evenly spaced places in the collection)
        and the number of records: what a query scores on this channel in general. Kept until this object writes.
        """
        if self._background is None:
            count = self.count()
            slices = 1 if count <= size else BACKGROUND_SLICES
            step, per = count / slices, min(size, count) // slices
            vectors = [self.collection.get(limit=per, offset=int(i * step), include=["embeddings"])["embeddings"]
                       for i in range(slices)]  # fmt: skip
            found = [np.asarray(v, np.float32) for v in vectors if v is not None and len(v)]
            self._background = (np.concatenate(found) if found else np.zeros((0, self.dim or 0), np.float32), count)
        return self._background

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
        return self.text_matches(phrase_pattern(words), limit=limit)

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

    def get(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray, list[dict]]:
        """The stored ids, vectors (shape = (n, dim)) and metadata of ``ids``; unknown ids are left out."""
        got = self.collection.get(ids=list(ids), include=["metadatas", "embeddings"])
        return got["ids"], np.asarray(got["embeddings"], np.float32), got["metadatas"]

    def query(self, embeddings: np.ndarray, n: int, clause: dict | None = None) -> list[list[SegmentMatch]]:
        """The ``n`` nearest records for each query vector, best first."""
        if len(embeddings) == 0:
            return []
        res = self.collection.query(  # fewer than n records (or none) is fine; count() would cost O(records)
            query_embeddings=np.asarray(embeddings, np.float32), n_results=n, where=clause or None,
            include=["metadatas", "distances", "documents"],
        )  # fmt: skip
        documents = res.get("documents") or [[None] * len(ids) for ids in res["ids"]]
        return [
            [SegmentMatch(i, 1.0 - float(d), m, doc) for i, d, m, doc in zip(ids, dists, metas, docs or [None] * len(ids))]
            for ids, dists, metas, docs in zip(res["ids"], res["distances"], res["metadatas"], documents)
        ]

    def query_ids(self, embeddings: np.ndarray, n: int, clause: dict | None = None) -> list[list[tuple[str, float]]]:
        """Like :meth:`query`, ids and cosine similarities only: a tenth of the cost for a few hundred results."""
        if len(embeddings) == 0:
            return []
        res = self.collection.query(query_embeddings=np.asarray(embeddings, np.float32), n_results=n,
                                    where=clause or None, include=["distances"])  # fmt: skip
        return [[(i, 1.0 - float(d)) for i, d in zip(ids, dists)] for ids, dists in zip(res["ids"], res["distances"])]

    def matches(self, scored: Sequence[tuple[str, float]], vectors: bool = False) -> list[SegmentMatch]:
        """:class:`SegmentMatch` of ``(id, score)`` pairs, with their metadata, text and (on request) vector;
        unknown ids are left out."""
        if not scored:
            return []
        got = self.collection.get(ids=[i for i, _ in scored], include=["metadatas", "documents"] + ["embeddings"] * vectors)
        n = len(got["ids"])
        embeddings = np.asarray(got["embeddings"], np.float32) if vectors else [None] * n
        found = dict(zip(got["ids"], zip(got["metadatas"], got["documents"] or [None] * n, embeddings)))
        return [SegmentMatch(i, score, *found[i]) for i, score in scored if i in found]

    def best_files(
        self,
        queries: np.ndarray,
        n_files: int,
        filters: Filters | None = None,
        exclude_ids: Collection[str] = (),
        exclude_paths: Collection[str] = (),
        min_score: float | None = None,
        only_paths: Collection[str] | None = None,
        vectors: bool = False,
    ) -> list[SegmentMatch]:
        """Each file's best record for one or more query vectors (shape (n, dim) or (dim,)), best file first.

        With several query vectors (the windows of an example recording), each record scores its best similarity
        to any of them. At most ``n_files`` files; records scoring below ``min_score`` are left out, and so are the
        files in ``exclude_paths`` or, when given, not in ``only_paths``. With ``vectors`` each match carries its
        record's vector.

        The best record per file is picked from ids and scores alone and only the winners' metadata is fetched.
        Filters are checked here on the candidates' metadata, not by the store: Chroma evaluates a ``where`` in
        SQLite, 1.4-3.1 s at 1M records against 2.4 ms unfiltered (docs/BENCHMARKS.md, "Scale"). The search widens
        until it has ``n_files`` files or has seen every record; a filter that few candidates pass (RARE_FILTER)
        goes to the store after all, which is then the faster way.
        """
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        excluded = {file_key(p) for p in exclude_paths}
        if only_paths is not None and not only_paths:
            return []
        filtered = filters is not None and filters.active
        clause, in_store = where(None, only_paths), False
        known: dict[str, dict] = {}  # metadata fetched so far, by id
        n = max((16 if filtered else 4) * n_files, 32)  # ids alone are cheap (3 ms for 160 at 1M)
        while True:
            found = self.query_ids(queries, n, clause)
            exhausted = all(len(f) < n for f in found)  # every record was returned
            below = min_score is not None and any(score < min_score for f in found for _, score in f)
            if filtered:
                records, fetched = self._passing(found, filters, n_files, exclude_ids, excluded, known)
            else:
                records, fetched = [(i, score, None) for f in found for i, score in f], 0
            best = best_per_file(records, exclude_ids, excluded)
            if len(best) >= n_files or exhausted or below:
                break
            if filtered and not in_store:
                rare = len(records) * RARE_FILTER < fetched or n >= POST_FILTER_LIMIT
                if rare and where(filters) is not None:  # a rare extension or duration: the store's index
                    clause, in_store, n = where(filters, only_paths), True, max(4 * n_files, 32)
                    continue
                # as many more candidates as the files found so far say are needed, with a margin
                n = int(n * min(max(2.5 * n_files / max(len(best), 1), 2), 16))
                continue
            n *= 4
        # the filter fetched the winners' metadata; passages also need their text, which it did not fetch
        return self._winners(best, n_files, min_score, filtered and not vectors and self.channel == "clap", vectors)

    def _winners(self, best: dict, n_files: int, min_score, have_metadata: bool, vectors: bool) -> list[SegmentMatch]:
        """The ``n_files`` best of each file's best record, with their metadata (fetched unless it already was);
        ties are broken by path, then start."""
        chosen = sorted(best.values(), key=lambda b: b[0], reverse=True)
        if min_score is not None:
            chosen = [c for c in chosen if c[0][0] >= min_score]
        chosen = chosen[: n_files + 8]  # a few more than needed, so that ties at the cut are broken by path
        if have_metadata:
            found = [SegmentMatch(i, score, metadata) for (score, _, i), metadata in chosen]
        else:
            found = self.matches([(i, score) for (score, _, i), _ in chosen], vectors)
        return sorted(found, key=lambda m: (-m.score, m.metadata["path"], m.metadata["start_s"]))[:n_files]

    def _passing(self, found, filters: Filters, n_files: int, exclude_ids, excluded, known: dict[str, dict]):
        """The candidates that pass ``filters``, best first, fetching metadata (0.09 ms a record at 1M, ten times
        the search itself) only until ``n_files`` files pass: ``([(id, score, metadata)], records looked at)``."""
        scores: dict[str, float] = {}
        for f in found:  # several query vectors: each record's best score
            for i, score in f:
                if score > scores.get(i, -2.0):
                    scores[i] = score
        order = sorted(scores.items(), key=lambda kv: -kv[1])
        passing: list[tuple[str, float, dict]] = []
        step, at = max(12 * n_files, 32), 0  # one call costs 4 ms and 0.06 ms a record: few, large calls
        while at < len(order):
            chunk = order[at : at + step]
            missing = [i for i, _ in chunk if i not in known]
            if missing:
                got = self.collection.get(ids=missing, include=["metadatas"])
                known.update(zip(got["ids"], got["metadatas"]))
            passing += [(i, score, known[i]) for i, score in chunk if i in known and accepts(filters, known[i])]
            at += len(chunk)
            if len(best_per_file(passing, exclude_ids, excluded)) >= n_files:
                break
        return passing, at

    def _metadatas(self, clause: dict, page: int = 5000) -> Iterable[dict]:
        offset = 0
        while True:
            got = self.collection.get(where=clause, include=["metadatas"], limit=page, offset=offset)
            yield from got["metadatas"]
            if len(got["ids"]) < page:
                return
            offset += page
