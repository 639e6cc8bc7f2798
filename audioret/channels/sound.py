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
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np

from .. import audio
from ..errors import InputError
from ..ranking.calibration import REFERENCE_PROMPTS, Background, Found, calibrate
from ..store.records import file_fields, records
from ..types import Feedback, Filters
from .base import Channel, Output


@dataclass
class _File:
    spans: list = field(default_factory=list)  # (start, end) of each window taken, in samples at 48 kHz
    vectors: list = field(default_factory=list)  # embeddings, in window order
    info: tuple = ()  # (sample_rate, channels, format) of the source
    finished: bool = False


class _Cutter:
    """Native-rate blocks -> 48-kHz windows."""

    def __init__(self, sr_in: int, window: int, hop: int, path: str):
        self.resampler = audio.Resampler(sr_in, audio.SAMPLE_RATE, path)
        self.windower = audio.Windower(window, hop)

    def push(self, block: np.ndarray, last: bool) -> list[audio.Window]:
        out = self.windower.push(self.resampler.push(block, last))
        return out + self.windower.close() if last else out


class SoundChannel(Channel):
    """CLAP windows in their own collection.

    Args:
        embedder: a function returning the loaded :class:`~audioret.models.clap.ClapEmbedder` (called only when needed).
        store: the channel's :class:`~audioret.store.chroma.Store` (a function returning it is accepted too).
        hop_s: seconds between window starts.
        batch_size: windows per forward pass.
    """

    name = "clap"
    debias = True  # CLAP has hubs: files near every query (a random one puts the same file first for all)
    against_reference = True  # and clusters of similar files: scores are measured against unrelated queries' tops

    def __init__(self, embedder: Callable, store, hop_s: float = 7.5, batch_size: int = 8,
                 reference: Callable[[], np.ndarray] | None = None, provenance: Callable[[], dict] | None = None):  # fmt: skip
        self._embedder, self._store, self.provenance = embedder, store, provenance
        self._reference = reference or (lambda: self.embedder.embed_text(list(REFERENCE_PROMPTS)))
        self.hop_s, self.batch_size = float(hop_s), batch_size
        self.hop = round(hop_s * audio.SAMPLE_RATE)
        self._files: dict = {}
        self._batch: list = []  # (job, window samples)
        self._updates: list[Output] = []

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
        return _Cutter(sr_in, self.embedder.window, self.hop, job.path)

    def take(self, job, window: audio.Window) -> None:
        self._files.setdefault(job, _File()).spans.append((window.start, window.end))
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

    def _embed(self):
        vectors = self.embedder.embed_audio(np.stack([w for _, w in self._batch]), pad_to=self.batch_size)
        for (job, _), vector in zip(self._batch, vectors):
            self._files[job].vectors.append(vector)
        self._batch = []

    def _output(self, job, state: _File) -> Output:
        sr = audio.SAMPLE_RATE
        common = file_fields(job.path, job.stat, job.digest, state.spans[-1][1] / sr, len(state.spans))
        sample_rate, channels, fmt = state.info or (0, 0, "")
        common.update(sample_rate=sample_rate, channels=channels, format=fmt, hop_s=self.hop_s,
                      **self.provenance_fields(self.embedder))  # fmt: skip
        ids, metadatas = records(common, [(start / sr, end / sr, {}) for start, end in state.spans])
        return Output(job, self.name, ids, metadatas, np.stack(state.vectors))

    # -- searching -----------------------------------------------------------------------------------------------

    def rank_text(self, text: str, n_files: int, filters: Filters | None = None,
                  only_paths: Collection[str] | None = None, exclude_paths: Collection[str] = (),
                  feedback: Feedback | None = None) -> list[Found]:  # fmt: skip
        """Each file's best window for a text query, best first, with its evidence (:mod:`audioret.ranking.calibration`);
        with ``feedback``, the query moved towards the files liked and away from the others (Rocchio)."""
        query = self.embedder.embed_text([text])
        if feedback:
            query = feedback.move(query[0], self.store)[None]
        return self._rank(query, self._reference(), n_files, filters, (), exclude_paths, only_paths)

    def rank_vectors(self, vectors: np.ndarray, n_files: int, filters: Filters | None = None,
                     exclude_ids: Collection[str] = (), exclude_paths: Collection[str] = (),
                     only_paths: Collection[str] | None = None) -> list[Found]:  # fmt: skip
        """Each file's best window for one or more audio embeddings (its best similarity to any of them), with
        evidence."""
        return self._rank(vectors, None, n_files, filters, exclude_ids, exclude_paths, only_paths)

    def _rank(self, vectors, reference, n_files, filters, exclude_ids, exclude_paths, only_paths) -> list[Found]:
        """Text queries (``reference`` given) are calibrated against the reference prompts, each file's bias out;
        an example recording against the plain background (an exact copy must come first, whatever its bias)."""
        queries = np.atleast_2d(np.asarray(vectors, np.float32))
        matches = self.store.best_files(queries, n_files, filters, exclude_ids, exclude_paths, only_paths=only_paths,
                                        vectors=True)  # fmt: skip
        if not matches:
            return []
        sample, count = self.store.background()
        text = reference is not None
        background = Background.remembered(sample, count, reference if text else sample[:0], self.debias and text)
        candidates = np.stack([m.vector for m in matches])
        e = calibrate([m.score for m in matches], candidates, queries, background, self.against_reference and text)
        return [Found(m, float(x), "clap") for m, x in zip(matches, e)]
