"""The record schema: collection names, ids, the metadata every channel writes, and what a filter means for a record.

A channel stores a file as records numbered 0..n-1 (CLAP windows, text passages): the id is
``<20 hex chars of HMAC-SHA-256 of the path>-<6-digit index>``, keyed with the index's secret (:mod:`.idkey`),
so writing a file again is an idempotent upsert, a record's file is known from its id alone, and an id shown to a
visitor tells nothing about the path. Every record carries the same file-level fields (path, content
hash, size, mtime, duration, record count) plus its own index, time range and ``is_last`` flag: a file counts
as indexed only when its first and last records are stored with the same hash (:func:`complete_files`).

Together with :mod:`audioret.store.chroma` this module is the only place that builds ids, parses them, or turns
:class:`~audioret.types.Filters` into store clauses.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def collection_name(model: str, channel: str | None = None) -> str:
    """A valid Chroma collection name for a model id or a local model directory, and the channel that holds it
    (None: the first channel's, named before there were others)."""
    if os.path.isdir(model):
        stem = Path(model).resolve().name
        digest = hashlib.sha1(str(Path(model).resolve()).encode()).hexdigest()[:8]
        raw = f"local-{stem}-{digest}"
    else:
        raw = model.replace("/", "--")
    slug = re.sub(r"[^a-zA-Z0-9._-]", "-", raw).strip("-._")
    prefix = "audioret-" if channel is None else f"audioret-{channel}-"
    return f"{prefix}{slug}"[:200].rstrip("-._")


@dataclass(slots=True)
class SegmentMatch:
    """A stored record that matched a query. Not frozen, as :class:`.ranking.fusion.Found` (a frozen dataclass
    sets each field through ``object.__setattr__``, 2.2 us against 0.7 us, and a search makes one for each record
    its stores return); nothing changes one after it is made."""

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
    of the path (the ids of indexes made before keys, which :func:`.idkey.migrate` replaces)."""
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
        {
            **common,
            **extra,
            "n_segments": n,
            "seg_index": i,
            "start_s": float(start),
            "end_s": float(end),
            "is_last": i == n - 1,
        }
        for i, (start, end, extra) in enumerate(spans)
    ]
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


# A file's tags, on every record of it in every channel: ``tags`` (names, the list a filter tests), with their
# strengths and kinds in the same order, and ``tags_sig``: what they were judged with (the vocabulary and the rules).
TAG_FIELDS = ("tags", "tag_strengths", "tag_kinds", "tags_sig")


def tag_fields(tags: dict[str, tuple[str, float]], signature: str) -> dict:
    """The metadata of a file's tags (name -> (kind, strength)), strongest first; a field without tags is None
    (which removes it from a stored record: Chroma keeps no empty list)."""
    ordered = sorted(tags.items(), key=lambda kv: (-kv[1][1], kv[0]))
    if not ordered:
        return {"tags": None, "tag_strengths": None, "tag_kinds": None, "tags_sig": signature}
    return {
        "tags": [name for name, _ in ordered],
        "tag_strengths": [round(float(s), 4) for _, (_, s) in ordered],
        "tag_kinds": [kind for _, (kind, _) in ordered],
        "tags_sig": signature,
    }


def tags_of(metadata: dict) -> dict[str, float]:
    """A record's file tags: name -> strength 0-1, strongest first."""
    names, strengths = metadata.get("tags") or [], metadata.get("tag_strengths") or []
    return {name: float(s) for name, s in zip(names, list(strengths) + [1.0] * (len(names) - len(strengths)))}


def tag_kinds_of(metadata: dict) -> dict[str, str]:
    """A record's file tags: name -> kind ("sound", "user" ...)."""
    names, kinds = metadata.get("tags") or [], metadata.get("tag_kinds") or []
    return {name: kind for name, kind in zip(names, list(kinds) + ["user"] * (len(names) - len(kinds)))}
