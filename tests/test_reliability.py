"""Bad input, a second writer, and the index after all of it: every good file searchable, every bad one named."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from audioret import Config, Library
from audioret.errors import IndexBusy, InputError

from .conftest import REPO, tone, write

SR = 48000


def truncate(path, keep: float):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def lying_header(path):
    """A wav whose RIFF and data sizes claim ten times the samples there are."""
    data = bytearray(write(path, tone(1.0, 310)).read_bytes())
    at = data.index(b"data")
    real = int.from_bytes(data[at + 4 : at + 8], "little")
    data[at + 4 : at + 8] = (real * 10).to_bytes(4, "little")
    data[4:8] = (len(data) - 8 + real * 9).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def build_corpus(root):
    """(good, bad, ignored): paths that must be indexed, paths that must fail with a reason, paths never seen."""
    good, bad = {}, {}
    freqs = iter(range(200, 20000, 150))

    def t(seconds=2.0, sr=SR):  # a tone of its own for each file, so each is found first by its own sound
        return tone(seconds, next(freqs), sr=sr)

    def ok(name, samples, sr=SR, **kw):
        good[name] = write(root / name, samples, sr, **kw)

    ok("dc offset.wav", 0.3 * t() + 0.6)
    ok("clipped.wav", np.clip(4 * t(), -1, 1))
    ok("silence.wav", np.zeros(SR * 2, np.float32))
    ok("20ms.wav", t(0.02))
    x = t()
    ok("nan and inf.wav", np.where(np.arange(len(x)) % 97 == 0, np.nan, x).astype(np.float32), subtype="FLOAT")
    ok("8-bit.wav", t(), subtype="PCM_U8")
    ok("24-bit.flac", t(), subtype="PCM_24")
    ok("float32.wav", t(), subtype="FLOAT")
    ok("six channels.wav", np.stack([t()] * 6, axis=1))
    ok("8k.wav", t(sr=8000), 8000)
    ok("192k.flac", t(sr=192000), 192000)
    ok("mp3.mp3", t(), format="MP3")
    ok("ünïcödé 日本語 ok.ogg", t(), format="OGG")
    ok("line\nbreak.wav", t())
    ok("flac named.wav", t(), format="FLAC")  # wrong extension: decoded by content
    x = t()
    ok("copy-a.wav", x)
    ok("copy-b.wav", x)  # duplicate content under another name
    good["lying header.wav"] = lying_header(root / "lying header.wav")
    good["truncated.wav"] = truncate(write(root / "truncated.wav", tone(4.0, 500)), 0.6)  # readable part kept

    (root / "empty.wav").write_bytes(b"")
    bad["empty.wav"] = "not a supported audio format"
    (root / "text.wav").write_text("I am a text file, not a recording")
    bad["text.wav"] = "contains no audio stream"  # libsndfile refuses it, then FFmpeg finds no audio in it
    bad["no frames.wav"] = "no audio"
    write(root / "no frames.wav", np.zeros(0, np.float32))
    for name, fmt, keep in (("truncated.flac", "FLAC", 0.02), ("truncated.ogg", "OGG", 0.02)):
        truncate(write(root / name, tone(4.0, 500), format=fmt), keep)
        bad[name] = ""  # the reason is the decoder's; it must be there
    truncate(write(root / "truncated.mp3", tone(4.0, 500), format="MP3"), 0.01)
    bad["truncated.mp3"] = ""
    os.symlink("loop-b.wav", root / "loop-a.wav")
    os.symlink("loop-a.wav", root / "loop-b.wav")
    bad["loop-a.wav"] = bad["loop-b.wav"] = "symbolic links"
    (root / "dir.wav").mkdir()
    (root / "loop-dir").symlink_to(root)  # a folder link back to the root: not followed
    ignored = ["dir.wav", "notes.txt"]
    (root / "notes.txt").write_text("not audio, not indexed")
    return {k: str(v) for k, v in good.items()}, bad, ignored


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    return (root, *build_corpus(root))


def test_bad_input_is_named_and_everything_good_is_indexed(corpus, tmp_path, tiny_clap_dir, text_model):
    root, good, bad, ignored = corpus
    unreadable = write(root / "unreadable.wav", tone(1.0, 19_990))
    unreadable.chmod(0)
    if os.geteuid() != 0:  # root reads any file
        bad["unreadable.wav"] = "Permission denied"
    else:
        good["unreadable.wav"] = str(unreadable)
    lib = Library(
        Config(
            data_dir=tmp_path / "index",
            clap_model=str(tiny_clap_dir),
            text_model=text_model,
            transcribe=False,
            device="cpu",
        )
    )
    report = lib.index([root], progress=False)
    failed = {os.path.basename(f.path): f.reason for f in report.failed}
    assert set(failed) == set(bad), f"unexpected failures: {failed}"
    for name, reason in bad.items():
        assert reason in failed[name] and failed[name].strip(), (name, failed[name])
    complete, incomplete = lib.store.files()
    assert set(complete) == set(good.values()) and not incomplete
    assert not any(name in p for p in complete for name in ignored)
    for path in good.values():  # each good file is found by its own sound, first
        if path == good["silence.wav"]:  # indexed, but no example: nothing in it to compare
            with pytest.raises(InputError, match="The example is silent"):
                lib.search_audio(path, k=1)
            continue
        assert lib.search_audio(path, k=1)[0].path in {path, good["copy-a.wav"], good["copy-b.wav"]}
    assert complete[good["20ms.wav"]].duration_s == pytest.approx(0.02)
    assert complete[good["truncated.wav"]].duration_s == pytest.approx(2.4, abs=0.01)
    again = lib.index([root], progress=False)  # a second run changes nothing and fails the same way
    assert (len(again.added), len(again.updated), again.unchanged) == (0, 0, len(good))
    assert {os.path.basename(f.path) for f in again.failed} == set(bad)


@pytest.mark.parametrize("query", ["", "   ", "x" * 10_000, "雨が屋根に当たる音", "صوت المطر على السطح", "🌧️🏠"])
def test_odd_queries(tmp_path, tiny_clap_dir, text_model, query):
    lib = Library(
        Config(
            data_dir=tmp_path / "index",
            clap_model=str(tiny_clap_dir),
            text_model=text_model,
            transcribe=False,
            device="cpu",
        )
    )
    lib.index([write(tmp_path / "lib" / "a.wav", tone(2.0, 440))], progress=False)
    if not query.strip():
        with pytest.raises(ValueError, match="The query is empty"):
            lib.search(query)
        return
    hits = lib.search(query, k=3)
    assert [h.path for h in hits] == [str(tmp_path / "lib" / "a.wav")]


def hold_writer_lock(data) -> subprocess.Popen:
    """Another process that has written to the embedded index in ``data`` and keeps running."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from audioret.store.chroma import Store
        store = Store("m", 4, path={str(data / "chroma")!r})
        store.delete_file("/nothing")  # a write: takes the lock
        print("holding", flush=True)
        time.sleep(60)
    """),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path, tiny_clap_dir):
    data = tmp_path / "index"
    holder = hold_writer_lock(data)
    try:
        lib = Library(Config(data_dir=data, clap_model=str(tiny_clap_dir), transcribe=False, device="cpu"))
        with pytest.raises(IndexBusy, match=f"Another audioret process \\(pid {holder.pid}\\) is writing"):
            lib.index([write(tmp_path / "a.wav", tone(1.0))], progress=False)
        assert lib.search("anything", weights={"clap": 1, "text": 0}) == []  # reading is allowed
    finally:
        holder.kill()
        holder.wait()
    report = Library(Config(data_dir=data, clap_model=str(tiny_clap_dir), transcribe=False, device="cpu")).index(
        [tmp_path / "a.wav"], progress=False
    )  # the lock dies with its process
    assert len(report.added) == 1


def test_a_file_rewritten_while_it_is_indexed(tmp_path, tiny_clap_dir, tiny_embedder):
    """Whenever the rewrite lands (before, during or after its decoding), the next run leaves the index equal to a
    clean build of what is on disk: no stale vectors, no duplicate or missing segment."""
    lib_dir = tmp_path / "lib"
    for i in range(30):
        write(lib_dir / f"f{i:02d}.wav", tone(2.0, 200 + 50 * i))
    last = lib_dir / "f29.wav"

    def config(name):
        return Config(data_dir=tmp_path / name, clap_model=str(tiny_clap_dir), transcribe=False, device="cpu")

    lib = Library(config("index"))
    lib.embedder = tiny_embedder

    def rewrite_once(progress):
        if progress.files_done == 1 and not rewrite_once.done:
            rewrite_once.done = True
            write(last, tone(25.0, 5000))  # longer: 3 segments instead of 1

    rewrite_once.done = False
    lib.index([lib_dir], progress=False, on_progress=rewrite_once)
    assert rewrite_once.done
    lib.index([lib_dir], progress=False)  # the next run notices

    (tmp_path / "clean").mkdir()
    shutil.copy(tmp_path / "index" / "id-key", tmp_path / "clean")  # ids follow the index's key (store/idkey.py)
    clean = Library(config("clean"))
    clean.embedder = tiny_embedder
    clean.index([lib_dir], progress=False)
    got = lib.store.collection.get(include=["embeddings", "metadatas"])
    want = clean.store.collection.get(include=["embeddings", "metadatas"])
    assert sorted(got["ids"]) == sorted(want["ids"]) and len(got["ids"]) == 29 + 3
    by_id = dict(zip(got["ids"], got["embeddings"]))
    for i, vector in zip(want["ids"], want["embeddings"]):
        np.testing.assert_allclose(by_id[i], vector, atol=1e-6)
    complete, incomplete = lib.store.files()
    assert not incomplete and complete[str(last)].n_segments == 3


@pytest.mark.slow
def test_the_page_says_when_another_process_holds_the_index(tmp_path, tiny_clap_dir, text_model):
    from audioret.ui import build_demo

    data = tmp_path / "index"
    holder = hold_writer_lock(data)
    try:
        config = Config(
            data_dir=data, clap_model=str(tiny_clap_dir), text_model=text_model, transcribe=False, device="cpu"
        )
        demo = build_demo(config, library_paths=[str(write(tmp_path / "lib" / "a.wav", tone(1.0)).parent)])
        first_load = next(f.fn for f in demo.fns.values() if f.name == "first_load")
        status, _, note, *_ = first_load()
        assert note.startswith("**The library was not updated:** Another audioret process") and "0 files" in status
    finally:
        holder.kill()
        holder.wait()
