"""Whether two fingerprinted files are one recording: which method compares them (Chromaprint's words, the
spectrum, the waveform, or only the bytes) and the rule the duplicates finder and query by example both go by
(:func:`same`). Pure but for reading a file's bytes; the method and its figures are in :mod:`audioret.duplicates`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .fingerprints import (
    DEFAULT_MAX_BIT_ERROR,
    MIN_DISTINCT_WORDS,
    MIN_OVERLAP_WORDS,
    compare,
    mostly_one_word,
)
from .spectrum import FINGERPRINT_RATE, MIN_CORRELATION, correlation, profile, wave_correlation

MIN_DURATION_S = 3.0
# short files: compared by their spectrum (:mod:`audioret.duplicates`)
MIN_SHORT_S = 0.07  # four frames' changes at every phase (the shortest measured: a 0.075-s sample and its copies)
# shorter sounds (a click, a tabla stroke of 19-44 ms): compared by their waveform, where a copy keeps the samples'
# shape under the codec's cut-off and no other sound comes close: of the duplicates set's files under 0.5 s, a copy
# of such a sound correlates 0.988-0.999 with it, another file 0.68 at most, and two takes of one FSDD speaker's
# digits up to 0.88 (docs/BENCHMARKS.md, "the shortest sounds by their waveform")
MIN_WAVE_S = 0.005  # ...from 55 samples at FINGERPRINT_RATE; under it only the bytes tell
WAVE_UNDER_S = 0.5  # files this short keep their waveform (int16, 11 kB at most): an encoder pads a copy of a 19-ms
# click to 52 ms and of a 43-ms stroke to 0.1 s, and the copy must still meet it
MIN_WAVE_CORRELATION = 0.95
PROFILE_UNDER_S = MIN_DURATION_S + 1.0
QUIET_UNDER_S = 10.0  # files this short that are mostly one word are compared by their spectrum...
QUIET_SHARE = 1 / 6  # ...and have one where one word fills more than this (a copy may cross the line)
QUIET_CORRELATION = 0.8  # such a pair is one recording from this where Chromaprint agrees (other clips: 0.71 at most)


@dataclass
class Fingerprinted:
    path: str
    words: np.ndarray  # uint32
    format: str = ""
    sample_rate: int = 0
    channels: int = 0
    duration_s: float = 0.0
    size: int = 0
    profile: np.ndarray | None = None  # (frames, PROFILE_BANDS) uint8, quarter-dB above the floor (wants_profile)
    wave: np.ndarray | None = None  # int16 samples at FINGERPRINT_RATE, of files under WAVE_UNDER_S (wave_of)


def wave_of(samples: np.ndarray) -> np.ndarray | None:
    """The waveform a file under WAVE_UNDER_S keeps (mono samples at FINGERPRINT_RATE as int16), None for longer."""
    if len(samples) >= WAVE_UNDER_S * FINGERPRINT_RATE:
        return None
    return np.round(np.clip(np.nan_to_num(np.asarray(samples, np.float32)), -1.0, 1.0) * 32767).astype(np.int16)


def wants_profile(duration_s: float, words: np.ndarray) -> bool:
    """Whether a file's spectrum is looked at (:func:`spectrum_of`): under PROFILE_UNDER_S, or under QUIET_UNDER_S
    and much one word."""
    return duration_s < PROFILE_UNDER_S or (duration_s < QUIET_UNDER_S and mostly_one_word(words, QUIET_SHARE))


def spectrum_of(samples: np.ndarray, words: np.ndarray) -> np.ndarray | None:
    """The spectrum a file is compared by (:func:`.spectrum.profile` of mono samples at FINGERPRINT_RATE, whose
    Chromaprint words are ``words``): a short file's, and a sound in silence's (:func:`wants_profile`, and silent
    frames, every band at the floor, fill more than QUIET_SHARE of it). A file much one word without such silence
    is a steady sound (a tone changes only where it starts and stops: tones of 440 and 460 Hz correlated 0.94),
    which its spectrum does not tell apart either: it gets an empty one, so that it is not looked at again. None
    where no spectrum is looked at."""
    duration_s = len(samples) / FINGERPRINT_RATE
    if not wants_profile(duration_s, words):
        return None
    p = profile(samples)
    if duration_s < PROFILE_UNDER_S or not len(p):
        return p
    return p if np.mean(p.max(axis=1) == 0) > QUIET_SHARE else p[:0]


def _told(words: np.ndarray) -> bool:
    """Whether Chromaprint's words can tell two files apart at all: MIN_OVERLAP_WORDS of them, MIN_DISTINCT_WORDS
    different ones."""
    return len(words) >= MIN_OVERLAP_WORDS and len(np.unique(words)) >= MIN_DISTINCT_WORDS


def by_chromaprint(fp: Fingerprinted) -> bool:
    """Whether a file is compared by its Chromaprint words (else by its spectrum): MIN_DURATION_S and longer, words
    enough for :func:`.fingerprints.compare` to measure an overlap (a file of 3.15 s has 4), MIN_DISTINCT_WORDS
    different ones (a steady tone repeats one word, whatever its pitch class), and not mostly one word where it has
    a spectrum (a sound in silence)."""
    return (
        fp.duration_s >= MIN_DURATION_S
        and _told(fp.words)
        and not (fp.profile is not None and len(fp.profile) and mostly_one_word(fp.words))
    )


def steady(fp: Fingerprinted) -> bool:
    """Whether a file has neither Chromaprint words to go by (a tone, a hum) nor a spectrum: only its bytes tell."""
    return fp.duration_s >= MIN_SHORT_S and not by_chromaprint(fp) and (fp.profile is None or not len(fp.profile))


def difference(a: Fingerprinted, b: Fingerprinted) -> tuple[float, str]:
    """How two copies differ, by the method that compared them: ``(value, method)`` for :class:`Member`."""
    if min(a.duration_s, b.duration_s) < MIN_SHORT_S:  # too short for the spectrum: the bytes, else the waveform
        if _same_bytes(a, b):
            return 0.0, "identical"
        if min(a.duration_s, b.duration_s) >= MIN_WAVE_S and a.wave is not None and b.wave is not None:
            return 1.0 - wave_correlation(a.wave, b.wave), "waveform"
        return float("nan"), "linked"
    if by_chromaprint(a) and by_chromaprint(b):
        return compare(a.words, b.words), "chromaprint"
    if a.profile is not None and b.profile is not None and len(a.profile) and len(b.profile):
        return 1.0 - correlation(a.profile, b.profile), "spectrum"
    if steady(a) and steady(b) and _same_bytes(a, b):
        return 0.0, "identical"
    return float("nan"), "linked"


def _same_bytes(a: Fingerprinted, b: Fingerprinted) -> bool:
    """Whether two files hold the same bytes (an example given as samples has none to compare)."""
    return a.size == b.size > 0 and digest(a.path) == digest(b.path) != ""


def same(
    a: Fingerprinted,
    b: Fingerprinted,
    max_bit_error: float = DEFAULT_MAX_BIT_ERROR,
    min_correlation: float = MIN_CORRELATION,
) -> tuple[float, str] | None:
    """Whether two fingerprinted files are one recording by the finder's rule: ``(difference, method)`` as
    :func:`difference` gives it, or None. Chromaprint's bit error under ``max_bit_error``; spectra that correlate
    to ``min_correlation``, or to QUIET_CORRELATION for a sound in silence that Chromaprint finds the same;
    waveforms that correlate to MIN_WAVE_CORRELATION (a sound under MIN_SHORT_S); the same bytes for steady files
    and sounds under MIN_WAVE_S. Pure but for a file's bytes."""
    value, method = difference(a, b)
    if method == "chromaprint":
        return (value, method) if value <= max_bit_error else None
    if method == "spectrum":
        c = 1.0 - value
        ok = c >= min_correlation or (c >= QUIET_CORRELATION and witnessed(a, b, max_bit_error))
        return (value, method) if ok else None
    if method == "waveform":
        return (value, method) if 1.0 - value >= MIN_WAVE_CORRELATION else None
    return (value, method) if method == "identical" else None


def witnessed(a: Fingerprinted, b: Fingerprinted, max_bit_error: float) -> bool:
    """Whether Chromaprint finds two files one recording where one is a sound in silence, which their spectra
    alone leave in doubt (:data:`QUIET_CORRELATION`)."""
    told = all(_told(fp.words) and fp.duration_s >= MIN_DURATION_S for fp in (a, b))
    quiet = mostly_one_word(a.words) or mostly_one_word(b.words)
    return told and quiet and compare(a.words, b.words) <= max_bit_error


def digest(path: str) -> str:
    """The file's bytes, hashed, once while it is unchanged ("" when it cannot be read: an example as samples)."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return _digest_of(path, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=1024)
def _digest_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()
