from __future__ import annotations

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest

from audioret import Config, Filters, InputError, Library
from audioret.store.records import segment_id

from .conftest import drop_collections, tone, write


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.slow)])
def library(request, tmp_path, tiny_clap_dir, tiny_embedder):
    """The library on the embedded store, and the same on a real Chroma server (a fresh index on each)."""
    url = request.getfixturevalue("chroma_server_url") if request.param == "server" else None
    # a 10-s hop puts windows on a 10-s grid, which keeps expected times easy to read
    config = Config.from_env(
        data_dir=tmp_path / "index", clap_model=str(tiny_clap_dir), device="cpu", batch_size=4, hop_s=10, chroma_url=url
    )
    if url:
        drop_collections(url, config.clap_model, config.text_model)
    lib = Library(config)
    lib.embedder = tiny_embedder  # share the session's loaded model
    return lib


def _all(lib: Library) -> dict[str, tuple[np.ndarray, dict]]:
    got = lib.store.collection.get(include=["embeddings", "metadatas"])
    return {i: (np.asarray(e, np.float32), m) for i, e, m in zip(got["ids"], got["embeddings"], got["metadatas"])}


def test_index_reports_and_segments_cover_files(library, small_library):
    report = library.index([small_library], progress=False)
    assert len(report.added) == 13 and report.unchanged == 0
    # the broken file is named with its reason, and everything else is indexed
    assert [(os.path.basename(f.path), "not a supported audio format" in f.reason) for f in report.failed] == [
        ("broken.wav", True)
    ]
    saved = json.loads(library.report_path.read_text())
    assert saved["failed"][0]["path"] == str(small_library / "broken.wav")

    records = _all(library)
    assert len(records) == report.segments == 12 + 3  # 12 five-second clips, the 25-s file in 3 windows
    long = sorted((m["start_s"], m["end_s"]) for _, m in records.values() if m["name"] == "tones.flac")
    assert long == [(0.0, 10.0), (10.0, 20.0), (20.0, 25.0)]
    clip = next(m for _, m in records.values() if m["ext"] == "ogg")
    assert (clip["start_s"], clip["sample_rate"], clip["channels"]) == (0.0, 44100, 1)
    assert abs(clip["end_s"] - 5.0) < 0.01 and clip["duration_s"] == clip["end_s"]
    assert clip["format"] == "OGG/VORBIS" and len(clip["hash"]) == 32


def test_default_hop_overlaps_windows(tmp_path, tiny_embedder, tiny_clap_dir):
    lib = Library(Config.from_env(data_dir=tmp_path / "index", clap_model=str(tiny_clap_dir)))
    lib.embedder = tiny_embedder
    path = write(tmp_path / "lib" / "long.wav", tone(27, 300))
    lib.index([tmp_path / "lib"], progress=False)
    spans = sorted((m.metadata["start_s"], m.metadata["end_s"]) for m in lib.store.file_records(str(path)))
    assert lib.config.hop_s == 7.5
    assert spans == [(0.0, 10.0), (7.5, 17.5), (15.0, 25.0), (22.5, 27.0)]


def test_changing_the_hop_reindexes(library, small_library):
    library.index([small_library], progress=False)
    library.config = dataclasses.replace(library.config, hop_s=5.0)
    report = library.index([small_library], progress=False)
    assert len(report.updated) == 13 and report.unchanged == 0
    long = str(small_library / "long" / "tones.flac")
    assert len(library.store.file_records(long)) == 4  # 0-10, 5-15, 10-20, 15-25


def test_reindex_is_idempotent(library, small_library):
    library.index([small_library], progress=False)
    before = _all(library)
    report = library.index([small_library], progress=False)
    assert (report.added, report.updated, report.unchanged, report.segments) == ([], [], 13, 0)
    after = _all(library)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key][0], after[key][0])

    # the same again from scratch, in another (embedded) data directory: identical vectors
    fresh_config = dataclasses.replace(
        library.config, data_dir=library.config.data_dir.parent / "fresh", chroma_url=None
    )
    fresh_config.data_dir.mkdir()
    shutil.copy(library.config.data_dir / "id-key", fresh_config.data_dir)  # ids follow the index's key (idkey.py)
    fresh = Library(fresh_config)
    fresh.embedder = library.embedder
    fresh.index([small_library], progress=False)
    again = _all(fresh)
    assert again.keys() == before.keys()
    for key in before:
        np.testing.assert_array_equal(before[key][0], again[key][0])


def test_an_index_from_before_id_keys_is_migrated_not_reembedded(library, small_library):
    """An index whose ids are the SHA-1 of the path (as before id keys) is moved to keyed ids when it is opened:
    nothing is embedded again, the vectors are the same, and the next run finds every file unchanged."""
    from audioret.store import idkey

    if library.config.chroma_url:
        pytest.skip("the migration is the same on a server; once is enough")
    library.index([small_library], progress=False)
    before = _all(library)
    for store in (library.store, library.text_store):  # back to the ids of an index made before keys
        store.key = b""
        idkey.migrate(store)
        store.collection.modify(metadata={k: v for k, v in store.collection.metadata.items() if k != "ids"})
    assert not set(_all(library)) & set(before)
    reopened = Library(library.config)
    reopened.embedder = library.embedder
    report = reopened.index([small_library], progress=False)
    assert (report.added, report.updated, report.unchanged, report.segments) == ([], [], 13, 0)
    after = _all(reopened)
    assert after.keys() == before.keys()
    for key in before:  # copied, not embedded: the store's float32 round trip moves the last bit at most
        np.testing.assert_allclose(before[key][0], after[key][0], rtol=0, atol=1e-6)


def test_changed_file_is_reembedded_and_deleted_file_pruned(library, small_library):
    library.index([small_library], progress=False)
    long = small_library / "long" / "tones.flac"
    old = _all(library)
    write(long, tone(8, 1500))  # now one 8-s window instead of three
    victim = sorted((small_library / "sounds").glob("*.ogg"))[0]
    victim.unlink()

    report = library.index([small_library], progress=False)
    assert report.updated == [str(long)] and report.removed == [str(victim)] and report.unchanged == 11
    records = _all(library)
    assert len(records) == len(old) - 2 - 1
    windows = [m for _, m in records.values() if m["path"] == str(long)]
    assert [(m["start_s"], m["end_s"]) for m in windows] == [(0.0, 8.0)]
    assert not [m for _, m in records.values() if m["path"] == str(victim)]
    assert not np.allclose(
        records[segment_id(str(long), 0, library.id_key)][0], old[segment_id(str(long), 0, library.id_key)][0]
    )


def test_touched_file_is_not_reembedded(library, small_library):
    library.index([small_library], progress=False)
    clip = sorted((small_library / "sounds").glob("*.ogg"))[0]
    os.utime(clip, ns=(1_000_000_000, 1_000_000_000))
    report = library.index([small_library], progress=False)
    assert (report.added, report.updated, report.unchanged, report.segments) == ([], [], 13, 0)
    # the new mtime was recorded, so the next scan skips it without hashing
    assert library.store.files()[0][str(clip)].mtime_ns == 1_000_000_000


def test_query_by_example_returns_the_clip_first(library, small_library):
    library.index([small_library], progress=False)
    for clip in sorted((small_library / "sounds").glob("*.ogg"))[:4]:
        hits = library.search_audio(clip, k=3)
        assert hits[0].path == str(clip)
        assert hits[0].scores["clap"] == pytest.approx(1.0, abs=1e-4)  # itself
        assert (hits[0].rank, hits[0].start_s) == (1, 0.0)
        assert [h.rank for h in hits] == [1, 2, 3] and hits[0].score >= hits[1].score >= hits[2].score
    nothing = library.search_audio(clip, k=3, filters=Filters(extensions=("aiff",)))  # no file passes
    assert nothing == [] and nothing.message == "No results: the filters leave nothing"  # why, not "sounds like"


def test_query_by_example_with_an_array_finds_the_right_window(library, small_library):
    library.index([small_library], progress=False)
    long = small_library / "long" / "tones.flac"
    from audioret import audio

    second_window = audio.load(long)[480_000:960_000]
    hit = library.search_audio(second_window, k=1)[0]
    assert (hit.path, hit.start_s, hit.end_s) == (str(long), 10.0, 20.0)
    assert hit.scores["clap"] == pytest.approx(1.0, abs=1e-4)


def test_query_by_example_takes_integer_pcm_as_scipy_reads_it_and_refuses_nan(library, small_library):
    """int16 samples (what scipy.io.wavfile reads) were taken as floats 32,768 times too loud: the clip itself was
    "no good match" and not first. They are scaled by their type's range; a NaN is refused, saying so."""
    library.index([small_library], progress=False)
    from audioret import audio

    clip = sorted((small_library / "sounds").glob("*.ogg"))[1]
    pcm = np.round(audio.load(clip) * 32767).astype(np.int16)
    for given in (pcm, pcm.astype(np.int32) * 65536, list(pcm / 32767.0)):
        found = library.search_audio(given, k=3)
        assert found[0].path == str(clip) and "the same recording" in found[0].why and not found.no_good_match
    with pytest.raises(InputError, match="NaN or infinity"):
        library.search_audio(np.full(48000, np.nan, np.float32))
    with pytest.raises(InputError, match="as numbers"):
        library.search_audio(np.array(["a", "b"]))


def test_a_silent_example_is_refused_saying_so_and_a_quiet_one_is_answered(library, small_library, tmp_path):
    """Six seconds of zeros were answered with every clip at cosine 0.999 to the example ("no good match" with a
    random CLAP; near every quiet file with a trained one). Under -70 dBFS the example is refused and the message says
    what to do; a sound at -60 dBFS is still a sound."""
    library.index([small_library], progress=False)
    t = np.arange(6 * 48000) / 48000
    sine = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    for given, said in (
        (np.zeros(len(t), np.float32), "it holds only zeros"),
        (sine * 1e-4, "its loudest sample is at -80 dBFS"),
    ):
        with pytest.raises(InputError, match=f"The example is silent \\({said}.*microphone is on"):
            library.search_audio(given)
    import soundfile as sf

    muted = tmp_path / "muted.wav"
    sf.write(muted, np.zeros(90 * 48000, np.float32), 48000)
    with pytest.raises(InputError, match=r"The example's first \d+ s \(what is read of it\) is silent"):
        library.search_audio(muted)
    assert len(library.search_audio(sine * 1e-3, k=3)) == 3


def test_more_like_this_excludes_the_segment_itself(library, small_library):
    library.index([small_library], progress=False)
    long = str(small_library / "long" / "tones.flac")
    seg = segment_id(long, 0, library.id_key)
    hits = library.similar(seg, k=20)
    assert len(hits) == 12 and long not in [h.path for h in hits]
    same = library.similar(seg, k=20, same_file=True)
    assert seg not in [h.segment_id for h in same]
    assert any(h.path == long for h in same)  # its other windows may match
    with pytest.raises(InputError, match="No segment"):
        library.similar("nope-000000")


def test_an_example_the_library_holds_nothing_like_is_no_good_match_with_a_model_that_knows_nothing(
    library, small_library, esc10_dir, tmp_path
):
    """The tiny CLAP has random weights: some file is always nearest to a sound, often as far above the rest as a
    trained model's true neighbour is (ranking/examples.py). Its text prompts are noise here, so its evidence for
    an example counts for nothing: a sound that is not in the library, and "more like this" from a clip, are "no
    good match", while a clip of the library given as the example is still the same recording."""
    library.index([small_library], progress=False)
    held = {p.name for p in (small_library / "sounds").glob("*.ogg")}
    others = [p for p in sorted(esc10_dir.glob("*.ogg")) if p.name not in held][::50][:4]
    sweep = np.sin(2 * np.pi * np.cumsum(np.linspace(200, 4000, 48000 * 3)) / 48000).astype(np.float32)
    for example in [*others, write(tmp_path / "sweep.wav", 0.3 * sweep)]:
        found = library.search_audio(example, k=3)
        assert found.no_good_match and found.message == found.NO_MATCH_EXAMPLE, example.name
        assert all(h.score < 0.5 and "same recording" not in h.why for h in found), example.name
    clip = sorted((small_library / "sounds").glob("*.ogg"))[2]
    assert library.similar(segment_id(str(clip), 0, library.id_key), k=3).no_good_match
    itself = library.search_audio(clip, k=3)
    assert itself[0].path == str(clip) and itself[0].score >= 0.95 and "the same recording" in itself[0].why


def test_text_search_ranks_files_and_groups_segments(library, small_library):
    library.index([small_library], progress=False)
    hits = library.search("a dog barking", k=5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert len({h.path for h in hits}) == 5  # one hit per file
    assert all(0.0 <= h.score < 1.0 for h in hits)  # a match strength
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # the channel's score is the cosine similarity of the text and the returned segment
    vector = library.store.get([hits[0].segment_id])[1][0]
    cosine = float(library.embedder.embed_text(["a dog barking"])[0] @ vector)
    assert hits[0].scores["clap"] == pytest.approx(cosine, abs=1e-4)
    with pytest.raises(ValueError, match="empty"):
        library.search("   ")


def test_filters(library, small_library):
    library.index([small_library], progress=False)
    long = str(small_library / "long" / "tones.flac")
    assert [h.path for h in library.search("tones", k=10, filters=Filters(extensions=("flac",)))] == [long]
    assert [h.path for h in library.search("tones", k=10, filters=Filters(min_duration_s=20))] == [long]
    in_sounds = library.search("x", k=50, filters=Filters(folder=str(small_library / "sounds")))
    assert len(in_sounds) == 12 and all("/sounds/" in h.path for h in in_sounds)
    assert library.search("x", k=50, filters=Filters(folder=str(small_library / "sound"))) == []  # not a prefix match
    short = library.search("x", k=50, filters=Filters(max_duration_s=6, extensions=(".OGG",)))
    assert len(short) == 12


def test_index_survives_reopening(library, small_library, tiny_embedder):
    library.index([small_library], progress=False)
    clip = sorted((small_library / "sounds").glob("*.ogg"))[3]
    expected = library.search_audio(clip, k=5)
    del library.store
    reopened = Library(library.config)
    reopened.embedder = tiny_embedder
    assert reopened.search_audio(clip, k=5) == expected
    assert reopened.stats()["files"] == 13 and reopened.stats()["segments"] == 15


def test_remove(library, small_library):
    library.index([small_library], progress=False)
    removed = library.remove([small_library / "sounds"])
    assert len(removed) == 12
    assert library.stats()["files"] == 1
    assert [h.path for h in library.search("x", k=10)] == [str(small_library / "long" / "tones.flac")]


def test_incomplete_file_is_reindexed(library, small_library):
    """A run that died after writing part of a file leaves it incomplete; the next run repairs it."""
    library.index([small_library], progress=False)
    long = str(small_library / "long" / "tones.flac")
    last = segment_id(long, 2, library.id_key)
    library.store.collection.delete(ids=[last])
    complete, incomplete = library.store.files()
    assert long not in complete and incomplete == {long}

    report = library.index([small_library], progress=False)
    assert report.updated == [] and report.added == [long]
    assert library.store.files()[1] == set()
    assert len(library.store.file_records(long)) == 3


def test_unchanged_library_does_not_load_the_model(tmp_path, tiny_clap_dir, small_library):
    (small_library / "broken.wav").unlink()  # a failed file is retried on every run, which needs the model
    config = Config.from_env(data_dir=tmp_path / "idx", clap_model=str(tiny_clap_dir), device="cpu")
    Library(config).index([small_library], progress=False)
    lib = Library(config)
    report = lib.index([small_library], progress=False)
    assert report.unchanged == 13 and "embedder" not in lib.__dict__


def test_duplicate_content_under_two_names_is_found_twice(library, small_library):
    clip = sorted((small_library / "sounds").glob("*.ogg"))[0]
    shutil.copy(clip, small_library / "copy of clip.ogg")
    library.index([small_library], progress=False)
    top = library.search_audio(clip, k=2)
    assert {h.path for h in top} == {str(clip), str(small_library / "copy of clip.ogg")}
    assert all(h.scores["clap"] == pytest.approx(1.0, abs=1e-4) for h in top)
