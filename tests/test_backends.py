"""The export backends (ONNX Runtime, OpenVINO) against the torch reference: agreement, determinism, the int8
opt-in and its refusal, the pipeline recorded with the index, and a query path that never imports torch."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from audioret import Config, Library
from audioret.errors import InputError
from audioret.models import backends, memory
from audioret.models.exported import ExportedClap, ExportedTextEncoder
from audioret.models.load import load_clap, load_text_encoder, provenance

from .conftest import REPO, tone, write

EXPORTS = ("onnxruntime", "openvino")


def _windows(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(480_000) / 48_000
    x = np.stack([0.3 * np.sin(2 * np.pi * (200 + 150 * i) * t) for i in range(n)])
    x += 0.02 * rng.standard_normal(x.shape)
    x[-1, 200_000:] = 0  # a short clip padded with silence
    return x.astype(np.float32)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_numpy_log_mel_equals_the_torch_front_end(tiny_embedder):
    x = _windows(3)
    fe = tiny_embedder.processor.feature_extractor
    ours = backends.log_mel(x, np.asarray(fe.mel_filters_slaney, np.float32), fe.fft_window_size, fe.hop_length)
    reference = tiny_embedder.features(x).cpu().numpy()
    assert ours.shape == reference.shape == (3, 1, 1001, 64)
    np.testing.assert_allclose(ours, reference, atol=2e-3)  # dB, over a range of about 100 dB


@pytest.mark.slow
@pytest.mark.parametrize("backend", EXPORTS)
def test_clap_export_agrees_with_torch_and_is_deterministic(backend, tiny_clap_dir, tiny_embedder):
    model = load_clap(str(tiny_clap_dir), device="cpu", backend=backend)
    assert isinstance(model, ExportedClap) and (model.backend, model.precision) == (backend, "fp32")
    manifest = backends.read_manifest(backends.export_dir("clap", str(tiny_clap_dir), backend, "fp32"))
    assert min(manifest["cosine"].values()) >= backends.MIN_COSINE

    x = _windows(4)  # not the windows the export was checked on
    audio = model.embed_audio(x, pad_to=8)
    assert _cosines(audio, tiny_embedder.embed_audio(x, pad_to=8)).min() >= 0.9999
    texts = ["a dog barking", "waves on a pebble beach at night", "x"]
    assert _cosines(model.embed_text(texts), tiny_embedder.embed_text(texts)).min() >= 0.9999

    again = load_clap(str(tiny_clap_dir), device="cpu", backend=backend)  # a second load reads the cache
    np.testing.assert_array_equal(again.embed_audio(x, pad_to=8), audio)
    # a window embeds to the same bits whatever shares its batch, and at a CPU's batch of 4 as at 8 (an index made
    # at batch 8 keeps its vectors when the batch size changes)
    np.testing.assert_array_equal(again.embed_audio(x[:1], pad_to=8), audio[:1])
    np.testing.assert_array_equal(again.embed_audio(x, pad_to=4), audio)
    np.testing.assert_array_equal(again.embed_audio(x[:3], pad_to=4)[0], audio[0])
    again.release_memory()  # as an index run ends: the tower is unloaded, and loads again with the same bits
    assert again._audio._run is None
    np.testing.assert_array_equal(again.embed_audio(x, pad_to=8), audio)


@pytest.mark.slow
@pytest.mark.parametrize("backend", EXPORTS)
def test_text_model_export_agrees_with_torch(backend, text_model, text_encoder):
    model = load_text_encoder(text_model, device="cpu", backend=backend)
    assert isinstance(model, ExportedTextEncoder)
    texts = ["the harvest was late this year", "rain", "a much longer sentence about the tides, the moon and " * 6]
    ours, reference = model.encode(texts), text_encoder.encode(texts)
    assert ours.shape == reference.shape == (3, 384)
    assert _cosines(ours, reference).min() >= 0.9999
    np.testing.assert_array_equal(model.encode(texts), ours)


@pytest.mark.slow
def test_int8_is_refused_when_it_strays_and_fp32_runs(text_model, recwarn):
    model = load_text_encoder(text_model, device="cpu", backend="onnxruntime", precision="int8")
    assert (model.backend, model.precision) == ("onnxruntime", "fp32")
    warned = [str(w.message) for w in recwarn.list]
    assert any("int8" in m and "fp32" in m and "cosine" in m for m in warned), warned
    assert provenance("text", text_model, "cpu", "onnxruntime", "int8")["precision"] == "fp32"
    # the refusal is remembered: the next load warns again and exports nothing
    manifest = backends.read_manifest(backends.export_dir("text", text_model, "onnxruntime", "int8"))
    assert manifest["refused"] and "cosine" in manifest["refused"]


def test_int8_on_torch_and_unknown_settings_are_clear_errors(tiny_clap_dir):
    with pytest.raises(InputError, match="needs the onnxruntime or openvino backend"):
        load_clap(str(tiny_clap_dir), device="cpu", backend="torch", precision="int8")
    with pytest.raises(InputError, match="backend must be one of"):
        Config(backend="tensorrt")
    with pytest.raises(InputError, match="precision must be one of"):
        Config(precision="fp16")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The int8 export:UserWarning")
def test_changing_precision_reembeds_and_stats_name_the_pipeline(tmp_path, tiny_clap_dir, text_model):
    lib_dir = tmp_path / "lib"
    for i, freq in enumerate((300, 700, 1500)):
        write(lib_dir / f"tone {i}.wav", tone(4, freq))
    settings = dict(
        data_dir=tmp_path / "index",
        clap_model=str(tiny_clap_dir),
        text_model=text_model,
        device="cpu",
        transcribe=False,
        backend="openvino",
    )
    first = Library(Config(**settings)).index(lib_dir, progress=False)
    assert len(first.added) == 3
    stats = Library(Config(**settings)).stats()
    assert stats["clap_pipeline"] == "openvino fp32 (3 files)"
    assert stats["text_pipeline"] == "onnxruntime fp32, under openvino (3 files)"  # the text graph runs on ORT

    # another fp32 backend reproduces the vectors (cosine >= 0.9999): nothing is redone
    assert Library(Config(**{**settings, "backend": "onnxruntime"})).index(lib_dir, progress=False).unchanged == 3

    # int8 is a different pipeline (the tiny CLAP's int8 export is accepted, MiniLM's is refused): CLAP re-embeds
    with pytest.warns(UserWarning, match="int8"):
        report = Library(Config(**{**settings, "precision": "int8"})).index(lib_dir, progress=False)
    assert len(report.updated) == 3 and report.failed == []
    stats = Library(Config(**settings)).stats()
    assert stats["clap_pipeline"] == "openvino int8 (3 files)"
    assert stats["text_pipeline"] == "onnxruntime fp32, under openvino (3 files)"  # the text graph runs on ORT
    hits = Library(Config(**{**settings, "precision": "int8"})).search("tone 1", k=3)
    assert hits[0].path.endswith("tone 1.wav")


_PROBE = """
import json, sys
from audioret.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:
    code = e.code
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers", "gradio", "matplotlib")
               if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _probe(argv: list[str], env: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
        timeout=300,
    )
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.slow
def test_help_version_and_a_search_from_cache_do_not_import_torch(tmp_path, tiny_clap_dir, text_model):
    assert _probe(["--version"], {}) == {"code": 0, "heavy": []}
    assert _probe(["--help"], {}) == {"code": 0, "heavy": []}
    assert _probe(["search", "--help"], {}) == {"code": 0, "heavy": []}

    write(tmp_path / "lib" / "a low hum.wav", tone(3, 120))
    env = {
        "AUDIORET_DATA_DIR": str(tmp_path / "index"),
        "AUDIORET_CLAP_MODEL": str(tiny_clap_dir),
        "AUDIORET_TEXT_MODEL": text_model,
        "AUDIORET_DEVICE": "cpu",
        "AUDIORET_BACKEND": "openvino",
    }
    assert _probe(["index", str(tmp_path / "lib"), "--no-progress", "--no-transcribe"], env)["code"] == 0
    # the exports are cached now (this run made them, or an earlier test did): a search with the default settings
    # (backend and device "auto") is torch-free on a machine without a GPU
    defaults = {k: v for k, v in env.items() if k not in ("AUDIORET_BACKEND", "AUDIORET_DEVICE")}
    assert _probe(["search", "hum", "--json"], defaults) == {"code": 0, "heavy": []}
    assert _probe(["--device", "cpu", "search", "hum", "--json"], defaults) == {"code": 0, "heavy": []}


@pytest.mark.slow
def test_the_preparing_line_comes_only_once_the_model_is_found(tmp_path, tiny_clap_dir, monkeypatch, caplog):
    """The hub unreachable (tests run offline) and the model not cached: the error, and no "Preparing the clap
    model ..." line before it. A model that is there is announced once, while its export is made."""
    from audioret.errors import ModelLoadError

    monkeypatch.setenv("AUDIORET_CACHE_DIR", str(tmp_path / "cache"))
    caplog.set_level(logging.INFO, logger="audioret")
    preparing = lambda: [r.getMessage() for r in caplog.records if r.getMessage().startswith("Preparing")]  # noqa: E731
    with pytest.raises(ModelLoadError, match="nobody/no-such-clap"):
        load_clap("nobody/no-such-clap", device="cpu", backend="openvino")
    assert preparing() == []
    load_clap(str(tiny_clap_dir), device="cpu", backend="openvino")
    load_clap(str(tiny_clap_dir), device="cpu", backend="openvino")  # from the cache: no second line
    (line,) = preparing()
    assert line.startswith(f"Preparing the clap model {tiny_clap_dir} for openvino fp32")


@pytest.mark.slow
def test_a_damaged_export_is_removed_and_made_again(tmp_path, tiny_clap_dir, monkeypatch):
    from audioret.errors import ModelLoadError

    monkeypatch.setenv("AUDIORET_CACHE_DIR", str(tmp_path / "cache"))
    load_clap(str(tiny_clap_dir), device="cpu", backend="openvino")
    folder = backends.export_dir("clap", str(tiny_clap_dir), "openvino", "fp32")
    manifest = backends.read_manifest(folder)
    (folder / manifest["files"]["audio"]).write_bytes(b"not a model")  # a disk error, a killed copy
    shutil.rmtree(folder / "openvino-cache", ignore_errors=True)
    model = load_clap(str(tiny_clap_dir), device="cpu", backend="openvino")
    with pytest.raises(ModelLoadError, match="could not be loaded .* removed and is made again"):
        model.embed_audio(_windows(1))
    assert not folder.exists()
    again = load_clap(str(tiny_clap_dir), device="cpu", backend="openvino")  # exported again
    assert again.embed_audio(_windows(1)).shape == (1, again.dim)


def _resident_kb(ranges: list[tuple[int, int]]) -> int:
    """Resident kB of the mappings that start at one of ``ranges`` (Linux's /proc/self/smaps)."""
    starts, total, counting = {s for s, _ in ranges}, 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(maxsplit=1)[0]
            if "-" in head and not head.endswith(":"):
                counting = int(head.split("-")[0], 16) in starts
            elif head == "Rss:" and counting:
                total += int(line.split()[1])
    return total


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="reads Linux's /proc/self/smaps")
def test_an_openvino_graph_runs_with_its_cache_blob_paged_out_and_the_same_bits(tiny_clap_dir):
    load_clap(str(tiny_clap_dir), device="cpu", backend="openvino").embed_audio(_windows(1), pad_to=4)  # the cache
    model = load_clap(str(tiny_clap_dir), device="cpu", backend="openvino")
    x = _windows(4, seed=5)
    first = model.embed_audio(x, pad_to=4)  # compiled from OpenVINO's cache, which it maps, then run once
    blob = backends.export_dir("clap", str(tiny_clap_dir), "openvino", "fp32") / "openvino-cache"
    ranges = memory.read_only_mappings(blob)
    assert ranges, "the compiled tower maps its cache blob"
    mapped_kb = sum(end - start for start, end in ranges) // 1024
    assert _resident_kb(ranges) <= 0.1 * mapped_kb, (_resident_kb(ranges), mapped_kb)  # dropped after the run
    for _ in range(3):  # what a run reads again is mapped again from the file: the same bits
        np.testing.assert_array_equal(model.embed_audio(x, pad_to=4), first)


def test_read_only_mappings_are_the_files_under_a_folder_mapped_without_write(tmp_path):
    maps = tmp_path / "maps"
    cache = tmp_path / "cache"
    cache.mkdir()
    maps.write_text(
        f"7f0000000000-7f0000100000 r--p 00000000 08:01 11 {cache}/a.blob\n"
        f"7f0000100000-7f0000200000 rw-p 00000000 08:01 11 {cache}/a.blob\n"
        f"7f0000200000-7f0000300000 r--s 00000000 08:01 12 {cache}-other/b.blob\n"
        f"7f0000300000-7f0000380000 r-xp 00000000 08:01 13 {cache}/sub/c.so\n"
        "7f0000400000-7f0000500000 rw-p 00000000 00:00 0 \n"
        "7f0000500000-7f0000600000 r--p 00000000 00:00 0 [vvar]\n"
    )
    got = memory.read_only_mappings(cache, maps=str(maps))
    assert got == [(0x7F0000000000, 0x7F0000100000), (0x7F0000300000, 0x7F0000380000)]
    assert memory.read_only_mappings(cache, maps=str(tmp_path / "absent")) == []
