"""Near-duplicate recordings: one recording in other formats, bitrates, sample rates, channels, gains or trims.

The method is an acoustic fingerprint, Chromaprint (through pyacoustid and libchromaprint), not CLAP: CLAP hears
what kind of sound it is, so two different dog barks are as close as two copies of one (and a random-weight CLAP
tells nothing apart). Chromaprint reduces audio to one 32-bit word per 0.124 s; copies of one recording keep most
bits of most words, different recordings differ in half of the bits.

- Each file is decoded to 11,025 Hz mono (Chromaprint's own rate) and fingerprinted whole (up to
  MAX_FINGERPRINT_S, four hours), block by block. Fingerprints are kept in ``fingerprints.sqlite3`` beside the
  index, keyed by path, size and mtime, so only new or changed files are fingerprinted again; an index run takes
  them from the audio it decodes (:class:`.copies.Known`), so that neither query by example nor this finder decodes
  the library again.
- Files shorter than MIN_DURATION_S, or with fewer than MIN_OVERLAP_WORDS words (a file of 3-3.6 s: Chromaprint's
  first word comes after about 2.6 s), are not compared by Chromaprint (:func:`by_chromaprint`): it writes a
  handful of words for them, and short sounds (a spoken digit, a drum hit) looped or padded to a usable length
  matched unrelated ones (on the set below, docs/BENCHMARKS.md "Duplicates"). They are compared by their spectrum
  instead: a mel spectrogram (48 bands, 93 ms windows, a frame every 5.8 ms) in dB under the file's loudest cell,
  floored at -40 dB, so that gain, format, rate and channels change little. Candidates are each file's nearest
  files by band means and spreads (SHORT_NEIGHBOURS, in matrix products, no all-pairs loop); a pair is a duplicate
  when its spectrograms' changes from frame to frame (23 ms apart) correlate to at least MIN_CORRELATION at the
  best of the shifts up to MAX_SHIFT_S (trims, encoder delay) and of the four phases of the frame grid, over at
  least half of the shorter. A copy cut from a longer file and at least MIN_CUT_S long is also compared at its
  place there with its floor raised to the original's (:func:`.spectrum.cut_from`): a cut that leaves out a drum's
  hit shows its ring 40 dB under the ring, where the original shows it 40 dB under the hit. Files up to 1 s past
  MIN_DURATION_S get a spectrum too, so that a trimmed copy of a 3.5-s sound still meets its original; files under
  MIN_SHORT_S are too short even for that.
- Sounds under MIN_SHORT_S (a click, a tabla stroke) are compared by their waveform: files under WAVE_UNDER_S keep
  it (int16 at 11,025 Hz), and a pair with such a sound is a duplicate when the normalised cross-correlation at
  the best lag reaches MIN_WAVE_CORRELATION (a codec keeps the samples' shape under its cut-off). Only files under
  MIN_WAVE_S (5 ms) are too short for any method but their bytes.
- A fingerprint of one word repeated (a steady tone, a hum: the same word for 440 and 880 Hz) says nothing, so such
  a file goes by its spectrum when short, else by its bytes (:func:`steady`; MIN_DISTINCT_WORDS).
- A file under QUIET_UNDER_S that is mostly one word (:func:`.fingerprints.mostly_one_word`: a bark or a sneeze in
  digital silence) goes by its spectrum too: what two such files share in Chromaprint's words is the silence, and
  unrelated ESC-10 clips agreed in it at bit errors under 0.1 (225 pairs of the set's), while by their spectra no
  two of them reach 0.71 and their copies 0.97-1.00. Such a file gets a spectrum where one word fills more than
  QUIET_SHARE of it, half the line, so that a copy whose gain or trim moves its share (0.21 to 0.53 at -6 dB) has
  one too, and where silence fills more than QUIET_SHARE of its spectrum (a steady tone is one word too). A cut
  that takes part of the sound away moves the floor under its loudest cell, and its spectrum correlates less (a
  bark in silence cut by 0.5 s: 0.89); where Chromaprint agrees too, QUIET_CORRELATION is enough (:func:`same`):
  two witnesses, one blind to the silence and one to the floor.
- Candidates come from an inverted index of the words (no all-pairs loop): two files sharing at least
  MIN_SHARED_WORDS words are compared; a word found in more than STOP_FILES files (silence, hum) proposes nothing.
  And each file's NEAR_FILES nearest by how often each bit is set over its words (:func:`.fingerprints.bit_means`,
  matrix products): a copy of a few seconds whose encoder delay moves it against Chromaprint's grid may share no
  word exactly with its original, and query by example found such copies through the sound channel where this
  finder did not (files mostly one word are left out: they are near by their silence).
- A candidate pair is compared at the offsets its shared words vote for and at offset 0: the bit error rate over
  the aligned overlap, which must cover MIN_OVERLAP of the shorter fingerprint. Below ``max_bit_error``
  (DEFAULT_MAX_BIT_ERROR) it is a duplicate; groups are the connected pairs.

This package holds both methods (the fingerprints in :mod:`.fingerprints`, the spectra in :mod:`.spectrum`), the cache
and the grouping: one feature, pure numeric parts first, each with its tests.

Precision and recall on originals from ESC-10, Sonic Pi, librosa-data and FSDD, each re-encoded several ways:
bench/duplicates.py, docs/BENCHMARKS.md "Duplicates".
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .cache import FingerprintCache, fingerprint_file, fingerprinted, of_samples
from .fingerprints import DEFAULT_MAX_BIT_ERROR, chromaprint_pairs, compare, fingerprint
from .rule import (
    MIN_DURATION_S,
    MIN_SHORT_S,
    MIN_WAVE_CORRELATION,
    MIN_WAVE_S,
    PROFILE_UNDER_S,
    QUIET_CORRELATION,
    QUIET_SHARE,
    QUIET_UNDER_S,
    Fingerprinted,
    by_chromaprint,
    difference,
    digest,
    same,
    spectrum_of,
    steady,
    wants_profile,
    wave_of,
    witnessed,
)
from .spectrum import MIN_CORRELATION, correlation, profile, short_pairs, wave_correlation, wave_correlations

__all__ = [
    "DEFAULT_MAX_BIT_ERROR",
    "MIN_DURATION_S",
    "MIN_SHORT_S",
    "MIN_WAVE_CORRELATION",
    "MIN_WAVE_S",
    "PROFILE_UNDER_S",
    "QUIET_CORRELATION",
    "QUIET_SHARE",
    "QUIET_UNDER_S",
    "FingerprintCache",
    "Fingerprinted",
    "Groups",
    "Member",
    "by_chromaprint",
    "compare",
    "connected",
    "correlation",
    "difference",
    "digest",
    "find",
    "fingerprint",
    "fingerprint_file",
    "fingerprinted",
    "group",
    "keep_order",
    "modified_ns",
    "of_samples",
    "profile",
    "same",
    "spectrum_of",
    "steady",
    "wants_profile",
    "wave_correlation",
    "wave_correlations",
    "wave_of",
    "write_csv",
]


@dataclass(frozen=True)
class Member:
    """One file of a duplicate group, with what a user compares to pick the one to keep."""

    path: str
    format: str
    sample_rate: int
    channels: int
    duration_s: float
    size: int
    bit_error: float  # against the group's first member, the copy suggested to keep (0 for it); see ``method``
    method: str = "chromaprint"  # bit_error is a share of differing bits; "spectrum": 1 - spectral correlation;
    # "waveform": 1 - the waveforms' correlation (a sound under MIN_SHORT_S);
    # "identical": the same bytes (a steady sound, which no other method can tell); "linked": no direct measure
    # against the first (the copies are linked through other members)

    @property
    def kbps(self) -> float:
        """The average bitrate, from the size and the duration."""
        return self.size * 8 / 1000 / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "format": self.format,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "duration_s": round(self.duration_s, 3),
            "size": self.size,
            "kbps": round(self.kbps),
            "bit_error": None if self.method == "linked" else round(self.bit_error, 4),
            "method": self.method,
        }


def connected(n: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """The groups (two or more) that pairs connect among ``n`` items, each sorted, by their first member."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        members[root(i)].append(i)
    return [ids for _, ids in sorted(members.items()) if len(ids) >= 2]


def group(prints: Sequence[np.ndarray], max_bit_error: float = DEFAULT_MAX_BIT_ERROR) -> list[list[tuple[int, float]]]:
    """Groups of near-duplicates among fingerprints: lists of (position, bit error against the group's first), the
    first being the lowest position; groups sorted by their first member. Pure: no files, no store."""
    pairs = chromaprint_pairs(prints, max_bit_error)
    return [
        [(i, 0.0 if i == ids[0] else pairs.get((ids[0], i), compare(prints[ids[0]], prints[i]))) for i in ids]
        for ids in connected(len(prints), pairs)
    ]


class Groups(list):
    """Groups of duplicates (lists of :class:`Member`, the copy to keep first), the files too short to compare by
    their sound (under MIN_WAVE_S) and the steady ones (:func:`steady`), of which only byte-identical copies are
    found, and how many files were looked at (``files``)."""

    def __init__(self, groups=(), too_short: Sequence[str] = (), steady: Sequence[str] = (), files: int = 0):
        super().__init__(groups)
        self.too_short, self.steady, self.files = list(too_short), list(steady), files


def find(
    paths: Sequence[str],
    cache: FingerprintCache | None = None,
    max_bit_error: float = DEFAULT_MAX_BIT_ERROR,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Groups:
    """Groups of near-duplicate files among ``paths`` (fingerprinted in ``workers`` threads, reusing ``cache``):
    Chromaprint for files of MIN_DURATION_S and longer, the spectrum for shorter ones, the waveform for sounds
    under MIN_SHORT_S. Files that cannot be read are left out; files under MIN_WAVE_S are named in ``too_short``
    and grouped only with copies of their bytes."""
    if not 0.0 < max_bit_error < 0.5:
        raise InputError(f"threshold must be over 0 and under 0.5 (a share of differing bits), got {max_bit_error}")
    done = [0]

    def one(path: str) -> Fingerprinted | None:
        try:
            return fingerprinted(path, cache)
        finally:
            done[0] += 1
            if on_progress is not None:
                on_progress(done[0], len(paths))

    with ThreadPoolExecutor(workers or min(4, os.cpu_count() or 1)) as pool:
        read = [fp for fp in pool.map(one, paths) if fp is not None]
    usable = read
    too_short = [fp for fp in read if fp.duration_s < MIN_WAVE_S]
    held = [fp for fp in read if steady(fp)]
    groups = Groups(too_short=[fp.path for fp in too_short], steady=[f.path for f in held], files=len(paths))
    pairs: dict[tuple[int, int], float] = {}
    by_path = {fp.path: n for n, fp in enumerate(usable)}
    same_bytes: dict[str, list[int]] = defaultdict(list)
    for fp in held + too_short:  # nothing else tells them: only their bytes
        same_bytes[digest(fp.path) or fp.path].append(by_path[fp.path])  # a file it cannot read stands alone
    pairs.update({(ids[0], other): 0.0 for ids in same_bytes.values() for other in ids[1:]})
    long_ = [fp for fp in usable if by_chromaprint(fp)]
    for (a, b), error in chromaprint_pairs([fp.words for fp in long_], max_bit_error).items():
        pairs[(by_path[long_[a].path], by_path[long_[b].path])] = error
    profiled = [fp for fp in usable if fp.duration_s >= MIN_SHORT_S and fp.profile is not None and len(fp.profile)]
    short = [not by_chromaprint(fp) for fp in profiled]
    for (a, b), c in short_pairs(
        [fp.profile for fp in profiled], short, min(QUIET_CORRELATION, MIN_CORRELATION)
    ).items():
        if c >= MIN_CORRELATION or witnessed(profiled[a], profiled[b], max_bit_error):
            pairs.setdefault(tuple(sorted((by_path[profiled[a].path], by_path[profiled[b].path]))), 1.0 - c)
    waved = [i for i, fp in enumerate(usable) if fp.wave is not None and fp.duration_s >= MIN_WAVE_S]
    for i in (i for i in waved if usable[i].duration_s < MIN_SHORT_S):  # few: each against every file with a wave
        found = wave_correlations(usable[i].wave, [usable[j].wave for j in waved])
        for j in np.flatnonzero(found >= MIN_WAVE_CORRELATION).tolist():
            if waved[j] != i:
                pairs.setdefault((min(i, waved[j]), max(i, waved[j])), 1.0 - float(found[j]))
    for ids in connected(len(usable), pairs):
        longest = max(usable[i].duration_s for i in ids)
        oldest = min(modified_ns(usable[i].path) for i in ids)
        ordered = sorted((usable[i] for i in ids), key=lambda fp: keep_order(fp, longest, oldest))
        # a copy joined through others, not the one to keep (A ~ B ~ C, A and C past the line), is "linked": its
        # difference from the kept copy would read as the threshold ignored
        measured = [same(ordered[0], fp, max_bit_error) or (float("nan"), "linked") for fp in ordered[1:]]
        kept = (0.0, next((method for _, method in measured if method != "linked"), "chromaprint"))
        groups.append(
            [
                Member(fp.path, fp.format, fp.sample_rate, fp.channels, fp.duration_s, fp.size, *how)
                for fp, how in zip(ordered, [kept, *measured])
            ]
        )
    groups.sort(key=lambda g: g[0].path)
    return groups


def write_csv(groups: Sequence[Sequence[Member]], path: str | os.PathLike, name: Callable[[str], str] = str) -> None:
    """The groups as CSV, a row per copy (group number, whether it is the one to keep, :meth:`Member.as_dict`), each
    file named by ``name`` (a public page passes the names it shows)."""
    import csv

    rows = [
        {"group": n, "keep": i == 0, **m.as_dict(), "path": name(m.path)}
        for n, g in enumerate(groups, 1)
        for i, m in enumerate(g)
    ]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["group", "keep", "path"])
        writer.writeheader()
        writer.writerows(rows)


LOSSLESS = ("PCM", "FLAC", "ALAC", "WAV", "AIFF", "WAVPACK")
FULL_BAND_RATE = 32_000  # from this rate on a copy holds what lossy codecs keep (they cut above about 16 kHz)


CUT_S = 0.25  # a copy this much shorter than the longest of its group lacks part of the recording (an encoder's
# padding adds under 0.1 s)


SAME_AGE_S = 60.0  # files made within this of the group's oldest are as old as it (a folder copied with its times)


def keep_order(fp: Fingerprinted, longest: float = 0.0, oldest: int | None = None) -> tuple:
    """The copy to suggest keeping comes first: a file as old as the group's ``oldest`` (modification times in ns,
    within SAME_AGE_S): a copy is made after its original, and nothing else in a file tells a transcode from its
    source (a FLAC or a 320 kb/s mp3 made from a 64 kb/s Ogg, a 22-kHz resample of an 8-kHz take were suggested over
    them, and a copy padded with silence over its original); then one that holds the whole recording (not CUT_S or
    more shorter than ``longest``, the group's longest: a lossless copy cut by 0.5 s was suggested over its
    full-length Ogg); then the one that holds the widest band where a copy's rate is under :data:`FULL_BAND_RATE` (a
    22-kHz WAV made from a 44.1-kHz Ogg has lost everything above 11 kHz, which the Ogg kept), then lossless, then
    among lossless copies the highest sample rate (their bitrate says how well they compressed, not what they hold:
    a 44.1-kHz WAV resample of a 48-kHz FLAC has the higher bitrate), among lossy ones the highest bitrate, then
    sample rate, channels and the longest, then the oldest, then by path."""
    lossless = any(word in fp.format.upper() for word in LOSSLESS)
    kbps = fp.size * 8 / 1000 / fp.duration_s if fp.duration_s > 0 else 0.0
    first = -fp.sample_rate if lossless else -kbps
    band = -min(fp.sample_rate, FULL_BAND_RATE)
    cut = fp.duration_s <= longest - CUT_S
    made = modified_ns(fp.path)
    later = oldest is not None and made > oldest + SAME_AGE_S * 1e9
    return (
        later,
        cut,
        band,
        not lossless,
        first,
        -fp.sample_rate,
        -fp.channels,
        -round(fp.duration_s, 1),
        made,
        fp.path,
    )


def modified_ns(path: str) -> int:
    """A file's modification time in ns (0 when it cannot be read)."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
