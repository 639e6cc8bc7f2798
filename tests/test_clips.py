"""Clips and spectrogram pictures of hits (audioret/clips.py): cut once, whole under concurrency, coloured with
matplotlib's magma."""

from __future__ import annotations

import threading

import matplotlib
import numpy as np
import soundfile as sf

from audioret.clips import cut_clip, spectrogram_image

from .conftest import tone, write


def test_a_clip_cut_by_many_threads_at_once_is_whole_for_each(tmp_path):
    """Every thread of a process once wrote the same temporary name: some got FileNotFoundError."""
    source = write(tmp_path / "long.wav", tone(30.0, 440))
    got, errors = [], []

    def cut():
        try:
            got.append(cut_clip(str(source), 5.0, 15.0, tmp_path / "clips"))
        except Exception as e:  # every failure is shown
            errors.append(repr(e))

    threads = [threading.Thread(target=cut) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(got)) == 1
    samples, sr = sf.read(got[0])
    assert sr == 48_000 and len(samples) == 10 * 48_000
    assert [p.name for p in (tmp_path / "clips").iterdir()] == [got[0].name]  # no temporary file left


def test_the_spectrogram_uses_matplotlibs_magma(tmp_path):
    clip = write(tmp_path / "clip.wav", tone(2.0, 1000))
    image = spectrogram_image(clip)
    assert image.dtype == np.uint8 and image.shape[0] == 128 and image.shape[2] == 3
    table = {tuple(c) for c in matplotlib.colormaps["magma"](np.linspace(0, 1, 256), bytes=True)[:, :3]}
    assert {tuple(p) for p in image.reshape(-1, 3)} <= table
    assert tuple(image.reshape(-1, 3).max(axis=0)) > (200, 100, 50)  # the tone's band is bright
