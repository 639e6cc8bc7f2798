from __future__ import annotations

import numpy as np
import pytest

from audioret.store.chroma import Store, StoreError, collection_name
from audioret.store.records import segment_id

# the metadata of a one-window file, as the indexer writes it
ONE_RECORD = {
    "path": "/x.wav",
    "hash": "h",
    "seg_index": 0,
    "n_segments": 1,
    "is_last": True,
    "start_s": 0.0,
    "end_s": 1.0,
    "duration_s": 1.0,
    "size": 1,
    "mtime_ns": 1,
    "hop_s": 7.5,
}


def test_collection_names_are_valid_and_distinct(tmp_path):
    names = {collection_name(m) for m in ("laion/clap-htsat-unfused", "laion/larger_clap_general", str(tmp_path))}
    assert len(names) == 3
    assert collection_name("laion/clap-htsat-unfused") == "audioret-laion--clap-htsat-unfused"
    assert collection_name(str(tmp_path)).startswith(f"audioret-local-{tmp_path.name}"[:40])


def test_segment_ids_are_deterministic_per_path_and_window():
    assert segment_id("/a/b.wav", 3) == segment_id("/a/b.wav", 3)
    assert segment_id("/a/b.wav", 3) != segment_id("/a/b.wav", 4) != segment_id("/a/c.wav", 4)
    assert segment_id("/a/b.wav", 3).endswith("-000003")


def test_ids_are_keyed_with_the_index_secret_and_reveal_no_path(tmp_path):
    """An id made with the index's key is not the SHA-1 of the path (which lets anyone test guesses of the path
    offline); another key gives other ids; the key is made once per data directory and read back unchanged."""
    import hashlib

    from audioret.store import idkey

    key = idkey.load(tmp_path)
    assert key == idkey.load(tmp_path) and len(key) == 32 and (tmp_path / "id-key").stat().st_mode & 0o077 == 0
    path = "/home/alice/Music/x.wav"
    keyed = segment_id(path, 0, key)
    assert keyed == segment_id(path, 0, key) and keyed.endswith("-000000")
    assert not keyed.startswith(hashlib.sha1(path.encode()).hexdigest()[:20])
    assert keyed != segment_id(path, 0, idkey.load(tmp_path / "other"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "id-key").write_text("not hex")
    with pytest.raises(ValueError, match="should hold 64 hex digits"):
        idkey.load(tmp_path / "bad")


def test_an_index_with_unkeyed_ids_is_moved_to_keyed_ids_without_embedding(tmp_path):
    """Records written with the old ids (SHA-1 of the path) get keyed ids when a keyed store opens the index: the
    same vectors, metadata and texts, the word index rebuilt, and a second opening moves nothing."""
    from audioret.store import idkey

    old = Store("text/model", 4, path=tmp_path, channel="text")
    metas = [
        {
            "path": f"/lib/{name}.wav",
            "seg_index": 0,
            "n_segments": 1,
            "is_last": True,
            "start_s": 0.0,
            "end_s": 1.0,
            "duration_s": 1.0,
            "hash": name,
            "size": 1,
            "mtime_ns": 1,
        }
        for name in ("owl", "fox")
    ]
    vectors = np.eye(4, dtype=np.float32)[:2]
    old.add([segment_id(m["path"], 0) for m in metas], vectors, metas, ["an owl hoots", "a fox barks"])
    del old
    key = idkey.load(tmp_path)
    new = Store("text/model", 4, path=tmp_path, channel="text", key=key)
    got = new.collection.get(include=["embeddings", "metadatas", "documents"])
    assert sorted(got["ids"]) == sorted(segment_id(m["path"], 0, key) for m in metas)
    by_path = {m["path"]: (np.asarray(e), d) for m, e, d in zip(got["metadatas"], got["embeddings"], got["documents"])}
    assert by_path["/lib/owl.wav"][1] == "an owl hoots" and np.array_equal(by_path["/lib/fox.wav"][0], vectors[1])
    if new.words is not None:
        assert [m.id for m in new.word_matches(["fox"])] == [segment_id("/lib/fox.wav", 0, key)]
    assert idkey.ensure(Store("text/model", 4, path=tmp_path, channel="text", key=key)) == 0


def test_vectors_of_another_dimension_are_refused(tmp_path):
    Store("some/model", 512, path=tmp_path)
    with pytest.raises(StoreError, match="holds 512-d vectors, but model 'some/model' makes 64-d vectors"):
        Store("some/model", 64, path=tmp_path)


def test_models_do_not_mix(tmp_path):
    a, b = Store("model/a", 4, path=tmp_path), Store("model/b", 4, path=tmp_path)
    meta = dict(ONE_RECORD)
    a.add(["x-000000"], np.eye(4, dtype=np.float32)[:1], [meta])
    assert (a.count(), b.count()) == (1, 0)
    assert b.query(np.eye(4, dtype=np.float32)[:1], 5) == [[]]
    (match,) = a.query(np.eye(4, dtype=np.float32)[:1], 5)[0]
    assert match.id == "x-000000" and match.score == pytest.approx(1.0)


def _library_store(tmp_path, files: int = 300, per_file: int = 4) -> tuple[Store, np.ndarray]:
    """A store of ``files`` files: mostly flac under /lib/common, a few wav under /lib/rare, and one aiff. The rare
    files sit far from the query, so the nearest hundreds of records are all common flac ones."""
    rng = np.random.default_rng(0)
    query = np.zeros(16, np.float32)
    query[0] = 1
    store = Store("filters/model", 16, path=tmp_path)
    ids, vectors, metas = [], [], []
    for f in range(files):
        ext, folder = (
            ("aiff", "/lib/rare") if f == 7 else ("wav", "/lib/rare") if f % 100 == 3 else ("flac", "/lib/common")
        )
        path = f"{folder}/file-{f:04d}.{ext}"
        for s in range(per_file):
            v = rng.standard_normal(16).astype(np.float32) * 0.3
            v[0] += 1.0 if folder == "/lib/common" else -1.0
            ids.append(segment_id(path, s))
            vectors.append(v / np.linalg.norm(v))
            metas.append(
                {
                    "path": path,
                    "ext": ext,
                    "duration_s": 10.0 + f,
                    "seg_index": s,
                    "n_segments": per_file,
                    "is_last": s == per_file - 1,
                    "start_s": 7.5 * s,
                    "end_s": 7.5 * s + 10,
                    "hash": str(f),
                    "size": 1,
                    "mtime_ns": 1,
                    "hop_s": 7.5,
                }
            )
    store.add(ids, np.stack(vectors), metas)
    return store, query


def test_filters_find_files_far_down_the_ranking(tmp_path):
    """A filter is checked on the candidates; one that few records pass goes to the store after POST_FILTER_LIMIT
    candidates, and every filter still finds exactly its files."""
    from audioret.ranking.nearest import best_files
    from audioret.types import Filters, Scope

    store, query = _library_store(tmp_path)
    rare = best_files(store, query, 5, Scope(Filters(extensions=("aiff",))))
    assert [m.metadata["path"] for m in rare] == ["/lib/rare/file-0007.aiff"]
    wavs = best_files(store, query, 10, Scope(Filters(extensions=("wav",))))
    assert sorted(m.metadata["path"] for m in wavs) == [
        "/lib/rare/file-0003.wav",
        "/lib/rare/file-0103.wav",
        "/lib/rare/file-0203.wav",
    ]
    folder = best_files(store, query, 10, Scope(Filters(folder="/lib/rare")))
    assert len(folder) == 4 and all(m.metadata["path"].startswith("/lib/rare/") for m in folder)
    short = best_files(store, query, 10, Scope(Filters(min_duration_s=100, max_duration_s=104.5)))
    assert sorted(m.metadata["duration_s"] for m in short) == [100.0, 101.0, 102.0, 103.0, 104.0]  # 103: a far wav
    assert best_files(store, query, 5, Scope(Filters(extensions=("mp3",)))) == []


def test_any_word_pattern_matches_whole_words_in_any_case():
    import re

    from audioret.store.word_index import any_word_pattern

    pattern = re.compile(any_word_pattern(["pears", "don't"]))
    assert pattern.search("Canned PEARS, please") and not pattern.search("it appears so")
    assert pattern.search("Don't go") and not pattern.search("dont go")


def test_records_kept_for_the_query_path_follow_every_write(tmp_path):
    """A store keeps the records a query fetched; another writer's update or removal (here a second Store on the
    same data directory, as another process would be) is seen by the next query, as are its own writes."""
    meta = dict(ONE_RECORD)
    reader, writer = Store("kept/model", 4, path=tmp_path), Store("kept/model", 4, path=tmp_path)
    writer.add(["x-000000"], np.eye(4, dtype=np.float32)[:1], [meta])
    (first,) = reader.matches([("x-000000", 0.9)], vectors=True)
    assert first.metadata["size"] == 1 and first.score == 0.9 and first.vector[0] == pytest.approx(1.0)
    assert reader.matches([("x-000000", 0.8)])[0].score == 0.8  # kept: the score is the caller's
    writer.update_metadata(["x-000000"], [{**meta, "size": 2}])
    assert reader.matches([("x-000000", 0.9)])[0].metadata["size"] == 2
    writer.add(["x-000000"], np.eye(4, dtype=np.float32)[1:2], [{**meta, "size": 3}])
    (again,) = reader.matches([("x-000000", 0.9)], vectors=True)
    assert again.metadata["size"] == 3 and again.vector[1] == pytest.approx(1.0)
    writer.delete_file("/x.wav")
    assert reader.matches([("x-000000", 0.9)]) == []


def test_opening_a_new_index_takes_no_writer_lock(tmp_path):
    """A reader that opens an index first (a search before any index run) marks its empty collections with the
    id key without taking the writer lock, which it would keep for its whole life and so refuse every indexer."""
    from audioret.store import connection

    Store("reader/model", 4, path=tmp_path, key=b"k" * 32)
    assert str(tmp_path) not in connection._writer_locks


def _flood(rng, n: int, dim: int) -> np.ndarray:
    """``n`` near-copies of one vector (a numbered series of file names, to a sentence model): cosine about 0.99."""
    name = rng.standard_normal(dim).astype(np.float32)
    return name + 0.1 * rng.standard_normal((n, dim)).astype(np.float32)


def test_a_small_store_finds_every_record_however_alike_the_rest(tmp_path):
    """Chroma's graph search lost passages of a store that was mostly near-copies (1,300 numbered clip names and 20
    memo passages: three memo passages could not find themselves). A store of up to kept.EXACT_LIMIT records is
    searched exactly: each distinct record comes back first for its own vector, every score is the exact cosine,
    and another writer's record is found by the next query."""
    from audioret.store.kept import EXACT_LIMIT

    rng = np.random.default_rng(6)
    dim = 32
    distinct = rng.standard_normal((20, dim)).astype(np.float32)
    vectors = np.concatenate([_flood(rng, 1300, dim), distinct])
    ids = [segment_id(f"/lib/clip_{i:04d}.wav", 0) for i in range(1300)] + [
        segment_id(f"/lib/memo_{i:02d}.wav", 0) for i in range(20)
    ]
    metas = [{**ONE_RECORD, "path": f"/lib/{i}.wav"} for i in range(len(ids))]
    reader, writer = Store("exact/model", dim, path=tmp_path), Store("exact/model", dim, path=tmp_path)
    writer.add(ids, vectors, metas)
    assert len(ids) <= EXACT_LIMIT
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    found = reader.query_ids(distinct, 50)
    for i, hits in enumerate(found):
        assert hits[0][0] == ids[1300 + i] and hits[0][1] == pytest.approx(1.0, abs=1e-5)
        exact = unit @ (distinct[i] / np.linalg.norm(distinct[i]))
        assert [h for h, _ in hits[:10]] == [ids[j] for j in np.argsort(-exact)[:10]]
        assert [s for _, s in hits] == pytest.approx(sorted(exact, reverse=True)[:50], abs=1e-5)
    new = rng.standard_normal(dim).astype(np.float32)
    writer.add([segment_id("/lib/late.wav", 0)], new[None], [{**ONE_RECORD, "path": "/lib/late.wav"}])
    assert reader.query_ids(new[None], 1)[0][0][0] == segment_id("/lib/late.wav", 0)


def test_the_background_sample_names_each_records_file_and_leaves_private_files_out(tmp_path):
    """Query by example measures the library by its files' nearest other file, so the sample says whose each
    record is; a visitor's upload (a private root) stays out of the sample, its files and its count."""
    store = Store("sample/model", 4, path=tmp_path)
    vectors = np.eye(4, dtype=np.float32)
    for n, path in ((2, "/lib/a.wav"), (1, "/lib/b.wav"), (1, "/up/c.wav")):
        metas = [{**ONE_RECORD, "path": path, "seg_index": i, "n_segments": n} for i in range(n)]
        store.add([segment_id(path, i) for i in range(n)], vectors[:n] * (1 + len(path) % 3), metas)
    sample, count = store.background()
    files = store.background_files()
    assert (len(sample), count, len(files)) == (4, 4, 4)
    keys = {path: segment_id(path, 0).rpartition("-")[0] for path in ("/lib/a.wav", "/lib/b.wav", "/up/c.wav")}
    assert sorted(files) == sorted([keys["/lib/a.wav"]] * 2 + [keys["/lib/b.wav"], keys["/up/c.wav"]])
    private = Store("sample/model", 4, path=tmp_path)
    private.private_roots = ("/up",)
    sample, count = private.background()
    assert (len(sample), count) == (3, 3) and keys["/up/c.wav"] not in private.background_files()
