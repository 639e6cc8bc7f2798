"""Near-duplicates: the numeric parts alone, then real recordings re-encoded the ways libraries hold copies, and the
command a user runs (which lists, exports and, when asked, moves aside; it never deletes)."""

from __future__ import annotations

import csv
import json
import os
import shutil

import numpy as np
import pytest
import soundfile as sf
import soxr

from audioret import Config, Library
from audioret.cli import main
from audioret.duplicates import (
    Fingerprinted,
    compare,
    correlation,
    find,
    group,
    profile,
)
from audioret.duplicates.fingerprints import STOP_FILES, bit_error, candidate_pairs
from audioret.duplicates.spectrum import MIN_CORRELATION, wave_correlation, wave_correlations

from .conftest import require_shared


def _flip(words: np.ndarray, share: float, seed: int) -> np.ndarray:
    """``words`` with ``share`` of their bits flipped at random."""
    rng = np.random.default_rng(seed)
    bits = rng.random((len(words), 32)) < share
    mask = (bits * (1 << np.arange(32, dtype=np.uint64))).sum(axis=1).astype(np.uint32)
    return words ^ mask


def test_bit_error_and_alignment():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**32, 200, dtype=np.uint32)
    assert bit_error(a, a, 0) == (0.0, 200)
    trimmed = _flip(a[12:], 0.05, 1)  # 12 words (1.5 s) cut from the start, 5 % of the bits changed
    assert bit_error(a, trimmed, 12)[1] == 188
    assert compare(a, trimmed) == pytest.approx(0.05, abs=0.01)
    # no word shared: only offset 0 is tried, where a copy that was not cut lines up, and chance gives half the bits
    assert compare(a, rng.integers(0, 2**32, 200, dtype=np.uint32)) == pytest.approx(0.5, abs=0.02)
    assert compare(a, a ^ np.uint32(1)) == pytest.approx(1 / 32)  # every word one bit off: a copy all the same
    assert compare(a, np.zeros(0, np.uint32)) == 1.0


def test_groups_come_from_shared_words_not_all_pairs():
    rng = np.random.default_rng(1)
    a, other = rng.integers(0, 2**32, (2, 150), dtype=np.uint32)
    prints = [a, _flip(a, 0.04, 2), other, _flip(a[20:], 0.08, 3), _flip(other, 0.45, 4)]
    assert group(prints, 0.25) == [[(0, 0.0), (1, pytest.approx(0.04, abs=0.01)), (3, pytest.approx(0.08, abs=0.015))]]
    # a word in more than STOP_FILES fingerprints (silence, hum) proposes no pair
    common = [
        np.concatenate([np.full(5, 7, np.uint32), rng.integers(0, 2**32, 30, dtype=np.uint32)])
        for _ in range(STOP_FILES + 1)
    ]
    assert candidate_pairs(common) == set()


def test_the_offsets_equal_words_vote_for_match_their_definition():
    """:func:`voted_offsets` against a loop over every pair of equal words: most votes first, ties by first pair."""
    from collections import Counter

    from audioret.duplicates.fingerprints import voted_offsets

    rng = np.random.default_rng(1)
    for _ in range(200):  # few distinct words: many ties and repeated words (silence)
        a = rng.integers(0, rng.integers(2, 40), rng.integers(0, 120)).astype(np.uint32)
        b = rng.integers(0, rng.integers(2, 40), rng.integers(0, 120)).astype(np.uint32)
        votes = Counter(i - j for i, w in enumerate(a.tolist()) for j, v in enumerate(b.tolist()) if w == v)
        assert voted_offsets(a, b) == [offset for offset, _ in votes.most_common(3)]
    a = rng.integers(0, 2**32, 300, dtype=np.uint32)
    assert voted_offsets(a, a[7:], 1) == [7]  # a copy cut by 7 words


def test_each_fingerprint_is_compared_with_its_nearest_by_how_often_each_bit_is_set():
    """A copy whose every word is a bit or two off shares almost no word with its original, and is still its
    nearest by bit means; fingerprints mostly of one word are left out of that look-up."""
    from audioret.duplicates.fingerprints import bit_means, near_pairs

    rng = np.random.default_rng(4)
    assert bit_means(np.array([1, 3, 0, 0xFFFFFFFF], np.uint32))[:3].tolist() == [0.75, 0.5, 0.25]
    biased = rng.random((30, 32)) < rng.uniform(0.2, 0.8, (30, 1, 32))[:, 0]  # each file its own bit balance
    prints = [
        (
            ((rng.random((40, 32)) < p.astype(float) * 0.5 + 0.25) * (1 << np.arange(32, dtype=np.uint64))).sum(axis=1)
        ).astype(np.uint32)
        for p in biased
    ]
    copy = _flip(prints[3], 0.05, seed=1)
    assert len(set(copy.tolist()) & set(prints[3].tolist())) < 10  # most words differ
    silent = np.concatenate([np.full(30, 7, np.uint32), prints[5][:10]])
    pairs = near_pairs([*prints, copy, silent], k=2)
    assert (3, 30) in pairs
    assert not any(31 in pair for pair in pairs)
    assert 0.0 < compare(prints[3], copy) < 0.1


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """Three dog barks and two rooster clips from ESC-10 (same class, different recordings), each with the copies a
    library collects: mp3, Ogg Vorbis, FLAC, 22.05 kHz, mono, -6 dB, 0.5 s trimmed."""
    esc10 = require_shared("esc10")
    rows = list(csv.DictReader(open(esc10 / "labels.csv")))
    chosen = [r for r in rows if r["label"] == "dog bark"][:3] + [r for r in rows if r["label"] == "rooster"][:2]
    root = tmp_path_factory.mktemp("copies")
    families = []
    for n, r in enumerate(chosen):
        x, sr = sf.read(esc10 / r["path"], dtype="float32", always_2d=True)
        stereo = np.concatenate([x, x[::-1] * 0.3], axis=1) if x.shape[1] == 1 else x
        folder = root / f"{r['label'].replace(' ', '-')}-{n}"
        folder.mkdir()
        made = {
            "original.wav": (stereo, sr, {}),
            "copy.mp3": (stereo, sr, {"format": "MP3"}),
            "copy.ogg": (stereo, sr, {"format": "OGG", "subtype": "VORBIS"}),
            "copy.flac": (stereo, sr, {}),
            "copy-22k.wav": (soxr.resample(stereo, sr, 22050), 22050, {}),
            "copy-mono.wav": (stereo.mean(axis=1), sr, {}),
            "copy-quiet.wav": (stereo * 0.5, sr, {}),
            "copy-trimmed.wav": (stereo[int(0.5 * sr) :], sr, {}),
        }
        for name, (data, rate, kwargs) in made.items():
            sf.write(folder / name, data, rate, **kwargs)
        families.append(sorted(str(p) for p in folder.iterdir()))
    return root, families


def test_copies_group_together_and_other_recordings_do_not(copies):
    _, families = copies
    assert len(families) == 5
    groups = find([p for family in families for p in family])
    assert sorted(sorted(m.path for m in g) for g in groups) == sorted(families)
    for g in groups:
        assert g[0].format.startswith(("WAV/PCM", "FLAC"))  # a lossless full copy is the one to keep
        assert g[0].sample_rate == 44100 and g[0].channels == 2 and g[0].bit_error == 0.0
        assert all(0.0 <= m.bit_error <= 0.25 for m in g) and all(m.size > 0 and m.duration_s > 4 for m in g)


def test_the_command_lists_exports_and_moves_aside_without_deleting(
    copies, tmp_path, tiny_clap_dir, text_model, capsys, monkeypatch
):
    root, families = copies
    lib = tmp_path / "library"
    shutil.copytree(root, lib)
    monkeypatch.setenv("AUDIORET_DATA_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("AUDIORET_CLAP_MODEL", str(tiny_clap_dir))
    monkeypatch.setenv("AUDIORET_DEVICE", "cpu")
    assert main(["duplicates"]) == 2  # nothing indexed: said, not a bare "No duplicates found"
    assert "There is no index in " in capsys.readouterr().err and not (tmp_path / "index").exists()
    assert main(["index", str(lib), "--no-progress", "--no-transcribe"]) == 0
    assert capsys.readouterr().out.startswith("40 added")
    assert main(["duplicates", "--folder", str(tmp_path / "elsewhere"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["message"].startswith("No duplicates: no indexed file is under")
    assert main(["duplicates", "--csv", str(tmp_path / "no such folder" / "dups.csv")]) == 2  # said before the work
    assert "there is no folder" in capsys.readouterr().err and not (tmp_path / "no such folder").exists()

    assert main(["duplicates", "--json", "--csv", str(tmp_path / "dups.csv")]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert len(groups) == 5 and all(len(g) == 8 for g in groups)
    assert all([m["keep"] for m in g] == [True] + [False] * 7 for g in groups)
    assert all("trimmed" not in g[0]["path"] for g in groups)  # a cut copy is never the one to keep
    assert {"format", "sample_rate", "channels", "duration_s", "size", "kbps", "bit_error"} <= groups[0][0].keys()
    rows = list(csv.DictReader(open(tmp_path / "dups.csv")))
    assert len(rows) == 40 and sum(r["keep"] == "True" for r in rows) == 5

    assert main(["duplicates"]) == 0
    out = capsys.readouterr().out
    assert out.count("group ") == 5 and "(keep)" in out and "kb/s" in out

    aside = tmp_path / "set aside"
    assert main(["duplicates", "--move-extras-to", str(aside)]) == 2  # no terminal to ask on, and no --yes
    assert "add --yes" in capsys.readouterr().err and not aside.exists()
    assert main(["duplicates", "--folder", str(lib / "dog-bark-0"), "--move-extras-to", str(aside), "--yes"]) == 0
    assert len(list(aside.iterdir())) == 7 and len(list((lib / "dog-bark-0").iterdir())) == 1  # moved, not deleted
    library = Library(Config.from_env())
    assert len(library.files()) == 40 - 7  # the moved copies left the index
    assert len(library.duplicates()) == 4


def _correlation_by_loop(a, b, max_shift):
    """The definition, shift by shift: Pearson correlation of the frame-to-frame changes over each overlap of at
    least half of the shorter."""
    best, need = -1.0, max(min(len(a), len(b)) // 2, 4)
    for shift in range(-max_shift, max_shift + 1):
        lo, hi = max(0, shift), min(len(a), len(b) + shift)
        if hi - lo >= need:
            x = np.diff(a[lo:hi].astype(float), axis=0).ravel()
            y = np.diff(b[lo - shift : hi - shift].astype(float), axis=0).ravel()
            best = max(best, float(np.corrcoef(x, y)[0, 1]))
    return best


def test_spectral_correlation_finds_the_shift_and_matches_its_definition():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 160, (160, 48)).astype(np.uint8)  # 160 frames at four phases: 40 compared
    assert correlation(a, a) == pytest.approx(1.0)
    assert correlation(a, a[28:]) == pytest.approx(1.0)  # trimmed by 7 compared frames: found at that shift
    assert correlation(a, a[29:]) == pytest.approx(1.0)  # and by a quarter frame more: found at another phase
    assert correlation(a, a[29:], phases=1) < 0.3  # (at one phase, no frame of the copy is one of the original's)
    assert correlation(a, a[120:]) < 0.5  # trimmed by 30 compared frames (0.7 s): past the largest shift tried
    other = rng.integers(0, 160, (140, 48)).astype(np.uint8)
    assert correlation(a, other) < 0.3
    for n in range(20):
        x = rng.integers(0, 160, (rng.integers(16, 200), 48)).astype(np.uint8)
        y = rng.integers(0, 160, (rng.integers(16, 200), 48)).astype(np.uint8)
        assert correlation(x, y, 12, phases=1) == pytest.approx(_correlation_by_loop(x, y, 12), abs=1e-9)
        at_phases = max(_correlation_by_loop(x[::4], y[k::4], 12) for k in range(4))
        assert correlation(x, y, 12) == pytest.approx(at_phases, abs=1e-9)


def test_waveform_correlation_ignores_gain_and_padding_and_matches_its_definition():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(300) * np.hanning(300)
    assert wave_correlation(a, a) == pytest.approx(1.0)
    padded = np.r_[np.zeros(577), 0.25 * a, np.zeros(40)]  # an encoder's delay and padding, -12 dB
    assert wave_correlation(a, padded) == pytest.approx(1.0) and wave_correlation(padded, a) == pytest.approx(1.0)
    assert wave_correlation(a, -a) < 0.5  # another polarity is another waveform
    assert wave_correlation(a, a[150:]) < 0.8  # half the sound left out counts against it
    assert wave_correlation(a, rng.standard_normal(300) * np.hanning(300)) < 0.5
    assert wave_correlation(a, np.zeros(300)) == -1.0 and wave_correlation(a, a[:0]) == -1.0
    for _ in range(10):
        x, y = rng.standard_normal(rng.integers(1, 60)), rng.standard_normal(rng.integers(1, 60))
        by_lag = max(
            float(np.dot(x[max(0, k) :][: len(y) - max(0, -k)], y[max(0, -k) :][: len(x) - max(0, k)]))
            for k in range(-len(y) + 1, len(x))
        )
        assert wave_correlation(x, y) == pytest.approx(by_lag / (np.linalg.norm(x) * np.linalg.norm(y)), abs=1e-9)


def test_waveform_correlations_at_once_are_each_pairs():
    rng = np.random.default_rng(2)
    a = rng.standard_normal(300) * np.hanning(300)
    others = [rng.standard_normal(rng.integers(1, 5000)) for _ in range(300)]
    others += [np.zeros(40), np.zeros(0), np.r_[np.zeros(900), -0.2 * a], np.r_[np.zeros(77), 3.0 * a]]
    at_once = wave_correlations(a, others, chunk=64)
    np.testing.assert_allclose(at_once, [wave_correlation(a, o) for o in others], atol=1e-9)
    assert at_once[-1] == pytest.approx(1.0) and at_once[-4] == at_once[-3] == -1.0
    assert wave_correlations(a, []).shape == (0,) and (wave_correlations(a[:0], others[:3]) == -1.0).all()


def test_which_files_are_compared_by_their_spectrum():
    """Short files, and sounds in silence under 10 s; not a steady tone, which is one word too, nor a sound that
    fills its file."""
    from audioret.duplicates import by_chromaprint, fingerprint, spectrum_of
    from audioret.duplicates.fingerprints import mostly_one_word
    from audioret.duplicates.spectrum import FINGERPRINT_RATE

    assert mostly_one_word(np.array([7, 7, 7, 7, 1, 2, 3, 4, 5], np.uint32))  # 4 of 9
    assert not mostly_one_word(np.array([7, 7, 7, 1, 2, 3, 4, 5, 6], np.uint32))  # 3 of 9: not more than a third
    assert not mostly_one_word(np.zeros(0, np.uint32))
    rng = np.random.default_rng(2)
    t = np.arange(int(6 * FINGERPRINT_RATE)) / FINGERPRINT_RATE
    tone = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    noise = (0.2 * rng.standard_normal(len(t))).astype(np.float32)
    burst = np.where((t > 1.0) & (t < 1.6), noise * np.sin(2 * np.pi * 700 * t), 0).astype(np.float32)
    for x, kind in (
        (tone, "steady"),
        (noise, None),
        (burst, "quiet"),
        (np.tile(burst, 2), None),
        (burst[:30000], "short"),
    ):
        words = fingerprint(x)
        kept = spectrum_of(x, words)
        if kind is None:
            assert kept is None
        elif kind == "steady":
            assert kept is not None and kept.shape == (0, 48)
        else:
            assert kept is not None and len(kept) > 100
        if kind == "quiet":
            fp = Fingerprinted("burst", words, duration_s=len(x) / FINGERPRINT_RATE, profile=kept)
            assert mostly_one_word(words) and not by_chromaprint(fp)


def test_a_copy_cut_inside_a_sound_is_compared_without_the_cut():
    """ESC-10 `3-107219-A`, 0.5 s cut from its start, begins inside the sound: the cut is an onset the original
    does not have there, and in a clip that is mostly silence it is much of what changes (0.94 taken as it is).
    Without the profiles' edges the copy correlates as a copy does; other clips stay far under the line."""
    from audioret import audio
    from audioret.duplicates.spectrum import FINGERPRINT_RATE

    esc10 = require_shared("esc10", "audio")
    x = audio.load(str(esc10 / "3-107219-A.ogg"), sr=FINGERPRINT_RATE)
    original, cut = profile(x), profile(x[int(0.5 * FINGERPRINT_RATE) :])
    assert correlation(original, cut) >= 0.99
    assert correlation(cut, original) >= 0.99
    for other in ("2-128631-A", "5-231762-A", "1-59324-A"):
        y = profile(audio.load(str(esc10 / f"{other}.ogg"), sr=FINGERPRINT_RATE))
        assert correlation(cut, y) < 0.8 and correlation(original, y) < 0.8


def _ringing(f0: float, seed: int, decay: float = 0.9, seconds: float = 2.6) -> np.ndarray:
    """A struck drum, made: a loud hit gone in 0.2 s, then five partials of ``f0`` ringing 25 dB under it."""
    from audioret.duplicates.spectrum import FINGERPRINT_RATE

    t = np.arange(int(seconds * FINGERPRINT_RATE)) / FINGERPRINT_RATE
    rng = np.random.default_rng(seed)
    hit = rng.standard_normal(len(t)) * np.exp(-t / 0.05)
    partials = [
        np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6)) * np.exp(-t * (0.8 + decay * k)) / k for k in range(1, 6)
    ]
    return (0.9 * hit + 0.05 * sum(partials) * (1 + 0.3 * np.sin(2 * np.pi * 3.1 * t))).astype(np.float32)


def test_a_cut_that_leaves_out_the_loudest_hit_is_compared_with_the_floor_raised():
    """A copy cut 0.5 s into a drum keeps only its ringing, which its profile shows down to 40 dB under the ring's
    own loudest cell, where the original's stops 40 dB under the hit: as taken they correlate 0.47. With the
    copy's floor raised to the original's at the place it was cut from, it is a copy; other drums are not, and a
    copy under MIN_CUT_S is not compared so."""
    from audioret.duplicates.spectrum import FINGERPRINT_RATE, MIN_CUT_S, PROFILE_PHASES, _correlation, cut_from

    drum = _ringing(220, 1)
    original, cut = profile(drum), profile(drum[int(0.5 * FINGERPRINT_RATE) :])
    as_taken = max(_correlation(original[::4], cut[k::4], 26) for k in range(PROFILE_PHASES))
    assert as_taken < 0.6
    assert cut_from(original, cut, 104) >= 0.99 and cut_from(cut, original, 104) >= 0.99
    assert correlation(original, cut) >= 0.99 and correlation(cut, original) >= 0.99
    for other in (_ringing(330, 2), _ringing(220, 3, decay=2.5), _ringing(150, 4, decay=0.3)):
        assert correlation(profile(other), cut) < 0.8 and correlation(original, profile(other)) < 0.8
    short = profile(drum[int(0.5 * FINGERPRINT_RATE) :][: int(0.9 * MIN_CUT_S * FINGERPRINT_RATE)])
    assert cut_from(original, short, 104) == -1.0  # a decay that short is any decay
    assert cut_from(original, original, 104) == -1.0  # neither is a cut of the other


def test_a_cut_is_looked_up_among_the_files_it_may_be_cut_from():
    """A cut's band summary can be far from its original's (the hit it left out held most of the loud frames):
    besides the nearest files, the nearest of those a frame to twice MAX_SHIFT_S longer are proposed, and only
    those."""
    from audioret.duplicates.spectrum import FINGERPRINT_RATE, MAX_SHIFT_S, PROFILE_HOP, PROFILE_PHASES, Summaries

    drum = _ringing(220, 1)
    others = [_ringing(f, s, decay=d) for s, (f, d) in enumerate([(330, 0.9), (150, 0.3), (440, 2.0)] * 6, start=2)]
    others = [x[: int(len(x) * (0.5 + 0.03 * i))] for i, x in enumerate(others)]  # of many lengths
    profiles = [profile(x) for x in [*others, drum]]
    cut = profile(drum[int(0.5 * FINGERPRINT_RATE) :])
    summaries = Summaries(profiles)
    plain = set(summaries.nearest(cut, 1).tolist())
    both = set(summaries.nearest(cut, 1, cuts=3).tolist())
    assert len(profiles) - 1 not in plain  # 7th of 19 by its summary
    assert len(profiles) - 1 in both and plain <= both and len(both - plain) <= 3
    most = 2 * round(MAX_SHIFT_S * FINGERPRINT_RATE / PROFILE_HOP) * PROFILE_PHASES
    assert all(len(cut) + PROFILE_PHASES <= len(profiles[i]) <= len(cut) + most for i in both - plain)
    assert set(Summaries([]).nearest(cut, 4, cuts=4).tolist()) == set()


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Spoken digits (under a second each): three takes of one speaker saying one digit, each with copies, and the
    same speaker's other digits; takes of one digit by one speaker are the hardest near misses there are."""
    fsdd = require_shared("fsdd")
    rows = list(csv.DictReader(open(fsdd / "labels.csv")))
    takes = [r for r in rows if r["speaker"] == "george" and r["label"] == "7"][:3]
    takes += [r for r in rows if r["speaker"] == "george" and r["label"] == "3"][:2]
    root = tmp_path_factory.mktemp("digits")
    families = []
    for n, r in enumerate(takes):
        x, sr = sf.read(fsdd / r["path"], dtype="float32")
        folder = root / f"take-{n}"
        folder.mkdir()
        sf.write(folder / "original.wav", x, sr)
        sf.write(folder / "copy.ogg", x, sr, format="OGG", subtype="VORBIS")
        sf.write(folder / "copy-22k.wav", soxr.resample(x, sr, 22050), 22050)
        sf.write(folder / "copy-quiet.flac", x * 0.5, sr)
        families.append(sorted(str(p) for p in folder.iterdir()))
    return families


def test_short_clips_are_compared_by_their_spectrum(digits):
    """Copies of a spoken digit group together; other takes of the same digit by the same speaker do not."""
    groups = find([p for family in digits for p in family])
    assert groups.too_short == []
    assert sorted(sorted(m.path for m in g) for g in groups) == sorted(digits)
    for g in groups:
        assert g[0].format.startswith(("WAV/PCM", "FLAC")) and g[0].duration_s < 1.5
        assert all(m.method == "spectrum" for m in g) and all(1 - m.bit_error >= MIN_CORRELATION for m in g[1:])


def test_a_profile_ignores_gain_and_rate():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(11025) * np.linspace(0, 1, 11025)).astype(np.float32) * 0.3
    np.testing.assert_array_equal(profile(x), profile(x * 0.5))  # levels are under the loudest cell
    assert profile(x[:500]).shape == (8, 48)  # shorter than the window (1024): padded, so it has frames too
    assert profile(x[:0]).shape == (0, 48)


def test_a_copy_joined_through_another_is_shown_linked_not_past_the_threshold(tmp_path):
    """B is a noisier copy of A and C of B: A ~ B and B ~ C are within the threshold, A ~ C is not. All three are
    one group, and C's line says it is joined through another copy rather than a difference past the threshold."""
    from audioret.duplicates import fingerprint_file

    from .test_copies import _signal

    rng = np.random.default_rng(0)
    a = _signal(8.0, 1)
    b = a + 0.12 * rng.standard_normal(len(a)).astype(np.float32)
    c = b + 0.12 * rng.standard_normal(len(a)).astype(np.float32)
    paths = []
    for n, (name, x) in enumerate((("a.wav", a), ("b.wav", b), ("c.wav", c))):
        sf.write(tmp_path / name, x, 44100)
        os.utime(tmp_path / name, (1_600_000_000 + n, 1_600_000_000 + n))  # a is the oldest: the one to keep
        paths.append(str(tmp_path / name))
    assert (
        compare(*(fingerprint_file(p).words for p in paths[::2])) > 0.043
    )  # A ~ C: past the threshold below (0.052; A ~ B 0.034, B ~ C 0.027)
    (group,) = find(paths, max_bit_error=0.043)
    assert [m.path for m in group] == paths
    assert group[1].method == "chromaprint" and group[1].bit_error <= 0.043
    assert group[2].method == "linked" and group[2].as_dict()["bit_error"] is None


def test_the_48khz_flac_original_is_kept_over_a_44khz_wav_resample(tmp_path):
    """A WAV resample has the higher bitrate (no compression) but less in it: the FLAC original is suggested."""
    from audioret.duplicates import Fingerprinted, fingerprint_file, keep_order

    rng = np.random.default_rng(3)
    t = np.arange(48_000 * 6) / 48_000
    music = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) + 0.05 * rng.standard_normal(len(t))
    original = tmp_path / "take-1.flac"
    sf.write(original, music.astype(np.float32), 48_000)
    resample = tmp_path / "take-1 (44k).wav"
    sf.write(resample, soxr.resample(music, 48_000, 44_100).astype(np.float32), 44_100, subtype="PCM_16")
    copies_ = [fingerprint_file(str(resample)), fingerprint_file(str(original))]
    assert copies_[0].size * 8 / copies_[0].duration_s > copies_[1].size * 8 / copies_[1].duration_s  # WAV's bitrate
    assert sorted(copies_, key=keep_order)[0].path == str(original)
    # lossy copies: the higher bitrate first, whatever their rates
    words = np.zeros(1, np.uint32)
    mp3_320 = Fingerprinted("a.mp3", words, "MP3", 44_100, 2, 10.0, 400_000)
    mp3_128 = Fingerprinted("b.mp3", words, "MP3", 48_000, 2, 10.0, 160_000)
    assert sorted([mp3_128, mp3_320], key=keep_order)[0] is mp3_320
    # a lossless copy at 22.05 kHz has lost the band a 44.1-kHz Ogg kept: the Ogg first
    wav_22k = Fingerprinted("dog (22k).wav", words, "WAV/PCM_16", 22_050, 1, 10.0, 441_000)
    ogg = Fingerprinted("dog.ogg", words, "OGG/VORBIS", 44_100, 1, 10.0, 80_000)
    assert sorted([wav_22k, ogg], key=keep_order)[0] is ogg
    # a lossless copy cut by 0.5 s lacks part of the recording: the full-length Ogg first (an mp3's padding is no cut)
    cut = Fingerprinted("dog (cut).wav", words, "WAV/PCM_16", 44_100, 1, 9.5, 838_000)
    mp3 = Fingerprinted("dog.mp3", words, "MP3", 44_100, 1, 10.05, 160_000)
    assert [fp.path for fp in sorted([cut, ogg], key=lambda fp: keep_order(fp, 10.0))] == ["dog.ogg", "dog (cut).wav"]
    assert sorted([mp3, ogg], key=lambda fp: keep_order(fp, 10.05))[0] is mp3  # 128 kb/s over 64
    # two lossless copies alike in all a file says (a -6 dB WAV of a FLAC): the older first, whatever the names
    older, newer = tmp_path / "z original.flac", tmp_path / "a quieter copy.flac"
    sf.write(older, music.astype(np.float32), 48_000)
    sf.write(newer, 0.5 * music.astype(np.float32), 48_000)
    os.utime(older, (1_600_000_000, 1_600_000_000))
    pair = [fingerprint_file(str(newer)), fingerprint_file(str(older))]
    pair[0].size = pair[1].size  # the same in every way the order looks at but their age
    assert sorted(pair, key=keep_order)[0].path == str(older)
    # a lossless copy made later from a 64 kb/s Ogg is not suggested over it: nothing but its age tells a transcode
    ogg_path, flac_path = tmp_path / "rain.ogg", tmp_path / "rain (lossless).flac"
    sf.write(ogg_path, music.astype(np.float32), 48_000, format="OGG", subtype="VORBIS")
    sf.write(flac_path, music.astype(np.float32), 48_000)
    source, transcode = fingerprint_file(str(ogg_path)), fingerprint_file(str(flac_path))
    for later_s, first in ((600, source), (30, transcode)):  # made ten minutes after, or with the folder (same age)
        os.utime(ogg_path, (1_600_000_000, 1_600_000_000))
        os.utime(flac_path, (1_600_000_000 + later_s, 1_600_000_000 + later_s))
        oldest = 1_600_000_000 * 10**9
        assert sorted([transcode, source], key=lambda fp: keep_order(fp, 6.0, oldest))[0] is first


def test_a_page_moves_files_only_inside_the_library(tmp_path):
    """The page's Move took any folder on the server: moving into Gradio's upload folder made a library file
    downloadable by anyone. With the library's roots the destination must lie inside one; nothing moves otherwise."""
    from audioret.catalog import destination, move_files
    from audioret.errors import InputError

    lib, other = tmp_path / "library", tmp_path / "gradio-uploads"
    lib.mkdir(), other.mkdir()
    take = lib / "take.wav"
    take.write_bytes(b"RIFF")
    (lib / "out").symlink_to(other, target_is_directory=True)
    for folder in (str(other), "../gradio-uploads", str(lib / ".." / "gradio-uploads"), "out", str(lib / "out" / "x")):
        with pytest.raises(InputError, match=f"only into a folder inside the library \\({lib}\\)"):
            move_files(None, [str(take)], folder, [str(lib)])
    assert take.exists() and not list(other.iterdir())  # nothing moved
    assert destination("set aside", [str(lib)]) == lib / "set aside"  # relative: inside the first root
    assert destination("library/aside", [str(tmp_path / "x"), str(lib)]) == lib / "aside"  # the root it names
    assert destination(str(lib / "aside"), [str(lib)]) == lib / "aside"
    assert move_files(None, [], "empty", [str(lib)]) == [] and not (lib / "empty").exists()  # no folder for nothing
