"""What a listener gets from a hit: the matching segment cut to a WAV, and a picture of its spectrogram."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from . import audio

COLORMAP = "magma"  # matplotlib's, for spectrogram pictures


def cut_clip(path: str, start_s: float, end_s: float, folder: str | os.PathLike) -> Path:
    """A 16-bit WAV of ``path`` from ``start_s`` to ``end_s`` (48 kHz mono), cut once and cached in ``folder``.

    The cache key holds the file's modification time, so an edited file gets a fresh clip. Each call writes to a
    temporary file of its own and renames it into place, so requests for the same clip at once (a page's players,
    several visitors) each get a whole file.
    """
    import tempfile

    import soundfile as sf

    key = hashlib.sha1(f"{path}:{start_s}:{end_s}:{os.path.getmtime(path)}".encode()).hexdigest()
    out = Path(folder) / f"{key[:20]}.wav"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        samples = audio.load(path, start_s=start_s, end_s=end_s)
        fd, tmp = tempfile.mkstemp(prefix=f"{out.stem}.", suffix=".tmp.wav", dir=out.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                sf.write(f, samples, audio.SAMPLE_RATE, subtype="PCM_16", format="WAV")
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return out


def spectrogram_image(clip: str | os.PathLike, n_mels: int = 64) -> np.ndarray:
    """A mel-spectrogram picture of a clip: RGB uint8, shape (2 * n_mels, frames, 3), low frequencies at the bottom."""
    import librosa
    import matplotlib

    y, sr = librosa.load(str(clip), sr=22050, mono=True)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=n_mels), ref=np.max, top_db=80)
    level = (mel[::-1] + 80) / 80  # 0 (quiet) .. 1 (loudest)
    image = matplotlib.colormaps[COLORMAP](np.clip(level, 0.0, 1.0), bytes=True)[..., :3]
    return np.repeat(image, 2, axis=0)
