"""What an embedded store keeps in memory for the query path until its files change: the records a query
fetched (a warm query then fetches only the records it has not seen), and, for a small store, every record's
vector (its nearest records are then found exactly). Any write, by this process or another, changes the store's
SQLite file or its write-ahead log, and that drops them."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

# Records an embedded store keeps in memory for the query path, so that a warm query asks Chroma only for ids and
# scores; dropped whenever the store's files change (docs/BENCHMARKS.md, "Warm query").
KEPT_RECORDS = 8192
# A store of at most this many records is searched exactly, from its vectors in memory (at most 8 MB at 512-d):
# Chroma's graph search lost records of a store whose records were mostly near-copies of each other (docs/
# BENCHMARKS.md, "Scale": "Records the graph search could not reach").
EXACT_LIMIT = 4096


def stamp(path: Path) -> tuple:
    """The embedded store's files as they are now: any write changes it."""
    out = []
    for name in ("chroma.sqlite3", "chroma.sqlite3-wal"):
        try:
            st = os.stat(path / name)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


class KeptRecords:
    """Up to ``limit`` records of the store at ``path`` (id -> metadata, text, vector), oldest dropped first.

    Args:
        path: the embedded store's directory, whose ``chroma.sqlite3`` (and its log) stamp the kept records
            (None: a server's store, which keeps nothing).
        limit: the most records kept.
    """

    def __init__(self, path: Path | None, limit: int = KEPT_RECORDS):
        self.path, self.limit = path, limit
        self.vectors = AllVectors(path)  # a small store's, for exact search
        self._kept: dict[str, tuple[dict, str | None, np.ndarray | None]] = {}  # id -> metadata, text, vector
        self._stamp_seen: tuple | None = None
        self._lock = threading.Lock()

    def take(self, ids: Sequence[str]) -> dict[str, tuple[dict, str | None, np.ndarray | None]]:
        """The kept records among ``ids``, after dropping them all if the store's files changed."""
        with self._lock:
            self._drop_if_changed()
            return {i: self._kept[i] for i in ids if i in self._kept}

    def keep(self, fetched: dict) -> None:
        """Keeps the ``fetched`` records, dropping the oldest beyond the limit."""
        with self._lock:
            while self._kept and len(self._kept) + len(fetched) > self.limit:
                self._kept.pop(next(iter(self._kept)))
            if len(fetched) <= self.limit:
                self._kept.update(fetched)

    def forget(self) -> None:
        """Drops every kept record and vector (this process wrote)."""
        with self._lock:
            self._kept.clear()
        self.vectors.forget()

    def _drop_if_changed(self) -> None:
        now = stamp(self.path)
        if now != self._stamp_seen:
            self._kept.clear()
            self._stamp_seen = now


class AllVectors:
    """Every record's id and unit vector of an embedded store of at most ``limit`` records, loaded on first need
    and kept until the store's files change; None for a larger store (which is then not checked again).

    Args:
        path: the embedded store's directory (None: a server's store, searched by the server).
        limit: the most records searched exactly.
    """

    def __init__(self, path: Path | None, limit: int = EXACT_LIMIT):
        self.path, self.limit = path, limit
        self._held: tuple[list[str], np.ndarray] | None = None
        self._stamp_seen: tuple | None = None
        self.too_big = False
        self._lock = threading.Lock()

    def get(self, count: Callable[[], int], load: Callable[[], tuple[list[str], np.ndarray]]):
        """``(ids, unit vectors)``, from ``load()`` when the files changed; None when ``count()`` is over the limit
        (or the store is a server's: ``path`` None)."""
        with self._lock:
            if self.too_big or self.path is None:
                return None
            now = stamp(self.path)
            if now != self._stamp_seen:
                self._held, self._stamp_seen = None, now
                if count() > self.limit:
                    self.too_big = True
                    return None
                ids, vectors = load()
                vectors = np.asarray(vectors, np.float32).reshape(len(ids), -1) if len(ids) else np.zeros((0, 1))
                self._held = (list(ids), vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12))
            return self._held

    def forget(self) -> None:
        with self._lock:
            self._stamp_seen = None


def nearest(held: tuple[list[str], np.ndarray], queries: np.ndarray, n: int) -> list[list[tuple[str, float]]]:
    """The ``n`` records nearest each query by cosine, best first, from ``(ids, unit vectors)``: exactly."""
    ids, vectors = held
    queries = np.atleast_2d(np.asarray(queries, np.float32))
    k = min(n, len(ids))
    if k < 1:
        return [[] for _ in queries]
    queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    scores = queries @ vectors.T
    out = []
    for row in scores:
        top = np.argpartition(-row, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
        top = top[np.argsort(-row[top], kind="stable")]
        out.append([(ids[i], float(row[i])) for i in top])
    return out
