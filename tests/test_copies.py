"""Copies are matches: an example that is in the library, or a copy of one, comes first as "the same recording",
in a library whose files all sound alike (one voice, many memos; the tiny random CLAP) - real espeak-ng speech,
real Chromaprint, real ChromaDB."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from audioret import Config, Library
from audioret.duplicates import find, fingerprinted
from audioret.duplicates import same as same_recording
from audioret.duplicates.copies import Prints, known
from audioret.duplicates.fingerprints import MIN_SHARED_WORDS

from .conftest import require_shared, speak, write

MEMOS = [
    "Call the dentist on Monday about the appointment.",
    "Buy milk, eggs and a loaf of bread on the way home.",
    "The meeting with the bank moved to Thursday morning.",
    "Water the tomatoes in the greenhouse before it gets hot.",
    "Remember to send the birthday card to my sister.",
    "The car needs new tyres before the long drive.",
]


def _signal(seconds: float, seed: int, sr: int = 44100) -> np.ndarray:
    """Chirps and noise bursts: a recording Chromaprint can tell from another one made the same way."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f = 200 + 1800 * np.abs(np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 6)))
    x = 0.4 * np.sin(2 * np.pi * np.cumsum(f) / sr) * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
    return (x + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("seconds", [6.0, 1.5])  # Chromaprint's bit error; under 3 s, the spectrum
def test_same_recording_by_the_duplicates_rule(tmp_path, seconds):
    original = write(tmp_path / "a.wav", _signal(seconds, 1), sr=44100)
    x = _signal(seconds, 1)
    copy = write(tmp_path / "a-copy.flac", 0.5 * soxr.resample(x, 44100, 22050), sr=22050)  # -6 dB, 22 kHz, FLAC
    other = write(tmp_path / "b.wav", _signal(seconds, 2), sr=44100)
    a, b, c = (fingerprinted(str(p)) for p in (original, copy, other))
    same = same_recording(a, b)
    assert same is not None and same[1] == ("chromaprint" if seconds >= 3 else "spectrum")
    assert same_recording(a, c) is None and same_recording(b, c) is None


def _tone(hz: float, seconds: float, sr: int = 48000) -> np.ndarray:
    return (0.4 * np.sin(2 * np.pi * hz * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


@pytest.mark.parametrize("seconds", [6.0, 3.5])  # no method can tell them (one word repeated); the spectrum can
def test_steady_tones_of_one_pitch_class_are_not_one_recording(tmp_path, seconds):
    # Chromaprint writes one word over and over for a steady tone, the same for 440, 460 and 880 Hz: bit error 0
    a, b, c = (fingerprinted(str(write(tmp_path / f"{hz}.wav", _tone(hz, seconds)))) for hz in (440, 460, 880))
    assert len(np.unique(a.words)) == 1 and np.array_equal(np.unique(a.words), np.unique(c.words))
    assert same_recording(a, b) is None and same_recording(a, c) is None and same_recording(b, c) is None
    copy = fingerprinted(str(write(tmp_path / "440-copy.flac", 0.5 * _tone(440, seconds), format="FLAC")))
    assert (same_recording(a, copy) is not None) == (seconds < 4)  # short: its spectrum; long: nothing to go by


def test_a_steady_tone_given_as_its_own_example_is_the_same_recording_and_no_other(tmp_path, tiny_clap_dir, text_model):
    lib = tmp_path / "library"
    for hz in (440, 460, 880):
        write(lib / f"tone_{hz}.wav", _tone(hz, 6.0))
    write(lib / "chirps.wav", _signal(6.0, 1))
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    hits = library.search_audio(lib / "tone_440.wav", k=4)
    assert hits[0].path == str(lib / "tone_440.wav") and hits[0].score >= 0.95 and "the same recording" in hits[0].why
    assert all("the same recording" not in h.why for h in hits[1:])  # 460 and 880 Hz were "the same recording"
    groups = library.duplicates()
    assert groups == [] and sorted(groups.steady) == [str(lib / f"tone_{hz}.wav") for hz in (440, 460, 880)]

    # a byte-identical copy is the one copy of a steady sound that can be told: the same recording, and a group
    shutil.copy(lib / "tone_880.wav", lib / "tone_880 (copy).wav")
    library.index([lib], progress=False)
    hits = library.search_audio(lib / "tone_880.wav", k=5)
    assert [h.path for h in hits[:2]] == [str(lib / "tone_880.wav"), str(lib / "tone_880 (copy).wav")]
    assert all("the same recording" in h.why for h in hits[:2]) and "the same recording" not in hits[2].why
    (group,) = library.duplicates()
    assert {m.path for m in group} == {str(lib / "tone_880.wav"), str(lib / "tone_880 (copy).wav")}
    assert group[1].method == "identical" and group[1].bit_error == 0.0


def _library(tmp_path, tiny_clap_dir, text_model) -> Library:
    """A library under ``tmp_path`` with the tiny random CLAP and the packaged text model, no transcription."""
    return Library(
        Config(
            data_dir=tmp_path / "index",
            clap_model=str(tiny_clap_dir),
            text_model=text_model,
            transcribe=False,
            device="cpu",
        )
    )


@pytest.fixture(scope="module")
def memos(tmp_path_factory, tiny_clap_dir, text_model):
    """Six memos in one voice, indexed with the tiny random CLAP, under which they all score close together."""
    root = tmp_path_factory.mktemp("memos")
    lib = root / "library"
    for i, said in enumerate(MEMOS):
        speak(lib / f"memo_{i}.wav", said, lead_s=0.5, tail_s=0.5)
    library = _library(root, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    return library, lib, root


def test_an_example_in_a_homogeneous_library_is_the_same_recording(memos):
    library, lib, root = memos
    windows = np.concatenate([library.file_vectors(str(lib / f"memo_{i}.wav")) for i in range(len(MEMOS))])
    cosines = windows @ windows.T
    assert np.min(cosines) > 0.9  # every memo sounds like every other to this CLAP: the case at hand
    for i in (0, 3):
        hits = library.search_audio(lib / f"memo_{i}.wav", k=3)
        assert hits[0].path == str(lib / f"memo_{i}.wav") and hits[0].score >= 0.95
        assert "the same recording" in hits[0].why and not hits.no_good_match
        assert all("the same recording" not in h.why and h.score < hits[0].score for h in hits[1:])


def test_a_copy_in_another_format_finds_its_original(memos):
    library, lib, root = memos
    x, sr = sf.read(lib / "memo_2.wav", dtype="float32")
    copy = root / "elsewhere" / "memo_2_copy.ogg"
    write(copy, 0.5 * x, sr=sr, format="OGG", subtype="VORBIS")  # not in the library
    hits = library.search_audio(copy, k=3)
    assert hits[0].path == str(lib / "memo_2.wav") and hits[0].score >= 0.95 and "the same recording" in hits[0].why
    assert sr == 48000  # speak() writes 48 kHz, the rate search_audio takes samples at
    as_samples = library.search_audio(0.5 * x, k=1)
    assert as_samples[0].path == str(lib / "memo_2.wav") and as_samples[0].score >= 0.95


def test_an_mp3_copy_that_shares_no_word_with_its_original_finds_it(memos):
    """An encoder's delay (60 ms) shifts a short memo against Chromaprint's grid, so the copy shares fewer words with
    its original than the look-up needs; compared where a copy that was not cut lines up, it is the same recording."""
    library, lib, root = memos
    x, sr = sf.read(lib / "memo_2.wav", dtype="float32")
    delayed = np.concatenate([np.zeros(int(0.06 * sr), np.float32), x])
    copy = write(root / "elsewhere" / "memo_2 delayed.mp3", delayed, sr=sr, format="MP3")
    original, copied = fingerprinted(str(lib / "memo_2.wav")), fingerprinted(str(copy))
    assert len(set(original.words.tolist()) & set(copied.words.tolist())) < MIN_SHARED_WORDS  # the case at hand
    hits = library.search_audio(copy, k=3)
    assert hits[0].path == str(lib / "memo_2.wav") and hits[0].score >= 0.95 and "the same recording" in hits[0].why
    assert all("the same recording" not in h.why for h in hits[1:])
    # the fingerprints alone find it too, by how often each bit is set: the look-up, and the duplicates finder
    files = sorted(str(p) for p in lib.iterdir())
    assert list(Prints([fingerprinted(p) for p in files]).copies(copied)) == [str(lib / "memo_2.wav")]
    groups = find([*files, str(copy)])
    assert [sorted(m.path for m in g) for g in groups] == [sorted([str(lib / "memo_2.wav"), str(copy)])]


def test_an_excerpt_is_the_same_recording_at_its_own_place_in_the_file(tmp_path, tiny_clap_dir, text_model):
    """A user who has 8 s of a recording asks where they come from: the file, as "the same recording", with the
    time range the excerpt covers (Chromaprint's offset), not the sound channel's nearest 10-s window."""
    lib = tmp_path / "library"
    x = np.concatenate([_signal(5.0, 70 + k, sr=48000) for k in range(8)])  # no stretch repeats another
    write(lib / "field recording.wav", x)
    for seed in (8, 9):
        write(lib / f"other {seed}.wav", _signal(20.0, seed, sr=48000))
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    windows = {
        w.id: w.metadata for w in library.channels.hearing().store.file_records(str(lib / "field recording.wav"))
    }
    for start in (12.3, 27.0):
        excerpt = write(
            tmp_path / "elsewhere" / f"from {start}.flac", 0.7 * x[int(start * 48000) : int((start + 8) * 48000)]
        )
        hits = library.search_audio(excerpt, k=3)
        assert hits[0].path == str(lib / "field recording.wav") and hits[0].score >= 0.95
        assert "the same recording" in hits[0].why
        assert abs(hits[0].start_s - start) < 0.3 and abs(hits[0].end_s - (start + 8)) < 0.3, (hits[0].start_s, start)
        # "more like this" starts from the stored window at that place, not from the sound channel's nearest one
        window = windows[hits[0].segment_id]
        assert min(window["end_s"], start + 8) - max(window["start_s"], start) >= 5.0, (window, start)
    # the file itself, and a whole copy of it: all of it, not one window; "more like this" from its first window
    for example in (lib / "field recording.wav", write(tmp_path / "elsewhere" / "all of it.flac", 0.7 * x)):
        whole = library.search_audio(example, k=1)
        assert whole[0].path == str(lib / "field recording.wav") and "the same recording" in whole[0].why
        assert (whole[0].start_s, round(whole[0].end_s, 2)) == (0.0, 40.0), (example, whole[0])
        assert windows[whole[0].segment_id]["start_s"] == 0.0
    # 3.5 s is too short to be found inside the file by its fingerprint: the results say so, not that it is absent
    short = write(tmp_path / "elsewhere" / "short.flac", 0.7 * x[int(20 * 48000) : int(23.5 * 48000)])
    hits = library.search_audio(short, k=3)
    assert all("the same recording" not in h.why for h in hits)
    assert "3.5 s long" in hits.note and "from about 4.5 s" in hits.note, hits.note
    assert not hits.no_good_match or "clearly" in hits.message


def test_an_excerpt_from_past_a_files_first_two_minutes_is_the_same_recording(tmp_path, tiny_clap_dir, text_model):
    """Only a file's first two minutes were fingerprinted: 8 s from 2:11 of a recording were not "the same
    recording". Files are fingerprinted whole now, and a print kept from before (its first two minutes) is taken
    again when first needed."""
    from audioret.duplicates import FingerprintCache
    from audioret.duplicates.fingerprints import Stream
    from audioret.duplicates.spectrum import FINGERPRINT_RATE

    lib = tmp_path / "library"
    x = np.concatenate([_signal(5.0, 100 + k, sr=48000) for k in range(30)])  # 150 s, no stretch like another
    long = write(lib / "talk.wav", x)
    write(lib / "other.wav", _signal(20.0, 7, sr=48000))
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    for start in (131.0, 20.0):
        excerpt = write(
            tmp_path / "elsewhere" / f"from {start}.flac", 0.7 * x[int(start * 48000) : int((start + 8) * 48000)]
        )
        hits = library.search_audio(excerpt, k=2)
        assert hits[0].path == str(long) and "the same recording" in hits[0].why and hits[0].score >= 0.95
        assert abs(hits[0].start_s - start) < 0.3 and abs(hits[0].end_s - (start + 8)) < 0.3, (hits[0], start)

    cache = FingerprintCache(tmp_path / "old.sqlite3")
    whole = fingerprinted(str(long), cache)
    assert whole.duration_s == pytest.approx(150.0, abs=0.01) and len(whole.words) * 0.124 > 147
    head = Stream(limit_s=120.0)  # what an older version kept
    head.feed(soxr.resample(x, 48000, FINGERPRINT_RATE).astype(np.float32))
    cache.put(dataclasses.replace(whole, words=head.words()), os.stat(long))
    assert cache.get(str(long), os.stat(long)) is None  # stale: taken again
    again = fingerprinted(str(long), cache)
    assert np.array_equal(again.words, whole.words) and cache.get(str(long), os.stat(long)) is not None


def test_an_example_that_starts_before_the_file_is_placed_where_they_overlap(tmp_path, tiny_clap_dir, text_model):
    """A recording's first 32 s as the example, and the library's copy of it with its first 4 s cut: the copy holds
    the example's 4-32 s at its own 0-28 s, and that is the range shown (it had shown 0-32 s, the example's length
    from the copy's start)."""
    lib = tmp_path / "library"
    x = np.concatenate([_signal(5.0, 70 + k, sr=48000) for k in range(8)])
    write(lib / "call edit.wav", x[4 * 48000 :])
    for seed in (8, 9):
        write(lib / f"other {seed}.wav", _signal(20.0, seed, sr=48000))
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    hits = library.search_audio(write(tmp_path / "elsewhere" / "call.flac", 0.7 * x[: 32 * 48000]), k=3)
    assert hits[0].path == str(lib / "call edit.wav") and "the same recording" in hits[0].why
    assert hits[0].start_s == 0.0 and abs(hits[0].end_s - 28.0) < 0.3, (hits[0].start_s, hits[0].end_s)


def test_of_equally_close_copies_the_original_comes_first(tmp_path, tiny_clap_dir, text_model):
    """An outside copy of a recording the library holds three times (the original and two byte copies made later,
    whose names sort first): all three are the same recording at one strength, the original (the oldest) first."""
    lib = tmp_path / "library"
    original = write(lib / "take.wav", _signal(6.0, 1), sr=44100)
    os.utime(original, (1_600_000_000, 1_600_000_000))
    for name in ("A copy of take.wav", "B copy of take.wav"):
        shutil.copy(original, lib / name)  # made now, long after
    write(lib / "other.wav", _signal(6.0, 2), sr=44100)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    example = write(tmp_path / "elsewhere" / "take.flac", _signal(6.0, 1), sr=44100)
    hits = library.search_audio(example, k=4)
    assert [h.path for h in hits[:3]] == [
        str(original),
        str(lib / "A copy of take.wav"),
        str(lib / "B copy of take.wav"),
    ]
    assert all("the same recording" in h.why for h in hits[:3]) and len({round(h.score, 3) for h in hits[:3]}) == 1
    assert "the same recording" not in hits[3].why


def test_more_like_this_names_a_copy_of_the_segments_file(memos, tmp_path):
    library, lib, root = memos
    hit = library.search_audio(lib / "memo_4.wav", k=1)[0]
    others = library.similar(hit.segment_id, k=3)
    assert str(lib / "memo_4.wav") not in [h.path for h in others]  # the file itself is left out
    assert all("the same recording" not in h.why for h in others)  # and no other memo is a copy of it


def test_mostly_silent_clips_are_not_called_one_recording(tmp_path, tiny_clap_dir, text_model):
    """Five ESC-10 clips that are a dog bark or a sneeze of a second or less in digital silence: their
    Chromaprint words are mostly the silence's, which agree at a bit error under 0.1. Each, given as the example,
    is the same recording as itself and no other."""
    esc10 = require_shared("esc10", "audio")
    lib = tmp_path / "library"
    lib.mkdir()
    for name in ("1-110389-A", "5-220027-A", "2-109505-A", "4-167642-A", "1-31748-A"):
        shutil.copy(esc10 / f"{name}.ogg", lib)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    for example in ("1-110389-A", "5-220027-A"):
        hits = library.search_audio(lib / f"{example}.ogg", k=5)
        assert hits[0].path == str(lib / f"{example}.ogg") and "the same recording" in hits[0].why
        assert len(hits) == 5 and [h.path for h in hits if "the same recording" in h.why] == [hits[0].path]
        assert all(h.score < 0.5 for h in hits[1:])


def test_copies_of_mostly_silent_clips_find_their_original(tmp_path, tiny_clap_dir, text_model):
    """The same five clips of a sound in digital silence, and ESC-10 `2-128631-A`: an mp3 of one, a copy of
    another cut by 0.5 s and one of a third at -6 dB each find their own original first as the same recording, by
    its spectrum, and name no other clip so. Their Chromaprint words agree with every clip's silence; the -6 dB
    copy of `1-110389-A` shares too few words of its own sound with its original to be proposed by them."""
    esc10 = require_shared("esc10", "audio")
    lib = tmp_path / "library"
    lib.mkdir()
    names = ("1-110389-A", "5-220027-A", "2-109505-A", "4-167642-A", "1-31748-A", "2-128631-A")
    for name in names:
        shutil.copy(esc10 / f"{name}.ogg", lib)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    x, sr = sf.read(esc10 / "2-128631-A.ogg", dtype="float32")
    mp3 = write(tmp_path / "examples" / "2-128631-A.mp3", x, sr=sr, format="MP3")
    y, sr = sf.read(esc10 / "5-220027-A.ogg", dtype="float32")
    cut = write(tmp_path / "examples" / "5-220027-A cut.wav", y[int(0.5 * sr) :], sr=sr)
    z, sr = sf.read(esc10 / "1-110389-A.ogg", dtype="float32")
    quiet = write(tmp_path / "examples" / "1-110389-A quiet.wav", 0.5 * z, sr=sr)
    for example, original in ((mp3, "2-128631-A"), (cut, "5-220027-A"), (quiet, "1-110389-A")):
        hits = library.search_audio(example, k=len(names))
        assert hits[0].path == str(lib / f"{original}.ogg")
        assert hits[0].score >= 0.95 and "the same recording" in hits[0].why
        assert all("the same recording" not in h.why and h.score < 0.5 for h in hits[1:])
    groups = library.duplicates()
    assert groups == []  # no two of the clips are one recording


@pytest.mark.slow
def test_a_copy_the_sound_channel_ranks_far_down_is_found_by_its_fingerprint(tmp_path, tiny_clap_dir, text_model):
    """A copy with loud whistles above 8 kHz (a noisy transfer; Chromaprint listens under 5.5 kHz) sounds, to the
    model, like the library's whistling recordings and not like its clean original: the original is not among the
    sound channel's nearest files, and the fingerprint look-up still puts it first."""
    from audioret.duplicates.copies import CANDIDATES
    from audioret.search import by_example

    sr = 44100
    t, phases = np.arange(int(6 * sr)) / sr, np.random.default_rng(7).uniform(0, 6, 5)
    hiss = 0.08 * sum(np.sin(2 * np.pi * f * t + p) for f, p in zip((9000, 10500, 12000, 13500, 15000), phases))
    hiss = hiss.astype(np.float32)
    lib = tmp_path / "library"
    original = write(lib / "field-recording.wav", _signal(6.0, 1), sr=sr)
    for i in range(CANDIDATES + 4):
        write(lib / f"whistling-{i:02d}.wav", _signal(6.0, 100 + i) + hiss, sr=sr)
    copy = write(tmp_path / "transfer.flac", _signal(6.0, 1) + hiss, sr=sr)
    library = Library(
        Config(data_dir=tmp_path / "index", clap_model=str(tiny_clap_dir), text_model=text_model, transcribe=False)
    )
    library.index([lib], progress=False)
    channel = library.channels.hearing()
    by_sound = [h.path for h in by_example(channel, channel.embed_example(copy), CANDIDATES + 5)]
    assert by_sound.index(str(original)) >= CANDIDATES  # the case at hand: not among the nearest files
    hits = library.search_audio(copy, k=3)
    assert hits[0].path == str(original) and hits[0].score >= 0.95 and "the same recording" in hits[0].why
    assert all("the same recording" not in h.why for h in hits[1:])


def test_the_example_itself_comes_before_its_exact_copy(tmp_path, tiny_clap_dir, text_model):
    """A library file given as the example comes first even when an exact copy of it sorts before it by name."""
    lib = tmp_path / "library"
    speak(lib / "take.wav", MEMOS[0], lead_s=0.5, tail_s=0.5)
    speak(lib / "other.wav", MEMOS[1], lead_s=0.5, tail_s=0.5)
    shutil.copy(lib / "take.wav", lib / "A copy of the take.wav")
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    hits = library.search_audio(lib / "take.wav", k=3)
    assert [h.path for h in hits[:2]] == [str(lib / "take.wav"), str(lib / "A copy of the take.wav")]
    assert all("the same recording" in h.why and h.score >= 0.95 for h in hits[:2])
    assert "the same recording" not in hits[2].why


def _stored_paths(library: Library) -> set[str]:
    """The files whose fingerprints the library keeps beside its index."""
    import sqlite3

    with sqlite3.connect(known(library).path) as db:
        return {row[0] for row in db.execute("SELECT path FROM prints")}


def test_an_index_run_keeps_the_fingerprints_so_the_first_query_by_example_decodes_no_library_file(
    tmp_path, tiny_clap_dir, text_model, monkeypatch
):
    """The fingerprints an index run takes are the finder's own (the same words and spectrum as fingerprinting the
    file), and a library opened afresh answers its first query by example without decoding one library file."""
    from audioret import audio
    from audioret.duplicates import fingerprint_file

    lib = tmp_path / "library"
    write(lib / "long.wav", _signal(6.0, 1), sr=44100)
    write(lib / "short.flac", _signal(1.5, 2), sr=44100)
    speak(lib / "memo.wav", MEMOS[0], lead_s=0.3, tail_s=0.3)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    files = sorted(str(p) for p in lib.iterdir())
    assert _stored_paths(library) == set(files)
    for path in files:
        kept, made = known(library).cache.get(path, os.stat(path)), fingerprint_file(path)
        assert np.array_equal(kept.words, made.words) and kept.duration_s == pytest.approx(made.duration_s)
        assert (kept.profile is None) == (made.profile is None)
        assert kept.profile is None or np.array_equal(kept.profile, made.profile)

    opened = []
    open_audio = audio.open_audio
    monkeypatch.setattr(audio, "open_audio", lambda path: opened.append(str(path)) or open_audio(path))
    copy = write(tmp_path / "elsewhere" / "long copy.ogg", 0.5 * _signal(6.0, 1), sr=44100, format="OGG")
    fresh = _library(tmp_path, tiny_clap_dir, text_model)  # a new process: nothing in memory
    hits = fresh.search_audio(copy, k=3)
    assert hits[0].path == str(lib / "long.wav") and "the same recording" in hits[0].why and hits[0].score >= 0.95
    assert opened and not set(opened) & set(files)  # the example was decoded; no library file was


def test_an_index_from_before_fingerprints_its_files_when_first_needed(tmp_path, tiny_clap_dir, text_model):
    lib = tmp_path / "library"
    write(lib / "a.wav", _signal(6.0, 1), sr=44100)
    write(lib / "b.wav", _signal(6.0, 2), sr=44100)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    known(library).cache.forget([str(lib / "a.wav"), str(lib / "b.wav")])  # as in an index from before
    assert not _stored_paths(library)
    old = _library(tmp_path, tiny_clap_dir, text_model)
    hits = old.search_audio(write(tmp_path / "b copy.flac", _signal(6.0, 2), sr=44100), k=2)
    assert hits[0].path == str(lib / "b.wav") and "the same recording" in hits[0].why
    assert _stored_paths(old) >= {str(lib / "a.wav"), str(lib / "b.wav")}


@pytest.mark.slow
def test_the_fingerprints_of_removed_and_changed_files_go_with_them(tmp_path, tiny_clap_dir, text_model):
    lib = tmp_path / "library"
    for i in range(4):
        write(lib / f"take {i}.wav", _signal(6.0, 10 + i), sr=44100)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    take = {i: str(lib / f"take {i}.wav") for i in range(4)}
    assert _stored_paths(library) == set(take.values())

    library.remove([take[0]])  # out of the index, still on disk
    assert _stored_paths(library) == {take[1], take[2], take[3]}
    (moved,) = library.move_files([take[3]], tmp_path / "set aside")  # how a user sets a copy aside
    (lib / "take 0.wav").unlink()  # (else the next run indexes it again)
    (lib / "take 1.wav").unlink()  # gone from disk: the next run prunes it
    write(lib / "take 2.wav", _signal(6.0, 99), sr=44100)  # new content under the same name
    library.index([lib], progress=False)
    assert _stored_paths(library) == {take[2]}
    old_take = write(tmp_path / "old take 2.flac", _signal(6.0, 12), sr=44100)
    new_take = write(tmp_path / "new take 2.flac", _signal(6.0, 99), sr=44100)
    assert "the same recording" not in library.search_audio(old_take, k=1)[0].why
    hits = library.search_audio(new_take, k=1)
    assert hits[0].path == take[2] and "the same recording" in hits[0].why
    for seed in (10, 13):  # copies of the removed take and of the one set aside
        again = library.search_audio(write(tmp_path / f"copy {seed}.wav", _signal(6.0, seed), sr=44100), k=3)
        assert all("the same recording" not in h.why for h in again) and moved not in [h.path for h in again]


def _sonic_pi_library(tmp_path, tiny_clap_dir, text_model, names) -> tuple[Library, Path]:
    """Sonic Pi's samples ``names`` (the shared audio), indexed with the tiny CLAP."""
    samples = require_shared("sonicpi_samples")
    lib = tmp_path / "library"
    lib.mkdir()
    for name in names:
        shutil.copy(next(samples.rglob(f"{name}.flac")), lib / f"{name}.flac")
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    return library, lib


def _finds_it_alone(library: Library, example, original) -> None:
    """``example`` finds ``original`` first as "the same recording", strength 0.95 or more, and no other file so."""
    hits = library.search_audio(example, k=3)
    assert hits[0].path == str(original), (example.name, [h.path for h in hits])
    assert hits[0].score >= 0.95 and "the same recording" in hits[0].why
    assert all("the same recording" not in h.why for h in hits[1:]), (example.name, [h.why for h in hits])


TINY = ("bd_ada", "elec_blip", "hat_bdu", "hat_sci", "elec_twip", "bd_chip", "elec_beep", "hat_star", "bd_zum")


def test_a_sample_under_a_fifth_of_a_second_and_its_copies_are_the_same_recording(tmp_path, tiny_clap_dir, text_model):
    """Sonic Pi's drum hits and blips of 0.1-0.16 s (they were too short to compare): each one's mp3 and -6 dB Ogg
    copies find it first as "the same recording", and no other hit of the family is taken for it."""
    library, lib = _sonic_pi_library(tmp_path, tiny_clap_dir, text_model, TINY)
    for name in ("bd_ada", "elec_blip", "hat_sci"):
        x, sr = sf.read(lib / f"{name}.flac", dtype="float32")
        assert len(x) / sr < 0.2
        at_44k = soxr.resample(x, sr, 44100) if sr > 48000 else x  # mp3 goes up to 48 kHz (hat_sci is 192 kHz)
        for copy in (
            write(tmp_path / "copies" / f"{name}.mp3", at_44k, sr=44100 if sr > 48000 else sr, format="MP3"),
            write(tmp_path / "copies" / f"{name}.ogg", 0.5 * x, sr=sr, format="OGG", subtype="VORBIS"),
            lib / f"{name}.flac",
        ):
            _finds_it_alone(library, copy, lib / f"{name}.flac")
    groups = library.duplicates()  # the duplicates finder agrees: no two of these hits are one recording
    assert groups == [] and groups.too_short == []


def _click(seed: int, n: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(n) * np.hanning(n)).astype(np.float32)


def test_a_click_too_short_for_a_spectrum_is_found_by_its_waveform(tmp_path, tiny_clap_dir, text_model):
    """A click of 20 ms is under what a spectrum needs (70 ms): given as the example, the library's file, a copy of
    its bytes, a FLAC re-saved at -6 dB and an mp3 each find it first as "the same recording"; the other clicks, as
    short and as noisy, are never called that, and the duplicates finder groups the click with its copies alone,
    compared by their waveforms."""
    lib = tmp_path / "library"
    click = write(lib / "click.wav", _click(3, 960), sr=48000)
    for i in range(3):
        write(lib / f"other_{i}.wav", _signal(1.0 + i, 10 + i, sr=48000), sr=48000)
        write(lib / f"other click {i}.wav", _click(20 + i, 960 + 240 * i), sr=48000)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(click, elsewhere / "click copy.wav")  # the same bytes under another name
    x = sf.read(click, dtype="float32")[0]
    resaved = write(elsewhere / "click.flac", 0.5 * x, sr=48000)
    mp3 = write(elsewhere / "click.mp3", soxr.resample(x, 48000, 44100), sr=44100, format="MP3")
    for example in (click, elsewhere / "click copy.wav", resaved, mp3):
        hits = library.search_audio(example, k=3)
        assert hits[0].path == str(click) and hits[0].score >= 0.95 and "the same recording" in hits[0].why
        assert all("the same recording" not in h.why for h in hits[1:]), (example.name, [h.why for h in hits])
        assert hits.note == ""
    for i in range(3):  # another click is no copy of any
        hits = library.search_audio(lib / f"other click {i}.wav", k=3)
        assert [h.path for h in hits if "the same recording" in h.why] == [str(lib / f"other click {i}.wav")]
    shutil.copy(resaved, lib / "click (quiet).flac")
    shutil.copy(mp3, lib / "click.mp3")
    library.index([lib], progress=False)
    groups = library.duplicates()
    (group,) = groups
    assert {m.path for m in group} == {str(click), str(lib / "click (quiet).flac"), str(lib / "click.mp3")}
    assert groups.too_short == []
    assert all(m.method == "waveform" and m.bit_error <= 0.05 for m in group[1:]), [
        (m.method, m.bit_error) for m in group
    ]


def test_a_sound_under_five_ms_is_the_same_recording_only_as_its_bytes(tmp_path, tiny_clap_dir, text_model):
    """A click of 3 ms is too short even for its waveform: the library's file and a copy of its bytes are "the
    same recording", a re-saved copy is not, and the note says why."""
    lib = tmp_path / "library"
    click = write(lib / "tick.wav", _click(4, 144), sr=48000)
    for i in range(2):
        write(lib / f"other_{i}.wav", _signal(1.0 + i, 10 + i, sr=48000), sr=48000)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    shutil.copy(click, tmp_path / "tick copy.wav")
    for example in (click, tmp_path / "tick copy.wav"):
        hits = library.search_audio(example, k=3)
        assert hits[0].path == str(click) and hits[0].score >= 0.95 and "the same recording" in hits[0].why
        assert all("the same recording" not in h.why for h in hits[1:])
    assert "The example is 3.0 ms long, too short to tell a copy of it by its sound (5 ms at least)" in hits.note
    resaved = write(tmp_path / "tick.flac", sf.read(click, dtype="float32")[0], sr=48000)
    hits = library.search_audio(resaved, k=3)  # other bytes: no method can say it is the tick
    assert "only a file with the same bytes is the same recording" in hits.note
    assert all("the same recording" not in h.why for h in hits)
    shutil.copy(click, lib / "tick (copy).wav")  # the duplicates finder groups the same bytes
    library.index([lib], progress=False)
    groups = library.duplicates()
    (group,) = groups
    assert {m.path for m in group} == {str(click), str(lib / "tick (copy).wav")} and group[1].method == "identical"
    assert sorted(groups.too_short) == sorted([str(click), str(lib / "tick (copy).wav")])


def test_a_short_example_that_is_no_copy_says_an_excerpt_may_still_be_from_a_file_here(
    tmp_path, tiny_clap_dir, text_model
):
    """Half a second that is in no file: the note says in plain words that an excerpt this short is not recognised
    (a reader had read the old wording backwards), in ms under a second (a 50-ms example had read "0.0 s"), and the
    JSON puts the note before the hits."""
    lib = tmp_path / "library"
    for i in range(3):
        write(lib / f"take_{i}.wav", _signal(6.0 + i, 20 + i, sr=48000), sr=48000)
    library = _library(tmp_path, tiny_clap_dir, text_model)
    library.index([lib], progress=False)
    for seconds, said in ((0.5, "500 ms"), (0.05, "50 ms"), (2.5, "2.5 s")):
        hits = library.search_audio(write(tmp_path / f"new_{seconds}.wav", _signal(seconds, 99, sr=48000), sr=48000))
        assert hits.note == (
            f"The example is {said} long: an excerpt of a longer file is recognised as the same recording from about "
            "4.5 s long, so this one may still come from a file here"
        )
        assert list(hits.to_dict()) == ["no_good_match", "message", "note", "hits"]


SHORTEST = ("elec_tick", "tabla_ke1", "tabla_ke2", "tabla_ke3", "tabla_te1", "tabla_ghe1", "elec_flip")


def test_sonic_pi_strokes_of_19_to_44_ms_and_their_copies_are_the_same_recording(tmp_path, tiny_clap_dir, text_model):
    """Sonic Pi's shortest samples (elec_tick 19 ms, tabla_ke1 43 ms, tabla_ke2 44 ms), among other tabla
    strokes: each one's mp3, 22-kHz and -6 dB Ogg copies find it first as "the same recording", and no other
    stroke is taken for it."""
    library, lib = _sonic_pi_library(tmp_path, tiny_clap_dir, text_model, SHORTEST)
    for name in ("elec_tick", "tabla_ke1", "tabla_ke2"):
        x, sr = sf.read(lib / f"{name}.flac", dtype="float32")
        assert len(x) / sr < 0.05
        for copy in (
            write(tmp_path / "copies" / f"{name}.mp3", x, sr=sr, format="MP3"),
            write(tmp_path / "copies" / f"{name}.wav", soxr.resample(x, sr, 22050), sr=22050),
            write(tmp_path / "copies" / f"{name}.ogg", 0.5 * x, sr=sr, format="OGG", subtype="VORBIS"),
        ):
            _finds_it_alone(library, copy, lib / f"{name}.flac")
    assert library.duplicates() == []  # no two strokes are one recording


RINGING = ("tabla_ghe3", "tabla_ghe4", "tabla_ghe5", "tabla_ghe6", "tabla_ghe7", "perc_door", "perc_bell")


def test_a_copy_cut_past_a_strokes_loudest_hit_is_the_same_recording(tmp_path, tiny_clap_dir, text_model):
    """Sonic Pi's tabla strokes and a door's hit with their first 0.5 s cut away (the loudest hit with it; as
    taken their spectra correlated 0.50-0.57 with their originals): each cut finds its original first as "the same
    recording", and no other stroke of the family is taken for it, nor one stroke for another."""
    library, lib = _sonic_pi_library(tmp_path, tiny_clap_dir, text_model, RINGING)
    for name in ("tabla_ghe3", "tabla_ghe5", "perc_door"):
        x, sr = sf.read(lib / f"{name}.flac", dtype="float32")
        assert len(x) / sr > 1.8
        cut = write(tmp_path / "copies" / f"{name} (cut).wav", x[int(0.5 * sr) :], sr=sr)
        _finds_it_alone(library, cut, lib / f"{name}.flac")
    assert library.duplicates() == []


def test_chromaprint_fed_block_by_block_gives_the_files_words():
    """An index run feeds Chromaprint the blocks it decodes: the words are those of the whole file's first
    ``limit_s`` (MAX_FINGERPRINT_S), whatever the blocks' lengths."""
    from audioret.duplicates.fingerprints import Stream, fingerprint
    from audioret.duplicates.spectrum import FINGERPRINT_RATE

    rng = np.random.default_rng(5)
    limit_s = 120.0
    n = int((limit_s + 10) * FINGERPRINT_RATE)  # longer than what is fingerprinted
    t = np.arange(n) / FINGERPRINT_RATE
    x = (0.3 * np.sin(2 * np.pi * (200 + 50 * np.sin(t / 3)) * t) * (rng.random(n) > 0.2)).astype(np.float32)
    whole, head = fingerprint(x), fingerprint(x[: int(limit_s * FINGERPRINT_RATE)])
    assert len(head) > 900 and len(whole) > len(head) + 70  # all of it, by default
    for block in (4_097, 110_250, n):
        for limit, words in ((limit_s, head), (4 * 3600.0, whole)):
            stream = Stream(limit_s=limit)
            for i in range(0, n, block):
                stream.feed(x[i : i + block])
            assert np.array_equal(stream.words(), words)
