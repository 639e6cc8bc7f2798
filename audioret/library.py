"""The library API: one object that indexes folders and answers text, spoken, example and "more like this" queries.

Two channels: CLAP (how a file sounds) and text (what is said in it, its name, tags and description). A text query
runs through both and the rankings are fused (see :mod:`audioret.search`). A channel whose model cannot be loaded
is switched off with a warning and the other one still answers; ``channel_errors`` says why.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from . import audio
from .asr import ASR_SAMPLE_RATE, Transcript
from .clap import ModelLoadError
from .config import Config
from .indexer import Indexer, IndexProgress, IndexReport
from .search import TEXT_MIN_SCORE, Filters, Hit, fuse, rank_files, search_vectors
from .store import Store

logger = logging.getLogger("audioret")

# Query-by-example uses at most this many windows of the example (the first minute at the default hop).
MAX_EXAMPLE_WINDOWS = 6


class Library:
    """An indexed audio library.

    Models load on first use: ``stats()`` and ``remove()`` never load CLAP.

    Example
    -------
    >>> lib = Library(Config.from_env(data_dir="~/.audioret"))
    >>> lib.index(["~/Music/field-recordings"])
    >>> for hit in lib.search("rain on a tin roof", k=5):
    ...     print(hit.rank, hit.path, f"{hit.start_s:.0f}-{hit.end_s:.0f} s", f"{hit.score:.3f}")
    """

    def __init__(self, config: Config | None = None):
        self.config = config or Config.from_env()
        self.channel_errors: dict[str, str] = {}  # channel -> why its model could not be loaded

    @cached_property
    def embedder(self):
        from .clap import ClapEmbedder

        return ClapEmbedder(self.config.clap_model, device=self.config.device)

    @cached_property
    def text_encoder(self):
        from .text import load_text_encoder

        return load_text_encoder(self.config.text_model, device=self.config.device)

    @cached_property
    def transcriber(self):
        from .asr import load_asr

        return load_asr(self.config.asr_model, self.config.asr_engine, device=self.config.device)

    @cached_property
    def text_store(self) -> Store:
        cfg = self.config
        return Store(cfg.text_model, None, path=cfg.data_dir / "chroma", url=cfg.chroma_url, channel="text")

    def available(self, channel: str) -> bool:
        """Whether the channel's model loads ("clap" or "text"); the first failure is kept in channel_errors."""
        if channel in self.channel_errors:
            return False
        try:
            self.embedder if channel == "clap" else self.text_encoder
        except ModelLoadError as e:
            self.channel_errors[channel] = str(e)
            warnings.warn(f"The {channel} channel is off: {e}", stacklevel=2)
            return False
        return True

    @cached_property
    def store(self) -> Store:
        dim = self.embedder.dim if "embedder" in self.__dict__ else None  # checked on the first write
        return Store(
            self.config.clap_model, dim, path=self.config.data_dir / "chroma", url=self.config.chroma_url
        )

    @property
    def report_path(self) -> Path:
        return self.config.data_dir / "last-index-report.json"

    def index(
        self,
        paths: Sequence[str | os.PathLike],
        prune: bool = True,
        progress: bool = True,
        on_progress: Callable[[IndexProgress], None] | None = None,
    ) -> IndexReport:
        """Add, update and (with ``prune``) remove the audio files under ``paths`` in both channels.

        First the CLAP segments (see :class:`Indexer`), then the text channel (see :class:`TextIndexer`); a
        channel whose model cannot be loaded is skipped and named in ``report.skipped_channels``. The report is
        also written as JSON to ``report_path``.
        """
        from .text_index import TextIndexer

        cfg = self.config
        report = IndexReport(roots=[os.path.abspath(os.fspath(p)) for p in paths])
        indexer = Indexer(lambda: self.embedder, self.store, cfg.hop_s, cfg.batch_size, cfg.decode_workers)
        try:
            indexer.index(paths, prune=prune, progress=progress, on_progress=on_progress, report=report)
        except ModelLoadError as e:
            self.channel_errors["clap"] = str(e)
            report.skipped_channels["clap"] = str(e)
        failed = {f.path for f in report.failed}
        transcriber = (lambda: self.transcriber) if cfg.transcribe else None
        text = TextIndexer(lambda: self.text_encoder, self.text_store, transcriber)
        try:
            text.index(paths, report, prune=prune, skip=failed, progress=progress, on_progress=on_progress)
        except ModelLoadError as e:
            self.channel_errors.setdefault("text", str(e))
            report.skipped_channels["text"] = str(e)
        if {"clap", "text"} <= set(report.skipped_channels):
            raise ModelLoadError("No channel could index: " + " | ".join(report.skipped_channels.values()))
        try:  # next to the index, or in the local data directory when the index is on a server
            self.report_path.parent.mkdir(parents=True, exist_ok=True)
            report.write_json(self.report_path)
        except OSError as e:
            logger.warning("Could not write the index report to %s: %s", self.report_path, e)
        return report

    def search(
        self,
        text: str,
        k: int = 10,
        filters: Filters | None = None,
        weights: dict[str, float] | None = None,
        text_query: str | None = None,
    ) -> list[Hit]:
        """The ``k`` files that best match a text query, both channels fused.

        Args:
            text: the query, in English for CLAP.
            weights: channel weights, default ``{"clap": config.clap_weight, "text": config.text_weight}``;
                0 turns a channel off.
            text_query: the text channel's query when it differs (the untranslated words of a spoken query).
        """
        text = text.strip()
        if not text:
            raise ValueError("The query is empty; type what you want to hear, e.g. 'rain on a tin roof'")
        weights = weights if weights is not None else {"clap": self.config.clap_weight, "text": self.config.text_weight}
        depth = max(50, 5 * k)
        rankings = {}
        if weights.get("clap", 0) > 0 and self.available("clap"):
            rankings["clap"] = rank_files(self.store, self.embedder.embed_text([text]), depth, filters)
        if weights.get("text", 0) > 0 and self.text_store.has_records() and self.available("text"):
            query = self.text_encoder.encode([(text_query or text).strip() or text])
            rankings["text"] = rank_files(self.text_store, query, depth, filters, min_score=TEXT_MIN_SCORE)
        if not rankings:
            if not any(weights.get(c, 0) > 0 for c in ("clap", "text")):
                raise ValueError("Both channel weights are 0; give at least one channel a positive weight")
            if self.channel_errors:
                raise ModelLoadError(" | ".join(self.channel_errors.values()))
            return []  # only the text channel is on and it holds nothing yet
        return fuse(rankings, weights, k)

    def transcribe(self, recording: str | os.PathLike | np.ndarray, translate: bool = True) -> Transcript:
        """What is said in a recording (a path, or mono float32 samples at 16 kHz), with its language.

        With ``translate``, non-English speech is also translated to English (``Transcript.english``).
        Raises NoSpeechError when there is no speech.
        """
        if isinstance(recording, np.ndarray):
            samples = recording
        else:
            samples = audio.load(recording, sr=ASR_SAMPLE_RATE)
        return self.transcriber.transcribe(samples, translate=translate)

    def search_spoken(
        self,
        recording: str | os.PathLike | np.ndarray,
        k: int = 10,
        filters: Filters | None = None,
        weights: dict[str, float] | None = None,
    ) -> tuple[Transcript, list[Hit]]:
        """Transcribe a spoken query, then search: CLAP gets the English text, the text channel the words said."""
        transcript = self.transcribe(recording, translate=True)
        hits = self.search(transcript.english, k, filters, weights, text_query=transcript.text)
        return transcript, hits

    def search_audio(
        self, example: str | os.PathLike | np.ndarray, k: int = 10, filters: Filters | None = None
    ) -> list[Hit]:
        """Query by example: the files that sound most like ``example`` (a path, or mono float32 at 48 kHz).

        The example is cut into windows like the library (its first minute is used); each library segment
        scores its best similarity to any of them.
        """
        if isinstance(example, np.ndarray):
            samples = np.asarray(example, np.float32)
            if samples.ndim != 1:
                raise ValueError(f"Expected mono samples of shape (n,), got shape {samples.shape}")
            blocks = iter([samples])
        else:
            _, blocks = audio.stream(example)
        window = self.embedder.window
        hop = min(window, round(self.config.hop_s * audio.SAMPLE_RATE))
        chosen = []
        for w in audio.windows(blocks, window, hop):
            chosen.append(w.samples)
            if len(chosen) == MAX_EXAMPLE_WINDOWS:
                break
        if not chosen:
            raise audio.AudioDecodeError(str(example) if not isinstance(example, np.ndarray) else "<array>",
                                         "contains no audio samples")  # fmt: skip
        return search_vectors(self.store, self.embedder.embed_audio(np.stack(chosen)), k, filters)

    def similar(
        self, segment_id: str, k: int = 10, filters: Filters | None = None, same_file: bool = False
    ) -> list[Hit]:
        """"More like this": files that sound like the stored segment ``segment_id``.

        The segment itself is never returned; other segments of its file only with ``same_file=True``.
        """
        ids, vectors, metadatas = self.store.get([segment_id])
        if not ids:
            raise KeyError(f"No segment {segment_id!r} in the index; take ids from search results")
        exclude_paths = () if same_file else (metadatas[0]["path"],)
        return search_vectors(self.store, vectors, k, filters, exclude_ids={segment_id}, exclude_paths=exclude_paths)

    def remove(self, paths: Sequence[str | os.PathLike]) -> list[str]:
        """Remove files (or every file under folders) from the index; returns the removed paths."""
        complete, incomplete = self.store.files()
        known = set(complete) | incomplete
        text_complete, text_incomplete = self.text_store.files()
        known |= set(text_complete) | text_incomplete
        removed = []
        for p in paths:
            p = os.path.abspath(os.fspath(p))
            prefix = p.rstrip(os.sep) + os.sep
            for path in sorted(known):
                if path == p or path.startswith(prefix):
                    self.store.delete_file(path)
                    self.text_store.delete_file(path)
                    removed.append(path)
        return removed

    def stats(self) -> dict:
        """Counts for the index: files, segments, hours of audio, model, store location."""
        complete, incomplete = self.store.files()
        text_complete, _ = self.text_store.files()
        return {
            "files": len(set(complete) | set(text_complete)),
            "incomplete_files": len(incomplete),
            "segments": self.store.count(),
            "passages": self.text_store.count(),
            "speech_passages": self.text_store.count_where({"kind": "speech"}),
            "hours": sum(r.duration_s for r in {**text_complete, **complete}.values()) / 3600,
            "clap_model": self.config.clap_model,
            "text_model": self.config.text_model,
            "asr_model": f"{self.config.asr_model} ({self.config.asr_engine})",
            "store": self.store.location,
            "hop_s": self.config.hop_s,
        }
