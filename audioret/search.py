"""Nearest-segment search, grouped per file.

A query (one or more vectors) is run against the segment store; each file is represented by its best-matching
segment, and files are ranked by that segment's cosine similarity. Folder filters are applied after the vector
search (Chroma's metadata filters have no prefix match), so the search widens until it has ``k`` files or has
seen the whole collection.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .store import SegmentMatch, Store


@dataclass(frozen=True)
class Hit:
    """One ranked file and its best-matching segment."""

    rank: int  # 1-based
    path: str
    start_s: float  # the matching segment's time range in the file
    end_s: float
    score: float  # cosine similarity of the best segment, in [-1, 1]
    segment_id: str  # pass to Library.similar() for "more like this"
    duration_s: float  # the whole file's

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Filters:
    """Restrict results to a folder (and its subfolders), file extensions and/or a file duration range."""

    folder: str | None = None
    extensions: tuple[str, ...] | None = None  # without dots, lower case: ("wav", "flac")
    min_duration_s: float | None = None
    max_duration_s: float | None = None

    def __post_init__(self):
        if self.folder is not None:
            object.__setattr__(self, "folder", os.path.abspath(self.folder))
        if self.extensions is not None:
            object.__setattr__(self, "extensions", tuple(e.lower().lstrip(".") for e in self.extensions))

    def where(self) -> dict | None:
        """The part Chroma can filter on: extension and duration."""
        clauses = []
        if self.extensions:
            clauses.append({"ext": {"$in": list(self.extensions)}})
        if self.min_duration_s is not None:
            clauses.append({"duration_s": {"$gte": float(self.min_duration_s)}})
        if self.max_duration_s is not None:
            clauses.append({"duration_s": {"$lte": float(self.max_duration_s)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, metadata: dict) -> bool:
        if self.folder is None:
            return True
        path = metadata["path"]
        return path.startswith(self.folder.rstrip(os.sep) + os.sep)


def search_vectors(
    store: Store,
    queries: np.ndarray,
    k: int = 10,
    filters: Filters | None = None,
    exclude_ids: Collection[str] = (),
    exclude_paths: Collection[str] = (),
) -> list[Hit]:
    """The top ``k`` files for one or more query vectors (shape = (n, dim) or (dim,)).

    With several query vectors (the windows of an example recording), each segment scores its best similarity
    to any of them.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    queries = np.atleast_2d(np.asarray(queries, np.float32))
    filters = filters or Filters()
    total = store.count()
    n = max(4 * k, 32)
    while True:
        best = _best_per_file(store.query(queries, n, filters.where()), filters, exclude_ids, exclude_paths)
        if len(best) >= k or n >= total:
            break
        n *= 4
    ranked = sorted(best.values(), key=lambda m: (-m.score, m.metadata["path"], m.metadata["start_s"]))[:k]
    return [
        Hit(
            rank=i + 1,
            path=m.metadata["path"],
            start_s=float(m.metadata["start_s"]),
            end_s=float(m.metadata["end_s"]),
            score=m.score,
            segment_id=m.id,
            duration_s=float(m.metadata["duration_s"]),
        )
        for i, m in enumerate(ranked)
    ]


def _best_per_file(
    results: Sequence[Sequence[SegmentMatch]], filters: Filters, exclude_ids, exclude_paths
) -> dict[str, SegmentMatch]:
    best: dict[str, SegmentMatch] = {}
    for matches in results:
        for m in matches:
            path = m.metadata["path"]
            if m.id in exclude_ids or path in exclude_paths or not filters.accepts(m.metadata):
                continue
            current = best.get(path)
            if current is None or (m.score, -m.metadata["start_s"]) > (current.score, -current.metadata["start_s"]):
                best[path] = m
    return best
