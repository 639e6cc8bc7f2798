"""A file's audio cut into pieces for Whisper: resampled to 16 kHz as it is decoded, in pieces of at most
ASR_CHUNK_S, so a long file is transcribed with bounded memory; and those pieces transcribed."""

from __future__ import annotations

import numpy as np

from .. import audio
from ..errors import NoSpeechError
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


def cut_speech(job, sr_in: int) -> SpeechCutter:
    """The cutter of one file (a function a decode task in another process can call)."""
    return SpeechCutter(sr_in, job.path)


def transcribe_pieces(transcriber, pieces: list[np.ndarray], short_s: float) -> list:
    """Each piece's Transcript, or the NoSpeechError it raised: pieces up to ``short_s`` seconds together
    (``transcribe_many``: a short encoder context, in batches), longer ones one at a time with word times."""
    short = [i for i, p in enumerate(pieces) if len(p) <= short_s * ASR_SAMPLE_RATE]
    results = dict(zip(short, transcriber.transcribe_many([pieces[i] for i in short], beam_size=1) if short else []))
    for i, samples in enumerate(pieces):
        if i not in results:
            try:
                results[i] = transcriber.transcribe(samples, beam_size=1, word_times=True)
            except NoSpeechError as e:
                results[i] = e
    return [results[i] for i in range(len(pieces))]
