"""The text channel: what is said in a file and what is written about it, embedded with sentence-transformers.

Each file becomes passages (:func:`audioret.text.file_passages`): its name, tags, sidecar description and, where
Whisper heard speech, one passage per utterance with its time range. Speech is transcribed only where Silero VAD
hears it: a file without speech costs the VAD (hundreds of times faster than real time) and never reaches
Whisper. Long files are transcribed in 10-minute pieces, so memory stays bounded. The passages of many files are
embedded in one call. A file whose audio is unchanged but whose sidecar changed keeps its stored transcript and
only re-embeds the text.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import numpy as np

from .. import audio
from ..asr import ASR_SAMPLE_RATE
from ..errors import ModelLoadError, NoSpeechError
from ..records import SegmentMatch, file_fields, records
from ..text import file_passages, sidecar_signature
from ..types import Filters, IndexReport, Utterance
from . import Channel, Output

logger = logging.getLogger("audioret")

ASR_CHUNK_S = 600  # long files are transcribed in 10-minute pieces, so memory stays bounded
ENCODE_BATCH = 256  # passages embedded in one call (or fewer, once the oldest has waited ENCODE_WAIT_S)...
ENCODE_WAIT_S = 2.0  # ...so few calls, one upsert for many files, and an interrupted run loses little
TEXT_MIN_SCORE = 0.3  # all-MiniLM-L6-v2 cosine below which a passage is not taken as a match


class _SpeechCutter:
    """Native-rate blocks -> (offset_s, 16-kHz samples) pieces of at most ASR_CHUNK_S."""

    def __init__(self, sr_in: int, path: str):
        self.resampler = audio.Resampler(sr_in, ASR_SAMPLE_RATE, path)
        self.buffer: list[np.ndarray] = []
        self.buffered = self.offset = 0

    def push(self, block: np.ndarray, last: bool) -> list[tuple[float, np.ndarray]]:
        chunk = ASR_CHUNK_S * ASR_SAMPLE_RATE
        self.buffer.append(self.resampler.push(block, last))
        self.buffered += len(self.buffer[-1])
        pieces = []
        while self.buffered >= chunk or (last and self.buffered):
            joined = np.concatenate(self.buffer)
            pieces.append((self.offset / ASR_SAMPLE_RATE, joined[:chunk]))
            self.offset += min(chunk, len(joined))
            self.buffer, self.buffered = [joined[chunk:]], max(0, self.buffered - chunk)
        return pieces


class TextChannel(Channel):
    """Passages in their own collection.

    Args:
        encoder: a function returning the loaded :class:`~audioret.text.TextEncoder`.
        store: the channel's store (or a function returning it).
        transcriber: a function returning the loaded :class:`~audioret.asr.Transcriber`, or None to index names,
            tags and sidecars without transcribing speech.
    """

    name = "text"

    def __init__(self, encoder: Callable, store, transcriber: Callable | None = None):
        self._encoder, self._store, self._transcriber = encoder, store, transcriber
        self.transcribe = transcriber is not None
        self.report = IndexReport(roots=[])
        self._speech: dict = {}  # job -> utterances heard so far
        self._pending: list[tuple] = []  # (job, passages, duration_s)
        self._since = 0.0  # when the oldest pending file arrived

    @property
    def store(self):
        return self._store() if callable(self._store) else self._store

    @property
    def encoder(self):
        return self._encoder()

    # -- indexing ------------------------------------------------------------------------------------------------

    def begin(self, report: IndexReport) -> None:
        self.report = report

    def current(self, record, st: os.stat_result, path: str) -> bool:
        m = record.metadata
        return (super().current(record, st, path) and m.get("sidecar") == sidecar_signature(path)
                and bool(m.get("transcribed")) == self.transcribe)  # fmt: skip

    def same_content(self, record, digest: str) -> bool:
        return super().same_content(record, digest) and bool(record.metadata.get("transcribed")) == self.transcribe

    def load(self) -> None:
        self.encoder
        if self.transcribe:  # without Whisper, index names, tags and sidecars, and say why in the report
            try:
                self._transcriber()
            except ModelLoadError as e:
                logger.warning("Speech is not transcribed: %s", e)
                self.report.skipped_channels["speech"] = str(e)
                self.transcribe = False

    @property
    def needs_audio(self) -> bool:
        return self.transcribe

    def cutter(self, job, sr_in: int) -> _SpeechCutter:
        return _SpeechCutter(sr_in, job.path)

    def take(self, job, piece: tuple[float, np.ndarray]) -> None:
        offset_s, samples = piece
        heard = self._speech.setdefault(job, [])
        self.report.checked_s += len(samples) / ASR_SAMPLE_RATE
        try:
            t = self._transcriber().transcribe(samples, beam_size=1)
        except NoSpeechError as e:
            self.report.speech_s += e.speech_s
            return
        self.report.speech_s += t.speech_s
        heard.extend(Utterance(offset_s + u.start_s, offset_s + u.end_s, u.text) for u in t.utterances)

    def finish(self, job, info, duration_s: float) -> None:
        heard = self._speech.pop(job, [])
        if heard:
            self.report.transcribed += 1
        self._queue(job, file_passages(job.path, duration_s, heard), duration_s)

    def reuse(self, job) -> None:
        """Same audio: keep the stored transcript, read the name, tags and sidecar again."""
        stored = self.store.file_records(job.path, documents=True)
        duration_s = job.stored[self.name].duration_s
        heard = [Utterance(m.metadata["start_s"], m.metadata["end_s"], m.document) for m in stored
                 if m.metadata.get("kind") == "speech"]  # fmt: skip
        self._queue(job, file_passages(job.path, duration_s, heard), duration_s)

    def drop(self, job) -> None:
        self._speech.pop(job, None)
        self._pending = [p for p in self._pending if p[0] is not job]

    def _queue(self, job, passages, duration_s: float) -> None:
        if not self._pending:
            self._since = time.monotonic()
        self._pending.append((job, passages, duration_s))

    def ready(self) -> list[Output]:
        if not self._pending:
            return []
        full = sum(len(p) for _, p, _ in self._pending) >= ENCODE_BATCH
        return self.drain() if full or time.monotonic() - self._since >= ENCODE_WAIT_S else []

    def drain(self) -> list[Output]:
        if not self._pending:
            return []
        vectors = self.encoder.encode([p.text for _, passages, _ in self._pending for p in passages])
        out, at = [], 0
        for job, passages, duration_s in self._pending:
            common = file_fields(job.path, job.stat, job.digest, duration_s, len(passages))
            common.update(sidecar=sidecar_signature(job.path), transcribed=self.transcribe)
            ids, metadatas = records(common, [(p.start_s, p.end_s, {"kind": p.kind}) for p in passages])
            out.append(Output(job, self.name, ids, metadatas, vectors[at : at + len(passages)], [p.text for p in passages]))
            at += len(passages)
        self._pending = []
        return out

    # -- searching -----------------------------------------------------------------------------------------------

    def rank_text(self, text: str, n_files: int, filters: Filters | None = None) -> list[SegmentMatch]:
        """Each file's best passage for a query, best first; passages below TEXT_MIN_SCORE are left out."""
        if not self.store.has_records():
            return []
        return self.store.best_files(self.encoder.encode([text]), n_files, filters, min_score=TEXT_MIN_SCORE)
