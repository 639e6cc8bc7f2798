"""Indexing on a Ray cluster (``--cluster local``): the same records as a single-process run, incremental runs,
pruning, a model actor killed mid-run, an undecodable file, and the messages without Ray or a Chroma server.

The Ray tests share one local Ray cluster of 2 CPUs and a small object store (the module's fixture), and write to
the Chroma server CI starts (AUDIORET_TEST_CHROMA_URL; tests/conftest.py starts one otherwise).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time

import numpy as np
import pytest

from audioret import Config, Library
from audioret.errors import InputError
from audioret.indexing.cluster import check, layout, require_ray
from audioret.indexing.pipeline import bottleneck

from .conftest import drop_collections, speak, tone, write

ray = pytest.importorskip(
    "ray", reason='the extra audioret[cluster] is not installed (pip install "audioret[cluster]")'
)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray cluster of 2 CPUs with a 200 MB object store, shut down after the module."""
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def library_dir(tmp_path):
    """Seven files of one to four windows, one with speech, and a file that is not audio."""
    lib = tmp_path / "library"
    for k in range(6):
        write(lib / "tones" / f"tone{k}.flac", tone(4 + 6 * k, 150 + 170 * k, seed=k))
    speak(lib / "speech" / "talk.wav", "the lighthouse keeper rang the bell at midnight", tail_s=1.0)
    (lib / "broken.wav").write_text("this is not audio")
    return lib


def _config(tmp_path, name, clap_dir, text_model, url=None, **kw) -> Config:
    return Config(
        data_dir=tmp_path / name,
        clap_model=str(clap_dir),
        text_model=text_model,
        chroma_url=url,
        device="cpu",
        backend="torch",
        **kw,
    )


def _records(store) -> dict:
    got = store.collection.get(include=["embeddings", "metadatas", "documents"])
    return {
        i: (np.asarray(v), m, d)
        for i, v, m, d in zip(got["ids"], got["embeddings"], got["metadatas"], got["documents"])
    }


def _cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.slow
def test_cluster_index_holds_the_single_process_records(
    local_ray, library_dir, tmp_path, tiny_clap_dir, text_model, asr_model, chroma_server_url
):
    drop_collections(chroma_server_url, str(tiny_clap_dir), text_model)
    single = Library(_config(tmp_path, "single", tiny_clap_dir, text_model, asr_model=asr_model))
    report = single.index([library_dir], progress=False)
    (tmp_path / "cluster").mkdir()
    shutil.copy(tmp_path / "single" / "id-key", tmp_path / "cluster" / "id-key")  # the same record ids
    lib = Library(_config(tmp_path, "cluster", tiny_clap_dir, text_model, chroma_server_url, asr_model=asr_model))
    on_ray = lib.index([library_dir], progress=False, cluster="local")

    assert on_ray.settings["engine"].startswith("ray (local): 1 CPU model actor")
    assert sorted(on_ray.added) == sorted(report.added) and len(on_ray.added) == 7
    assert [f.path for f in on_ray.failed] == [str(library_dir / "broken.wav")]  # named, as in a single run
    assert on_ray.failed[0].reason == report.failed[0].reason
    assert (on_ray.segments, on_ray.passages, on_ray.transcribed) == (report.segments, report.passages, 1)
    for store, other in ((single.store, lib.store), (single.text_store, lib.text_store)):
        mine, theirs = _records(store), _records(other)
        assert set(theirs) == set(mine)
        for record_id, (vector, metadata, document) in mine.items():
            assert theirs[record_id][1] == metadata and theirs[record_id][2] == document
            assert _cosine(theirs[record_id][0], vector) >= 0.99999
    spoken = [d for _, m, d in _records(lib.text_store).values() if m["kind"] == "speech"]
    assert len(spoken) == 1 and "keeper" in spoken[0].lower()  # Whisper ran in the text channel's actor
    for query in ("a low hum", "a bell at midnight"):
        assert [(h.path, h.start_s) for h in lib.search(query, k=5)] == [
            (h.path, h.start_s) for h in single.search(query, k=5)
        ]
    assert lib.stats()["engine"].startswith("ray (local)")

    again = lib.index([library_dir], progress=False, cluster="local")
    assert (again.added, again.updated, again.unchanged) == ([], [], 7)
    lib.index([library_dir], progress=False)  # a run in this process with nothing to do: the index is still Ray's
    assert lib.stats()["engine"].startswith("ray (local): 1 CPU model actor")
    (library_dir / "tones" / "tone5.flac").unlink()
    pruned = lib.index([library_dir], progress=False, cluster="local")
    assert pruned.removed == [str(library_dir / "tones" / "tone5.flac")] and not pruned.added
    assert str(library_dir / "tones" / "tone5.flac") not in lib.store.files()[0]


def test_a_decode_task_sends_the_files_loudness_with_its_end(tmp_path):
    """A cluster's decode task measures the file as it cuts it, and sends the result with the file's end, so the
    driver writes the single process's loudness without reading the file again."""
    import pickle
    from functools import partial

    from audioret import audio, measures
    from audioret.channels.sound import _cut
    from audioret.indexing.cluster import decode_rows
    from audioret.indexing.plan import Job

    path = write(tmp_path / "tone.flac", np.concatenate([tone(4, 440) * 0.2, tone(8, 880)]))
    job = Job(str(path), os.stat(path), {"clap": None}, set())
    spec = {"job": [0], "spec": [pickle.dumps((job, set()))]}
    for measure in (True, False):
        rows = list(decode_rows(spec, {"clap": partial(_cut, 480_000, 360_000, measure=measure)}))
        ends = [e for r in rows for e in r["end"] if len(e)]
        assert len(ends) == 1
        measured = pickle.loads(ends[0])[3]
        if not measure:  # tags off: nothing measured, nothing sent
            assert measured == {}
            continue
        expected = measures.loudness(audio.load(str(path), measures.RATE, 0.0, measures.LOUDNESS_S))
        assert measured.keys() == {"clap"} and measured["clap"]["loudness_lufs"] == pytest.approx(expected, abs=0.1)


def _model_actor_pids() -> list[int]:
    """The processes of the running model actors (Ray names each worker process after its actor class)."""
    import psutil

    return [p.pid for p in psutil.process_iter(["cmdline"]) if "ModelActor" in " ".join(p.info["cmdline"] or [])]


@pytest.mark.slow
def test_a_model_actor_killed_mid_run_loses_and_doubles_nothing(
    local_ray, tmp_path, tiny_clap_dir, text_model, chroma_server_url
):
    lib_dir = tmp_path / "many"
    for k in range(24):
        write(lib_dir / f"clip{k:02d}.wav", tone(3 + (k % 3) * 8, 120 + 40 * k, seed=k))
    drop_collections(chroma_server_url, str(tiny_clap_dir), text_model)
    cfg = _config(tmp_path, "killed", tiny_clap_dir, text_model, chroma_server_url, transcribe=False, batch_size=2)
    lib = Library(cfg)
    killed = []

    def kill_once(progress):
        if killed or progress.files_done < 2:
            return
        pids = _model_actor_pids()
        assert pids, "no model actor was running"
        os.kill(pids[0], signal.SIGKILL)  # as a crashed or preempted worker dies
        killed.append((pids[0], progress.files_done))

    report = lib.index([lib_dir], progress=False, cluster="local", on_progress=kill_once)
    assert killed and killed[0][1] < 24, "the actor was not killed before the end of the run"
    assert len(report.added) == 24 and not report.failed
    complete, incomplete = lib.store.files()
    assert len(complete) == 24 and not incomplete  # nothing missing, nothing half-written
    expected = 8 * (1 + 2 + 3)  # 3-, 11- and 19-s clips: 1, 2 and 3 windows of 10 s, one every 7.5 s
    records = _records(lib.store)
    assert len(records) == report.segments == sum(r.n_segments for r in complete.values())  # nothing doubled
    assert len(records) == expected
    again = lib.index([lib_dir], progress=False, cluster="local")
    assert not again.added and again.unchanged == 24


def test_without_ray_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(InputError, match=r'pip install "audioret\[cluster\]"'):
        require_ray()


def test_a_remote_cluster_needs_a_chroma_server():
    with pytest.raises(InputError, match="AUDIORET_CHROMA_URL"):
        check("ray://head:10001", None)
    with pytest.raises(InputError, match="--cluster takes local"):
        check(" ", "http://localhost:8000")
    check("local", None)  # the embedded index, written by the driver
    check("auto", "http://localhost:8000")


def test_cli_index_cluster_without_a_server_is_one_line(tmp_path, capsys):
    from audioret.cli import main

    (tmp_path / "a.wav").write_bytes(b"")
    assert main(["--data-dir", str(tmp_path / "d"), "index", str(tmp_path), "--cluster", "auto", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "AUDIORET_CHROMA_URL" in err[0]


def test_layout_spreads_a_run():
    two_cores = layout(2, 0, 1, None, "auto", cores=2)
    assert (two_cores.actors, two_cores.actor_cpus, two_cores.threads, two_cores.decode_slots) == (1, 1.0, 2, 1)
    assert two_cores.batch_size == 4
    two_actors = layout(2, 0, 1, 2, 8, cores=2)
    assert (two_actors.actor_cpus, two_actors.threads, two_actors.decode_slots) == (0.5, 1, 1)
    both_channels = layout(2, 0, 2, None, 8, cores=2)  # a pool per channel that needs audio: they share the CPU
    assert both_channels.actor_cpus == 0.5 and both_channels.decode_slots == 1
    gpu_box = layout(16, 1, 2, None, "auto")
    assert (gpu_box.actors, gpu_box.actor_gpus, gpu_box.batch_size, gpu_box.decode_slots) == (1, 0.5, 128, 14)
    nodes = layout(64, 0, 1, None, "auto")
    assert (nodes.actors, nodes.actor_cpus, nodes.threads, nodes.decode_slots) == (14, 4.0, None, 8)


def test_a_cluster_run_names_its_busiest_stage():
    stages = {"waiting for audio": 30.0, "model": 1.0, "writing": 2.0, "decode (cluster)": 4.0}
    stages["clap model (cluster)"] = 25.0
    assert bottleneck(stages).startswith("clap-bound: clap model was the busiest stage")
    stages["decode (cluster)"] = 40.0
    assert bottleneck(stages).startswith("decode-bound")


def test_the_cluster_run_is_not_started_twice(local_ray):
    """A session the caller started is used as it is (and left running)."""
    from audioret.indexing.cluster import connected

    started = time.monotonic()
    with connected("local") as r:
        assert r.is_initialized()
    assert local_ray.is_initialized() and time.monotonic() - started < 5
