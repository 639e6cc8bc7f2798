"""The shape every channel has: how the pipeline drives it at index time, and how a search asks it.

A channel is a way of finding a file, with its own model and its own store collection. It indexes files into
records (:mod:`audioret.store.records`) and, for a query, ranks files by their best record. The pipeline
(:mod:`audioret.indexing.pipeline`) drives every channel through the same calls:

1. ``current(record, stat, path)``: nothing to do for this file (planning; no model is loaded).
2. ``load()``: load the model(s), only when some file needs work; a ModelLoadError turns the channel off.
3. ``cutter(job, sr_in)``: in a decode thread, a :class:`Cutter` that turns the file's audio blocks (at its own
   rate) into the channel's pieces: CLAP windows, or chunks of 16-kHz speech. None when it needs no audio.
4. ``take(job, piece)``, ``finish(job, info, duration_s)`` or ``reuse(job)``: in the model thread.
5. ``ready()`` and, at the end, ``drain()``: the :class:`Output` records whose embeddings are done.

On a cluster (:mod:`audioret.indexing.cluster`) the model step runs elsewhere: a decode task cuts the pieces with
``cutting()`` (a function another process can call), a model actor turns a batch of them into :class:`Embedded`
pieces with ``embed(pieces)``, and the driver's channel takes those as it takes raw pieces, so that it builds the
same records.

A search (:func:`audioret.search.search`) asks each channel with a positive weight to ``rank`` the query within a
:class:`~audioret.types.Scope` and gets back each file's evidence (:class:`~audioret.ranking.fusion.Found`);
``narrow`` lets a channel that holds words turn the query's required phrases and excluded words into the scope.
The library's file list and counts ask each channel too (``files``, ``stats``).

To add a channel, subclass :class:`Channel` and add its factory to :data:`audioret.channels.registry.CHANNELS`;
docs/ARCHITECTURE.md walks through it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from ..indexing.plan import Job
from ..store.records import FileRecord
from ..types import Moment


class Cutter(Protocol):
    def push(self, block: np.ndarray, last: bool) -> list:
        """The pieces that a block of audio at the file's own rate completes (``last``: the file's final block)."""


@dataclass(frozen=True)
class Embedded:
    """A piece whose model step ran in another process: where it lies in its file (in the channel's own terms: a
    window's span, a speech piece's offset and length) and what the model made of it (a vector, a transcript)."""

    at: tuple
    result: object


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

    name: str = ""  # the channel's key in weights, scores and reports
    title: str = ""  # how the page names it: "the sound channel (CLAP)" (empty: "the NAME channel")
    store = None
    needs_audio: bool = True  # whether ``cutter`` wants the decoded audio
    weight: float = 1.0  # its weight in a search when the caller gives none
    # Whether its model is checked on every search, even before its store holds anything (so a broken model warns
    # at once); other channels are asked only once their store holds records.
    primary: bool = False
    hears: bool = False  # whether it answers an example recording and "more like this" (``rank_vectors``)
    reads_words: bool = False  # whether it holds the files' words, and so decides a query's phrases and -words
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
        return {
            **self.expected,
            "backend": getattr(model, "backend", "custom"),
            "precision": getattr(model, "precision", "fp32"),
        }

    def reset(self) -> None:
        """Forgets what an earlier indexing run left: a run starts with a plan (called before planning)."""
        self.__dict__.pop("expected", None)

    def begin(self, report) -> None:
        """A run starts; the channel may add what it measured to ``report`` (an :class:`IndexReport`)."""

    def current(self, record: FileRecord, st: os.stat_result, path: str) -> bool:
        """Whether the stored record of ``path`` is up to date (same size, mtime, settings and provenance)."""
        return (record.size, record.mtime_ns) == (st.st_size, st.st_mtime_ns) and self.same_provenance(record)

    def same_content(self, record: FileRecord | None, digest: str) -> bool:
        """Whether the stored record has this content (only metadata, or text beside the audio, changed) from this
        provenance. It depends on ``digest`` only through ``record.hash == digest``: a cluster's driver asks it with
        the stored hash before the file is read, and its decode task compares the hashes."""
        return record is not None and record.hash == digest and self.same_provenance(record)

    def load(self) -> None:
        """Loads the model(s); raises ModelLoadError."""

    def prepare(self, job: Job) -> None:
        """Per-file work that needs no model (reading what the file says of itself), called in a decode thread
        before the file's end reaches the model thread. A channel keeps what it reads until ``finish`` or ``reuse``;
        where it was not called (a cluster's decode task), those read it themselves."""

    def cutter(self, job: Job, sr_in: int) -> Cutter:
        return self.cutting()(job, sr_in)

    def cutting(self) -> Callable[[Job, int], Cutter]:
        """A function ``(job, sr_in) -> Cutter`` that another process can call (picklable: no model in it)."""
        raise NotImplementedError

    def embed(self, pieces: list) -> list[Embedded]:
        """The model step alone, on pieces of any files (in a cluster's model actor, the model loaded there)."""
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

    def written(self, out: Output, report) -> None:
        """``out``'s records were written: add what they hold to ``report`` (an :class:`IndexReport`)."""

    def drain(self) -> list[Output]:
        return self.ready()

    def rest(self) -> None:
        """The run's embedding is over: free what the model keeps between calls (it stays loaded)."""

    # -- searching -----------------------------------------------------------------------------------------------

    @property
    def model(self):
        """The channel's loaded model (loaded on first use); raises ModelLoadError."""
        raise NotImplementedError

    def holds_records(self) -> bool:
        return self.store.has_records()

    def rank(self, request, n_files: int) -> list:
        """Each file's best record for a text query (a :class:`~audioret.search.Request`, whose scope it keeps to),
        best first, with its evidence: a list of :class:`~audioret.ranking.fusion.Found`."""
        return []

    def narrow(self, query, scope):
        """``scope`` narrowed by the query's required phrases and excluded words, for a channel that holds words;
        the scope unchanged otherwise."""
        return scope

    def moments(self, path: str, text: str) -> list:
        """How well each stretch of one file matches a text query (:class:`~audioret.types.Moment`)."""
        return []

    def files(self):
        """``(complete, incomplete paths)`` of the files this channel holds (see
        :func:`audioret.store.records.complete_files`)."""
        return self.store.files()

    def stats(self, complete: dict) -> dict:
        """What ``audioret stats`` says about this channel, given its complete files."""
        return {}

    def heard_speech(self, record: FileRecord) -> bool | None:
        """Whether the channel heard speech in a file it holds (None: it does not listen for speech)."""
        return None


class Recent:
    """The last few values computed, by key (a channel's query embeddings, for a file's timeline)."""

    def __init__(self, size: int = 64):
        self.size, self.values = size, {}

    def get(self, key, compute: Callable):
        if key not in self.values:
            if len(self.values) >= self.size:
                self.values.pop(next(iter(self.values)))
            self.values[key] = compute()
        return self.values[key]


def scaled(records: Sequence, cosines: np.ndarray, channel: str) -> list[Moment]:
    """Each record's cosine with a query, scaled within the file to 0-1 (its best stretch is 1)."""
    low, high = float(np.min(cosines)), float(np.max(cosines))
    span = high - low if high > low else 1.0
    return [
        Moment(
            float(r.metadata["start_s"]),
            float(r.metadata["end_s"]),
            channel,
            (float(c) - low) / span if high > low else 1.0,
        )
        for r, c in zip(records, cosines)
    ]


def provenances(records: Iterable[FileRecord], role: str = "audio") -> str:
    """Which model provenances (backend and precision) built a channel's records: ``"openvino fp32 (120 files)"``,
    several joined by "; " when the index holds vectors of more than one (files indexed before the provenance was
    kept say "unrecorded"). A graph of ``role`` that the backend hands to another runtime names both
    (``"onnxruntime fp32, under openvino"``: :func:`audioret.models.backends.runtime`)."""
    from ..models.backends import runtime

    counts = Counter()
    for r in records:
        m = r.metadata
        if "backend" not in m:
            counts["unrecorded"] += 1
            continue
        backend, precision = m["backend"], m.get("precision", "fp32")
        ran = runtime(backend, role, precision) if backend in ("openvino", "onnxruntime", "torch") else backend
        counts[f"{ran} {precision}" + (f", under {backend}" if ran != backend else "")] += 1
    return "; ".join(f"{name} ({n} file{'s' * (n != 1)})" for name, n in counts.most_common()) or "none"
