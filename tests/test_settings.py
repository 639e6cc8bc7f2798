"""Indexing settings chosen by the device ("auto"), and the line that says what limited a run."""

from __future__ import annotations

import json
import os

import pytest

from audioret import Config, InputError, Library
from audioret.cli import main
from audioret.config import auto_settings
from audioret.indexing.pipeline import bottleneck

from .conftest import tone, write


def test_auto_settings_by_device():
    assert auto_settings(gpu=False, cores=2) == {"batch_size": 4, "decode_workers": 2}
    assert auto_settings(gpu=False, cores=1) == {"batch_size": 4, "decode_workers": 1}
    assert auto_settings(gpu=True, cores=16) == {"batch_size": 128, "decode_workers": 15}
    assert auto_settings(gpu=True, cores=64) == {"batch_size": 128, "decode_workers": 16}


def test_auto_resolves_for_cpu_and_cuda_device_strings(tmp_path):
    cpu = Library(Config(data_dir=tmp_path, device="cpu"))
    assert cpu.settings == auto_settings(False, os.cpu_count())
    cuda = Library(Config(data_dir=tmp_path, device="cuda:1", backend="torch", decode_workers=3))
    assert cuda.settings["batch_size"] == 128 and cuda.settings["decode_workers"] == 3  # a number stays
    # an export backend runs on the CPU whatever the device string
    assert Library(Config(data_dir=tmp_path, device="cuda", backend="openvino")).settings["batch_size"] == 4
    assert Config.from_env({"AUDIORET_BATCH_SIZE": "auto", "AUDIORET_DECODE_WORKERS": "4"}).decode_workers == 4
    with pytest.raises(InputError, match="batch_size must be 'auto' or a whole number"):
        Config(batch_size=0)


def test_bottleneck_names_the_limit():
    assert bottleneck({"waiting for audio": 6.0, "model": 3.0, "writing": 1.0}).startswith(
        "decode-bound: the model waited for audio 60 %"
    )
    assert bottleneck({"waiting for audio": 1.0, "model": 8.0, "writing": 1.0}) == (
        "model-bound: the model was busy 80 % of the time"
    )
    assert bottleneck({"waiting for audio": 1.0, "model": 5.0, "writing": 4.0}).startswith("write-bound: 40 %")
    assert bottleneck({}) == ""


def test_index_says_which_settings_ran_and_what_limited_it(tmp_path, tiny_clap_dir, capsys, monkeypatch):
    for i in range(3):
        write(tmp_path / "lib" / f"{i}.wav", tone(4, 300 + 200 * i))
    monkeypatch.setenv("AUDIORET_DATA_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("AUDIORET_CLAP_MODEL", str(tiny_clap_dir))
    monkeypatch.setenv("AUDIORET_DEVICE", "cpu")
    report_file = tmp_path / "report.json"
    assert main(["index", str(tmp_path / "lib"), "--no-progress", "--no-transcribe", "--report", str(report_file)]) == 0
    err = capsys.readouterr().err
    auto = auto_settings(False, os.cpu_count())
    assert "-bound: " in err and f"(batch 4, {auto['decode_workers']} decode threads)" in err
    report = json.loads(report_file.read_text())
    assert report["settings"]["batch_size"] == 4 and report["settings"]["backend"] == "openvino"
    assert set(report["stages"]) == {"waiting for audio", "model", "writing"}
    assert main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["index_settings"] == f"batch_size 4 (auto), decode_workers {auto['decode_workers']} (auto)"
    # torch names the dtype its tower ran in (fp16 on a CUDA GPU), beside the exports' precision
    monkeypatch.setenv("AUDIORET_DATA_DIR", str(tmp_path / "index-torch"))
    monkeypatch.setenv("AUDIORET_BACKEND", "torch")
    assert main(["index", str(tmp_path / "lib"), "--no-progress", "--no-transcribe", "--report", str(report_file)]) == 0
    settings = json.loads(report_file.read_text())["settings"]
    assert settings["backend"] == "torch" and settings["dtype"] == "float32"
