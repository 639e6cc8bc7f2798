"""Where speech is, for Whisper: Silero VAD (shipped with faster-whisper) finds the speech regions of 16-kHz audio,
and :func:`clip_pieces` turns them into the clips of faster-whisper's batched pipeline. :mod:`audioret.models.asr`
decodes only there, so audio without speech never reaches the decoder.
"""

from __future__ import annotations

import numpy as np

ASR_SAMPLE_RATE = 16000  # Hz, Whisper's input rate (and the VAD's)
# Silero VAD settings: 0.5 is its tested threshold; short pauses stay inside one region so Whisper sees whole
# sentences, and regions are padded so first and last syllables are kept.
VAD_THRESHOLD = 0.5
VAD_MIN_SILENCE_MS = 500
VAD_SPEECH_PAD_MS = 200


def speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """Where Silero VAD hears speech in mono float32 audio at 16 kHz: ``[(start, end), ...]`` in samples."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=VAD_THRESHOLD, min_silence_duration_ms=VAD_MIN_SILENCE_MS, speech_pad_ms=VAD_SPEECH_PAD_MS
    )
    return [(r["start"], r["end"]) for r in get_speech_timestamps(samples, options, ASR_SAMPLE_RATE)]


def clip_pieces(regions: list[tuple[int, int]], most_s: float = 30.0) -> list[dict[str, float]]:
    """Speech regions (samples at 16 kHz) as the batched pipeline's clips, in seconds: neighbours joined while the
    piece stays within ``most_s``, and a longer region cut into ``most_s`` pieces (the pipeline would keep only a
    piece's first 30 s)."""
    pieces: list[dict[str, float]] = []
    for start, end in regions:
        start_s, end_s = start / ASR_SAMPLE_RATE, end / ASR_SAMPLE_RATE
        if pieces and end_s - pieces[-1]["start"] <= most_s:
            pieces[-1]["end"] = end_s
            continue
        while end_s - start_s > most_s:
            pieces.append({"start": start_s, "end": start_s + most_s})
            start_s += most_s
        pieces.append({"start": start_s, "end": end_s})
    return pieces
