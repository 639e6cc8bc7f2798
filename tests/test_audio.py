from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from audioret import audio
from audioret.audio import SAMPLE_RATE, AudioDecodeError

from .conftest import require_shared, tone, write

WINDOW = 10 * SAMPLE_RATE


def _encode_av(path, codec: str, rate: int, seconds: float, layout: str = "stereo"):
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        x = tone(seconds, 440, sr=rate)
        frame = av.AudioFrame.from_ndarray(np.stack([x, x]), format="fltp", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.mark.parametrize(
    "name, sr, channels, subtype",
    [
        ("pcm16.wav", 44100, 1, "PCM_16"),
        ("pcm24.wav", 96000, 2, "PCM_24"),
        ("float.wav", 8000, 1, "FLOAT"),
        ("u8.wav", 22050, 1, "PCM_U8"),
        ("six.wav", 48000, 6, "PCM_16"),
        ("hi.flac", 192000, 2, "PCM_24"),
        ("x.ogg", 44100, 2, "VORBIS"),
        ("x.opus", 48000, 1, "OPUS"),
        ("x.mp3", 44100, 2, "MPEG_LAYER_III"),
        ("x.aiff", 16000, 1, "PCM_16"),
    ],
)
def test_decodes_to_mono_48k(tmp_path, name, sr, channels, subtype):
    seconds = 3.0
    fmt = "OGG" if name.endswith(".opus") else None  # soundfile does not know the .opus extension
    path = write(tmp_path / name, tone(seconds, 440, sr=sr, channels=channels), sr=sr, subtype=subtype, format=fmt)
    info, blocks = audio.stream(path)
    assert (info.sample_rate, info.channels) == (sr, channels)
    x = np.concatenate(list(blocks))
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) / SAMPLE_RATE - seconds) < 0.1  # mp3 adds encoder padding
    # the 440 Hz tone survives downmixing and resampling: it is the strongest frequency
    spectrum = np.abs(np.fft.rfft(x[: SAMPLE_RATE * 2]))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / (2 * SAMPLE_RATE) - 440) < 2


def test_decodes_m4a_aac_with_pyav(tmp_path):
    path = _encode_av(tmp_path / "voice memo.m4a", "aac", 44100, 3.0)
    with pytest.raises(sf.LibsndfileError):
        sf.info(str(path))  # libsndfile cannot, so this goes through PyAV
    info = audio.probe(path)
    assert info.format.endswith("/aac") and info.channels == 2 and info.sample_rate == 44100
    x = audio.load(path)
    assert abs(len(x) / SAMPLE_RATE - 3.0) < 0.1
    assert np.abs(x).max() > 0.2


def test_resampling_matches_whole_file_soxr(tmp_path):
    """Streaming resampling block by block gives the same signal as resampling the whole file at once."""
    import soxr

    x = tone(70, 1000, sr=44100, seed=1)  # longer than one decode block
    path = write(tmp_path / "long.wav", x, sr=44100, subtype="FLOAT")
    streamed = audio.load(path)
    whole = soxr.resample(x, 44100, SAMPLE_RATE, quality="HQ")
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-4)


def test_a_long_file_decodes_to_the_same_bits_however_long_its_blocks():
    """Files past BLOCK_SECONDS stream in short blocks (memory) and resample to the same samples, bit for bit, as one
    stream pushed in BLOCK_SECONDS blocks (the block length is a memory choice, never a change to the vectors)."""
    import soxr

    x = tone(70, 1000, sr=44100, seed=1)
    stream = soxr.ResampleStream(44100, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
    step = audio.BLOCK_SECONDS * 44100
    in_long_blocks = np.concatenate(
        [stream.resample_chunk(x[i : i + step], last=i + step >= len(x)) for i in range(0, len(x), step)]
    )
    short = audio.STREAM_BLOCK_SECONDS * 44100
    blocks = [x[i : i + short] for i in range(0, len(x), short)]
    np.testing.assert_array_equal(np.concatenate(list(audio.resample(blocks, 44100, SAMPLE_RATE))), in_long_blocks)


def test_a_file_up_to_one_block_is_read_whole_and_a_longer_one_in_short_blocks(tmp_path):
    short = write(tmp_path / "short.wav", tone(29, 300, sr=44100), sr=44100)
    long = write(tmp_path / "long.wav", tone(45, 300, sr=44100), sr=44100)
    assert [len(b) for b in audio.open_audio(short)[1]] == [29 * 44100]  # one call of the resampler: as before
    assert [len(b) for b in audio.open_audio(long)[1]] == [10 * 44100] * 4 + [5 * 44100]


@pytest.mark.parametrize("seconds", [0.02, 5.0, 10.0, 10.5, 25.0, 30.0])
@pytest.mark.parametrize("hop_s", [10.0, 5.0])
def test_windows_cover_every_sample(seconds, hop_s):
    n = int(seconds * SAMPLE_RATE)
    x = np.arange(n, dtype=np.float32)
    blocks = [x[i : i + 77_777] for i in range(0, n, 77_777)]  # odd block size
    wins = list(audio.windows(iter(blocks), WINDOW, int(hop_s * SAMPLE_RATE)))
    covered = np.zeros(n, bool)
    for i, w in enumerate(wins):
        assert w.index == i
        assert w.samples.shape == (WINDOW,)
        assert w.start == i * hop_s * SAMPLE_RATE  # windows start on the hop grid
        assert w.end == min(w.start + WINDOW, n)
        real = w.end - w.start
        np.testing.assert_array_equal(w.samples[:real], x[w.start : w.end])
        covered[w.start : w.end] = True
    assert covered.all()
    # no window is wasted: each one holds audio not fully inside the one before
    assert all(b.end > a.end for a, b in zip(wins, wins[1:]))


def test_short_clip_is_repeat_padded_like_the_processor():
    clip = tone(3.0, 500)
    (w,) = audio.windows(iter([clip]), WINDOW, WINDOW)
    assert (w.start_s, w.end_s) == (0.0, 3.0)
    n_repeat = WINDOW // len(clip)  # ClapFeatureExtractor "repeatpad": whole repeats, then zeros
    np.testing.assert_array_equal(w.samples[: n_repeat * len(clip)], np.tile(clip, n_repeat))
    assert not w.samples[n_repeat * len(clip) :].any()


def test_empty_audio_gives_no_windows():
    assert list(audio.windows(iter([np.zeros(0, np.float32)]), WINDOW, WINDOW)) == []


@pytest.mark.slow
def test_long_file_is_streamed_in_bounded_memory(tmp_path):
    """A 3-hour file (2 GB as float32 at 48 kHz) is cut into windows holding a few MB at a time."""
    sr = 8000
    path = tmp_path / "long.wav"
    minute = tone(60, 440, sr=sr)
    with sf.SoundFile(path, "w", sr, 1, "PCM_16") as f:
        for _ in range(180):
            f.write(minute)
    tracemalloc.start()
    try:
        _, blocks = audio.stream(path)
        count = sum(1 for _ in audio.windows(blocks, WINDOW, WINDOW))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 180 * 6
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB"


@pytest.mark.parametrize(
    "setup, reason",
    [
        (lambda p: p.write_bytes(b""), "not a supported audio format"),
        (lambda p: p.write_text("hello, I am text"), "not a supported audio format"),
    ],
)
def test_undecodable_file_names_file_and_reason(tmp_path, setup, reason):
    path = tmp_path / "bad file.wav"
    setup(path)
    with pytest.raises(AudioDecodeError) as e:
        audio.load(path)
    assert e.value.path == str(path)
    assert str(e.value).startswith(f"{path}: ") and reason in str(e.value)


def test_directory_named_like_audio(tmp_path):
    (tmp_path / "x.wav").mkdir()
    with pytest.raises(AudioDecodeError, match="is a directory"):
        audio.stream(tmp_path / "x.wav")


def test_non_finite_samples_become_silence(tmp_path):
    x = tone(1.0, 440)
    x[1000:2000] = np.nan
    x[3000] = np.inf
    path = write(tmp_path / "nan.wav", x, subtype="FLOAT")
    y = audio.load(path)
    assert np.isfinite(y).all()


def test_real_recordings_decode():
    folder = require_shared("librosa-data")
    path = folder / "456440__inspectorj__bird-whistling-robin-single-13.ogg"
    info, _ = audio.stream(path)
    x = audio.load(path)
    assert abs(len(x) / SAMPLE_RATE - info.duration_s) < 0.01
    assert np.abs(x).max() > 0.05


def test_a_missing_file_is_named_as_missing_not_damaged(tmp_path):
    from audioret.errors import PathNotFound

    with pytest.raises(PathNotFound, match="No such file or folder: .*nowhere.wav"):
        audio.stream(tmp_path / "nowhere.wav")


def test_decoded_seconds_are_what_decoding_finds_and_stop_past_the_most(tmp_path):
    """A public page measures uploads by decoding them: the whole length when it is under the most asked, and
    no more than a block past it otherwise (a long file is not read to its end)."""
    path = tmp_path / "quiet.flac"
    sf.write(path, np.zeros(8000 * 95, np.int16), 8000)
    assert audio.decoded_seconds(path, at_most=1e9) == pytest.approx(95.0)
    assert 30.0 < audio.decoded_seconds(path, at_most=30.0) <= 30.0 + audio.STREAM_BLOCK_SECONDS
    assert audio.decoded_seconds(tmp_path / "missing.wav", at_most=10.0) == 0.0
    (tmp_path / "text.wav").write_text("not audio")
    assert audio.decoded_seconds(tmp_path / "text.wav", at_most=10.0) == 0.0


def test_a_file_that_fails_part_way_counts_what_decoded(tmp_path):
    """An AAC file cut short decodes for most of its length and then fails, as indexing finds it: its measured
    length is what decoded (it was 0, so an hour of audio cost a public page's visitor nothing)."""
    av = pytest.importorskip("av")
    path = tmp_path / "cut.m4a"
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("aac", rate=8000)
        stream.layout = "mono"
        for _ in range(12):  # 120 s of silence
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 80_000), np.float32), format="flt", layout="mono")
            frame.sample_rate = 8000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 2000)
    decoded = 0
    with pytest.raises(AudioDecodeError):  # as indexing decodes it
        for block in audio.open_audio(path)[1]:
            decoded += len(block)
    assert decoded > 8000 * 30
    assert audio.decoded_seconds(path, at_most=1e9) == pytest.approx(decoded / 8000)


def test_a_header_with_no_audio_rate_is_refused_and_blocks_stay_bounded(tmp_path):
    """A WAV header may say 2 GHz: refused as not audio (it was read as one 0.01-s block of every sample, with ten
    times the file's size in memory). At a real high rate a short file's block holds at most MAX_BLOCK_SAMPLES."""
    import struct

    data = bytes(1000)
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 2_000_000_000, 2_000_000_000, 1, 8)
        + b"data"
        + struct.pack("<I", len(data))
    )
    (tmp_path / "ghz.wav").write_bytes(header + data)
    with pytest.raises(AudioDecodeError, match="sample rate is 2,000,000,000 Hz"):
        audio.open_audio(tmp_path / "ghz.wav")
    slow = write(tmp_path / "1hz.wav", np.zeros(7000, np.int16), sr=1)  # resampled, each sample made 48,000
    with pytest.raises(AudioDecodeError, match="sample rate is 1 Hz"):
        audio.open_audio(slow)
    fast = write(tmp_path / "fast.wav", np.zeros((768_000 * 20, 2), np.float32), sr=768_000, subtype="PCM_16")
    blocks = list(audio.open_audio(fast)[1])
    assert sum(map(len, blocks)) == 768_000 * 20 and max(map(len, blocks)) * 2 <= audio.MAX_BLOCK_SAMPLES


def test_one_huge_packet_at_a_low_rate_is_decoded_in_bounded_pieces(tmp_path):
    """10 minutes at 1 kHz in one raw-PCM packet (1.2 MB) came out as one block, 48 times as many samples once
    resampled: the pieces are bounded by what they become at 48 kHz, and the samples are all there."""
    av = pytest.importorskip("av")
    path = tmp_path / "one-packet.mka"
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("pcm_s16le", rate=1000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.ones((1, 600_000), np.int16), format="s16", layout="mono")
        frame.sample_rate = 1000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    blocks = list(audio.open_audio(path)[1])
    assert sum(map(len, blocks)) == 600_000
    assert max(map(len, blocks)) * SAMPLE_RATE / 1000 <= audio.MAX_BLOCK_SAMPLES
