"""How short files are compared: their spectra, and the shortest sounds their waveforms (see
:mod:`audioret.duplicates`). Pure numpy, and librosa for the mel spectrogram."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

FINGERPRINT_RATE = 11025  # Hz; Chromaprint resamples to this itself, and spectra are taken at it too


PROFILE_BANDS = 48


PROFILE_HOP = 256  # samples at FINGERPRINT_RATE: 23 ms, the frames compared...


PROFILE_PHASES = 4  # ...taken every PROFILE_HOP / PROFILE_PHASES samples, so that two copies are compared at the
# phase of the frame grid that aligns them: an mp3's delay moves a drum hit by a fraction of a frame


PROFILE_VERSION = 2  # 1: one phase, no padding (a cache's profiles from then are taken again)


PROFILE_FLOOR_DB = 40.0  # codec noise lives under it: -60 dB let Vorbis q3 copies of a digit fall to 0.87


MAX_SHIFT_S = 0.6


SHORT_NEIGHBOURS = 12


MIN_CORRELATION = 0.95


EDGE = 2 * PROFILE_PHASES  # frames of a profile's half window of padding at each end (512 samples, 2 hops)


MIN_CUT_S = 1.0  # a shorter profile is compared as a cut of a longer from this long (:func:`cut_from`): under it a
# decay is any decay (a 0.23-s kick drum correlated 0.98 as a cut of another kit's kick)


CUT_FROM = 0.8  # a pair correlating this well as taken is compared without either profile's edges too (a cut
# copy); for every pair, that cost the duplicates finder's short files 2.6 times their time, from 0.8 1.2 times, for
# the same pairs found (docs/BENCHMARKS.md, "Duplicates")


def profile(samples: np.ndarray) -> np.ndarray:
    """The spectrum short files are compared by: a mel spectrogram of mono audio at FINGERPRINT_RATE, padded with
    half a window of silence at each end (a sound shorter than the window has frames too), a frame every
    PROFILE_HOP / PROFILE_PHASES samples, in dB under its loudest cell (so gain drops out), floored at
    -PROFILE_FLOOR_DB, as quarter-dB steps in uint8, shape (frames, PROFILE_BANDS). librosa's mel spectrogram
    (``center=False``), from librosa's filters and window made once."""
    x = np.nan_to_num(np.asarray(samples, np.float32))
    if not len(x):
        return np.zeros((0, PROFILE_BANDS), np.uint8)
    window, bands = _filters()
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(x, len(window) // 2), len(window))
    power = np.abs(np.fft.rfft(frames[:: PROFILE_HOP // PROFILE_PHASES] * window, axis=1)) ** 2
    db = 10.0 * np.log10(np.maximum(power @ bands, 1e-12))
    above = np.clip(db - db.max() + PROFILE_FLOOR_DB, 0.0, PROFILE_FLOOR_DB)
    return np.round(above * 4).astype(np.uint8)


@cache
def _filters() -> tuple[np.ndarray, np.ndarray]:
    """The analysis window (4 * PROFILE_HOP) and the mel filters (as columns) of :func:`profile`."""
    import librosa

    n_fft = 4 * PROFILE_HOP
    bands = librosa.filters.mel(sr=FINGERPRINT_RATE, n_fft=n_fft, n_mels=PROFILE_BANDS, fmin=40.0)
    return librosa.filters.get_window("hann", n_fft, fftbins=True).astype(np.float32), bands.T.astype(np.float32)


def correlation(
    a: np.ndarray,
    b: np.ndarray,
    max_shift: int = round(MAX_SHIFT_S * FINGERPRINT_RATE / PROFILE_HOP),
    phases: int = PROFILE_PHASES,
) -> float:
    """The best Pearson correlation of two profiles' changes from frame to frame (:func:`profile`), PROFILE_HOP
    apart, over shifts of up to ``max_shift`` such frames and the ``phases`` of ``b``'s frame grid against ``a``'s
    (every 4th frame of ``a`` against every 4th of ``b`` from its 1st, 2nd, 3rd and 4th), counting only overlaps
    of at least half of the shorter (-1.0 when there is none). The changes, not the levels: every take of one
    speaker's "seven" has the same spectral envelope, so the levels of two takes correlate as well as two copies do,
    and the changes do not (docs/BENCHMARKS.md, "Figures behind the code"). The phases: a drum hit's changes are a
    few large ones, and an encoder's delay of a fraction of a frame lowered a copy's correlation to 0.8 (an mp3 of
    a 0.7-s kick) where the aligned phase gives 0.94 ("Duplicates"). Each profile is also taken without its
    padded edges (EDGE frames at each end): a copy cut inside a sound starts with an onset the original does not
    have there, and in a clip that is mostly silence those few frames are most of its changes (0.5-s trims of
    ESC-10 clips in silence correlated 0.91-0.97 with their originals, 0.98-1.00 without the cut's edge). Only
    pairs that correlate to CUT_FROM as taken are compared so. A pair under MIN_CORRELATION is also compared as a
    cut with its floor raised (:func:`cut_from`)."""
    best = max((_correlation(a[::phases], b[k::phases], max_shift) for k in range(phases)), default=-1.0)
    if best < MIN_CORRELATION:
        best = max(best, cut_from(a, b, max_shift * phases, phases))
    if best < CUT_FROM:
        return best
    cut = [(x[EDGE:-EDGE], y) for x, y in ((a, b), (b, a)) if len(x) > 2 * EDGE]
    return max([best, *(_correlation(x[::phases], y[k::phases], max_shift) for x, y in cut for k in range(phases))])


def cut_from(a: np.ndarray, b: np.ndarray, max_shift: int, phases: int = PROFILE_PHASES) -> float:
    """The correlation of the shorter profile as a cut of the longer: at each start in it up to ``max_shift``
    frames in, the shorter one's frames (its padded edges left out) against the longer's there, with the shorter's
    floor raised to the longer's (-1.0 where neither is a cut of the other). Each profile is in dB under its own
    loudest cell (:func:`profile`), so a cut that leaves out the loudest hit (a drum's first 0.5 s) shows its tail
    up to 40 dB under the tail's own loudest cell, where the original shows it to 40 dB under the hit: cells at the
    original's floor are above the copy's, and those changes are most of a decay's. The gap is known at each start:
    the copy's loudest cell less the original's loudest there. Measured on the duplicates benchmark's 26 trims
    with a spectrum: 19 correlate to MIN_CORRELATION as taken, 23 so (the four Sonic Pi cuts of a tabla stroke or a
    door's hit 0.96-0.99); 4,000 random pairs of its originals reach 0.63 at most (docs/BENCHMARKS.md, "A copy cut
    past its loudest hit"). Pure."""
    x, y = (a, b) if len(a) >= len(b) else (b, a)
    inner = np.asarray(y[EDGE:-EDGE], np.int16)
    if len(x) - len(y) < phases or len(y) * PROFILE_HOP < MIN_CUT_S * FINGERPRINT_RATE * phases:
        return -1.0
    loudest, top = np.asarray(x, np.int16).max(axis=1), int(y.max())
    best = -1.0
    for start in range(min(max_shift, len(x) - len(y)) + 1):
        gap = top - int(loudest[start : start + len(y)].max())
        if gap > 0:
            there = x[start + EDGE : start + EDGE + len(inner) : phases]
            best = max(best, _pearson_of_changes(there, np.maximum(inner - gap, 0)[::phases]))
    return best


def _pearson_of_changes(a: np.ndarray, b: np.ndarray) -> float:
    """The Pearson correlation of two aligned profiles' changes from frame to frame (-1.0 where either is flat)."""
    x, y = np.diff(np.asarray(a, np.float64), axis=0).ravel(), np.diff(np.asarray(b, np.float64), axis=0).ravel()
    x, y = x - x.mean(), y - y.mean()
    spread = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / spread) if spread > 1e-12 else -1.0


def _correlation(a: np.ndarray, b: np.ndarray, max_shift: int) -> float:
    """:func:`correlation` at one phase. Every shift at once: the products of all frame pairs, summed along each
    diagonal, and running sums for the means and norms of each overlap, ten times faster than a loop over the
    shifts."""
    x, y = np.diff(np.asarray(a, np.float64), axis=0), np.diff(np.asarray(b, np.float64), axis=0)
    nx, ny = len(x), len(y)
    if min(nx, ny) < 1:
        return -1.0
    shifts = np.arange(-max_shift, max_shift + 1)
    lo, hi = np.maximum(0, shifts), np.minimum(nx, ny + shifts)
    length = hi - lo
    ok = (length + 1 >= max((min(nx, ny) + 1) // 2, 4)) & (length > 0)  # an overlap of k frames: k - 1 changes
    if not ok.any():
        return -1.0
    shifts, lo, hi, length = shifts[ok], lo[ok], hi[ok], length[ok]
    products = x @ y.T  # (nx, ny): frame i of a against frame j of b
    i, j = np.indices(products.shape)
    diagonals = np.bincount((i - j + ny - 1).ravel(), weights=products.ravel(), minlength=nx + ny - 1)
    sxy = diagonals[shifts + ny - 1]
    run = lambda v: np.concatenate([[0.0], np.cumsum(v)])  # noqa: E731
    sum_x, sq_x, sum_y, sq_y = run(x.sum(1)), run((x * x).sum(1)), run(y.sum(1)), run((y * y).sum(1))
    n = length * x.shape[1]
    sx, sxx = sum_x[hi] - sum_x[lo], sq_x[hi] - sq_x[lo]
    sy, syy = sum_y[hi - shifts] - sum_y[lo - shifts], sq_y[hi - shifts] - sq_y[lo - shifts]
    spread = (sxx - sx * sx / n) * (syy - sy * sy / n)
    r = np.where(spread > 1e-12, (sxy - sx * sy / n) / np.sqrt(np.maximum(spread, 1e-12)), -1.0)
    return float(r.max())


def short_pairs(
    profiles: Sequence[np.ndarray],
    short: Sequence[bool],
    min_correlation: float = MIN_CORRELATION,
    neighbours: int = SHORT_NEIGHBOURS,
) -> dict[tuple[int, int], float]:
    """Duplicate pairs ``(i, j): correlation`` among profiles, each pair with at least one ``short`` file: each
    file's nearest ``neighbours`` by band means and spreads (matrix products in blocks), checked by
    :func:`correlation`. Pure."""
    n = len(profiles)
    if n < 2:
        return {}
    summary = np.stack([band_summary(p) for p in profiles])
    summary -= summary.mean(axis=0)
    summary /= np.maximum(np.linalg.norm(summary, axis=1, keepdims=True), 1e-9)
    k = min(neighbours, n - 1)
    pairs: dict[tuple[int, int], float] = {}
    for lo in range(0, n, 1024):
        sims = summary[lo : lo + 1024] @ summary.T
        for row, i in enumerate(range(lo, min(lo + 1024, n))):
            sims[row, i] = -np.inf
            for j in np.argpartition(-sims[row], k - 1)[:k].tolist():
                pair = (min(i, j), max(i, j))
                if pair in pairs or not (short[i] or short[j]) or not len(profiles[i]) or not len(profiles[j]):
                    continue
                pairs[pair] = correlation(profiles[i], profiles[j])
    return {pair: c for pair, c in pairs.items() if c >= min_correlation}


class Summaries:
    """Profiles looked up by their band summaries (:func:`band_summary`, centred, unit length): a short example's
    nearest by one matrix product, and of those it may be a cut of (a frame to twice MAX_SHIFT_S longer,
    :func:`cut_from`) the nearest too, since a cut that leaves out a hit changes which frames its summary counts.
    Pure."""

    def __init__(self, profiles: Sequence[np.ndarray]):
        summaries = np.stack([band_summary(p) for p in profiles]) if len(profiles) else np.zeros((0, 2 * PROFILE_BANDS))
        self.centre = summaries.mean(axis=0) if len(summaries) else np.zeros(summaries.shape[1], np.float32)
        self.unit = unit_rows(summaries - self.centre)
        self.lengths = np.asarray([len(p) for p in profiles], np.int64)

    def nearest(self, profile: np.ndarray, k: int, cuts: int = 0) -> np.ndarray:
        """The positions of the ``k`` profiles nearest to ``profile``, and of the ``cuts`` nearest of those it may
        be a cut of."""
        if not len(self.unit):
            return np.zeros(0, np.int64)
        sims = self.unit @ unit_rows((band_summary(profile) - self.centre)[None])[0]
        found = np.argpartition(-sims, min(k, len(sims)) - 1)[:k]
        if cuts:
            n, most = len(profile), 2 * round(MAX_SHIFT_S * FINGERPRINT_RATE / PROFILE_HOP) * PROFILE_PHASES
            longer = np.flatnonzero((self.lengths >= n + PROFILE_PHASES) & (self.lengths <= n + most))
            found = np.union1d(found, longer[np.argsort(-sims[longer], kind="stable")[:cuts]])
        return found


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row of ``x`` at unit length (a zero row stays zero), float32: for nearest-neighbour products. Pure."""
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)).astype(np.float32)


def band_summary(p: np.ndarray) -> np.ndarray:
    """A profile's band means and spreads over its sounding frames (an encoder's padding and a trimmed silence
    left out), for finding candidates."""
    if not len(p):
        return np.zeros(2 * PROFILE_BANDS, np.float32)
    sounding = p[p.max(axis=1) >= p.max() / 2]
    return np.concatenate([sounding.mean(axis=0), sounding.std(axis=0)]).astype(np.float32)


def wave_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The best normalised cross-correlation of two waveforms at one rate, over every lag: the sum of their
    products at the lag over the product of their whole norms, so gain and padding drop out and a lag that leaves
    part of either sound out counts less (-1.0 for a silent or empty one). For sounds too short for a spectrum
    (:data:`audioret.duplicates.rule.MIN_SHORT_S`); by FFT (:func:`wave_correlations`). Pure."""
    return float(wave_correlations(a, [b])[0])


def wave_correlations(a: np.ndarray, others: Sequence[np.ndarray], chunk: int = 256) -> np.ndarray:
    """:func:`wave_correlation` of ``a`` with each of ``others`` (-1.0 for a silent or empty one), by FFTs of one
    size in chunks: a sound under MIN_SHORT_S against the duplicates set's 1,545 waveforms in 0.4 s,
    half the time of one pair at a time. Pure."""
    out = np.full(len(others), -1.0)
    x = np.asarray(a, np.float64)
    norm_a = float(np.linalg.norm(x))
    if not len(others) or not len(x) or norm_a <= 0.0:
        return out
    n = 1 << (len(x) + max(len(o) for o in others) - 2).bit_length()
    fa = np.conj(np.fft.rfft(x, n))
    for lo in range(0, len(others), chunk):
        block = np.zeros((min(chunk, len(others) - lo), n))
        for row, o in enumerate(others[lo : lo + chunk]):
            block[row, : len(o)] = o
        norms = np.linalg.norm(block, axis=1) * norm_a
        best = np.fft.irfft(np.fft.rfft(block, n, axis=1) * fa, n, axis=1).max(axis=1)
        out[lo : lo + len(block)] = np.where(norms > 0.0, best / np.maximum(norms, 1e-300), -1.0)
    return out
