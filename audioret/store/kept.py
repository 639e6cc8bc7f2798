"""The records a query fetched, kept by an embedded store until its files change: a warm query then fetches
only the records it has not seen. Any write, by this process or another, changes the store's SQLite file or its
write-ahead log, and that drops them all."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Records an embedded store keeps in memory for the query path, so that a warm query asks Chroma only for ids and
# scores; dropped whenever the store's files change (docs/BENCHMARKS.md, "Warm query").
KEPT_RECORDS = 8192


class KeptRecords:
    """Up to ``limit`` records of the store at ``path`` (id -> metadata, text, vector), oldest dropped first.

    Args:
        path: the embedded store's directory, whose ``chroma.sqlite3`` (and its log) stamp the kept records
            (None: a server's store, which keeps nothing).
        limit: the most records kept.
    """

    def __init__(self, path: Path | None, limit: int = KEPT_RECORDS):
        self.path, self.limit = path, limit
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
        """Drops every kept record (this process wrote)."""
        with self._lock:
            self._kept.clear()

    def _drop_if_changed(self) -> None:
        stamp = []
        for name in ("chroma.sqlite3", "chroma.sqlite3-wal"):
            try:
                st = os.stat(self.path / name)
                stamp.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stamp.append(None)
        if tuple(stamp) != self._stamp_seen:
            self._kept.clear()
            self._stamp_seen = tuple(stamp)
