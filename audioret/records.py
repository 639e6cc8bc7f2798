"""The record schema: ids, the metadata every channel writes, and what a filter means for a record.

A channel stores a file as records numbered 0..n-1 (CLAP windows, text passages): the id is
``<20 hex chars of HMAC-SHA-256 of the path>-<6-digit index>``, keyed with the index's secret (:mod:`audioret.idkey`),
so writing a file again is an idempotent upsert, a record's file is known from its id alone, and an id shown to a
visitor tells nothing about the path. Every record carries the same file-level fields (path, content
hash, size, mtime, duration, record count) plus its own index, time range and ``is_last`` flag: a file counts
as indexed only when its first and last records are stored with the same hash (:func:`complete_files`).

Together with :mod:`audioret.store` this module is the only place that builds ids, parses them, or turns
:class:`~audioret.types.Filters` into store clauses.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .types import Filters


@dataclass(frozen=True)
class SegmentMatch:
    """A stored record that matched a query."""

    id: str
    score: float  # cosine similarity, 1.0 = same direction
    metadata: dict
    document: str | None = None  # the text of a text-channel record
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # when asked for

    @property
    def path(self) -> str:
        return self.metadata["path"]


@dataclass(frozen=True)
class FileRecord:
    """What a channel's store knows about one fully indexed file (from its first record)."""

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


def file_key(path: str, key: bytes = b"") -> str:
    """The part of a record id that names its file: keyed with the index's secret ``key``; without one, the SHA-1
    of the path (the ids of indexes made before keys, which :func:`audioret.idkey.migrate` replaces)."""
    data = path.encode("utf-8", "surrogateescape")
    if not key:
        return hashlib.sha1(data).hexdigest()[:20]
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:20]


def segment_id(path: str, index: int, key: bytes = b"") -> str:
    """Deterministic id of record ``index`` of the file at ``path`` (an absolute path), keyed with ``key``."""
    return f"{file_key(path, key)}-{index:06d}"


def parse_id(record_id: str) -> tuple[str, int]:
    """``(file key, record index)`` of a record id."""
    key, _, index = record_id.rpartition("-")
    return key, int(index)


def file_fields(path: str, st: os.stat_result, digest: str, duration_s: float, n: int) -> dict:
    """The fields every record of a file carries, in every channel."""
    return {
        "path": path,
        "folder": os.path.dirname(path),
        "name": os.path.basename(path),
        "ext": os.path.splitext(path)[1].lower().lstrip("."),
        "hash": digest,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "duration_s": float(duration_s),
        "n_segments": n,
    }


def records(common: dict, spans: Sequence[tuple[float, float, dict]], key: bytes = b"") -> tuple[list[str], list[dict]]:
    """Ids (keyed with the store's ``key``) and metadata of a file's records: ``spans`` holds each record's
    (start_s, end_s, extra fields)."""
    n = len(spans)
    path = common["path"]
    ids = [segment_id(path, i, key) for i in range(n)]
    metadatas = [
        {**common, **extra, "n_segments": n, "seg_index": i, "start_s": float(start), "end_s": float(end),
         "is_last": i == n - 1}
        for i, (start, end, extra) in enumerate(spans)
    ]  # fmt: skip
    return ids, metadatas


def complete_files(firsts: Iterable[dict], lasts: Iterable[dict]) -> tuple[dict[str, FileRecord], set[str]]:
    """``(complete, incomplete paths)`` from the metadata of every first and every last record."""
    first_of = {m["path"]: m for m in firsts}
    last_of = {m["path"]: m for m in lasts}
    complete = {}
    for path, first in first_of.items():
        last = last_of.get(path)
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
    return complete, (set(first_of) | set(last_of)) - set(complete)


def is_under(path: str, roots: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``roots`` or inside one of them (absolute paths, no prefix matching)."""
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def where(filters: Filters | None, only_paths: Collection[str] | None = None) -> dict | None:
    """The part of ``filters`` the store evaluates itself (extension and duration), and ``only_paths``."""
    clauses = [{"path": {"$in": sorted(only_paths)}}] if only_paths is not None else []
    if filters is None:
        return clauses[0] if clauses else None
    if filters.extensions:
        clauses.append({"ext": {"$in": list(filters.extensions)}})
    if filters.min_duration_s is not None:
        clauses.append({"duration_s": {"$gte": float(filters.min_duration_s)}})
    if filters.max_duration_s is not None:
        clauses.append({"duration_s": {"$lte": float(filters.max_duration_s)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def word_pattern(word: str) -> str:
    """A regular expression (for the store's full-text search) matching ``word`` as a whole word, any case."""
    return rf"(?i)\b{re.escape(word)}\b"


def any_word_pattern(words: Sequence[str]) -> str:
    """A regular expression matching any of ``words`` as a whole word, any case: one scan for several words."""
    return r"(?i)\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"


def phrase_pattern(words: Sequence[str]) -> str:
    """A regular expression matching ``words`` in this order, separated by spaces or punctuation, any case."""
    return r"(?i)\b" + r"\W+".join(re.escape(w) for w in words) + r"\b"


def accepts(filters: Filters | None, metadata: Mapping) -> bool:
    """Whether a record passes every filter (the store's part included)."""
    if filters is None:
        return True
    if filters.folder is not None and not is_under(metadata["path"], [filters.folder]):
        return False
    if filters.folders is not None and not is_under(metadata["path"], filters.folders):
        return False
    if filters.extensions and metadata.get("ext") not in filters.extensions:
        return False
    duration = float(metadata.get("duration_s", 0.0))
    if filters.min_duration_s is not None and duration < filters.min_duration_s:
        return False
    return filters.max_duration_s is None or duration <= filters.max_duration_s


def best_per_file(
    scored: Iterable[tuple[str, float, dict | None]],
    exclude_ids: Collection[str] = (),
    exclude_files: Collection[str] = (),
) -> dict[str, tuple[tuple[float, int, str], dict | None]]:
    """Each file's best record among ``(id, score, metadata or None)``: file key -> ((score, -index, id), metadata).

    Ties go to the earlier record. Ids in ``exclude_ids`` and files whose key is in ``exclude_files`` are left out.
    """
    best: dict[str, tuple[tuple[float, int, str], dict | None]] = {}
    for record_id, score, metadata in scored:
        key, index = parse_id(record_id)
        if record_id in exclude_ids or key in exclude_files:
            continue
        candidate = (score, -index, record_id)
        if key not in best or candidate > best[key][0]:
            best[key] = (candidate, metadata)
    return best
