"""The library API: one object that indexes folders and answers text, spoken, example and "more like this" queries.

A facade: each public method is a few lines over the module that does the work. The library owns the settings and
the models and stores (loaded on first use, so ``stats()`` and ``remove()`` never load one; tests may assign their
own), builds its channels once (:mod:`audioret.channels.registry`), and hands the work to an index run
(:mod:`audioret.indexing.job`), to the search (:mod:`audioret.search`), to the catalog (:mod:`audioret.catalog`)
or to the copies finder (:mod:`audioret.duplicates.copies`). A channel whose model cannot be loaded is switched
off with a warning and the others still answer; ``channel_errors`` says why.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import cached_property, partial
from pathlib import Path

import numpy as np

from . import audio, catalog, search, tagging
from .config import Config
from .duplicates import copies
from .errors import ModelLoadError
from .models.asr import ASR_SAMPLE_RATE
from .models.hub import looks_local
from .types import Feedback, FileInfo, Filters, Hit, IndexProgress, IndexReport, Moment, Results, Scope, Tag, Transcript

logger = logging.getLogger("audioret")
SPOKEN_QUERY_S = 60.0  # of a spoken query, what is heard: a query is a sentence, not a recording to transcribe


class Library:
    """An indexed audio library.

    Args:
        config: the settings (default: from the environment).
        channels: the channel factories (default :data:`audioret.channels.registry.CHANNELS`).

    Example:
        >>> lib = Library(Config.from_env(data_dir="~/.audioret"))
        >>> lib.index(["~/Music/field-recordings"])
        >>> for hit in lib.search("rain on a tin roof", k=5):
        ...     print(hit.rank, hit.path, f"{hit.start_s:.0f}-{hit.end_s:.0f} s", f"{hit.score:.3f}")
    """

    def __init__(self, config: Config | None = None, channels: Sequence[Callable] | None = None):
        self.config = config or Config.from_env()
        self.progress: IndexProgress | None = None  # the running indexing job's last progress, else None
        self._index_lock = threading.Lock()
        self._factories = channels
        self._channels: tuple[Config, object] | None = None

    # -- models and stores (loaded on first use; tests may assign their own) -------------------------------------

    @cached_property
    def settings(self) -> dict[str, int]:
        """The batch size and decode threads indexing uses ("auto" resolved for the device: devices.settings_for)."""
        from .models.devices import settings_for

        return settings_for(self.config)

    @cached_property
    def embedder(self):
        from .models.load import load_clap

        cfg = self.config
        return load_clap(cfg.clap_model, device=cfg.device, backend=cfg.backend, precision=cfg.precision)

    @cached_property
    def text_encoder(self):
        from .models.load import load_text_encoder

        cfg = self.config
        return load_text_encoder(cfg.text_model, device=cfg.device, backend=cfg.backend, precision=cfg.precision)

    @cached_property
    def transcriber(self):
        from .models.asr import load_asr

        return load_asr(self.config.asr_model, self.config.asr_engine, device=self.config.device)

    @cached_property
    def store(self):
        """The sound channel's store (CLAP windows)."""
        from .channels.registry import sound_store

        return sound_store(self)

    @cached_property
    def text_store(self):
        """The text channel's store (passages)."""
        from .channels.registry import text_store

        return text_store(self)

    @cached_property
    def id_key(self) -> bytes:
        """The secret that record ids are derived with (``DATA_DIR/id-key``, :mod:`audioret.store.idkey`)."""
        from .store.idkey import load

        return load(self.config.data_dir)

    @property
    def channels(self):
        """The library's channels (:class:`~audioret.channels.registry.Channels`), built once (and again when
        ``config`` is replaced)."""
        from .channels.registry import CHANNELS, Channels

        built = self._channels
        if built is None or built[0] is not self.config:
            built = self._channels = (
                self.config,
                Channels.build(self, CHANNELS if self._factories is None else self._factories),
            )
        return built[1]

    @property
    def channel_errors(self) -> dict[str, str]:
        """Channel -> why its model could not be loaded."""
        return self.channels.errors

    @property
    def failures(self) -> dict[str, ModelLoadError]:
        """Channel -> the error that turned it off (its short form and details)."""
        return self.channels.failures

    def warm(self) -> None:
        """Loads what a first query needs (the models, their embeddings of the fusion's reference queries, each
        store's background sample), so that it is as fast as the next."""
        for channel in self.channels:
            if self.available(channel.name):
                channel.reference()
                if hasattr(channel, "unrelated"):  # a text channel's second set of unrelated queries
                    channel.unrelated()
                channel.store.background()

    def available(self, channel: str) -> bool:
        """Whether the channel's model loads ("clap" or "text"); the first failure is kept in channel_errors."""
        return self.channels.available(channel)

    # -- indexing ------------------------------------------------------------------------------------------------

    @property
    def report_path(self) -> Path:
        return self.config.data_dir / "last-index-report.json"

    @property
    def indexing(self) -> bool:
        """Whether an indexing job of this process is running."""
        return self._index_lock.locked()

    def index(
        self,
        paths: str | os.PathLike | Sequence[str | os.PathLike],
        prune: bool = True,
        progress: bool = True,
        on_progress: Callable[[IndexProgress], None] | None = None,
        cluster: str | None = None,
        actors: int | None = None,
    ) -> IndexReport:
        """Add, update and (with ``prune``) remove the audio files under ``paths`` in every channel.

        Unchanged files are skipped; a channel whose model cannot be loaded is skipped and named in
        ``report.skipped_channels``. The report is also written as JSON to ``report_path``. Raises IndexBusy when
        another indexing job of this process (or another process, on the embedded index) is running. ``cluster``
        (``"local"``, ``"auto"``, ``"ray://HOST:10001"``) runs the work on Ray with ``actors`` model actors per
        channel (:mod:`audioret.indexing.cluster`; ``pip install "audioret[cluster]"``).
        """
        from .indexing import job

        rebuild = partial(Library, self.config, self._factories)
        return job.run(self, paths, self._index_lock, rebuild, prune, progress, on_progress, cluster, actors)

    def add_files(
        self,
        files: Sequence[str],
        folder: str | os.PathLike,
        on_progress: Callable[[IndexProgress], None] | None = None,
    ) -> tuple[IndexReport | None, list[str]]:
        """Copies uploaded audio files (with their ``NAME.txt``/``.json`` descriptions) and the audio of zip archives
        into ``folder`` (see :mod:`audioret.archive`), then indexes them. Returns the report (None when nothing
        was added) and each file left out, with the reason."""
        from .archive import import_files

        imported = import_files(list(files), folder)
        report = (
            self.index(imported.files, prune=False, progress=False, on_progress=on_progress) if imported.files else None
        )
        return report, imported.skipped

    def clip(self, hit: Hit) -> Path:
        """A WAV of the hit's matching time range (48 kHz mono), cut once and kept under ``data_dir/clips``."""
        from .clips import cut_clip

        return cut_clip(hit.path, hit.start_s, hit.end_s, self.config.data_dir / "clips")

    def remove(self, paths: Sequence[str | os.PathLike]) -> list[str]:
        """Remove files (or every file under folders) from the index; returns the removed paths."""
        return catalog.remove(self.channels, paths, copies.known(self).forget)

    # -- searching -----------------------------------------------------------------------------------------------

    def search(
        self,
        text: str,
        k: int = 10,
        filters: Filters | None = None,
        weights: dict[str, float] | None = None,
        text_query: str | None = None,
        like: Sequence[str] = (),
        unlike: Sequence[str] = (),
    ) -> Results:
        """The ``k`` files that best match a text query, both channels fused by their evidence.

        Returns a list of :class:`Hit` (a :class:`Results`, whose ``no_good_match`` says when none is a match).

        Args:
            text: the query, in English for CLAP; ``"a phrase"`` is required, ``-word`` leaves files out.
            weights: channel weights by name, default each channel's (``{"clap": config.clap_weight,
                "text": config.text_weight}``); 0 turns a channel off.
            text_query: the text channel's query when it differs (the untranslated words of a spoken query).
            like, unlike: relevance feedback, segment ids or paths from earlier results: "more like these, less like
                those" (Rocchio on each channel's query); unliked files are left out. ``Results.changed`` then says
                what the feedback changed.
        """
        weights = weights if weights is not None else self.channels.weights()
        feedback = Feedback(tuple(self.resolve(i) for i in like), tuple(self.resolve(i) for i in unlike))
        request = search.Request.parse(text, k, filters, text_query, feedback)
        if not feedback:
            return self._explained(search.search(self.channels, weights, request), text, weights)
        return self._explained(search.with_feedback(self.channels, weights, request), text, weights)

    def _explained(self, results: Results, query: str | None = None, weights: dict | None = None) -> Results:
        """``results``, with why nothing came back when nothing did (``Results.empty``): the same reason the
        command line prints, for the JSON output and the Python caller; and, in its note, the channels asked
        (``weights`` above 0; an example's: the sound channel) that hold nothing for their model while others hold
        the library (a model the library was not indexed with answers nothing, and should say so)."""
        from .render import unindexed, why_nothing

        asked = [c for c in self.channels if weights.get(c.name, 0) > 0] if weights else [self.channels.hearing()]
        results.unindexed = unindexed(self.channels, asked, lambda name: looks_local(name) and not os.path.exists(name))
        if results:
            results.note = ". ".join(n for n in (results.note, results.unindexed) if n)
        else:  # said once, as the reason
            results.empty = results.unindexed or why_nothing(
                self, query, results.filters, left_out=results.left_out, unheld=results.unheld
            )
        return results

    def judge(self, query: str, like: Sequence[str] = (), unlike: Sequence[str] = ()) -> int:
        """Saves 👍 (``like``) and 👎 (``unlike``) on results of ``query`` (segment ids or paths) as relevance
        judgements in :attr:`judgements_path`, which ``audioret eval --qrels`` scores; returns how many."""
        from . import judgements

        liked, unliked = [self.resolve(i) for i in like], [self.resolve(i) for i in unlike]
        return judgements.record(self.judgements_path, query, liked, unliked)

    @property
    def judgements_path(self) -> Path:
        from .judgements import FILE_NAME

        return self.config.data_dir / FILE_NAME

    def resolve(self, item: str) -> str:
        """The indexed file of a segment id (of either channel) or a path; InputError for anything else."""
        return catalog.resolve(self.channels, item)

    def said(self, item: str) -> list:
        """What the index holds as said in a file (a path or a segment id): its speech passages in order, as Whisper
        wrote them when the file was indexed, which is what a quoted phrase is looked for in (:meth:`transcribe`
        decodes a recording again, and can write it otherwise): :class:`~audioret.types.Utterance` s. Empty where
        no speech was heard."""
        return catalog.said(self.text_store, self.resolve(item))

    def transcribe(self, recording: str | os.PathLike | np.ndarray, translate: bool = True) -> Transcript:
        """What is said in a recording (a path, or mono float32 samples at 16 kHz), with its language.

        With ``translate``, non-English speech is also translated to English (``Transcript.english``).
        Raises NoSpeechError when there is no speech.
        """
        samples = recording if isinstance(recording, np.ndarray) else audio.load(recording, sr=ASR_SAMPLE_RATE)
        return self.transcriber.transcribe(samples, translate=translate)

    def search_spoken(
        self,
        recording: str | os.PathLike | np.ndarray,
        k: int = 10,
        filters: Filters | None = None,
        weights: dict[str, float] | None = None,
    ) -> tuple[Transcript, Results]:
        """Transcribe a spoken query (its first SPOKEN_QUERY_S), then search: CLAP gets the English text, the text
        channel the words said."""
        end = round(SPOKEN_QUERY_S * ASR_SAMPLE_RATE)
        if isinstance(recording, np.ndarray):
            recording = recording[:end]
        else:
            recording = audio.load(recording, ASR_SAMPLE_RATE, 0.0, SPOKEN_QUERY_S)[:end]
        transcript = self.transcribe(recording, translate=True)
        return transcript, self.search(transcript.english, k, filters, weights, text_query=transcript.text)

    def search_audio(
        self, example: str | os.PathLike | np.ndarray, k: int = 10, filters: Filters | None = None
    ) -> Results:
        """Query by example: the files that sound most like ``example`` (a path, or mono samples at 48 kHz: float,
        or integer PCM as ``scipy.io.wavfile`` reads it, scaled by its type's range).

        The example is cut into windows like the library (its first minute is used); each library segment
        scores its best similarity to any of them.
        """
        channel = self.channels.hearing()
        example = example if isinstance(example, (str, os.PathLike)) else audio.samples(example)
        vectors = channel.embed_example(example)
        return self._explained(search.by_example(channel, vectors, k, Scope(filters), copies.of_library(self, example)))

    def similar(self, segment_id: str, k: int = 10, filters: Filters | None = None, same_file: bool = False) -> Results:
        """ "More like this": files that sound like the stored segment ``segment_id``.

        The segment itself is never returned; other segments of its file only with ``same_file=True``.
        """
        copies_of = partial(copies.of_library, self)
        return self._explained(search.similar(self.channels.hearing(), segment_id, k, filters, same_file, copies_of))

    def keep_private(self, roots: Sequence[str | os.PathLike]) -> None:
        """Files under ``roots`` (a public page's visitors' uploads) stay out of what scores are calibrated against
        (each store's background sample and count, the text channel's word counts), and writing them keeps those:
        one visitor's files never move the scores another sees."""
        for channel in self.channels:
            channel.store.private_roots = tuple(os.path.abspath(os.fspath(r)) for r in roots)

    def segment(self, segment_id: str, filters: Filters | None = None) -> dict | None:
        """A stored segment's metadata (its ``path``, ``start_s``, ``end_s``...), or None when there is none within
        ``filters``' folders."""
        got = search.segment(self.channels.hearing(), segment_id, filters)
        return got[1] if got is not None else None

    # -- what evaluation and benchmarks read -------------------------------------------------------------------

    def file_vectors(self, path: str) -> np.ndarray:
        """The sound channel's window embeddings of one indexed file, in time order: shape (n, dim), float32."""
        return self.channels.hearing().store.file_vectors(os.path.abspath(path))

    def embed_prompts(self, texts: Sequence[str]) -> np.ndarray:
        """CLAP text embeddings of ``texts``: shape (len(texts), dim), float32, unit length."""
        return self.channels.hearing().model.embed_text(list(texts))

    def files(self, filters: Filters | None = None) -> list[FileInfo]:
        """Every indexed file (within ``filters``' folders), by path, with its duration, channels and whether it holds
        speech."""
        return catalog.files(self.channels, filters)

    def duplicates(
        self,
        max_bit_error: float | None = None,
        filters: Filters | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> list:
        """Groups of indexed files that are the same recording (other formats, bitrates, trims...): lists of
        :class:`audioret.duplicates.Member`, the copy suggested to keep first. Fingerprints are kept beside the
        index, so a second call reads only new or changed files. Nothing is deleted."""
        return catalog.duplicates(self, max_bit_error, filters, on_progress)

    def move_files(self, paths: Sequence[str], folder: str | os.PathLike, roots: Sequence[str] | None = None):
        """Moves files into ``folder`` (a name taken there gets a number; inside one of ``roots`` when given) and out
        of the index: how a user sets duplicates aside without deleting anything. Returns the new paths."""
        return catalog.move_files(self, paths, folder, roots)

    def query_vector(self, channel: str, text: str) -> np.ndarray:
        """A text query's embedding in a channel ("clap" or "text"), shape (dim,); the last few are kept."""
        return self.channels[channel].embed_query(text)

    def timeline(self, path: str, text: str) -> list[Moment]:
        """How well each window (sound) and each utterance (what is said) of one file matches a text query."""
        return search.timeline(self.channels, path, text)

    def tags(self, filters: Filters | None = None) -> list[Tag]:
        """Each tag of the indexed files (within ``filters``), its kind and number of files, most files first."""
        return tagging.counts(self.channels, filters)

    def tag(self, path: str | os.PathLike, add: Sequence[str] = (), remove: Sequence[str] = ()) -> dict[str, float]:
        """Adds and removes your own tags of an indexed file (kept in its JSON sidecar, so a re-index keeps them and
        the text channel reads them); returns the file's tags after (:mod:`audioret.tagging`)."""
        return tagging.tag(self, os.fspath(path), add, remove)

    def file_properties(self, path: str | os.PathLike) -> dict:
        """An indexed file's tags and kinds, loudness, tempo, key, speech share, language and per-window labels."""
        return tagging.properties(self, os.fspath(path))

    def stats(self) -> dict:
        """Counts for the index: files, segments, hours of audio, model, store location."""
        return {**catalog.stats(self.channels, self.config, self.settings), "engine": catalog.engine(self.report_path)}
