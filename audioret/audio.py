"""Decoding any audio file to mono float32 at 48 kHz, block by block, and cutting it into fixed windows.

libsndfile (through soundfile) reads wav, flac, ogg/vorbis, opus, mp3 and aiff without any external program and
lets us read a long file in blocks. Containers it cannot read (m4a/aac, wma, webm, mp4 ...) are decoded with PyAV,
the FFmpeg binding faster-whisper already depends on, so no ``ffmpeg`` executable is needed either way.
Resampling is done by soxr in streaming mode, so a 3-hour recording never has to be in memory at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .errors import AudioDecodeError, InputError, PathNotFound

SAMPLE_RATE = 48000  # CLAP's input rate
BLOCK_SECONDS = 30  # a file up to this long is decoded and resampled in one block...
STREAM_BLOCK_SECONDS = 10  # ...a longer one streams in blocks this long (the samples are the same bits either way)
MAX_BLOCK_SAMPLES = BLOCK_SECONDS * 192_000 * 2  # ...and no block holds more samples (30 s of 192-kHz stereo, 46 MB)
MAX_SAMPLE_RATE = 768_000  # the highest rate audio is recorded at; a header that says more is not audio...
MIN_SAMPLE_RATE = 1_000  # ...or less (resampled to 48 kHz, 1 Hz made 48,000 samples of each one)

# Extensions the indexer picks up when scanning folders.
AUDIO_EXTENSIONS = frozenset(
    ".wav .wave .flac .ogg .oga .opus .mp3 .aif .aiff .aifc .m4a .aac .mp4 .wma .webm .mka .caf .au .w64".split()
)


@dataclass(frozen=True)
class AudioInfo:
    duration_s: float  # may be an estimate from the header until the file has been read to the end
    sample_rate: int  # the file's own rate
    channels: int
    format: str  # container/codec name, e.g. "OGG/VORBIS", "WAV/PCM_16", "mp4/aac"


@dataclass(frozen=True)
class Window:
    index: int  # position in the file, 0-based
    start: int  # first sample, at SAMPLE_RATE
    end: int  # one past the last real sample; end - start <= len(samples)
    samples: np.ndarray  # float32, shape = (window,), repeat-padded when the audio is shorter than a window

    @property
    def start_s(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.end / SAMPLE_RATE


def probe(path: str | os.PathLike) -> AudioInfo:
    """Read the header only."""
    try:
        info = sf.info(str(path))
        return AudioInfo(info.duration, info.samplerate, info.channels, f"{info.format}/{info.subtype}")
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            stream = _audio_stream(container, path)
            duration = float(container.duration / 1e6) if container.duration else 0.0
            codec = stream.codec_context
            container_name = container.format.name.split(",")[0]  # "mov,mp4,m4a,3gp,3g2,mj2" → "mov"
            return AudioInfo(duration, codec.sample_rate, codec.channels, f"{container_name}/{codec.name}")
    except AudioDecodeError:
        raise
    except Exception as e:  # PyAV raises its own error hierarchy per FFmpeg error code
        raise AudioDecodeError(path, f"not a supported audio format, or a damaged file ({_reason(e)})") from e


def open_audio(path: str | os.PathLike) -> tuple[AudioInfo, Iterator[np.ndarray]]:
    """Open ``path`` and return its header info and an iterator of mono float32 blocks at the file's own rate.

    Decoding errors found while iterating are raised as :class:`AudioDecodeError`.
    """
    path = str(path)
    if not os.path.exists(path):
        raise PathNotFound(path)  # not "a damaged file": the fix is another path
    if os.path.isdir(path):
        raise AudioDecodeError(path, "is a directory, not an audio file")
    try:
        f = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        f = None
    if f is not None:
        info = AudioInfo(f.frames / f.samplerate, f.samplerate, f.channels, f"{f.format}/{f.subtype}")
        if not MIN_SAMPLE_RATE <= f.samplerate <= MAX_SAMPLE_RATE:
            f.close()
            raise AudioDecodeError(path, f"says its sample rate is {f.samplerate:,} Hz, which no audio has")
        return info, _sndfile_blocks(f, path)
    info = probe(path)
    if not MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioDecodeError(path, f"says its sample rate is {info.sample_rate:,} Hz, which no audio has")
    return info, _av_blocks(path)


def decoded_seconds(path: str | os.PathLike, at_most: float) -> float:
    """How long ``path`` is as decoding finds it, not as its header says (a header may say anything), read only
    until it passes ``at_most`` seconds (then a block past it). A file that fails part-way counts what decoded
    before the failure (indexing decodes that much before it fails the file); 0 for one that cannot be opened."""
    samples, rate, blocks = 0, 0, None
    try:
        info, blocks = open_audio(path)
        rate = info.sample_rate
        for block in blocks:
            samples += len(block)
            if samples > at_most * rate:
                break
    except (AudioDecodeError, OSError):
        pass
    finally:
        if blocks is not None:
            blocks.close()
    return samples / rate if rate else 0.0


def stream(path: str | os.PathLike, sr: int = SAMPLE_RATE) -> tuple[AudioInfo, Iterator[np.ndarray]]:
    """Open ``path`` and return its header info and an iterator of mono float32 blocks at ``sr``.

    Decoding errors found while iterating are raised as :class:`AudioDecodeError`. Non-finite samples are
    replaced by silence so that one bad frame cannot poison an embedding.
    """
    info, blocks = open_audio(path)
    return info, resample(blocks, info.sample_rate, sr, str(path))


def load(
    path: str | os.PathLike, sr: int = SAMPLE_RATE, start_s: float = 0.0, end_s: float | None = None
) -> np.ndarray:
    """The file (or its ``start_s``..``end_s`` part) as one mono float32 array at ``sr``; decoding stops at
    ``end_s``. Use :func:`windows` for long files."""
    _, blocks = stream(path, sr)
    end = None if end_s is None else round(end_s * sr)
    parts, read = [], 0
    for block in blocks:
        parts.append(block)
        read += len(block)
        if end is not None and read >= end:
            break
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return samples[round(start_s * sr) : end]


class Windower:
    """Cuts a stream of sample blocks, pushed one at a time, into windows of exactly ``window`` samples, one every
    ``hop`` samples.

    Every sample belongs to some window. A window that would run past the end of the audio (the tail, or the
    whole of a clip shorter than one window) holds the remaining samples repeat-padded like CLAP's own
    processor ("repeatpad": tiled a whole number of times, then zero-padded), and its ``end`` is the end of the
    audio. Only ``window + block`` samples are held in memory at a time.
    """

    def __init__(self, window: int, hop: int):
        if not 0 < hop <= window:
            raise ValueError(
                f"expected 0 < hop <= window so that no audio falls between windows, got {hop=}, {window=}"
            )
        self.window, self.hop = window, hop
        self._buf = np.zeros(0, np.float32)
        self._buf_start = 0  # sample offset of buf[0] in the stream
        self._next_start = 0
        self._index = 0
        self._covered = 0  # samples [0, covered) are inside an emitted window

    def push(self, block: np.ndarray) -> list[Window]:
        """The windows that ``block`` completes."""
        buf = np.concatenate([self._buf, block]) if len(self._buf) else np.asarray(block, np.float32)
        out = []
        while self._next_start + self.window <= self._buf_start + len(buf):
            lo = self._next_start - self._buf_start
            out.append(
                Window(self._index, self._next_start, self._next_start + self.window, buf[lo : lo + self.window].copy())
            )
            self._covered = self._next_start + self.window
            self._index += 1
            self._next_start += self.hop
        drop = min(self._next_start - self._buf_start, len(buf))  # samples before the next window are not needed
        self._buf, self._buf_start = buf[drop:], self._buf_start + drop
        return out

    def close(self) -> list[Window]:
        """The repeat-padded tail window, if samples past the last full window remain."""
        total = self._buf_start + len(self._buf)
        if total <= self._covered:
            return []
        # hop <= window, so next_start <= covered < total: the tail starts where the next window would have
        tail = self._buf[self._next_start - self._buf_start :]
        return [Window(self._index, self._next_start, total, repeat_pad(tail, self.window))]


def windows(blocks: Iterable[np.ndarray], window: int, hop: int) -> Iterator[Window]:
    """The windows of a whole stream of blocks (see :class:`Windower`)."""
    cutter = Windower(window, hop)
    for block in blocks:
        yield from cutter.push(block)
    yield from cutter.close()


def repeat_pad(x: np.ndarray, length: int) -> np.ndarray:
    """``x`` tiled ``length // len(x)`` times and zero-padded to ``length`` (ClapFeatureExtractor's "repeatpad")."""
    x = np.asarray(x, np.float32)
    if len(x) == 0:
        return np.zeros(length, np.float32)
    if len(x) >= length:
        return x[:length].copy()
    tiled = np.tile(x, length // len(x))
    return np.pad(tiled, (0, length - len(tiled)))


def _sndfile_blocks(f: sf.SoundFile, path: str) -> Iterator[np.ndarray]:
    with f:
        most = max(1, MAX_BLOCK_SAMPLES // f.channels)  # frames: a block's memory is bounded whatever the rate
        whole = min(int(BLOCK_SECONDS * f.samplerate), most)  # one block: resampled in one call (Resampler)
        blocksize = max(1, whole if f.frames <= whole else min(int(STREAM_BLOCK_SECONDS * f.samplerate), most))
        try:
            while True:
                block = f.read(blocksize, dtype="float32", always_2d=True)
                if len(block) == 0:
                    return
                yield block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
                if len(block) < blocksize:
                    return
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioDecodeError(path, f"decoding failed part-way: {_reason(e)}") from e


def _bounded(block: np.ndarray, most: int) -> Iterator[np.ndarray]:
    """A decoded frame in pieces of at most ``most`` samples (a raw-PCM packet may hold a whole file)."""
    for start in range(0, max(len(block), 1), most):
        yield block[start : start + most]


MIN_MEAN_FRAME = 16  # samples: real codecs decode 64-2,048 a frame; a file of 1-sample frames cost 1,000x to read
FRAMES_CHECKED = 1000  # frames decoded before their mean length is judged


def _av_blocks(path: str) -> Iterator[np.ndarray]:
    av = _import_av()
    try:
        with av.open(path) as container:
            stream = _audio_stream(container, path)
            # pieces bounded by what they become at 48 kHz: 1 kHz resampled is 48 times as many samples
            most = max(1, int(MAX_BLOCK_SAMPLES * min(1.0, (stream.codec_context.sample_rate or 1) / SAMPLE_RATE)))
            # Convert to planar float at the source rate and layout; downmixing and resampling stay in numpy/soxr
            # so every format goes through the same signal path.
            resampler = av.AudioResampler(format="fltp")
            frames = samples = 0
            for frame in container.decode(stream):
                frames, samples = frames + 1, samples + frame.samples
                if frames == FRAMES_CHECKED and samples < MIN_MEAN_FRAME * frames:
                    raise AudioDecodeError(
                        path,
                        f"decodes in frames of {samples / frames:.1f} samples on average, "
                        "too small to read at a reasonable cost",
                    )
                for out in resampler.resample(frame):
                    yield from _bounded(out.to_ndarray().mean(axis=0, dtype=np.float32), most)
            for out in resampler.resample(None):
                yield from _bounded(out.to_ndarray().mean(axis=0, dtype=np.float32), most)
    except AudioDecodeError:
        raise
    except Exception as e:
        raise AudioDecodeError(path, _reason(e)) from e


class Resampler:
    """Mono float32 blocks, pushed one at a time at ``sr_in``, out at ``sr_out`` (soxr HQ), non-finite samples made
    silent.

    A file that arrives in one block (up to ``BLOCK_SECONDS``, pushed with ``last=True``) is resampled in one call,
    which is faster than the streaming resampler; longer files stream, so memory stays bounded. Both give the same
    samples to within 1e-4 (tests/test_audio.py); the stream gives the same bits whatever its blocks' lengths.
    """

    def __init__(self, sr_in: int, sr_out: int, path: str = ""):
        if not sr_in or sr_in <= 0:
            raise AudioDecodeError(path, f"invalid sample rate {sr_in}")
        self.sr_in, self.sr_out = sr_in, sr_out
        self._stream = None

    def push(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        block = _finite(block)
        if self.sr_in == self.sr_out:
            return block
        if self._stream is None:
            if last:  # the whole file in one block
                return soxr.resample(block, self.sr_in, self.sr_out, quality="HQ")
            self._stream = soxr.ResampleStream(self.sr_in, self.sr_out, 1, dtype="float32", quality="HQ")
        return self._stream.resample_chunk(block, last=last)


def with_last(blocks: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, bool]]:
    """``(block, is_last)`` for each block, reading one block ahead."""
    blocks = iter(blocks)
    previous = next(blocks, None)
    if previous is None:
        return
    for block in blocks:
        yield previous, False
        previous = block
    yield previous, True


def resample(blocks: Iterable[np.ndarray], sr_in: int, sr_out: int, path: str = "") -> Iterator[np.ndarray]:
    """The blocks of a whole stream at ``sr_out`` (see :class:`Resampler`)."""
    resampler = Resampler(sr_in, sr_out, path)
    for block, last in with_last(blocks):
        out = resampler.push(block, last)
        if len(out):
            yield out


def _finite(block: np.ndarray) -> np.ndarray:
    """Contiguous float32, with NaN and infinity replaced by silence; a finite block is not copied."""
    block = np.ascontiguousarray(block, np.float32)
    if np.isfinite(block.sum()):  # one pass, no allocation; NaN and inf (or an overflow) make the sum non-finite
        return block
    return np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)


def _audio_stream(container, path):
    if not container.streams.audio:
        raise AudioDecodeError(path, "contains no audio stream")
    return container.streams.audio[0]


def _import_av():
    try:
        import av
    except ImportError as e:  # pragma: no cover - av comes with faster-whisper
        raise ImportError("PyAV is needed for m4a/aac/webm files: pip install av") from e
    return av


def _reason(e: Exception) -> str:
    # PyAV's errors carry FFmpeg's message in strerror; str() adds the errno and the file name
    text = (getattr(e, "strerror", None) or str(e)).strip() or type(e).__name__
    return text.replace("\n", " ")


def is_audio_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def samples(x) -> np.ndarray:
    """Mono samples at 48 kHz as a caller hands them in (query by example): float32 as given; integer PCM (what
    ``scipy.io.wavfile`` reads: int16, int32, uint8) scaled to -1..1 by its type's range. Raises
    :class:`InputError` for another shape, a type that is not numbers, or a sample that is NaN or infinite."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise InputError(f"Expected mono samples of shape (n,), got shape {x.shape}")
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        half = (int(info.max) - int(info.min) + 1) / 2
        return ((x.astype(np.float64) - (int(info.min) + half)) / half).astype(np.float32)
    if not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"Expected samples as numbers (float32 at 48 kHz), got {x.dtype}")
    if not np.isfinite(x).all():
        raise InputError("The example's samples hold NaN or infinity; pass float32 samples at 48 kHz")
    return x.astype(np.float32, copy=False)
