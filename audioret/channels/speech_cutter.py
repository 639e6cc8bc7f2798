"""A file's audio cut into pieces for Whisper: resampled to 16 kHz as it is decoded, in pieces of at most
ASR_CHUNK_S, so a long file is transcribed with bounded memory."""

from __future__ import annotations

import numpy as np

from .. import audio
from ..models.asr import ASR_SAMPLE_RATE

ASR_CHUNK_S = 600  # long files are transcribed in 10-minute pieces, so memory stays bounded


class SpeechCutter:
    """Native-rate blocks -> (offset_s, 16-kHz samples) pieces of at most ASR_CHUNK_S."""

    def __init__(self, sr_in: int, path: str):
        self.resampler = audio.Resampler(sr_in, ASR_SAMPLE_RATE, path)
        self.buffer: list[np.ndarray] = []
        self.buffered = self.offset = 0

    def push(self, block: np.ndarray, last: bool) -> list[tuple[float, np.ndarray]]:
        chunk = ASR_CHUNK_S * ASR_SAMPLE_RATE
        self.buffer.append(self.resampler.push(block, last))
        self.buffered += len(self.buffer[-1])
        pieces = []
        while self.buffered >= chunk or (last and self.buffered):
            joined = np.concatenate(self.buffer)
            pieces.append((self.offset / ASR_SAMPLE_RATE, joined[:chunk]))
            self.offset += min(chunk, len(joined))
            self.buffer, self.buffered = [joined[chunk:]], max(0, self.buffered - chunk)
        return pieces
