"""The library API: one object that indexes folders and answers text, example and "more like this" queries."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from . import audio
from .config import Config
from .indexer import Indexer, IndexProgress, IndexReport
from .search import Filters, Hit, search_vectors
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

    @cached_property
    def embedder(self):
        from .clap import ClapEmbedder

        return ClapEmbedder(self.config.clap_model, device=self.config.device)

    @cached_property
    def store(self) -> Store:
        dim = self.embedder.dim if "embedder" in self.__dict__ else _projection_dim(self.config.clap_model)
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
        """Add, update and (with ``prune``) remove the audio files under ``paths``; see :class:`Indexer`.

        The report is also written as JSON to ``report_path``.
        """
        cfg = self.config
        indexer = Indexer(lambda: self.embedder, self.store, cfg.hop_s, cfg.batch_size, cfg.decode_workers)
        report = indexer.index(paths, prune=prune, progress=progress, on_progress=on_progress)
        if cfg.chroma_url is None or cfg.data_dir.exists():
            report.write_json(self.report_path)
        return report

    def search(self, text: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """The ``k`` files whose best segment is closest to the text query."""
        text = text.strip()
        if not text:
            raise ValueError("The query is empty; type what you want to hear, e.g. 'rain on a tin roof'")
        return search_vectors(self.store, self.embedder.embed_text([text]), k, filters)

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
        removed = []
        for p in paths:
            p = os.path.abspath(os.fspath(p))
            prefix = p.rstrip(os.sep) + os.sep
            for path in sorted(known):
                if path == p or path.startswith(prefix):
                    self.store.delete_file(path)
                    removed.append(path)
        return removed

    def stats(self) -> dict:
        """Counts for the index: files, segments, hours of audio, model, store location."""
        complete, incomplete = self.store.files()
        return {
            "files": len(complete),
            "incomplete_files": len(incomplete),
            "segments": self.store.count(),
            "hours": sum(r.duration_s for r in complete.values()) / 3600,
            "clap_model": self.config.clap_model,
            "store": self.store.location,
            "hop_s": self.config.hop_s,
        }


def _projection_dim(model: str) -> int:
    from transformers import ClapConfig

    from .clap import ModelLoadError, _load_error_message

    try:
        return ClapConfig.from_pretrained(model).projection_dim
    except (OSError, ValueError) as e:
        raise ModelLoadError(_load_error_message(model, e)) from e
