"""Export: a playlist, CSV, JSON and a zip of the matching segments from the command line; in the public app, names
and clips only."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import replace

import pytest
import soundfile as sf

from audioret.cli import main
from audioret.export import clip_name, playlist

from .conftest import tone, write


@pytest.mark.slow
def test_command_line_exports(tmp_path, tiny_clap_dir, text_model, capsys, monkeypatch):
    lib = tmp_path / "lib"
    write(lib / "long hum.wav", tone(25, 120))
    write(lib / "short beep.flac", tone(2, 2000))
    for name, value in (
        ("DATA_DIR", tmp_path / "index"),
        ("CLAP_MODEL", tiny_clap_dir),
        ("TEXT_MODEL", text_model),
        ("DEVICE", "cpu"),
    ):
        monkeypatch.setenv(f"AUDIORET_{name}", str(value))
    assert main(["index", str(lib), "--no-progress", "--no-transcribe"]) == 0
    out = tmp_path / "out"
    out.mkdir()
    for ext in ("m3u8", "csv", "json", "zip"):
        assert main(["search", "a low hum", "-k", "2", "--export", str(out / f"results.{ext}")]) == 0
    assert "exported 2 results to" in capsys.readouterr().err

    lines = (out / "results.m3u8").read_text().splitlines()
    assert lines[0] == "#EXTM3U" and sum(line.startswith("#EXTINF:") for line in lines) == 2
    listed = [line for line in lines if not line.startswith("#")]
    assert sorted(listed) == sorted(str(p) for p in lib.iterdir())  # absolute paths, playable as they are
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["rank"] for r in rows] == ["1", "2"] and {r["file"] for r in rows} == set(listed)
    exported = json.loads((out / "results.json").read_text())
    assert exported["query"] == "a low hum" and [h["rank"] for h in exported["hits"]] == [1, 2]
    assert main(["search", "a low hum", "-k", "2", "--json"]) == 0
    assert exported["no_good_match"] == json.loads(capsys.readouterr().out)["no_good_match"]
    # weak hits export as weak: the verdict and the message --json gives, not a list that reads as matches
    assert main(["search", "a violin concerto in a cathedral", "-k", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["search", "a violin concerto in a cathedral", "-k", "1", "--export", str(out / "weak.json")]) == 0
    assert "exported 1 result to" in capsys.readouterr().err
    weak = json.loads((out / "weak.json").read_text())
    assert shown["no_good_match"] and (weak["no_good_match"], weak["message"]) == (True, shown["message"])
    assert main(["search", "a violin concerto in a cathedral", "-k", "2", "--export", str(out / "weak.csv")]) == 0
    assert [r["match"] for r in csv.DictReader(open(out / "weak.csv"))] == ["no", "no"]  # a table says so per row
    assert [r["match"] == "yes" for r in rows] == [h["score"] >= 0.5 for h in exported["hits"]]
    # how the query was read goes with it, as --json says it
    assert main(["search", 'a low "hum', "-k", "1", "--export", str(out / "read.json")]) == 0
    assert (
        json.loads((out / "read.json").read_text())["note"]
        == 'The unmatched " was read as a plain character: the words after it are ordinary words'
    )
    with zipfile.ZipFile(out / "results.zip") as z:
        wavs = sorted(n for n in z.namelist() if n.endswith(".wav"))
        assert len(wavs) == 2 and "results.csv" in z.namelist()
        for n, row in zip(sorted(wavs, key=lambda n: n[:2]), rows):
            data, sr = sf.read(io.BytesIO(z.read(n)))
            assert abs(len(data) / sr - (float(row["end_s"]) - float(row["start_s"]))) < 0.05  # the segment alone

    assert main(["search", "a low hum", "--export", str(out / "results.mp4")]) == 2
    assert "use one of .m3u8" in capsys.readouterr().err


def test_playlist_starts_where_the_hit_matched_and_clip_names_are_safe():
    from audioret.types import Hit

    hit = Hit(
        rank=3,
        path="/music/a: b?.flac",
        start_s=67.5,
        end_s=77.5,
        score=0.8,
        scores={},
        segment_id=None,
        duration_s=180.0,
    )
    assert playlist([hit]).splitlines() == [
        "#EXTM3U",
        "#EXTINF:180,a: b? (score 0.80)",
        "#EXTVLCOPT:start-time=67.5",
        "/music/a: b?.flac",
    ]
    assert clip_name(hit) == "03 a_ b_ 1m07s-1m18s.wav"  # the whole clip: its end rounded up
    assert clip_name(replace(hit, end_s=5.001)) == "03 a_ b_ 1m07s-0m05s.wav"  # as shown (5.0), not 6
