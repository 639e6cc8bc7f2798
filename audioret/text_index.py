"""Indexing the text channel: transcribe the speech in each file (only where there is speech), gather its name,
tags and sidecar description, embed the passages with sentence-transformers and store them beside the audio.

The speech gate is Silero VAD on 16-kHz audio: a file without speech costs a decode and the VAD (hundreds of
times faster than real time) and never reaches Whisper. Records follow the audio store's rules (ids from the
path and the passage index; a file counts only when its first and last passages carry the same hash), so
re-indexing is incremental and a crash leaves nothing half-done. A file whose audio is unchanged but whose
sidecar changed keeps its stored transcript and only re-embeds the text.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from . import audio
from .asr import ASR_SAMPLE_RATE, NoSpeechError, Transcriber, Utterance
from .clap import ModelLoadError
from .indexer import FileError, IndexProgress, IndexReport, _is_under, file_hash, scan, stat_files
from .store import FileRecord, Store, segment_id
from .text import Passage, TextEncoder, file_passages, sidecar_signature

logger = logging.getLogger("audioret")

ASR_CHUNK_S = 600  # long files are transcribed in 10-minute pieces, so memory stays bounded


class TextIndexer:
    """Keeps the text channel's :class:`Store` in step with folders of audio files.

    Args:
        encoder: a :class:`TextEncoder`, or a function returning one (called only when there is work).
        store: the text channel's store (``channel="text"``).
        transcriber: a :class:`Transcriber`, a function returning one, or None to index names, tags and
            sidecars without transcribing speech.
    """

    def __init__(self, encoder, store: Store, transcriber=None):
        self._encoder = encoder
        self._transcriber = transcriber
        self.store = store
        self.transcribe = transcriber is not None

    @property
    def encoder(self) -> TextEncoder:
        if callable(self._encoder) and not isinstance(self._encoder, TextEncoder):
            self._encoder = self._encoder()
        return self._encoder

    @property
    def transcriber(self) -> Transcriber:
        if callable(self._transcriber) and not isinstance(self._transcriber, Transcriber):
            self._transcriber = self._transcriber()
        return self._transcriber

    def index(
        self,
        paths: Sequence[str | os.PathLike],
        report: IndexReport,
        prune: bool = True,
        skip: set[str] = frozenset(),
        progress: bool = True,
        on_progress: Callable[[IndexProgress], None] | None = None,
    ) -> IndexReport:
        """Bring the text records of the files under ``paths`` up to date, adding to ``report``.

        ``skip`` holds files the audio pass already reported as failed (they are not reported twice).
        """
        t0 = time.perf_counter()
        roots = [os.path.abspath(os.fspath(p)) for p in paths]
        files = scan(roots)
        complete, incomplete = self.store.files()
        todo = []
        for path, st in stat_files([f for f in files if f not in skip], report):
            record = complete.get(path)
            if record is None or not self._unchanged(record, st, path):
                todo.append((path, st, record, record is not None or path in incomplete))
        if prune:
            for path in sorted((set(complete) | incomplete) - set(files)):
                if _is_under(path, roots) and not os.path.exists(path):
                    self.store.delete_file(path)
        bar = tqdm(total=len(todo), unit="file", desc="text channel", disable=not progress or not todo)
        try:
            for done, (path, st, record, stale) in enumerate(todo, 1):
                try:
                    self._index_file(path, st, record, stale, report)
                except ModelLoadError:
                    raise
                except (audio.AudioDecodeError, OSError) as e:
                    reason = e.reason if isinstance(e, audio.AudioDecodeError) else (e.strerror or str(e))
                    logger.warning("Skipped %s: %s", path, reason)
                    report.failed.append(FileError(path, reason))
                except Exception as e:  # one file's failure must not stop the run
                    logger.exception("Text channel failed on %s", path)
                    report.failed.append(FileError(path, f"text channel: {type(e).__name__}: {e}"))
                bar.update(1)
                if on_progress is not None:
                    on_progress(IndexProgress(done, len(todo), report.passages, stage="text"))
        finally:
            bar.close()
        report.elapsed_s += time.perf_counter() - t0
        return report

    def _unchanged(self, record: FileRecord, st: os.stat_result, path: str) -> bool:
        m = record.metadata
        return (
            (record.size, record.mtime_ns) == (st.st_size, st.st_mtime_ns)
            and m.get("sidecar") == sidecar_signature(path)
            and bool(m.get("transcribed")) == self.transcribe
        )

    def _index_file(self, path: str, st: os.stat_result, record: FileRecord | None, stale: bool, report):
        digest = file_hash(path)
        if record is not None and record.hash == digest and bool(record.metadata.get("transcribed")) == self.transcribe:
            duration_s = record.duration_s  # same audio: keep its transcript, re-read name, tags and sidecar
            utterances = [
                Utterance(m["start_s"], m["end_s"], doc)
                for m, doc in self.store.file_documents(path)
                if m.get("kind") == "speech"
            ]
        elif self.transcribe and self._load_transcriber(report):
            duration_s, utterances = self._transcribe(path, report)
        else:
            duration_s, utterances = audio.probe(path).duration_s, []
        passages = file_passages(path, duration_s, utterances)
        vectors = self.encoder.encode([p.text for p in passages])
        ids, metadatas = self._records(path, st, digest, duration_s, passages)
        if stale:
            self.store.delete_file(path)
        self.store.add(ids, vectors, metadatas, documents=[p.text for p in passages])
        report.text_files += 1
        report.passages += len(passages)

    def _load_transcriber(self, report: IndexReport) -> bool:
        """Load Whisper on first need; without it, index names, tags and sidecars and say why in the report."""
        try:
            self.transcriber
        except ModelLoadError as e:
            logger.warning("Speech is not transcribed: %s", e)
            report.skipped_channels["speech"] = str(e)
            self.transcribe = False
        return self.transcribe

    def _transcribe(self, path: str, report: IndexReport) -> tuple[float, list[Utterance]]:
        """Decode at 16 kHz and transcribe the speech, 10 minutes at a time; returns (duration, utterances)."""
        chunk = ASR_CHUNK_S * ASR_SAMPLE_RATE
        _, blocks = audio.stream(path, sr=ASR_SAMPLE_RATE)
        utterances: list[Utterance] = []
        buffer: list[np.ndarray] = []
        buffered = offset = 0

        def run(samples: np.ndarray, offset_s: float):
            report.checked_s += len(samples) / ASR_SAMPLE_RATE
            try:
                t = self.transcriber.transcribe(samples, beam_size=1)
            except NoSpeechError as e:
                report.speech_s += e.speech_s
                return
            report.speech_s += t.speech_s
            utterances.extend(Utterance(offset_s + u.start_s, offset_s + u.end_s, u.text) for u in t.utterances)

        for block in blocks:
            buffer.append(block)
            buffered += len(block)
            while buffered >= chunk:
                joined = np.concatenate(buffer)
                run(joined[:chunk], offset / ASR_SAMPLE_RATE)
                offset += chunk
                buffer, buffered = [joined[chunk:]], buffered - chunk
        tail = np.concatenate(buffer) if buffer else np.zeros(0, np.float32)
        if offset + len(tail) == 0:
            raise audio.AudioDecodeError(path, "contains no audio samples")
        if len(tail):
            run(tail, offset / ASR_SAMPLE_RATE)
        if utterances:
            report.transcribed += 1
        return (offset + len(tail)) / ASR_SAMPLE_RATE, utterances

    def _records(self, path, st, digest, duration_s, passages: list[Passage]) -> tuple[list[str], list[dict]]:
        n = len(passages)
        common = {
            "path": path,
            "folder": os.path.dirname(path),
            "name": os.path.basename(path),
            "ext": os.path.splitext(path)[1].lower().lstrip("."),
            "hash": digest,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "duration_s": float(duration_s),
            "n_segments": n,
            "sidecar": sidecar_signature(path),
            "transcribed": self.transcribe,
        }
        ids = [segment_id(path, i) for i in range(n)]
        metadatas = [
            {**common, "seg_index": i, "is_last": i == n - 1, "kind": p.kind, "start_s": p.start_s, "end_s": p.end_s}
            for i, p in enumerate(passages)
        ]
        return ids, metadatas
