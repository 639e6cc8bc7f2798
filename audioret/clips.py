"""What a listener gets from a hit: the matching segment cut to a WAV, and a picture of its spectrogram."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from . import audio

# A few stops of the magma colour map (RGB), interpolated for spectrogram pictures.
MAGMA_AT = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
MAGMA = np.array([[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], np.float64)


def cut_clip(path: str, start_s: float, end_s: float, folder: str | os.PathLike) -> Path:
    """A 16-bit WAV of ``path`` from ``start_s`` to ``end_s`` (48 kHz mono), cut once and cached in ``folder``.

    The cache key holds the file's modification time, so an edited file gets a fresh clip.
    """
    import soundfile as sf

    key = hashlib.sha1(f"{path}:{start_s}:{end_s}:{os.path.getmtime(path)}".encode()).hexdigest()
    out = Path(folder) / f"{key[:20]}.wav"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        samples = audio.load(path, start_s=start_s, end_s=end_s)
        tmp = out.with_suffix(f".{os.getpid()}.tmp.wav")
        sf.write(tmp, samples, audio.SAMPLE_RATE, subtype="PCM_16")
        os.replace(tmp, out)
    return out


def spectrogram_image(clip: str | os.PathLike, n_mels: int = 64) -> np.ndarray:
    """A mel-spectrogram picture of a clip: RGB uint8, shape (2 * n_mels, frames, 3), low frequencies at the bottom."""
    import librosa

    y, sr = librosa.load(str(clip), sr=22050, mono=True)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=n_mels), ref=np.max, top_db=80)
    level = (mel[::-1] + 80) / 80  # 0 (quiet) .. 1 (loudest)
    image = np.stack([np.interp(level, MAGMA_AT, MAGMA[:, c]) for c in range(3)], axis=-1)
    return np.repeat(image, 2, axis=0).astype(np.uint8)
