"""Near-duplicates: the numeric parts alone, then real recordings re-encoded the ways libraries hold copies, and the
command a user runs (which lists, exports and, when asked, moves aside; it never deletes)."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import soxr

from audioret import Config, Library
from audioret.cli import main
from audioret.duplicates import STOP_FILES, bit_error, candidate_pairs, compare, find, group

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
    assert compare(a, rng.integers(0, 2**32, 200, dtype=np.uint32)) == 1.0  # no shared word: never compared
    assert compare(a, np.zeros(0, np.uint32)) == 1.0


def test_groups_come_from_shared_words_not_all_pairs():
    rng = np.random.default_rng(1)
    a, other = rng.integers(0, 2**32, (2, 150), dtype=np.uint32)
    prints = [a, _flip(a, 0.04, 2), other, _flip(a[20:], 0.08, 3), _flip(other, 0.45, 4)]
    assert group(prints, 0.25) == [[(0, 0.0), (1, pytest.approx(0.04, abs=0.01)), (3, pytest.approx(0.08, abs=0.015))]]
    # a word in more than STOP_FILES fingerprints (silence, hum) proposes no pair
    common = [np.concatenate([np.full(5, 7, np.uint32), rng.integers(0, 2**32, 30, dtype=np.uint32)])
              for _ in range(STOP_FILES + 1)]  # fmt: skip
    assert candidate_pairs(common) == set()


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


def test_the_command_lists_exports_and_moves_aside_without_deleting(copies, tmp_path, tiny_clap_dir, text_model,
                                                                     capsys, monkeypatch):  # fmt: skip
    root, families = copies
    lib = tmp_path / "library"
    shutil.copytree(root, lib)
    monkeypatch.setenv("AUDIORET_DATA_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("AUDIORET_CLAP_MODEL", str(tiny_clap_dir))
    monkeypatch.setenv("AUDIORET_DEVICE", "cpu")
    assert main(["index", str(lib), "--no-progress", "--no-transcribe"]) == 0
    assert capsys.readouterr().out.startswith("40 added")

    assert main(["duplicates", "--json", "--csv", str(tmp_path / "dups.csv")]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert len(groups) == 5 and all(len(g) == 8 for g in groups)
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
