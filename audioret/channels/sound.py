"""The sound channel: CLAP embeddings of fixed windows of every file ("how it sounds").

At index time each file is resampled to 48 kHz and cut into exact 10-s windows (:class:`audio.Windower`) in a
decode thread; the model thread batches windows across files and embeds every batch at the same size (padded),
because a batched CPU matmul is not row-independent at the last bit: a window then gets the same bits whatever
shares its batch. A file's records are ready once all its windows are embedded.

At query time a text query goes through CLAP's text tower, an example recording through the audio tower; each
file is represented by its best window.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from .. import audio
from ..errors import AudioDecodeError, InputError
from ..measures import Measurer
from ..ranking.calibration import Background, judge
from ..ranking.examples import ExampleLaw
from ..ranking.fusion import Found
from ..ranking.nearest import best_files
from ..ranking.null import REFERENCE_PROMPTS
from ..ranking.threads import one_blas_thread
from ..store.records import SegmentMatch, file_fields, records
from ..types import Moment, Scope
from .base import Channel, Embedded, Output, Recent, provenances, scaled
from .feedback import moved

# Query-by-example uses at most this many windows of the example (the first minute at the default hop).
MAX_EXAMPLE_WINDOWS = 6
# An example whose loudest sample is under this (dBFS) is silent: BS.1770's absolute gate, -70 LUFS, measured on the
# peak. Digital silence, or a muted microphone's hiss, is near every quiet file to a sound model (a random CLAP put
# 6 s of zeros at cosine 0.999 to ESC-10 clips), so it is refused rather than answered.
SILENT_DBFS = -70.0


@dataclass
class _File:
    spans: list = field(default_factory=list)  # (start, end) of each window taken, in samples at 48 kHz
    vectors: list = field(default_factory=list)  # embeddings, in window order
    info: tuple = ()  # (sample_rate, channels, format) of the source
    finished: bool = False


class _Cutter:
    """Native-rate blocks -> 48-kHz windows (and, with a ``measurer``, the file's loudness on the way)."""

    def __init__(self, sr_in: int, window: int, hop: int, path: str, measurer: Measurer | None = None):
        self.resampler = audio.Resampler(sr_in, audio.SAMPLE_RATE, path)
        self.windower = audio.Windower(window, hop)
        self.measurer = measurer

    @property
    def measured(self) -> dict | None:
        """What the measurer found once the last block was in (``{"loudness_lufs": ...}``, or empty); None
        without a measurer."""
        return None if self.measurer is None else (self.measurer.result or {})

    def push(self, block: np.ndarray, last: bool) -> list[audio.Window]:
        if self.measurer is not None:
            self.measurer.push(block, last)
        out = self.windower.push(self.resampler.push(block, last))
        return out + self.windower.close() if last else out


def _cut(window: int, hop: int, job, sr_in: int, measure: bool = False) -> _Cutter:
    return _Cutter(sr_in, window, hop, job.path, Measurer(sr_in, job.path) if measure else None)


class SoundChannel(Channel):
    """CLAP windows in their own collection.

    Args:
        embedder: a function returning the loaded :class:`~audioret.models.clap.ClapEmbedder` (called only when needed).
        store: the channel's :class:`~audioret.store.chroma.Store` (a function returning it is accepted too).
        hop_s: seconds between window starts.
        batch_size: windows per forward pass.
        reference: a function returning the CLAP text embeddings of the fusion's reference prompts.
        provenance: a function returning what this run's model records with its vectors.
        weight: the channel's weight when a search gives none.
        model_name: the model's name, for ``audioret stats``.
        measure: measure each file's loudness while it is decoded (:mod:`audioret.measures`), for its tags.
    """

    name = "clap"
    title = "the sound channel (CLAP)"
    primary = True  # the channel every library has: a broken CLAP warns on the first search
    hears = True
    debias = True  # CLAP has hubs: files near every query (a random one puts the same file first for all)
    against_reference = True  # and clusters of similar files: scores are measured against unrelated queries' tops

    def __init__(
        self,
        embedder: Callable,
        store,
        hop_s: float = 7.5,
        batch_size: int = 8,
        reference: Callable[[], np.ndarray] | None = None,
        provenance: Callable[[], dict] | None = None,
        weight: float = 1.0,
        model_name: str = "",
        measure: bool = False,
    ):
        self._embedder, self._store, self.provenance = embedder, store, provenance
        self.measure = measure
        self._reference = reference or (lambda: self.embedder.embed_text(list(REFERENCE_PROMPTS)))
        self._reference_vectors: np.ndarray | None = None
        self._law: tuple = (None, None)  # (the store's sample, the ExampleLaw measured on it)
        self._queries = Recent()
        self.hop_s, self.batch_size, self.weight, self.model_name = float(hop_s), batch_size, weight, model_name
        self.hop = round(hop_s * audio.SAMPLE_RATE)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._files: dict = {}
        self._batch: list = []  # (job, window samples)
        self._rows: np.ndarray | None = None  # the batch's array, kept while a run lasts
        self._updates: list[Output] = []
        self._measurers: dict = {}  # job -> its Measurer (made in a decode thread, read once the file is done)
        self._measured: dict = {}  # job -> what a cluster's decode task measured (sent with the file's end)

    @property
    def store(self):
        return self._store() if callable(self._store) else self._store

    @property
    def embedder(self):
        return self._embedder()

    # -- indexing ------------------------------------------------------------------------------------------------

    def current(self, record, st: os.stat_result, path: str) -> bool:
        return super().current(record, st, path) and record.hop_s == self.hop_s

    def same_content(self, record, digest: str) -> bool:
        return super().same_content(record, digest) and record.hop_s == self.hop_s

    def load(self) -> None:
        embedder = self.embedder
        if embedder.sample_rate != audio.SAMPLE_RATE:
            raise InputError(f"Expected a {audio.SAMPLE_RATE} Hz model, got {embedder.sample_rate} Hz")
        if self.hop > embedder.window:
            raise InputError(f"hop_s must not exceed the model's window ({embedder.window_s:g} s), got {self.hop_s}")

    def cutter(self, job, sr_in: int) -> _Cutter:
        measurer = self._measurers[job] = Measurer(sr_in, job.path) if self.measure else None
        return _Cutter(sr_in, self.embedder.window, self.hop, job.path, measurer)

    def cutting(self) -> Callable:
        return partial(_cut, self.embedder.window, self.hop, measure=self.measure)

    def measured(self, job, found: dict) -> None:
        """What the cutter of ``job`` measured in another process (a cluster's decode task), for its records."""
        self._measured[job] = found

    def take(self, job, window: audio.Window | Embedded) -> None:
        state = self._files.setdefault(job, _File())
        if isinstance(window, Embedded):  # embedded by a cluster's model actor, in window order
            state.spans.append(window.at)
            state.vectors.append(window.result)
            return
        state.spans.append((window.start, window.end))
        self._batch.append((job, window.samples))
        if len(self._batch) >= self.batch_size:
            self._embed()

    def finish(self, job, info: audio.AudioInfo, duration_s: float) -> None:
        state = self._files.setdefault(job, _File())
        state.finished = True
        state.info = (info.sample_rate, info.channels, info.format)

    def reuse(self, job) -> None:
        """Same content under a new modification time: record the new size and mtime, so the next scan skips it."""
        found = self.store.file_records(job.path)
        metadatas = [{**m.metadata, "size": job.stat.st_size, "mtime_ns": job.stat.st_mtime_ns} for m in found]
        self._updates.append(Output(job, self.name, [m.id for m in found], metadatas))

    def drop(self, job) -> None:
        self._files.pop(job, None)
        self._measurers.pop(job, None)
        self._measured.pop(job, None)
        self._batch = [(j, w) for j, w in self._batch if j is not job]

    def ready(self) -> list[Output]:
        out, self._updates = list(self._updates), []
        for job, state in list(self._files.items()):
            if state.finished and len(state.vectors) == len(state.spans):
                del self._files[job]
                out.append(self._output(job, state))
        return out

    def drain(self) -> list[Output]:
        if self._batch:
            self._embed()
        return self.ready()

    def rest(self) -> None:
        self._rows = None
        release = getattr(self.embedder, "release_memory", None)
        if release is not None:
            release()

    def _embed(self):
        # the batch, padded with silence to its fixed size, in one array kept for the run (pinned on CUDA:
        # ClapEmbedder.batch_buffer); the windows' own copies go before the model runs, which is when an index
        # run's memory peaks
        if self._rows is None:
            make = getattr(self.embedder, "batch_buffer", None)
            shape = (self.batch_size, self.embedder.window)
            self._rows = make(self.batch_size) if make is not None else np.empty(shape, np.float32)
        jobs, windows = [j for j, _ in self._batch], self._rows
        for i, (_, w) in enumerate(self._batch):
            windows[i] = w
        windows[len(jobs) :] = 0.0
        self._batch = []
        vectors = self.embedder.embed_audio(windows, pad_to=self.batch_size)
        for job, vector in zip(jobs, vectors):
            self._files[job].vectors.append(vector)

    def _vectors(self, windows: list[np.ndarray]) -> np.ndarray:
        """Windows embedded in batches of exactly ``batch_size`` (the last one padded): the same bits for a window
        whatever shares its batch, in this process or in a cluster's actor."""
        parts = [
            self.embedder.embed_audio(np.stack(windows[at : at + self.batch_size]), pad_to=self.batch_size)
            for at in range(0, len(windows), self.batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.embedder.dim), np.float32)

    def embed(self, pieces: list[audio.Window]) -> list[Embedded]:
        vectors = self._vectors([w.samples for w in pieces])
        return [Embedded((w.start, w.end), v) for w, v in zip(pieces, vectors)]

    def _output(self, job, state: _File) -> Output:
        sr = audio.SAMPLE_RATE
        common = file_fields(job.path, job.stat, job.digest, state.spans[-1][1] / sr, len(state.spans))
        sample_rate, channels, fmt = state.info or (0, 0, "")
        common.update(
            sample_rate=sample_rate,
            channels=channels,
            format=fmt,
            hop_s=self.hop_s,
            **self.provenance_fields(self.embedder),
        )
        measurer = self._measurers.pop(job, None)
        common.update((measurer.result or {}) if measurer is not None else self._measured.pop(job, {}))
        ids, metadatas = records(common, [(start / sr, end / sr, {}) for start, end in state.spans], self.store.key)
        return Output(job, self.name, ids, metadatas, np.stack(state.vectors))

    def written(self, out: Output, report) -> None:
        report.segments += len(out.ids)
        report.audio_s += out.metadatas[-1]["end_s"]

    # -- searching -----------------------------------------------------------------------------------------------

    @property
    def model(self):
        return self.embedder

    @staticmethod
    def found(match: SegmentMatch, evidence: float, beyond: float | None = None, chance: float = 1.0) -> Found:
        """What a window adds to a hit: its time range, its id for "more like this", "sounds like"."""
        m = match.metadata
        span = (float(m["start_s"]), float(m["end_s"]))
        return Found(match, evidence, "sound", match.score, span, match.id, "sounds like", beyond=beyond, chance=chance)

    def reference(self) -> np.ndarray:
        """The CLAP text embeddings of the fusion's reference queries (computed once; kept beside an export)."""
        if self._reference_vectors is None:
            self._reference_vectors = self._reference()
        return self._reference_vectors

    def rank(self, request, n_files: int) -> list[Found]:
        """Each file's best window for a text query, best first, with its evidence (:mod:`audioret.ranking`); with
        feedback, the query moved towards the files liked and away from the others (Rocchio)."""
        query = self.embedder.embed_text([request.query.text])
        feedback = request.feedback
        taught = bool(feedback) and bool(feedback.liked_by(self.name) or feedback.unliked)
        if taught:
            query = moved(query[0], self.store, feedback, self.name)[None]
        # a query moved towards files' own sound is not what the reference prompts measure (null.informative)
        return self._rank(query, self.reference(), n_files, request.scope, gated=not taught)

    def rank_vectors(self, vectors: np.ndarray, n_files: int, scope: Scope = Scope()) -> list[Found]:
        """Each file's best window for one or more audio embeddings (its best similarity to any of them), with
        evidence."""
        return self._rank(vectors, None, n_files, scope)

    def _rank(self, vectors, reference, n_files: int, scope: Scope, gated: bool = True) -> list[Found]:
        """Text queries (``reference`` given) are calibrated against the reference prompts, each file's bias out;
        an example recording against what the library's own files reach for their nearest other file
        (:mod:`audioret.ranking.examples`), no bias out (an exact copy must come first, whatever its bias), weighed
        by whether the model's prompts know anything here; in a library of fewer than 8 files, against the plain
        background."""
        queries = np.atleast_2d(np.asarray(vectors, np.float32))
        matches = best_files(self.store, queries, n_files, scope, vectors=True)
        if not matches:
            return []
        sample, count = self.store.background()
        text = reference is not None
        if not text and (law := self._example_law(sample, count)) is not None:
            with one_blas_thread():
                e = law.evidence([m.score for m in matches], (sample @ queries.T).max(axis=1))
            gate = Background.remembered(sample, count, self.reference(), self.debias).informative()  # prompts' say
            return [self.found(m, float(x)) for m, x in zip(matches, gate * e)]
        background = Background.remembered(sample, count, reference if text else sample[:0], self.debias and text)
        candidates = np.stack([m.vector for m in matches])
        e, beyond = judge(
            [m.score for m in matches], candidates, queries, background, self.against_reference and text, gated
        )
        chance = background.informative() if text and gated else 1.0  # what its chance tops count for (fusion)
        return [self.found(m, float(x), float(b), chance) for m, x, b in zip(matches, e, beyond)]

    def _example_law(self, sample: np.ndarray, count: int) -> ExampleLaw | None:
        """What an example's nearest file must reach here (ranking/examples.py), kept with the store's sample."""
        if self._law[0] is not sample:
            files = self.store.background_files()
            self._law = (sample, ExampleLaw.of(sample, np.unique(files, return_inverse=True)[1], count))
        return self._law[1]

    def embed_example(self, example) -> np.ndarray:
        """The audio embeddings of an example recording's first windows (a path, or mono float32 at 48 kHz), cut
        like the library's: shape (n, dim)."""
        windows = example_windows(example, self.embedder.window, self.hop_s)
        return self.embedder.embed_audio(windows)

    def segment(self, segment_id: str) -> tuple[np.ndarray, dict] | None:
        """A stored window's vector and metadata, or None."""
        ids, vectors, metadatas = self.store.get([segment_id])
        return (vectors, metadatas[0]) if ids else None

    def moments(self, path: str, text: str) -> list[Moment]:
        windows = self.store.file_records(path)
        if not windows:
            return []
        return scaled(windows, self.store.file_vectors(path) @ self.embed_query(text), self.name)

    def embed_query(self, text: str) -> np.ndarray:
        """A text query's CLAP embedding, shape (dim,); the last few are kept."""
        return self._queries.get(text, lambda: self.embedder.embed_text([text])[0])

    def stats(self, complete: dict) -> dict:
        return {
            "segments": self.store.count(),
            "clap_model": self.model_name,
            "clap_pipeline": provenances(complete.values()),
            "hop_s": self.hop_s,
        }


def example_windows(example: str | os.PathLike | np.ndarray, window: int, hop_s: float) -> np.ndarray:
    """The first MAX_EXAMPLE_WINDOWS windows of an example recording (a path, or mono samples at 48 kHz:
    :func:`audio.samples`), cut like the library's: shape (n, window), float32. :class:`InputError` where they are
    silent (SILENT_DBFS)."""
    if not isinstance(example, (str, os.PathLike)):
        name, blocks = "<array>", iter([audio.samples(example)])
    else:
        name, (_, blocks) = str(example), audio.stream(example)
    chosen = []
    for w in audio.windows(blocks, window, min(window, round(hop_s * audio.SAMPLE_RATE))):
        chosen.append(w.samples)
        if len(chosen) == MAX_EXAMPLE_WINDOWS:
            break
    if not chosen:
        raise AudioDecodeError(name, "contains no audio samples")
    windows = np.stack(chosen)
    peak = float(np.abs(windows).max())
    if peak < 10 ** (SILENT_DBFS / 20):
        loudest = "it holds only zeros" if peak == 0 else f"its loudest sample is at {20 * np.log10(peak):.0f} dBFS"
        span = (len(chosen) - 1) * min(hop_s, window / audio.SAMPLE_RATE) + window / audio.SAMPLE_RATE
        read = f"'s first {span:.0f} s (what is read of it)" if len(chosen) == MAX_EXAMPLE_WINDOWS else ""
        raise InputError(
            f"The example{read} is silent ({loudest}; a sound reaches {SILENT_DBFS:.0f} dBFS): there is nothing to "
            "compare. Choose a recording that holds the sound, or check that the microphone is on"
        )
    return windows
