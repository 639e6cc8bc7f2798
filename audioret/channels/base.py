"""Channels: each one a way of finding a file, with its own model, its own store collection and the same shape.

A channel indexes files into records (:mod:`audioret.store.records`) and, for a query, ranks files by their best
record. The pipeline (:mod:`audioret.indexing.pipeline`) drives every channel through the same calls:

1. ``current(record, stat, path)``: nothing to do for this file (planning; no model is loaded).
2. ``load()``: load the model(s), only when some file needs work; a ModelLoadError turns the channel off.
3. ``cutter(job, sr_in)``: in a decode thread, a :class:`Cutter` that turns the file's audio blocks (at its own
   rate) into the channel's pieces: CLAP windows, or chunks of 16-kHz speech. None when it needs no audio.
4. ``take(job, piece)``, ``finish(job, info, duration_s)`` or ``reuse(job)``: in the model thread.
5. ``ready()`` and, at the end, ``drain()``: the :class:`Output` records whose embeddings are done.

To add a channel, subclass :class:`Channel`, give it a store of its own (``Store(model, dim, channel=NAME)``)
and register it in :class:`audioret.library.Library`; docs/ARCHITECTURE.md walks through it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from ..indexing.plan import Job
from ..store.records import FileRecord


class Cutter(Protocol):
    def push(self, block: np.ndarray, last: bool) -> list:
        """The pieces that a block of audio at the file's own rate completes (``last``: the file's final block)."""


@dataclass(frozen=True)
class Output:
    """A file's records, ready to be written (or, with ``vectors`` None, only their metadata updated)."""

    job: Job
    channel: str
    ids: list[str]
    metadatas: list[dict]
    vectors: np.ndarray | None = None
    documents: list[str] | None = None

    @property
    def update_only(self) -> bool:
        return self.vectors is None


class Channel:
    """What every channel has; see the module docstring for the order of the calls."""

    name: str = ""
    store = None
    needs_audio: bool = True  # whether ``cutter`` wants the decoded audio
    # A function returning what this run's model records with its vectors (models.load.provenance: model revision and
    # precision); None accepts every stored record.
    provenance: Callable[[], dict] | None = None

    @cached_property
    def expected(self) -> dict:
        return self.provenance() if self.provenance is not None else {}

    def same_provenance(self, record: FileRecord) -> bool:
        """Whether the record's vectors came from this run's model revision and precision. A field a record lacks
        (written before it was kept) is taken as matching: those indexes were built at fp32, which every fp32
        backend reproduces to cosine >= 0.9999, so they need no re-embedding."""
        stored = record.metadata
        return all(stored.get(key, value) == value for key, value in self.expected.items())

    def provenance_fields(self, model) -> dict:
        """The provenance fields of new records: the expected ones, and the backend and precision that really ran."""
        return {**self.expected, "backend": getattr(model, "backend", "custom"),
                "precision": getattr(model, "precision", "fp32")}  # fmt: skip

    def begin(self, report) -> None:
        """A run starts; the channel may add what it measured to ``report`` (an :class:`IndexReport`)."""

    def current(self, record: FileRecord, st: os.stat_result, path: str) -> bool:
        """Whether the stored record of ``path`` is up to date (same size, mtime, settings and provenance)."""
        return (record.size, record.mtime_ns) == (st.st_size, st.st_mtime_ns) and self.same_provenance(record)

    def same_content(self, record: FileRecord | None, digest: str) -> bool:
        """Whether the stored record has this content (only metadata, or text beside the audio, changed) from this
        provenance."""
        return record is not None and record.hash == digest and self.same_provenance(record)

    def load(self) -> None:
        """Loads the model(s); raises ModelLoadError."""

    def cutter(self, job: Job, sr_in: int) -> Cutter:
        raise NotImplementedError

    def take(self, job: Job, piece) -> None:
        raise NotImplementedError

    def finish(self, job: Job, info, duration_s: float) -> None:
        """Every piece of the file has been taken; ``info`` is its header (:class:`audio.AudioInfo`) and
        ``duration_s`` its decoded (or, when no channel decoded it, probed) length."""
        raise NotImplementedError

    def reuse(self, job: Job) -> None:
        """The file's content is what the store holds: refresh what changed beside it."""
        raise NotImplementedError

    def drop(self, job: Job) -> None:
        """Forget a file that failed."""

    def ready(self) -> list[Output]:
        return []

    def drain(self) -> list[Output]:
        return self.ready()
