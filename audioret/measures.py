"""What a file measures, for its tags: loudness (ITU-R BS.1770 integrated loudness, LUFS, with pyloudnorm's
K-weighting and its gating), and for music its tempo (BPM, librosa's tempogram) and key (the Krumhansl-Schmuckler
key profiles against librosa's chroma).

Loudness is measured on every file while it is decoded for indexing: a :class:`Measurer` takes the file's blocks
in a decode thread (on a cluster, in the decode task, which sends the result with the file's end), resamples
the file's start (at most ``LOUDNESS_S``) to 22.05-kHz mono and measures it block by block (:class:`Loudness`
keeps each 100-ms step's energy, not the samples), so the model thread never waits for it and a long file costs
no memory. It is the loudness of the mono mix, up to 11 kHz (a stereo file with
uncorrelated channels reads up to 3 dB lower than its stereo measurement; broadband noise a little lower than at
its own rate). Tempo and key are measured only for the files
tagged as music (:func:`music`, reading their first ``MUSIC_S`` again, both from one short-time spectrum), so a
library without music pays nothing for them. What it costs is in docs/BENCHMARKS.md ("Tags").
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from . import audio

logger = logging.getLogger("audioret")

RATE = 22_050  # loudness: up to 11 kHz
MUSIC_RATE = 11_025  # tempo and key: onsets and pitch classes need no more than 5.5 kHz
LOUDNESS_S = 300.0  # loudness of the file's first five minutes
MUSIC_S = 30.0  # tempo and key from its first half minute
MIN_LOUDNESS_S = 0.4  # one gating block of BS.1770
MIN_MUSIC_S = 5.0  # shorter clips (a drum hit, a one-shot) have no tempo to speak of
MIN_KEY_CORRELATION = 0.5  # a chroma that fits no key profile this well gets no key
NOTES = ("c", "c#", "d", "d#", "e", "f", "f#", "g", "g#", "a", "a#", "b")
# Krumhansl & Kessler's probe-tone ratings of the 12 pitch classes in a major and a minor key, tonic first.
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_PROFILES = np.array([np.roll(p, tonic) for p in (MAJOR, MINOR) for tonic in range(12)])  # (24, 12)


def loudness(samples: np.ndarray, sr: int = RATE) -> float | None:
    """Integrated loudness (LUFS) of mono samples; None for silence or a clip shorter than one gating block."""
    meter = Loudness(sr)
    meter.push(samples)
    return meter.result()


class Loudness:
    """BS.1770 integrated loudness of mono samples pushed in blocks of any length.

    The K-weighting filters (pyloudnorm's design for the rate) run with their state carried from block to block,
    and only each 100-ms step's energy is kept, not the samples, which pyloudnorm would take whole and copy as
    float64 (what that cost an index run: docs/BENCHMARKS.md, "Memory"). The gating is pyloudnorm's
    ``Meter.integrated_loudness``: 400-ms blocks every 100 ms, the -70 LUFS and -10 LU gates; the blocks' bounds
    agree with its own to within a sample (a test holds the two to 0.01 LU).
    """

    BLOCK_STEPS = 4  # a 400-ms gating block is four 100-ms steps (75 % overlap)

    def __init__(self, sr: int):
        from pyloudnorm.iirfilter import IIRfilter

        stages = (IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sr, "high_shelf"), IIRfilter(0.0, 0.5, 38.0, sr, "high_pass"))
        self.sos = np.array([np.concatenate([f.b, f.a]) / f.a[0] for f in stages])
        self.gain = float(np.prod([f.passband_gain for f in stages]))
        self.state = np.zeros((len(stages), 2))
        self.sr, self.step = sr, 0.1 * sr
        self.seen = 0  # samples pushed
        self.energies: list[float] = []  # sum of squares of each whole step
        self.partial = 0.0  # ...and of the step under way

    def push(self, samples: np.ndarray) -> None:
        import scipy.signal

        if not len(samples):
            return
        y, self.state = scipy.signal.sosfilt(self.sos, np.asarray(samples, np.float64), zi=self.state)
        summed = np.concatenate([[0.0], np.cumsum((self.gain * y) ** 2)])
        start, end = self.seen, self.seen + len(y)
        bounds = np.round(np.arange(len(self.energies) + 1, end / self.step + 2) * self.step).astype(np.int64)
        cuts = bounds[bounds <= end] - start  # where whole steps end inside this block
        if len(cuts):
            edges = np.concatenate([[0], cuts])
            sums = np.diff(summed[edges])
            sums[0] += self.partial
            self.energies.extend(sums.tolist())
            self.partial = float(summed[-1] - summed[cuts[-1]])
        else:
            self.partial += float(summed[-1])
        self.seen = end

    def result(self) -> float | None:
        """The loudness of what was pushed, rounded to 0.01 LU; None under one gating block, or silence."""
        if self.seen < MIN_LOUDNESS_S * self.sr:
            return None
        n_blocks = int(np.round((self.seen / self.sr - 0.4) / 0.1)) + 1  # as pyloudnorm counts them
        steps = np.concatenate([self.energies, [self.partial], np.zeros(self.BLOCK_STEPS)])
        blocks = np.convolve(steps, np.ones(self.BLOCK_STEPS), "valid")[:n_blocks] / (0.4 * self.sr)
        value = gated_loudness(blocks)
        return None if value is None else round(value, 2)


def gated_loudness(blocks: np.ndarray) -> float | None:
    """BS.1770's gated loudness (LUFS) from the mean squares of the K-weighted 400-ms blocks: the blocks above
    -70 LUFS, then those above their own loudness - 10 LU; None when no block is left (silence)."""
    blocks = np.asarray(blocks, np.float64)
    with np.errstate(divide="ignore"):
        each = -0.691 + 10 * np.log10(blocks)
    kept = blocks[each >= -70.0]
    if not len(kept):
        return None
    relative = -0.691 + 10 * np.log10(kept.mean()) - 10.0
    kept = blocks[(each > relative) & (each > -70.0)]
    if not len(kept):
        return None
    value = -0.691 + 10 * np.log10(kept.mean())
    return float(value) if np.isfinite(value) else None


def tempo(samples: np.ndarray, sr: int = MUSIC_RATE) -> float | None:
    """The tempo (BPM) of mono samples by librosa's tempogram (onsets every 23 ms); None for a clip under
    ``MIN_MUSIC_S`` or one without onsets."""
    return music_of(samples, sr).get("tempo_bpm")


def key_of(chroma: np.ndarray) -> tuple[str | None, float]:
    """The key whose Krumhansl-Schmuckler profile correlates best with a mean chroma vector (12 pitch classes from
    C), and the correlation: ``("a minor", 0.83)``; None under ``MIN_KEY_CORRELATION`` or for a flat chroma."""
    chroma = np.asarray(chroma, np.float64)
    if chroma.shape != (12,) or np.std(chroma) == 0:
        return None, 0.0
    r = np.corrcoef(chroma, _PROFILES)[0, 1:]  # major keys from C, then minor keys from C
    best = int(np.argmax(r))
    name = f"{NOTES[best % 12]} {'major' if best < 12 else 'minor'}"
    return (name if r[best] >= MIN_KEY_CORRELATION else None), round(float(r[best]), 4)


def key(samples: np.ndarray, sr: int = MUSIC_RATE) -> str | None:
    """The key of mono samples ("c major", "f# minor"), or None (too short, silent, or no key fits)."""
    return music_of(samples, sr).get("key")


def music_of(samples: np.ndarray, sr: int = MUSIC_RATE) -> dict:
    """The tempo (``tempo_bpm``) and key (``key``) of mono samples, those that apply, from one short-time spectrum:
    onsets from its mel bands, the key from its chroma. Empty for a clip under ``MIN_MUSIC_S`` or silence."""
    import librosa

    if len(samples) < MIN_MUSIC_S * sr or not np.any(samples):
        return {}
    hop = 256 if sr <= 11_025 else 512
    power = np.abs(librosa.stft(np.asarray(samples, np.float32), n_fft=4 * hop, hop_length=hop)) ** 2
    mel_basis, chroma_basis = _bases(sr, 4 * hop)
    found: dict = {}
    onsets = librosa.onset.onset_strength(S=librosa.power_to_db(mel_basis @ power), sr=sr, hop_length=hop)
    if np.any(onsets):
        bpm = float(librosa.feature.tempo(onset_envelope=onsets, sr=sr, hop_length=hop)[0])
        if bpm > 0:
            found["tempo_bpm"] = round(bpm, 1)
    chroma = librosa.util.normalize(chroma_basis @ power, norm=np.inf, axis=0)  # as librosa's chroma_stft
    name = key_of(chroma.mean(axis=1))[0]
    if name is not None:
        found["key"] = name
    return found


@functools.lru_cache(maxsize=4)
def _bases(sr: int, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """librosa's 64-band mel and 12-class chroma filter banks for this rate and STFT size (made once: making them
    costs more than applying them)."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=64), librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0)


def music(path: str) -> dict:
    """The tempo (``tempo_bpm``) and key (``key``) of a music file's first ``MUSIC_S``, those that apply."""
    return music_of(audio.load(path, MUSIC_RATE, 0.0, MUSIC_S))


class Measurer:
    """A file's blocks at its own rate in, its loudness out (``result``: ``{"loudness_lufs": ...}``, or empty)
    once the last block is in."""

    def __init__(self, sr_in: int, path: str = ""):
        self.resampler = audio.Resampler(sr_in, RATE, path)
        self.meter: Loudness | None = Loudness(RATE)
        self.kept, self.path = 0, path
        self.result: dict | None = None  # set by the last push

    def push(self, block: np.ndarray, last: bool) -> None:
        if self.meter is None:  # the measurement failed: the file is indexed without it
            return
        limit = round(LOUDNESS_S * RATE)  # exactly the file's start, however long the decoder's blocks are
        try:
            if self.kept < limit:
                out = self.resampler.push(block, last)[: limit - self.kept]
                self.meter.push(out)
                self.kept += len(out)
            if last:
                value = self.meter.result()
                self.result = {} if value is None else {"loudness_lufs": value}
        except Exception as e:  # a measurement is optional: the file is indexed without it
            logger.warning("Could not measure %s: %s: %s", self.path, type(e).__name__, e)
            self.meter, self.result = None, {}
