"""Tags: sound labels judged against the background, measured properties, speech, your own tags in the sidecar,
``--tag`` filters, and ``audioret tags | tag``. A tiny random CLAP cannot say whether a label is right (that is
bench/tags.py's, with the stand-in); these tests hold the mechanics."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest

from audioret import Config, Library, audio, tagging
from audioret.channels import user_tags
from audioret.channels.passages import read_sidecar, sidecar_kind
from audioret.cli import main
from audioret.cli_tags import argv as tag_argv
from audioret.errors import InputError
from audioret.measures import MAJOR, MINOR, key, key_of, loudness, tempo
from audioret.ranking import labels as judging
from audioret.ranking.calibration import Background, calibrate
from audioret.store.filters import accepts, where
from audioret.store.records import tag_fields, tag_kinds_of, tags_of
from audioret.types import Filters
from audioret.vocabulary import audioset, load

from .conftest import speak, tone, write


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


# -- judging a label, pure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("debias, against_reference", [(True, True), (False, True), (False, False)])
def test_a_label_is_judged_as_a_search_judges_its_prompt(debias, against_reference):
    rng = np.random.default_rng(0)
    sample, reference = _unit(rng.standard_normal((200, 32))), _unit(rng.standard_normal((20, 32)))
    records, labels = _unit(rng.standard_normal((5, 32))), _unit(rng.standard_normal((7, 32)))
    background = Background.of(sample, 1000, reference, debias)
    e = judging.evidence(records, labels, background, against_reference)
    for j in range(len(labels)):
        query = labels[j : j + 1]
        expected = calibrate((records @ query.T)[:, 0], records, query, background, against_reference)
        np.testing.assert_allclose(e[:, j], expected, rtol=1e-6, atol=1e-9)
    known = judging.evidence(records, labels, background, against_reference, judging.null(labels, background))
    np.testing.assert_array_equal(known, e)  # the labels' background, computed once, gives the same


def test_a_label_is_given_only_where_it_stands_out_from_its_background():
    rng = np.random.default_rng(1)
    common = _unit(rng.standard_normal(64))
    sample = _unit(rng.standard_normal((400, 64)) / 8 + common)  # every record shares a "common" direction
    reference = _unit(rng.standard_normal((30, 64)) / 8 + 0.5 * common)
    background = Background.of(sample, len(sample), reference, debias=True)
    labels = np.stack([_unit(sample[0] - 0.6 * common), common])  # 0: one record's own sound; 1: what all share
    e = judging.evidence(sample[:3], labels, background)
    given = [judging.given(row) for row in e]
    assert 0 in given[0] and given[0][0] >= 0.5  # record 0 stands out for its own label
    assert (sample @ labels[1]).mean() > 2 * (sample[1:] @ labels[0]).mean()  # the common label scores high...
    assert all(1 not in g for g in given)  # ...everywhere, so it stands out nowhere
    assert all(0 not in g for g in given[1:])
    best, windows = judging.per_file(e[:2])  # a file of records 0 and 1: the label is the file's, and window 0's
    assert best == {0: given[0][0]} and windows == given[:2]


def test_a_hub_label_is_measured_in_its_own_spread_and_the_others_as_a_search_would():
    rng = np.random.default_rng(2)
    hub = _unit(rng.standard_normal(256))
    sample = _unit(rng.standard_normal((400, 256)) / 16 + 0.5 * rng.standard_normal((400, 1)) * hub)  # along hub
    reference = _unit(rng.standard_normal((20, 256)))
    background = Background.of(sample, len(sample), reference, debias=True)
    labels = np.vstack([_unit(rng.standard_normal((15, 256))), hub[None]])
    widths = judging.hub_widths(judging.null(labels, background)[1] / background.scale)
    assert widths[-1] > 2 and np.all(widths[:-1] == 1.0)  # only the hub stands apart from the others' spreads
    edge = sample[np.argsort(-(sample @ hub))[:3]]  # the records at the hub's edge
    e = judging.evidence(edge, labels, background)
    # the laws a search uses (these reference prompts are random directions, which a search's informative gate,
    # ranking.null.informative, weighs as nothing; labels are not gated)
    plain = calibrate((edge @ hub[:, None])[:, 0], edge, hub[None], background, True, gated=False)
    assert np.all(e[:, -1] < plain)  # as a search prompt it would stand out; as a label it is a hub
    for j in range(15):  # every other label: exactly as a search judges its prompt
        query = labels[j : j + 1]
        expected = calibrate((edge @ query.T)[:, 0], edge, query, background, True, gated=False)
        np.testing.assert_allclose(e[:, j], expected)


def test_hub_widths():
    spreads = np.array([1.0, 0.9, 1.1, 1.2, 0.8, 1.0, 1.05, 0.95, 6.0])
    widths = judging.hub_widths(spreads)
    q1, q3 = np.percentile(spreads, [25, 75])
    assert widths[-1] == pytest.approx(6.0 / (q3 + 3 * (q3 - q1))) and np.all(widths[:-1] == 1.0)
    assert np.all(judging.hub_widths(spreads[-4:]) == 1.0)  # too few labels to call one a hub
    assert np.all(judging.hub_widths(np.full(10, 0.2)) == 1.0)  # never measured tighter than the channel


def test_a_file_keeps_at_most_its_strongest_labels():
    e = np.array([5.0, 1.0, 9.0, 3.0, 2.0, 2.5])
    assert list(judging.given(e, limit=2)) == [2, 0]
    assert list(judging.given(e)) == [2, 0, 3, 5, 4]  # 1.0 nats is below the line of a match (2.0)


# -- measured properties, pure -----------------------------------------------------------------------------------


def test_key_profiles_name_the_key():
    assert key_of(MAJOR)[0] == "c major"
    assert key_of(np.roll(MINOR, 9))[0] == "a minor"
    assert key_of(np.roll(MAJOR, 6))[0] == "f# major"
    assert key_of(np.ones(12)) == (None, 0.0)  # a flat chroma fits no key


def test_loudness_is_of_the_first_five_minutes_however_the_file_is_decoded():
    from audioret.measures import LOUDNESS_S, RATE, Measurer

    sr = 8000  # a 6-minute file, 6 dB quieter after its first five
    x = np.concatenate([tone(LOUDNESS_S, 440, sr=sr), 0.5 * tone(60, 440, sr=sr)]).astype(np.float32)
    results = []
    for block_s in (10, 30, 77):
        measurer, step = Measurer(sr), block_s * sr
        for i in range(0, len(x), step):
            measurer.push(x[i : i + step], last=i + step >= len(x))
        results.append(measurer.result["loudness_lufs"])
    first = audio.Resampler(sr, RATE).push(x[: round(LOUDNESS_S * sr)], last=True)
    assert results == [results[0]] * 3
    assert results[0] == pytest.approx(loudness(first), abs=0.05)


def test_loudness_and_tempo_of_known_signals():
    sr = 22050
    t = np.arange(10 * sr) / sr
    sine = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    # BS.1770: a full-scale 1 kHz sine reads about -3 LUFS; at half scale 6 dB lower
    assert loudness(sine, sr) == pytest.approx(-3.0 - 6.02, abs=0.7)
    assert loudness(np.zeros(sr, np.float32), sr) is None and loudness(sine[:1000], sr) is None
    sr = 11025
    clicks = np.zeros(10 * sr, np.float32)
    for beat in np.arange(0, 10, 0.5):  # 120 BPM
        i = int(beat * sr)
        clicks[i : i + 100] = np.hanning(100)
    assert tempo(clicks, sr) == pytest.approx(120, rel=0.05)
    assert tempo(clicks[: 2 * sr], sr) is None  # too short to have a tempo
    t = np.arange(10 * sr) / sr  # a C major arpeggio: C, E, G
    arpeggio = np.concatenate([np.sin(2 * np.pi * f * t[: sr // 2]) for f in (261.6, 329.6, 392.0) * 7])
    assert key(arpeggio.astype(np.float32), sr) == "c major"


def test_speech_share_is_the_union_of_the_spans():
    assert tagging.speech_share([(0, 2), (1, 3), (5, 6)], 10.0) == pytest.approx(0.4)
    assert tagging.speech_share([(8, 12)], 10.0) == pytest.approx(0.2)  # never past the end
    assert tagging.speech_share([], 10.0) == 0.0 and tagging.speech_share([(0, 1)], 0.0) == 0.0


# -- the vocabulary, filters and the sidecar, pure ---------------------------------------------------------------


def test_the_audioset_vocabulary_and_your_own(tmp_path):
    v = audioset()
    assert len(v.labels) == 527 and v.labels[0] == "speech" and "male speech, man speaking" in v.labels
    assert "jazz" in v.music and "rain" not in v.music and len(v.music) == 146
    own = tmp_path / "mine.txt"
    own.write_text("# my labels\nRain  on tin\n\ndog barking # a comment\nrain on tin\nfolk music\n")
    mine = load(own)
    assert mine.labels == ("rain on tin", "dog barking", "folk music") and mine.music == {"folk music"}
    assert mine.signature != v.signature and mine.prompts[0] == "the sound of rain on tin"
    with pytest.raises(InputError, match="Cannot read the tags file"):
        load(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(InputError, match="holds 0 labels"):
        load(tmp_path / "empty.txt")


def test_tag_filters_are_normalised_and_the_store_clause_says_what_the_check_says():
    f = Filters(tags=[" Rain ", "rain", "Field  Recording"], exclude_tags="Music")
    assert f.tags == ("rain", "field recording") and f.exclude_tags == ("music",) and f.active
    assert where(f) == {
        "$and": [
            {"tags": {"$contains": "rain"}},
            {"tags": {"$contains": "field recording"}},
            {"tags": {"$not_contains": "music"}},
        ]
    }
    both = {"path": "/a", "tags": ["rain", "field recording"]}
    assert accepts(f, both)
    assert not accepts(f, {**both, "tags": ["rain"]})  # every tag is required
    assert not accepts(f, {**both, "tags": ["rain", "field recording", "music"]})  # one left out is enough
    assert not accepts(f, {"path": "/a"}) and accepts(Filters(exclude_tags=("music",)), {"path": "/a"})
    fields = tag_fields({"rain": ("sound", 0.7), "mine": ("user", 1.0)}, "sig")
    assert fields["tags"] == ["mine", "rain"] and tags_of(fields) == {"mine": 1.0, "rain": 0.7}
    assert tag_kinds_of(fields) == {"mine": "user", "rain": "sound"}
    assert tag_fields({}, "sig")["tags"] is None  # removes the field from a stored record


def test_signed_tags_on_the_command_line():
    assert tag_argv(["search", "rain", "--tag", "-music", "--tag", "night"]) == [
        "search",
        "rain",
        "--tag=-music",
        "--tag",
        "night",
    ]
    assert tag_argv(["tag", "a.wav", "+rain", "-music", "-v", "--remove", "-x"]) == [
        "tag",
        "a.wav",
        "+rain",
        "--remove=music",
        "-v",
        "--remove",
        "-x",
    ]
    assert tag_argv(["search", "-music"]) == ["search", "-music"]  # only the tag command's words are rewritten


def test_the_sidecar_keeps_what_it_held(tmp_path):
    audio = tmp_path / "walk.wav"
    audio.write_bytes(b"")
    sidecar = tmp_path / "walk.json"
    sidecar.write_text(json.dumps({"description": "a walk", "tags": "Forest; birds", "x": [1]}))
    assert user_tags.read(str(audio)) == (["forest", "birds"], [])
    tags, removed = user_tags.write(str(audio), add=["Rain"], remove=["birds", "loud"], automatic=["loud"])
    assert (tags, removed) == (["forest", "rain"], ["loud"])
    data = json.loads(sidecar.read_text())
    assert data == {"description": "a walk", "tags": ["forest", "rain"], "x": [1], "removed_tags": ["loud"]}
    assert user_tags.write(str(audio), add=["loud"]) == (["forest", "rain", "loud"], [])  # taken back
    assert sidecar_kind(audio) == "sidecar"  # a description beside the tags: a sidecar the user wrote
    user_tags.write(str(tmp_path / "take.wav"), add=["wet"])  # only tags, as `audioret tag` writes them
    assert sidecar_kind(tmp_path / "take.wav") == "your tags" and read_sidecar(tmp_path / "take.wav") == "wet"
    sidecar.write_text(json.dumps({"tags": ["ok", "x" * 65, "bad\u0007", 3] + [f"t{i}" for i in range(100)]}))
    mine, _ = user_tags.read(str(audio))
    assert mine[:2] == ["ok", "3"] and len(mine) == user_tags.MAX_TAGS  # what a tag cannot be is left out
    sidecar.write_text("[1, 2]")
    with pytest.raises(InputError, match="not a JSON object"):
        user_tags.write(str(audio), add=["rain"])
    assert sidecar.read_text() == "[1, 2]"  # left as it was
    with pytest.raises(InputError, match="1 to 64 printable"):
        user_tags.write(str(tmp_path / "other.wav"), add=["bad\ttag"])
    with pytest.raises(InputError, match="both added and removed"):
        user_tags.write(str(tmp_path / "other.wav"), add=["a"], remove=["A"])
    assert not (tmp_path / "other.json").exists()


# -- a library ---------------------------------------------------------------------------------------------------


def _library_dir(root, esc10_dir):
    lib = root / "library"
    (lib / "sounds").mkdir(parents=True)
    for src in sorted(esc10_dir.glob("*.ogg"))[::40][:8]:
        shutil.copy(src, lib / "sounds" / src.name)
    write(lib / "long" / "tones.flac", np.concatenate([tone(10, 300), tone(10, 900), tone(5, 2000)]))
    return lib


def _library(data_dir, tiny_clap_dir, tiny_embedder, **settings) -> Library:
    config = Config.from_env(
        data_dir=data_dir, clap_model=str(tiny_clap_dir), device="cpu", batch_size=4, hop_s=10, transcribe=False
    )
    lib = Library(dataclasses.replace(config, **settings))
    lib.embedder = tiny_embedder
    return lib


@pytest.fixture
def tagged(tmp_path, esc10_dir, tiny_clap_dir, tiny_embedder, text_model, monkeypatch):
    """An indexed (and so tagged) library of 8 ESC-10 clips and a 25-s file of tones, its sound labels judged by
    their laws alone: the tiny random CLAP is measured as noise, which gives none (the mechanics are tested here)."""
    monkeypatch.setattr(tagging, "GATED", False)
    lib = _library(tmp_path / "index", tiny_clap_dir, tiny_embedder)
    folder = _library_dir(tmp_path, esc10_dir)
    report = lib.index([folder], progress=False)
    assert report.tagged == 9 and 0 < report.tagging_s < report.elapsed_s
    return lib, folder


@pytest.mark.slow
def test_a_sound_model_that_knows_nothing_here_gives_no_sound_labels(tmp_path, esc10_dir, tiny_clap_dir, tiny_embedder):
    """The tiny random CLAP's answers to text prompts are noise (null.informative 0), so a search gives it no say,
    and no file gets a sound label from it; what is measured (loudness) is still tagged. Judged by their laws alone,
    the same vectors give labels: the gate is what keeps them off."""
    lib = _library(tmp_path / "index", tiny_clap_dir, tiny_embedder)
    lib.index([_library_dir(tmp_path, esc10_dir)], progress=False)
    files = lib.files()
    assert len(files) == 9 and all({"quiet", "medium loudness", "loud"} & set(f.tags) for f in files)
    assert not [t for t in lib.tags() if t.kind == "sound"]
    assert all(not (set(h.tags) & set(audioset().labels)) for h in lib.search("a dog barking", k=9))
    tagging.GATED = False
    try:
        assert tagging.update(lib, only={f.path for f in files}) == 9
    finally:
        tagging.GATED = True
    assert [t for t in lib.tags() if t.kind == "sound"]


def _records(store) -> list[dict]:
    return store.collection.get(include=["metadatas"])["metadatas"]


@pytest.mark.slow
def test_tags_are_on_every_record_of_every_channel_and_listed(tagged):
    lib, folder = tagged
    files = {f.path: f for f in lib.files()}
    assert len(files) == 9
    for channel in lib.channels:
        for m in _records(channel.store):  # every record carries its file's tags, as the first record has them
            assert m["tags_sig"] and tags_of(m) == files[m["path"]].tags
    for f in files.values():  # every file has a loudness, and its tag
        assert f.loudness_lufs is not None and -60 < f.loudness_lufs < 0
        assert {"quiet", "medium loudness", "loud"} & set(f.tags)
        assert f.speech_share is None and f.language is None  # nothing listened for speech (transcribe off)
    tags = lib.tags()
    assert [t.files for t in tags] == sorted((t.files for t in tags), reverse=True)
    for t in tags:  # each count is what a scan of the files says
        assert t.files == sum(t.name in f.tags for f in files.values())
    sound = [t for t in tags if t.kind == "sound"]
    assert sound, "the tiny CLAP gave no label at all, so the judging below tests nothing"
    vocabulary = set(audioset().labels)
    assert all(t.name in vocabulary for t in sound)
    for path, f in files.items():
        props = lib.file_properties(path)
        assert props["tags"] == f.tags and props["loudness_lufs"] == f.loudness_lufs
        file_sound = {t: f.tags[t] for t, k in props["kinds"].items() if k == "sound"}
        best: dict[str, float] = {}
        for w in props["windows"]:  # each window's own labels, where in the file
            assert 0 <= w["start_s"] < w["end_s"] <= f.duration_s + 0.01
            best |= {t: max(s, best.get(t, 0.0)) for t, s in w["tags"].items()}
        if len(lib.file_vectors(path)) == 1:  # one window: its labels are the file's
            assert best == file_sound
        assert all(best[t] == s for t, s in file_sound.items())  # a file's label is its best window's
    for hit in lib.search("a dog barking", k=9):
        assert hit.tags == files[hit.path].tags


@pytest.mark.slow
def test_the_tag_filter_agrees_with_a_scan(tagged):
    lib, _ = tagged
    files = lib.files()
    everything = {f.path for f in files}
    for t in lib.tags():
        having = {f.path for f in files if t.name in f.tags}
        cases = ((Filters(tags=(t.name,)), having), (Filters(exclude_tags=(t.name,)), everything - having))
        for filters, expected in cases:
            assert {h.path for h in lib.search("a dog barking", k=20, filters=filters)} == expected
            assert {f.path for f in lib.files(filters)} == expected
            for channel in lib.channels:  # the store's own where clause, record by record
                clause = where(filters)
                scanned = [m for m in _records(channel.store) if accepts(filters, m)]
                assert channel.store.count_where(clause) == len(scanned)
    two = [t.name for t in lib.tags()[:2]]
    both = {f.path for f in files if set(two) <= set(f.tags)}
    assert {h.path for h in lib.search("rain", k=20, filters=Filters(tags=tuple(two)))} == both


@pytest.mark.slow
def test_a_changed_vocabulary_retags_from_the_stored_vectors(tagged, tmp_path, tiny_clap_dir, tiny_embedder):
    lib, folder = tagged
    vectors = {f.path: lib.file_vectors(f.path) for f in lib.files()}
    before = {f.path: f.tags for f in lib.files()}
    own = tmp_path / "labels.txt"
    own.write_text("\n".join(reversed(audioset().labels[:400])))  # another vocabulary: other labels, other order
    lib2 = _library(lib.config.data_dir, tiny_clap_dir, tiny_embedder, tags_file=str(own))
    report = lib2.index([folder], progress=False)
    assert report.segments == 0 and report.passages == 0 and report.unchanged == 9  # nothing embedded again
    assert report.tagged == 9
    after = lib2.files()
    for f in after:
        np.testing.assert_array_equal(lib2.file_vectors(f.path), vectors[f.path])
    kinds = {t.name: t.kind for t in lib2.tags()}
    labels = set(load(own).labels)
    assert all(name in labels for name, kind in kinds.items() if kind == "sound")
    assert "sound" in kinds.values()
    assert {f.path: f.tags for f in after} != before
    assert lib2.index([folder], progress=False).tagged == 0  # judged once
    # the labels' vectors are computed once per model and vocabulary, and kept beside the index
    assert len(list((lib.config.data_dir / "tags").glob("labels-*.npy"))) == 2


@pytest.mark.slow
def test_a_run_killed_while_tagging_is_finished_by_the_next(tagged):
    lib, folder = tagged
    store = lib.channels.hearing().store
    path = sorted(f.path for f in lib.files())[0]
    first = store.file_records(path)[0]
    store.update_metadata([first.id], [{**first.metadata, "tags_sig": "killed-before-this"}])
    report = lib.index([folder], progress=False)
    assert report.tagged == 1 and report.segments == 0
    assert store.file_records(path)[0].metadata["tags_sig"] != "killed-before-this"


@pytest.mark.slow
def test_your_own_tags_are_kept_searched_and_survive_a_reindex(tagged):
    lib, folder = tagged
    path = str(sorted((folder / "sounds").glob("*.ogg"))[0])
    automatic = lib.file_properties(path)["tags"]
    loud = next(t for t in automatic if t in ("quiet", "medium loudness", "loud"))
    tags = lib.tag(path, add=["Zebra Crossing", "night"], remove=[loud])
    assert tags["zebra crossing"] == 1.0 and tags["night"] == 1.0 and loud not in tags
    assert json.loads(open(os.path.splitext(path)[0] + ".json").read()) == {
        "tags": ["zebra crossing", "night"],
        "removed_tags": [loud],
    }
    assert {f.path for f in lib.files(Filters(tags=("zebra crossing",)))} == {path}
    kinds = {t.name: t.kind for t in lib.tags()}
    assert kinds["zebra crossing"] == "user" and kinds["night"] == "user"
    # the text channel reads them: a search for the words finds the file by its sidecar
    hits = lib.search("zebra crossing", k=3, weights={"clap": 0.0, "text": 1.0})
    # ...labelled as your tags (you wrote tags, not a sidecar)
    assert hits[0].path == path and hits[0].text_kind == "your tags" and "zebra crossing" in hits[0].text
    assert hits[0].why.startswith('your tags: "zebra crossing, night"')
    mtime = os.stat(os.path.splitext(path)[0] + ".json").st_mtime_ns
    assert lib.tag(path) == lib.file_properties(path)["tags"] == tags  # nothing to change: the tags as they are
    assert os.stat(os.path.splitext(path)[0] + ".json").st_mtime_ns == mtime  # and nothing written
    # a re-index from scratch (the index removed) keeps them, and keeps the removed tag off
    lib.remove([folder])
    assert lib.files() == []
    lib.index([folder], progress=False)
    again = {f.path: f for f in lib.files()}[path].tags
    assert again["zebra crossing"] == 1.0 and loud not in again
    assert lib.tag(path, remove=["night"]).keys() == again.keys() - {"night"}
    with pytest.raises(InputError, match="nowhere.wav' does not exist; give the path of an audio file") as e:
        lib.tag(str(folder / "nowhere.wav"), add=["x"])
    assert "segment" not in str(e.value) and "index" not in str(e.value)
    stray = shutil.copy(path, folder / "stray.ogg")  # on disk, not indexed
    with pytest.raises(InputError, match="stray.ogg' is not in the index, so it has no tags") as e:
        lib.tag(stray, add=["x"])
    assert "segment" not in str(e.value) and not os.path.exists(folder / "stray.json")  # nothing written


@pytest.mark.slow
def test_tags_off_measures_and_tags_nothing(tmp_path, esc10_dir, tiny_clap_dir, tiny_embedder, text_model):
    lib = _library(tmp_path / "index", tiny_clap_dir, tiny_embedder, tags=False)
    report = lib.index([_library_dir(tmp_path, esc10_dir)], progress=False)
    assert report.tagged == 0 and report.tagging_s == 0
    assert lib.tags() == [] and all(f.tags == {} and f.loudness_lufs is None for f in lib.files())


@pytest.mark.slow
def test_the_command_line(tmp_path, esc10_dir, tiny_clap_dir, monkeypatch, capsys, text_model):
    monkeypatch.setenv("AUDIORET_DATA_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("AUDIORET_CLAP_MODEL", str(tiny_clap_dir))
    monkeypatch.setenv("AUDIORET_DEVICE", "cpu")
    monkeypatch.setenv("AUDIORET_TRANSCRIBE", "0")
    folder = _library_dir(tmp_path, esc10_dir)
    assert main(["index", str(folder), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["tags", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["tags"]
    assert listed and all(set(t) == {"name", "kind", "files"} for t in listed)
    assert main(["tags"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.split()[0] == str(listed[0]["files"]) and listed[0]["name"] in first
    clip = sorted((folder / "sounds").glob("*.ogg"))[0]
    assert main(["tag", str(clip), "+rain", "+night", "--json"]) == 0
    assert {"rain", "night"} <= set(json.loads(capsys.readouterr().out)["tags"])
    assert main(["tag", str(clip), "-night"]) == 0
    out = capsys.readouterr().out
    assert "rain (1.00)" in out and "night" not in out
    assert main(["search", "a dog barking", "-k", "20", "--tag", "rain", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert [h["path"] for h in hits] == [str(clip)] and hits[0]["tags"]["rain"] == 1.0
    assert main(["search", "a dog barking", "-k", "20", "--tag", "-rain", "--json"]) == 0
    others = {h["path"] for h in json.loads(capsys.readouterr().out)["hits"]}
    assert len(others) == 8 and str(clip) not in others
    assert main(["similar", str(clip), "-k", "20", "--tag", "rain", "--json"]) == 0
    assert [h["path"] for h in json.loads(capsys.readouterr().out)["hits"]] == [str(clip)]
    assert main(["search", "a dog barking", "--tag", "rain"]) == 0  # the tags on a line of their own, " · " between
    shown = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert shown[-1] == "tags: " + " · ".join(list(hits[0]["tags"])[:8]) and len(hits[0]["tags"]) > 1
    assert main(["search", "a dog barking -rain", "-k", "20"]) == 0  # the exclusion says what it left out
    assert "1 file left out by -rain" in capsys.readouterr().out.splitlines()
    assert main(["tag", str(clip)]) == 0  # nothing to change: the file's tags
    listed = capsys.readouterr().out.strip()
    assert "rain (1.00)" in listed and "usage" not in listed
    assert main(["tag", str(folder / "nope.wav"), "+x"]) == 2
    assert "nope.wav' does not exist; give the path of an audio file" in capsys.readouterr().err


@pytest.mark.slow
def test_speech_and_language_are_tags(tmp_path, tiny_clap_dir, tiny_embedder, asr_model, text_model):
    folder = tmp_path / "memos"
    speak(folder / "memo.wav", "buy milk and eggs on the way home tonight", tail_s=2.0)
    write(folder / "hum.wav", tone(6, 200))
    lib = _library(tmp_path / "index", tiny_clap_dir, tiny_embedder, transcribe=True, asr_model=asr_model)
    lib.index([folder], progress=False)
    files = {os.path.basename(f.path): f for f in lib.files()}
    memo, hum = files["memo.wav"], files["hum.wav"]
    assert memo.language == "en" and memo.tags["language:en"] == 1.0
    assert 0.4 < memo.speech_share <= 1.0 and memo.tags["speech"] >= memo.speech_share - 1e-3
    assert hum.speech_share == 0.0 and "speech" not in hum.tags and hum.language is None
    assert {f.path for f in lib.files(Filters(exclude_tags=("speech",)))} == {hum.path}


def test_loudness_block_by_block_is_pyloudnorms():
    """The streaming meter against pyloudnorm's own, on noise that gets louder and has a silent gap (both gates
    at work), pushed in blocks that do not line up with the 100-ms steps."""
    import pyloudnorm

    from audioret.measures import Loudness, gated_loudness

    sr = 22050
    rng = np.random.default_rng(3)
    x = rng.standard_normal(37 * sr + 1234) * np.linspace(0.01, 0.4, 37 * sr + 1234)
    x[5 * sr : 12 * sr] = 0.0
    expected = pyloudnorm.Meter(sr).integrated_loudness(x)
    for block in (997, 2205, 10 * sr, len(x)):
        meter = Loudness(sr)
        for i in range(0, len(x), block):
            meter.push(x[i : i + block])
        assert meter.result() == pytest.approx(expected, abs=0.01)
    assert gated_loudness(np.zeros(10)) is None  # silence: no block above -70 LUFS
    quiet_and_loud = np.array([1e-9] * 5 + [0.1] * 5)  # the quiet blocks fall under both gates
    assert gated_loudness(quiet_and_loud) == pytest.approx(-0.691 - 10.0, abs=1e-9)


def test_a_failed_loudness_stays_failed_and_the_file_goes_on(caplog):
    """A block the measurer cannot read (here, not numbers) leaves the file without a loudness, however many good
    blocks follow: never the loudness of a part of it."""
    from audioret.measures import Measurer

    sr = 8000
    measurer = Measurer(sr, "odd.wav")
    measurer.push(tone(2.0, 440, sr=sr).astype(np.float32), last=False)
    measurer.push(np.array(["not", "audio"]), last=False)
    measurer.push(tone(2.0, 440, sr=sr).astype(np.float32), last=True)
    assert measurer.result == {}
    assert "Could not measure odd.wav" in caplog.text
