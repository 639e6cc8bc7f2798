"""The server mode: the same index and searches against a real `chroma run` server, and what happens when the
server goes away.

CI starts one server for the whole run and passes it as AUDIORET_TEST_CHROMA_URL (see .ci/run); without it, the
fixture starts its own.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from audioret import Config, Library
from audioret.store.chroma import Store, StoreError

from .conftest import CHROMA, drop_collections, free_port, start_server


@pytest.fixture
def model_name():
    """A fresh collection per test on the shared server (collections are named after the model)."""
    return f"test-model-{uuid.uuid4().hex[:8]}"


@pytest.mark.slow
def test_library_on_the_server_equals_the_embedded_one(
    chroma_server_url, small_library, tiny_clap_dir, tiny_embedder, text_model, tmp_path
):
    results = {}
    drop_collections(chroma_server_url, str(tiny_clap_dir), text_model)  # the server is shared with other tests
    for mode, url in (("embedded", None), ("server", chroma_server_url)):
        lib = Library(
            Config(
                data_dir=tmp_path / mode,
                clap_model=str(tiny_clap_dir),
                text_model=text_model,
                chroma_url=url,
                transcribe=False,
                device="cpu",
            )
        )
        lib.embedder = tiny_embedder
        report = lib.index([small_library], progress=False)
        hits = lib.search("a dog barking", k=5)
        example = lib.search_audio(str(small_library / "long" / "tones.flac"), k=3)
        results[mode] = (
            len(report.added),
            len(report.failed),
            lib.stats()["segments"],
            [(h.path, round(h.score, 4), h.start_s) for h in hits],
            [h.path for h in example],
        )
        again = lib.index([small_library], progress=False)
        assert not again.added and again.unchanged == len(report.added)  # incremental on the server too
        assert lib.remove([small_library / "long"]) == [str(small_library / "long" / "tones.flac")]
    assert results["server"] == results["embedded"]
    assert results["server"][:3] == (13, 1, 15)


def test_dimension_check_on_the_server(chroma_server_url, model_name):
    store = Store(model_name, 4, url=chroma_server_url)
    assert store.location == chroma_server_url and store.count() == 0
    with pytest.raises(StoreError, match="holds 4-d vectors"):
        Store(model_name, 8, url=chroma_server_url)


def test_server_down_is_a_clear_error_after_retries(monkeypatch):
    monkeypatch.setattr("audioret.store.connection.RETRY_DELAYS_S", (0.05, 0.1))
    started = time.monotonic()
    # the message gives the real waits (0.05 + 0.1 s), not a rounded figure
    said = r"Cannot reach the Chroma server at http://127\.0\.0\.1:\d+ .*tried 3 times over 0\.15 s\."
    with pytest.raises(StoreError, match=said):
        Store("m", 4, url=f"http://127.0.0.1:{free_port()}")
    assert time.monotonic() - started >= 0.15


@pytest.mark.slow
def test_server_restart_mid_run_is_retried(tmp_path, small_library, tiny_clap_dir, tiny_embedder, text_model):
    """Stop the server between two writes and bring it back during the backoff: the run finishes, complete."""
    port = free_port()
    path = tmp_path / "server-data"
    proc = start_server(path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        lib = Library(
            Config(
                data_dir=tmp_path / "d",
                clap_model=str(tiny_clap_dir),
                text_model=text_model,
                chroma_url=url,
                transcribe=False,
                device="cpu",
                batch_size=2,
            )
        )
        lib.embedder = tiny_embedder
        restarted = {}

        def on_progress(p):
            if p.files_done == 4 and not restarted:
                proc.terminate()
                proc.wait(timeout=30)
                restarted["at"] = time.monotonic()
                # back before the retries run out (0.5 + 1 + 2 + ... s)
                restarted["proc"] = subprocess.Popen(
                    ["bash", "-c", f"sleep 2; exec {CHROMA} run --path {path} --host 127.0.0.1 --port {port}"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )

        report = lib.index([small_library], progress=False, on_progress=on_progress)
        assert restarted, "the server was never stopped"
        proc = restarted["proc"]
        assert len(report.added) == 13 and len(report.failed) == 1
        complete, incomplete = lib.store.files()
        assert len(complete) == 13 and not incomplete and lib.store.count() == 15
    finally:
        proc.terminate()
        proc.wait(timeout=30)
