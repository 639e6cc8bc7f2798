"""Copies are matches: an example recording that is in the library, or a copy of one, is "the same recording".

Query by example ranks files by how they sound (the sound channel's evidence), and in a library whose files sit
close together (a folder of voice memos, of kick drums, of one field recorder) the file itself does not stand out
from its neighbours by that measure. Whether two files are one recording is what the duplicates machinery
(:mod:`audioret.duplicates`) decides, by Chromaprint's bit error for files of 3 s and longer and by the correlation
of their spectra for shorter ones and sounds in silence. So the example is fingerprinted and looked up among the
library's own fingerprints, independently of how the sound channel ranks the files (a re-encoded copy can sit far
down a model's ranking): :class:`Prints` finds the candidates the way the duplicates finder does, by the Chromaprint
words they share (an inverted index, no loop over the files), by how often each bit is set, and, for files with a
spectrum, by the nearest band summaries of their spectra; each candidate is then checked by the finder's own rule
(:func:`audioret.duplicates.same`). The sound channel's nearest files are checked too,
but not by Chromaprint where the look-up passed them over and either file is mostly one word (what two mostly silent
clips share is the silence). Each file that is the same recording gets ``ranking.calibration.COPY_EVIDENCE`` times
one minus its difference (:func:`audioret.search.by_example`): it comes first, the closest copy first, strength >=
0.95, and says "the same recording". The library's fingerprints are the duplicates finder's cache beside the index,
taken by each index run from the audio it decodes anyway (:class:`Known`, a tap of the run; a file indexed before,
or by a cluster's decode tasks, is fingerprinted when first needed), dropped with the files removed or pruned, and
held in memory until the library changes. Chromaprint missing, or a file it cannot read, leaves query by example to
the sound channel alone. Measured on the duplicates benchmark's copies: docs/BENCHMARKS.md ("Fusion", "Copies").
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE
from ..errors import ModelLoadError
from ..types import Copy
from . import (
    MIN_SHORT_S,
    MIN_WAVE_CORRELATION,
    MIN_WAVE_S,
    FingerprintCache,
    Fingerprinted,
    by_chromaprint,
    fingerprinted,
    keep_order,
    modified_ns,
    of_samples,
    same,
    wave_correlations,
)
from .cache import Printer
from .fingerprints import (
    ITEM_S,
    MIN_SHARED_WORDS,
    NEAR_FILES,
    STOP_FILES,
    aligned,
    bit_means,
    mostly_one_word,
    near_summaries,
)
from .spectrum import MIN_CUT_S, Summaries, unit_rows

logger = logging.getLogger("audioret")

CANDIDATES = 10  # the sound channel's nearest files compared with the example
EXCERPT_S = 1.0  # an example this much shorter than the file it is a copy of is an excerpt: its place is shown
# An excerpt is found in a longer file by its Chromaprint words from about this long (the first word comes after
# 2.6 s, and MIN_OVERLAP_WORDS are needed): of 72 excerpts of the librosa-data pieces, none at 3.5 s, 69 at 4.5 s.
EXCERPT_MIN_S = 4.5
SPECTRUM_CANDIDATES = 32  # a short example's nearest library files by band summary, checked by correlation
CUT_CANDIDATES = 12  # ...and its nearest of the files it may be a cut of (see Prints)
FILE_NAME = "fingerprints.sqlite3"  # the duplicates finder's fingerprints, beside the index
_KNOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Library -> its Known
_KNOWN_LOCK = threading.Lock()


class Prints:
    """The library's fingerprints, looked up by an example's: which files are the same recording.

    Candidates come as the duplicates finder's do (:mod:`audioret.duplicates`): files of MIN_DURATION_S and longer
    sharing at least MIN_SHARED_WORDS Chromaprint words with the example (a word in more than STOP_FILES files
    proposes nothing), from the words sorted once with their files (a look-up is a binary search per word), and
    the NEAR_FILES nearest by how often each bit is set (:func:`.fingerprints.bit_means`, one product); files
    with a spectrum, the SPECTRUM_CANDIDATES nearest to a short example by band means and spreads (one matrix
    product), and of those it may be a cut of the CUT_CANDIDATES nearest (:class:`.spectrum.Summaries`: the
    duplicates set's `perc_door` cut past its hit was 157th of 793 files, and is 9th of the 23 of those lengths); and
    where either is a sound under MIN_SHORT_S, the files that keep a waveform correlating with the example's to
    MIN_WAVE_CORRELATION (one batch of FFTs; such sounds are few: 10 files of the duplicates set's 4,560). Each
    candidate is checked by the finder's rule, :func:`audioret.duplicates.same`. Held: each file's words (4 bytes
    per 0.124 s, files being fingerprinted whole: 116 kB an hour) and the look-up's (8 bytes a distinct word), at
    most about 350 kB per hour of the library."""

    def __init__(self, prints: Sequence[Fingerprinted], library: Sequence[str] | None = None):
        self.prints = [fp for fp in prints if fp.duration_s >= MIN_WAVE_S]
        # every file of the library, compared or not (a sample under MIN_WAVE_S, a file Chromaprint cannot read)
        self.library = frozenset(library if library is not None else (fp.path for fp in prints))
        long_ = [i for i, fp in enumerate(self.prints) if by_chromaprint(fp)]
        words = [np.unique(self.prints[i].words) for i in long_]
        flat = np.concatenate(words) if words else np.zeros(0, np.uint32)
        owners = np.repeat(np.asarray(long_, np.int32), [len(w) for w in words])  # 8 bytes a word in all
        order = np.argsort(flat, kind="stable")
        flat, owners = flat[order], owners[order]
        _, counts = np.unique(flat, return_counts=True)
        common = np.repeat(counts > STOP_FILES, counts)  # flat is sorted: each word's files are one run
        self._words, self._owners = flat[~common], owners[~common]
        self._near = np.asarray([i for i in long_ if not mostly_one_word(self.prints[i].words)], np.int64)
        self._bits, self._bits_centre = near_summaries([self.prints[i].words for i in self._near])
        self._profiled = np.asarray(
            [i for i, fp in enumerate(self.prints) if fp.profile is not None and len(fp.profile)], np.int64
        )
        self._spectra = Summaries([self.prints[i].profile for i in self._profiled])
        self._waved = [i for i, fp in enumerate(self.prints) if fp.wave is not None]
        self._tiny = [i for i in self._waved if self.prints[i].duration_s < MIN_SHORT_S]

    def __len__(self) -> int:
        return len(self.prints)

    @cached_property
    def paths(self) -> set[str]:
        """The library's files that can be compared (of MIN_WAVE_S and longer)."""
        return {fp.path for fp in self.prints}

    def candidates(self, example: Fingerprinted) -> list[int]:
        """The positions of the files that may be the same recording as ``example``."""
        found: set[int] = set()
        if by_chromaprint(example) and len(self._words):
            words = np.unique(example.words)
            lo, hi = np.searchsorted(self._words, words, "left"), np.searchsorted(self._words, words, "right")
            runs = hi - lo
            at = np.repeat(lo - np.concatenate([[0], np.cumsum(runs)[:-1]]), runs) + np.arange(runs.sum())
            shared = np.bincount(self._owners[at], minlength=len(self.prints))
            found |= set(np.flatnonzero(shared >= MIN_SHARED_WORDS).tolist())
        if by_chromaprint(example) and not mostly_one_word(example.words) and len(self._near):
            sims = self._bits @ unit_rows((bit_means(example.words) - self._bits_centre)[None])[0]
            k = min(NEAR_FILES, len(sims))
            found |= set(self._near[np.argpartition(-sims, k - 1)[:k]].tolist())
        if example.profile is not None and len(example.profile) and len(self._profiled):
            cuts = CUT_CANDIDATES if example.duration_s >= MIN_CUT_S else 0
            found |= set(self._profiled[self._spectra.nearest(example.profile, SPECTRUM_CANDIDATES, cuts)].tolist())
        if example.wave is not None and example.duration_s >= MIN_WAVE_S:  # by waveform: those that correlate
            near = self._waved if example.duration_s < MIN_SHORT_S else self._tiny
            c = wave_correlations(example.wave, [self.prints[i].wave for i in near])
            found |= {near[j] for j in np.flatnonzero(c >= MIN_WAVE_CORRELATION).tolist()}
        return sorted(found)

    def copies(self, example: Fingerprinted) -> dict[str, tuple[float, str]]:
        """The files that are the same recording as ``example``: {path: (difference, method)}."""
        found = {}
        for i in self.candidates(example):
            found_same = same(example, self.prints[i])
            if found_same is not None:
                found[self.prints[i].path] = found_same
        return found


class Known:
    """The library's fingerprints, kept beside the index in ``path`` (a :class:`FingerprintCache`, which the
    duplicates finder reads too): taken by an index run from the audio its decode threads already hold
    (:meth:`start`, a tap of :func:`audioret.indexing.pipeline.run`), dropped with the files pruned or removed
    (:meth:`forget`), and held in memory as :class:`Prints` while ``key`` is the same object (one that is replaced
    whenever the library changes). Files that lack a fingerprint (indexed before fingerprints were taken while
    indexing, or by a cluster's decode tasks) are fingerprinted when first needed, in ``workers()`` threads. Safe to
    share between threads; the cache is opened on first use."""

    def __init__(self, path: Path, workers: Callable[[], int | None] = lambda: None):
        self.path, self.workers = Path(path), workers
        self._lock = threading.Lock()
        self._cache: FingerprintCache | None = None
        self._key: object = None
        self._prints: Prints | None = None
        self.off = False  # Chromaprint missing: index runs take no fingerprints

    @property
    def cache(self) -> FingerprintCache:
        with self._lock:
            if self._cache is None:
                self._cache = FingerprintCache(self.path)
            return self._cache

    def prints(self, key: object, paths: Callable[[], Sequence[str]]) -> Prints:
        """The fingerprints of the files ``paths()`` names, rebuilt only when ``key`` is another object."""
        cache = self.cache
        with self._lock:
            if self._prints is None or key is not self._key:
                files = list(paths())
                with ThreadPoolExecutor(self.workers() or min(4, os.cpu_count() or 1)) as pool:
                    read = list(pool.map(lambda p: fingerprinted(p, cache), files))
                self._prints, self._key = Prints([fp for fp in read if fp is not None], files), key
            return self._prints

    def start(self, job, info) -> Taker | None:
        """What takes one file's decoded blocks in an index run (``job.path``, ``job.stat``; ``info`` the file's
        :class:`audioret.audio.AudioInfo`) and keeps its fingerprint; None when the cache holds it already (or
        Chromaprint is missing)."""
        if self.off or self.cache.get(job.path, job.stat) is not None:
            return None
        return Taker(self, job.path, job.stat, info)

    def forget(self, paths: Sequence[str]) -> None:
        """Drops the fingerprints of files no longer in the library (pruned or removed)."""
        if paths:
            self.cache.forget(paths)

    def finder(self, example: str | os.PathLike | np.ndarray, sample_rate: int, store):
        """:func:`finder` over these fingerprints."""
        return finder(example, sample_rate, self.cache, self, store)


class Taker:
    """One file's fingerprint, taken from the blocks an index run decodes (mono float32 at the file's own rate) as
    :func:`audioret.duplicates.fingerprint_file` takes it from the file (a :class:`.cache.Printer`). Kept once the
    last block is in; a failure is logged and leaves the file to be fingerprinted when first needed."""

    def __init__(self, known: Known, path: str, st: os.stat_result, info):
        self.known, self.path, self.st, self.info = known, path, st, info
        self.printer: Printer | None = Printer(info.sample_rate, path)

    def push(self, block: np.ndarray, last: bool) -> list:
        if self.printer is None:
            return []
        try:
            self.printer.push(block, last)
            if last:
                fp = self.printer.result(self.path, self.info.format, self.info.channels, self.st.st_size)
                self.printer = None
                self.known.cache.put(fp, self.st)
        except ModelLoadError as e:  # no Chromaprint: no file of this run is fingerprinted while indexing
            self.known.off, self.printer = True, None
            logger.info("Fingerprints are not taken while indexing: %s", e)
        except Exception as e:  # never the file's indexing: it is fingerprinted when first needed
            logger.warning("No fingerprint of %s while indexing: %s", self.path, e)
            self.printer = None
        return []


def placed(example: Fingerprinted, other: Fingerprinted) -> tuple[float, float] | None:
    """Where in ``other`` its copy ``example`` lies (seconds): the whole file where the example is about as long,
    or longer (a whole copy is the whole recording, not one 10-s window of it); an excerpt's place from the offset at
    which their Chromaprint words agree best (to a word, 0.124 s), so a 10-s excerpt of a minute-long file is shown
    at its own place, not at the sound channel's nearest window; None for an excerpt not compared by Chromaprint."""
    if example.duration_s > other.duration_s - EXCERPT_S:
        return 0.0, other.duration_s
    if not (by_chromaprint(example) and by_chromaprint(other)):
        return None
    _, offset = aligned(example.words, other.words)
    at = -offset * ITEM_S  # where the example's start lies in the file; under 0 where the file starts later
    start = min(max(at, 0.0), other.duration_s)
    return start, min(max(at + example.duration_s, start), other.duration_s)


def copies(
    example: Fingerprinted,
    paths: Sequence[str],
    cache: FingerprintCache | None = None,
    library: Prints | None = None,
) -> dict[str, Copy]:
    """Which files are the same recording as ``example``: the ones ``library`` (the library's fingerprints) finds,
    and which of the first CANDIDATES of ``paths`` (the sound channel's nearest files, nearest first) are:
    {path: (difference, method, where the example lies in the file: :func:`placed`)}. A file
    ``library`` names is checked again against its current fingerprint (it may have changed since). A near file
    that ``library`` holds and did not name is not taken by its Chromaprint words where either file is mostly one
    word (:func:`.fingerprints.mostly_one_word`; under QUIET_UNDER_S such a file goes by its spectrum anyway): two
    mostly silent clips agree in their silence (26 examples of the copies benchmark named an unrelated clip "the
    same recording" that way), while a short re-encoded copy may share no word exactly and still be one
    (docs/BENCHMARKS.md, "Copies")."""
    found = {}
    from_library = library.copies(example) if library is not None else {}
    weighed = library.paths if library is not None else set()
    for path in dict.fromkeys([*from_library, *paths[:CANDIDATES]]):
        other = fingerprinted(path, cache)
        one = same(example, other) if other is not None else None
        passed_over = one is not None and one[1] == "chromaprint" and path in weighed and path not in from_library
        if one is not None and not (passed_over and (mostly_one_word(example.words) or mostly_one_word(other.words))):
            found[path] = (*one, placed(example, other))
    return found


def of_example(
    example: str | os.PathLike | np.ndarray, sample_rate: int, cache: FingerprintCache | None = None
) -> Fingerprinted | None:
    """The example's fingerprint (a path, from ``cache`` when given; or mono samples at ``sample_rate``); None
    when Chromaprint is missing or the file cannot be read (query by example then goes by sound alone)."""
    try:
        if isinstance(example, np.ndarray):
            return of_samples(example, sample_rate)
        return fingerprinted(os.path.abspath(example), cache)
    except ModelLoadError as e:
        logger.info("Copies of the example are not looked for: %s", e)
        return None


def finder(
    example: str | os.PathLike | np.ndarray, sample_rate: int, cache: FingerprintCache, known: Known, store
) -> Callable[[list[str]], dict[str, Copy]] | None:
    """What finds the library's copies of ``example`` (a path, or samples at ``sample_rate``), by its fingerprint
    among the library's (``known``, kept while the sound ``store``'s background sample is) and the nearest files';
    None when its fingerprint cannot be taken (query by example then goes by sound alone). Its ``note`` says when
    the example is too short for any method (:func:`too_short_note`)."""
    fingerprint = of_example(example, sample_rate, cache)
    if fingerprint is None:
        return None
    prints = known.prints(store.background(), lambda: list(store.files()[0]))
    own = None if isinstance(example, np.ndarray) else os.path.abspath(example)

    def find(paths: list[str]) -> dict[str, Copy]:  # the example's own file before its exact copies
        found = copies(fingerprint, paths, cache, prints)
        if own is not None and own in prints.library:  # the library's file itself, even when no method can tell
            found[own] = (0.0, found.get(own, (0.0, "file"))[1], (0.0, fingerprint.duration_s))
        # copies equally close in the duplicates finder's order (the oldest first): the original before what was
        # made from it, where the measure cannot tell them apart
        others = [p for p in found if p != own]
        others = [fp for p in others if (fp := fingerprinted(p, cache)) is not None] if len(others) > 1 else []
        longest = max((fp.duration_s for fp in others), default=0.0)
        oldest = min((modified_ns(fp.path) for fp in others), default=None)
        rank = {fp.path: n for n, fp in enumerate(sorted(others, key=lambda fp: keep_order(fp, longest, oldest)))}
        find.note = too_short_note(fingerprint, bool(found))
        return {
            p: (d if p == own else max(d, SAME_FILE_MARGIN) + rank.get(p, len(rank)) * TIE_MARGIN, m, at)
            for p, (d, m, at) in found.items()
        }

    find.note = too_short_note(fingerprint)
    return find


def too_short_note(example: Fingerprinted, found: bool = True) -> str:
    """What a user is told of an example too short for a method ("" else): under MIN_WAVE_S, that no copy of it can
    be told by its sound; under EXCERPT_MIN_S, when no copy of it was ``found``, that it may still be a stretch of a
    longer file, too short to be found in it by its fingerprint."""
    if example.duration_s < MIN_WAVE_S:
        return (
            f"The example is {example.duration_s * 1000:.1f} ms long, too short to tell a copy of it by its sound "
            f"({MIN_WAVE_S * 1000:.0f} ms at least): only a file with the same bytes is the same recording"
        )
    if example.duration_s < EXCERPT_MIN_S and not found:
        d = example.duration_s
        return (
            f"The example is {f'{d:.1f} s' if d >= 1 else f'{d * 1000:.0f} ms'} long: an excerpt of a longer file is "
            f"recognised as the same recording from about {EXCERPT_MIN_S:g} s long, so this one may still come from "
            "a file here"
        )
    return ""


def known(library) -> Known:
    """The fingerprints beside a :class:`~audioret.library.Library`'s index (:class:`Known`), one per library and
    data directory: what its index runs take, its query by example looks up and its duplicates finder reads."""
    path = library.config.data_dir / FILE_NAME
    with _KNOWN_LOCK:
        found = _KNOWN.get(library)
        if found is None or found.path != path:
            found = _KNOWN[library] = Known(path, lambda: library.settings["decode_workers"])
    return found


def of_library(library, example: str | os.PathLike | np.ndarray):
    """What finds the copies of ``example`` (a path, or mono samples at the library's rate) in a
    :class:`~audioret.library.Library`: :func:`finder` over the fingerprints beside its index, held in memory
    per library (:class:`Known`) while its sound store's background sample is the same."""
    return known(library).finder(example, SAMPLE_RATE, library.channels.hearing().store)


SAME_FILE_MARGIN = 1e-6  # how much less an exact copy of a library file given as the example counts than the file
TIE_MARGIN = 1e-8  # ...and each copy after the first in the duplicates finder's order (strength moves by under 1e-8)
