"""Indexing folders of audio: scan, skip what is unchanged, decode ahead of the model, embed, write, prune.

Decoding, hashing and resampling run in background threads (libsndfile, soxr and hashlib release the GIL) and
feed a bounded queue of 10-s windows; the calling thread batches windows across files into the model, so the
model rarely waits for I/O and memory stays bounded whatever the file lengths. A file is written to the store
only once all its windows are embedded; a file that fails is reported by name with the reason and the rest of
the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import audio
from .store import FileRecord, Store, segment_id

logger = logging.getLogger("audioret")


@dataclass(frozen=True)
class FileError:
    path: str
    reason: str


@dataclass
class IndexReport:
    """What one indexing run did. ``failed`` names every file that could not be indexed, with the reason."""

    roots: list[str]
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # content changed, re-embedded
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)  # gone from disk, pruned from the index
    failed: list[FileError] = field(default_factory=list)
    skipped_channels: dict[str, str] = field(default_factory=dict)  # channel -> why its model did not load
    segments: int = 0  # windows embedded and written in this run
    audio_s: float = 0.0  # seconds of audio embedded in this run
    text_files: int = 0  # files whose text-channel passages were (re)written
    passages: int = 0  # text passages embedded and written
    transcribed: int = 0  # files in which Whisper found speech
    checked_s: float = 0.0  # seconds of audio the speech gate (VAD) examined
    speech_s: float = 0.0  # seconds of it the gate passed to Whisper
    elapsed_s: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def write_json(self, path: str | os.PathLike):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False))
        os.replace(tmp, path)

    def summary(self) -> str:
        text = ""
        if self.text_files:
            text = f"; text channel: {self.text_files} files, {self.passages} passages"
            if self.checked_s:
                text += (f", speech in {self.transcribed} files ({self.speech_s / 60:.1f} of "
                         f"{self.checked_s / 60:.1f} min transcribed)")  # fmt: skip
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {self.unchanged} unchanged, "
            f"{len(self.removed)} removed, {len(self.failed)} failed; {self.segments} segments "
            f"({self.audio_s / 60:.1f} min of audio){text} in {self.elapsed_s:.1f} s"
        )


@dataclass(frozen=True)
class IndexProgress:
    files_done: int
    files_total: int
    segments: int  # records written so far in this stage
    stage: str = "audio"  # "audio" (CLAP segments), then "text" (transcripts, names, tags, sidecars)


@dataclass
class _Job:
    path: str
    stat: os.stat_result
    record: FileRecord | None  # what the store has for this path, if complete
    stale: bool  # the store has (possibly partial) segments of this path that must go before writing
    spans: list = field(default_factory=list)  # (index, start, end) of each window decoded so far
    vectors: list = field(default_factory=list)  # embeddings, in window order
    info: audio.AudioInfo | None = None
    hash: str | None = None


def scan(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Absolute paths of the audio files under ``paths`` (files are taken as given), sorted, without duplicates.

    Raises FileNotFoundError for a path that does not exist.
    """
    found = set()
    for p in paths:
        p = os.path.abspath(os.fspath(p))
        if os.path.isfile(p):
            found.add(p)
        elif os.path.isdir(p):
            for root, dirs, files in os.walk(p, onerror=_log_walk_error):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.update(os.path.join(root, f) for f in files if audio.is_audio_path(f) and not f.startswith("."))
        else:
            raise FileNotFoundError(f"No such file or folder: {p}")
    return sorted(found)


def stat_files(paths: Iterable[str], report: IndexReport) -> Iterator[tuple[str, os.stat_result]]:
    """``(path, stat)`` of each file; a file that cannot be stat'ed is reported as failed and left out."""
    for path in paths:
        try:
            yield path, os.stat(path)
        except OSError as e:
            report.failed.append(FileError(path, e.strerror or str(e)))


def file_hash(path: str, chunk: int = 1 << 20) -> str:
    """BLAKE2b of the file's bytes (hex, 32 chars)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class Indexer:
    """Keeps a :class:`Store` in step with folders of audio files.

    Parameters
    ----------
    embedder : ClapEmbedder or callable
        Anything with ``sample_rate``, ``window`` and ``embed_audio(windows) -> (n, d)``, or a function that
        returns one: it is called only when there is something to embed, so an unchanged library never loads
        the model.
    store : Store
    hop_s : float
        Seconds between the starts of consecutive windows (at most the window length).
    batch_size : int
        Windows per forward pass.
    decode_workers : int
        Files decoded at once, ahead of the model.
    """

    def __init__(self, embedder, store: Store, hop_s: float = 10.0, batch_size: int = 8, decode_workers: int = 2):
        self._embedder = embedder
        self.store = store
        self.hop_s = float(hop_s)
        self.hop = round(hop_s * audio.SAMPLE_RATE)
        if self.hop <= 0:
            raise ValueError(f"hop_s must be positive, got {hop_s}")
        self.batch_size = batch_size
        self.decode_workers = decode_workers

    @cached_property
    def embedder(self):
        embedder = self._embedder() if callable(self._embedder) else self._embedder
        if embedder.sample_rate != audio.SAMPLE_RATE:
            raise ValueError(f"Expected a {audio.SAMPLE_RATE} Hz model, got {embedder.sample_rate} Hz")
        if self.hop > embedder.window:
            raise ValueError(
                f"hop_s must not exceed the model's window ({embedder.window / audio.SAMPLE_RATE:g} s), "
                f"got {self.hop_s}"
            )
        return embedder

    def index(
        self,
        paths: Sequence[str | os.PathLike],
        prune: bool = True,
        progress: bool = True,
        on_progress: Callable[[IndexProgress], None] | None = None,
        report: IndexReport | None = None,
    ) -> IndexReport:
        """Index the audio files under ``paths``: add new files, re-embed changed ones and, with ``prune``,
        remove files under ``paths`` that no longer exist. Files already indexed and unchanged (same size and
        modification time, or same content hash) are skipped. Results are added to ``report`` when given."""
        t0 = time.perf_counter()
        roots = [os.path.abspath(os.fspath(p)) for p in paths]
        files = scan(roots)
        complete, incomplete = self.store.files()
        report = report if report is not None else IndexReport(roots=roots)

        jobs = []
        for path, st in stat_files(files, report):
            record = complete.get(path)
            if record and (record.size, record.mtime_ns, record.hop_s) == (st.st_size, st.st_mtime_ns, self.hop_s):
                report.unchanged += 1
                continue
            jobs.append(_Job(path, st, record, stale=record is not None or path in incomplete))

        if prune:
            on_disk = set(files)
            for path in sorted((set(complete) | incomplete) - on_disk):
                if _is_under(path, roots) and not os.path.exists(path):
                    self.store.delete_file(path)
                    report.removed.append(path)

        bar = tqdm(total=len(jobs), unit="file", desc="indexing", disable=not progress, dynamic_ncols=True)
        try:
            self._run(jobs, report, bar, on_progress)
        finally:
            bar.close()
            report.elapsed_s += time.perf_counter() - t0
        return report

    def _run(self, jobs: list[_Job], report: IndexReport, bar, on_progress):
        if not jobs:
            return
        window = self.embedder.window  # loads the model, in this thread, before any decoding starts
        items: queue.Queue = queue.Queue(maxsize=4 * self.batch_size)
        stop = threading.Event()

        def put(item):
            while not stop.is_set():
                try:
                    items.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def decode(job: _Job):
            try:
                digest = file_hash(job.path)
                if job.record is not None and job.record.hash == digest and job.record.hop_s == self.hop_s:
                    put(("same", job, digest))
                    return
                info, blocks = audio.stream(job.path)
                for w in audio.windows(blocks, window, self.hop):
                    if stop.is_set():
                        return
                    put(("window", job, w))
                put(("done", job, (info, digest)))
            except audio.AudioDecodeError as e:
                put(("error", job, e.reason))
            except OSError as e:
                put(("error", job, e.strerror or str(e)))
            except Exception as e:  # a bug or an exotic codec failure must not stop the other files
                logger.exception("Unexpected error while decoding %s", job.path)
                put(("error", job, f"{type(e).__name__}: {e}"))

        batch: list[tuple[_Job, audio.Window]] = []
        waiting: list[_Job] = []  # decoded, some windows not yet embedded
        finished = 0

        def finish(job: _Job):
            nonlocal finished
            finished += 1
            bar.update(1)
            bar.set_postfix(segments=report.segments, failed=len(report.failed), refresh=False)
            if on_progress is not None:
                on_progress(IndexProgress(finished, len(jobs), report.segments))

        def settle():  # write the decoded files whose windows are all embedded, in one store call
            ready = [job for job in waiting if len(job.vectors) == len(job.spans)]
            if ready:
                self._write(ready, report)
            for job in ready:
                waiting.remove(job)
                finish(job)

        def flush():
            if batch:
                vectors = self.embedder.embed_audio(np.stack([w.samples for _, w in batch]), pad_to=self.batch_size)
                for (job, _), vector in zip(batch, vectors):
                    job.vectors.append(vector)
                batch.clear()
            settle()

        with ThreadPoolExecutor(self.decode_workers, thread_name_prefix="audioret-decode") as pool:
            try:
                for job in jobs:
                    pool.submit(decode, job)
                while finished < len(jobs):
                    if finished + len(waiting) == len(jobs):  # everything decoded: embed what is left
                        if not batch:
                            raise RuntimeError(f"Indexer stalled with {len(waiting)} files waiting and no windows")
                        flush()
                        continue
                    kind, job, payload = items.get()
                    if kind == "window":
                        job.spans.append((payload.index, payload.start, payload.end))
                        batch.append((job, payload))
                        if len(batch) >= self.batch_size:
                            flush()
                    elif kind == "done":
                        job.info, job.hash = payload
                        if not job.spans:
                            self._fail(job, "contains no audio samples", report)
                            finish(job)
                        else:
                            waiting.append(job)
                            settle()
                    elif kind == "error":
                        self._fail(job, payload, report)
                        batch[:] = [(j, w) for j, w in batch if j is not job]
                        finish(job)
                    elif kind == "same":
                        self._touch(job, payload)
                        report.unchanged += 1
                        finish(job)
            finally:
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)

    def _fail(self, job: _Job, reason: str, report: IndexReport):
        job.spans.clear()
        job.vectors.clear()
        logger.warning("Skipped %s: %s", job.path, reason)
        report.failed.append(FileError(job.path, reason))

    def _touch(self, job: _Job, digest: str):
        """Same content under a new modification time: record the new size/mtime so the next scan skips it."""
        ids, metadatas = self.store.file_segments(job.path)
        for m in metadatas:
            m.update(size=job.stat.st_size, mtime_ns=job.stat.st_mtime_ns)
        self.store.update_metadata(ids, metadatas)

    def _write(self, jobs: list[_Job], report: IndexReport):
        ids, vectors, metadatas = [], [], []
        for job in jobs:
            job_ids, job_metadatas = self._records(job)
            ids += job_ids
            metadatas += job_metadatas
            vectors += job.vectors
            if job.stale:
                self.store.delete_file(job.path)
        self.store.add(ids, np.stack(vectors), metadatas)  # each file's windows in order, first to last
        for job in jobs:
            (report.updated if job.record is not None else report.added).append(job.path)
            report.segments += len(job.spans)
            report.audio_s += job.spans[-1][2] / audio.SAMPLE_RATE
            job.spans.clear()
            job.vectors.clear()

    def _records(self, job: _Job) -> tuple[list[str], list[dict]]:
        sr = audio.SAMPLE_RATE
        n = len(job.spans)
        common = {
            "path": job.path,
            "folder": os.path.dirname(job.path),
            "name": os.path.basename(job.path),
            "ext": os.path.splitext(job.path)[1].lower().lstrip("."),
            "hash": job.hash,
            "size": job.stat.st_size,
            "mtime_ns": job.stat.st_mtime_ns,
            "duration_s": job.spans[-1][2] / sr,
            "sample_rate": job.info.sample_rate,
            "channels": job.info.channels,
            "format": job.info.format,
            "n_segments": n,
            "hop_s": self.hop_s,
        }
        ids = [segment_id(job.path, i) for i, _, _ in job.spans]
        metadatas = [
            {**common, "seg_index": i, "start_s": start / sr, "end_s": end / sr, "is_last": i == n - 1}
            for i, start, end in job.spans
        ]
        return ids, metadatas


def _is_under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _log_walk_error(error: OSError):
    logger.warning("Cannot read folder %s: %s", error.filename, error.strerror)
