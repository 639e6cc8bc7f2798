"""Chromaprint fingerprints and how two compare: one 32-bit word per 0.124 s of a file (its first MAX_FINGERPRINT_S),
candidate pairs from an inverted index of the words and from how often each bit is set, and the bit error rate at
the offsets the shared words vote for and at offset 0. Pure numeric parts but :func:`fingerprint`; the method and
its figures are in :mod:`audioret.duplicates`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ..errors import ModelLoadError
from .spectrum import FINGERPRINT_RATE

# Files are fingerprinted whole, up to four hours (a field recorder splits its files sooner; a print of that length is
# 116,000 words, 464 kB). Until December 2026 only the first two minutes were: an excerpt from later in a talk was
# not "the same recording". Chromaprint runs at about 8,000 times real time here (an hour in 0.45 s, and resampling
# to its rate about as much again), against CLAP's minutes for the same hour.
MAX_FINGERPRINT_S = 4 * 3600.0
ITEM_S = 4096 / 3 / FINGERPRINT_RATE  # one word per a third of Chromaprint's 4096-sample frame: 0.124 s
MIN_SHARED_WORDS = 2
STOP_FILES = 50
MIN_OVERLAP = 0.5  # of the shorter fingerprint...
MIN_OVERLAP_WORDS = 8  # ...and at least this many words (1 s): a few words agree by chance
# ...of which at least this many different ones: a steady sound (a test tone, a hum) writes one word over and over,
# the same for 440 and 880 Hz (Chromaprint hears pitch classes), so two such files agree at bit error 0 and say
# nothing about being one recording. Such a file is compared by its spectrum when it is short, else not at all. Of
# the 460 ESC-10, Sonic Pi and librosa-data files of 3 s and longer, none has fewer than 2; a trimmed copy of a
# mostly silent dog bark has 2, and 3 lost it (docs/BENCHMARKS.md, "Duplicates": "Steady sounds").
MIN_DISTINCT_WORDS = 2
OFFSETS_TRIED = 3
DEFAULT_MAX_BIT_ERROR = 0.1
NEAR_FILES = 8  # each file's nearest files by the bits of its words (bit_means), compared too
MOSTLY_ONE_WORD = 1 / 3  # a file one word fills more of is mostly silence or hum to Chromaprint: two such files
# agree in it at bit errors under DEFAULT_MAX_BIT_ERROR whatever their sound (ESC-10 clips of a bark in silence)


def fingerprint(samples: np.ndarray) -> np.ndarray:
    """Chromaprint words (uint32) of mono float32 audio at FINGERPRINT_RATE."""
    stream = Stream()
    stream.feed(samples)
    return stream.words()


class Stream:
    """Chromaprint words of mono float32 blocks at FINGERPRINT_RATE fed one after another, as an index run decodes
    them: the same words as :func:`fingerprint` of the blocks joined (Chromaprint reads a stream), without holding
    the samples; what comes after the first ``limit_s`` is not read. Raises :class:`ModelLoadError` where
    Chromaprint is missing."""

    def __init__(self, limit_s: float = MAX_FINGERPRINT_S):
        try:
            import chromaprint
        except (ImportError, OSError) as e:
            raise ModelLoadError(
                f"Chromaprint is needed to find duplicates ({e}): pip install pyacoustid, and install "
                "the library: apt-get install libchromaprint-tools (Debian/Ubuntu), brew install "
                "chromaprint (macOS)"
            ) from e
        self._chromaprint = chromaprint
        self._printer = chromaprint.Fingerprinter()
        self._printer.start(FINGERPRINT_RATE, 1)
        self.fed, self.limit = 0, int(limit_s * FINGERPRINT_RATE)  # samples fed, up to this many

    def feed(self, samples: np.ndarray) -> None:
        x = np.asarray(samples, np.float32)[: max(0, self.limit - self.fed)]
        if len(x):
            self._printer.feed((np.clip(np.nan_to_num(x), -1.0, 1.0) * 32767).astype("<i2").tobytes())
            self.fed += len(x)

    def words(self) -> np.ndarray:
        """The words of what was fed (none for nothing); the stream is done after this."""
        if not self.fed:
            return np.zeros(0, np.uint32)
        words, _ = self._chromaprint.decode_fingerprint(self._printer.finish())
        return np.asarray(words, np.int64).astype(np.uint32)


def mostly_one_word(words: np.ndarray, share: float = MOSTLY_ONE_WORD) -> bool:
    """Whether one word fills more than ``share`` of a fingerprint (digital silence, a hum)."""
    _, counts = np.unique(words, return_counts=True)
    return bool(len(counts)) and counts.max() > share * len(words)


def bit_error(a: np.ndarray, b: np.ndarray, offset: int) -> tuple[float, int]:
    """The share of differing bits between ``a[i]`` and ``b[i - offset]`` over their overlap, and its length."""
    lo, hi = max(0, offset), min(len(a), len(b) + offset)
    if hi <= lo:
        return 1.0, 0
    diff = np.bitwise_xor(a[lo:hi], b[lo - offset : hi - offset])
    return float(np.bitwise_count(diff).sum()) / (32 * (hi - lo)), hi - lo


def compare(a: np.ndarray, b: np.ndarray) -> float:
    """The lowest bit error rate between two fingerprints over the offsets their equal words vote for and offset 0
    (a copy that was not cut starts where its original does, and a few seconds re-encoded may share no word
    exactly: an mp3 of a 4-s memo did not); 1.0 when no offset overlaps MIN_OVERLAP of the shorter."""
    return aligned(a, b)[0]


def aligned(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """:func:`compare`'s bit error and the offset it was found at (``a[i]`` against ``b[i - offset]``: an excerpt
    ``a`` that starts ``t`` seconds into ``b`` is at about ``-t / ITEM_S``; 0 when nothing overlaps)."""
    if len(a) == 0 or len(b) == 0:
        return 1.0, 0
    best, at = 1.0, 0
    need = max(MIN_OVERLAP * min(len(a), len(b)), MIN_OVERLAP_WORDS)
    for offset in dict.fromkeys([*voted_offsets(a, b), 0]):
        error, overlap = bit_error(a, b, offset)
        if overlap >= need and error < best:
            best, at = error, offset
    return best, at


def voted_offsets(a: np.ndarray, b: np.ndarray, n: int = OFFSETS_TRIED) -> list[int]:
    """The ``n`` offsets ``i - j`` with the most pairs of equal words ``a[i] == b[j]``, most votes first, ties in the
    order the pairs come (by ``i``, then ``j``). In sorted arrays, no loop over the words: a 120-s pair (968 words
    each) took 0.4 ms as dictionaries of positions."""
    order = np.argsort(b, kind="stable")
    sorted_b = b[order]
    lo, hi = np.searchsorted(sorted_b, a, "left"), np.searchsorted(sorted_b, a, "right")
    runs = hi - lo
    total = int(runs.sum())
    if not total:
        return []
    at = np.repeat(lo - np.concatenate([[0], np.cumsum(runs)[:-1]]), runs) + np.arange(total)
    offsets = np.repeat(np.arange(len(a)), runs) - order[at]
    values, first, counts = np.unique(offsets, return_index=True, return_counts=True)
    return values[np.lexsort((first, -counts))][:n].tolist()


def bit_means(words: np.ndarray) -> np.ndarray:
    """How often each of the 32 bits is set over a fingerprint's words (float32, 32). A copy in another format, rate
    or gain keeps them, even where its words differ from its original's by a bit or two at every position and share
    none exactly (an mp3's delay moves the audio against Chromaprint's grid): of the 1,281 copies of the duplicates
    benchmark that Chromaprint compares, every one had its original nearest among the 429 originals by them."""
    w = np.asarray(words, np.uint32)
    if not len(w):
        return np.zeros(32, np.float32)
    return ((w[:, None] >> np.arange(32, dtype=np.uint32)) & 1).mean(axis=0).astype(np.float32)


def near_summaries(prints: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The fingerprints' :func:`bit_means`, less their centre, as unit rows; and the centre. Pure."""
    means = np.stack([bit_means(w) for w in prints]) if len(prints) else np.zeros((0, 32), np.float32)
    centre = means.mean(axis=0) if len(means) else np.zeros(32, np.float32)
    rows = means - centre
    return (rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)).astype(np.float32), centre


def near_pairs(prints: Sequence[np.ndarray], k: int = NEAR_FILES) -> set[tuple[int, int]]:
    """Each fingerprint with its ``k`` nearest by :func:`bit_means` (matrix products in blocks), leaving out those
    that are mostly one word (two mostly silent files are near by their silence). Pure."""
    usable = [i for i, w in enumerate(prints) if len(w) and not mostly_one_word(w)]
    if len(usable) < 2:
        return set()
    rows, _ = near_summaries([prints[i] for i in usable])
    k = min(k, len(usable) - 1)
    pairs = set()
    for lo in range(0, len(usable), 1024):
        sims = rows[lo : lo + 1024] @ rows.T
        sims[np.arange(len(sims)), lo + np.arange(len(sims))] = -np.inf
        for r, near in enumerate(np.argpartition(-sims, k - 1, axis=1)[:, :k].tolist()):
            i = usable[lo + r]
            pairs.update((min(i, usable[j]), max(i, usable[j])) for j in near)
    return pairs


def candidate_pairs(prints: Sequence[np.ndarray]) -> set[tuple[int, int]]:
    """Pairs of fingerprints sharing at least MIN_SHARED_WORDS words, through an inverted index of the words."""
    index: dict[int, list[int]] = defaultdict(list)
    for n, words in enumerate(prints):
        for w in np.unique(words).tolist():
            index[w].append(n)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for files in index.values():
        if len(files) < 2 or len(files) > STOP_FILES:
            continue
        for i, a in enumerate(files):
            for b in files[i + 1 :]:
                shared[(a, b)] += 1
    return {pair for pair, n in shared.items() if n >= MIN_SHARED_WORDS}


def chromaprint_pairs(prints: Sequence[np.ndarray], max_bit_error: float = DEFAULT_MAX_BIT_ERROR) -> dict:
    """Duplicate pairs ``(i, j): bit error`` among fingerprints (candidates from shared words, and each one's
    nearest by :func:`bit_means`). Pure."""
    pairs = {}
    for a, b in sorted(candidate_pairs(prints) | near_pairs(prints)):
        error = compare(prints[a], prints[b])
        if error <= max_bit_error:
            pairs[(a, b)] = error
    return pairs
