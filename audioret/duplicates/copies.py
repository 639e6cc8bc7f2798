"""Copies are matches: an example recording that is in the library, or a copy of one, is "the same recording".

Query by example ranks files by how they sound (the sound channel's evidence), and in a library whose files sit
close together (a folder of voice memos, of kick drums, of one field recorder) the file itself does not stand
out from its neighbours by that measure. Whether two files are one recording is what the duplicates machinery
(:mod:`audioret.duplicates`) decides, by Chromaprint's bit error for files of 3 s and longer and by the
correlation of their spectra for shorter ones. So the example is fingerprinted, compared with the sound
channel's nearest files (a copy's windows are among the nearest, whatever the model), and each file that is the
same recording gets ``ranking.calibration.COPY_EVIDENCE``: it comes first, strength >= 0.95, and says "the same
recording". Chromaprint missing, or a file it cannot read, leaves query by example to the sound channel alone.
Measured on the duplicates benchmark's copies: docs/BENCHMARKS.md ("Fusion", "Copies").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from ..errors import ModelLoadError
from . import (
    DEFAULT_MAX_BIT_ERROR,
    MIN_SHORT_S,
    PROFILE_UNDER_S,
    FingerprintCache,
    Fingerprinted,
    difference,
    fingerprint,
    fingerprinted,
)
from .spectrum import FINGERPRINT_RATE, MIN_CORRELATION, profile

logger = logging.getLogger("audioret")

CANDIDATES = 10  # the sound channel's nearest files compared with the example


def same_recording(
    a: Fingerprinted,
    b: Fingerprinted,
    max_bit_error: float = DEFAULT_MAX_BIT_ERROR,
    min_correlation: float = MIN_CORRELATION,
) -> tuple[float, str] | None:
    """Whether two fingerprinted files are one recording (a copy in another format, rate, gain or trim), by the
    rule the duplicates finder groups them by: ``(difference, method)`` as :func:`duplicates.difference` gives
    it (a share of differing bits, or 1 - the spectra's correlation), or None. Pure."""
    if min(a.duration_s, b.duration_s) < MIN_SHORT_S:
        return None
    value, method = difference(a, b)
    limit = {"chromaprint": max_bit_error, "spectrum": 1.0 - min_correlation}.get(method)
    return (value, method) if limit is not None and value <= limit else None


def of_samples(samples: np.ndarray, sample_rate: int, name: str = "<array>") -> Fingerprinted:
    """The fingerprint of mono float32 audio at ``sample_rate`` (an example given as samples)."""
    import soxr

    x = np.asarray(samples, np.float32)
    if sample_rate != FINGERPRINT_RATE:
        x = soxr.resample(x, sample_rate, FINGERPRINT_RATE).astype(np.float32)
    duration_s = len(x) / FINGERPRINT_RATE
    return Fingerprinted(
        name, fingerprint(x), "", sample_rate, 1, duration_s, 0, profile(x) if duration_s < PROFILE_UNDER_S else None
    )


def copies(
    example: Fingerprinted, paths: Sequence[str], cache: FingerprintCache | None = None
) -> dict[str, tuple[float, str]]:
    """Which of the first CANDIDATES of ``paths`` (the sound channel's nearest files, nearest first) are the same
    recording as ``example``: {path: (difference, method)}."""
    found = {}
    for path in paths[:CANDIDATES]:
        other = fingerprinted(path, cache)
        same = same_recording(example, other) if other is not None else None
        if same is not None:
            found[path] = same
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
