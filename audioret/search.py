"""From a query to ranked hits: ask each channel for its best files, then fuse (:mod:`audioret.fusion`).

A text query goes to every channel with a positive weight; an example recording or a stored segment only to the
sound channel. A channel whose model cannot load is left out with a warning (``Library.channel_errors``), and
the others answer.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping

import numpy as np

from . import audio
from .errors import AudioDecodeError, InputError, ModelLoadError
from .fusion import fuse
from .types import Filters, Hit

CHANNEL_NAMES = ("clap", "text")
# Query-by-example uses at most this many windows of the example (the first minute at the default hop).
MAX_EXAMPLE_WINDOWS = 6


def check_weights(weights: Mapping[str, float]) -> None:
    if any(w < 0 for w in weights.values()):
        raise InputError(f"Channel weights must be at least 0, got {dict(weights)}")
    if not any(weights.get(c, 0) > 0 for c in CHANNEL_NAMES):
        raise InputError("Both channel weights are 0; give at least one channel a positive weight")


def text_search(library, text: str, k: int, filters: Filters | None, weights: Mapping[str, float],
                text_query: str | None = None) -> list[Hit]:  # fmt: skip
    """The ``k`` files that best match a text query, the channels with a positive weight fused."""
    text = text.strip()
    if not text:
        raise InputError("The query is empty; type what you want to hear, e.g. 'rain on a tin roof'")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    check_weights(weights)
    depth = max(50, 5 * k)
    rankings = {}
    if weights.get("clap", 0) > 0 and library.available("clap"):
        rankings["clap"] = library.sound_channel().rank_text(text, depth, filters)
    if weights.get("text", 0) > 0 and library.text_store.has_records() and library.available("text"):
        rankings["text"] = library.text_channel().rank_text((text_query or "").strip() or text, depth, filters)
    if not rankings and library.channel_errors:
        raise ModelLoadError(" | ".join(library.channel_errors.values()))
    return fuse(rankings, weights, k) if rankings else []  # an empty index, or only text on and it holds nothing


def sound_search(library, vectors: np.ndarray, k: int, filters: Filters | None = None,
                 exclude_ids: Collection[str] = (), exclude_paths: Collection[str] = ()) -> list[Hit]:  # fmt: skip
    """The ``k`` files of the sound channel nearest to one or more audio embeddings (shape (n, dim) or (dim,))."""
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    ranking = library.sound_channel().rank_vectors(vectors, k, filters, exclude_ids, exclude_paths)
    return fuse({"clap": ranking}, {"clap": 1.0}, k)


def example_windows(example: str | os.PathLike | np.ndarray, window: int, hop_s: float) -> np.ndarray:
    """The first MAX_EXAMPLE_WINDOWS windows of an example recording (a path, or mono float32 at 48 kHz), cut
    like the library's: shape (n, window), float32."""
    if isinstance(example, np.ndarray):
        if example.ndim != 1:
            raise InputError(f"Expected mono samples of shape (n,), got shape {example.shape}")
        name, blocks = "<array>", iter([np.asarray(example, np.float32)])
    else:
        name, (_, blocks) = str(example), audio.stream(example)
    chosen = []
    for w in audio.windows(blocks, window, min(window, round(hop_s * audio.SAMPLE_RATE))):
        chosen.append(w.samples)
        if len(chosen) == MAX_EXAMPLE_WINDOWS:
            break
    if not chosen:
        raise AudioDecodeError(name, "contains no audio samples")
    return np.stack(chosen)
