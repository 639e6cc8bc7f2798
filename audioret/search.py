"""From a query to ranked hits: ask each channel for its best files and their evidence, then fuse.

A text query goes to every channel with a positive weight; an example recording or a stored segment only to the
sound channel. ``"a phrase"`` in a query is required (only files whose text holds it), and ``-word`` leaves out
files whose text has the word. A channel whose model cannot load is left out with a warning
(``Library.channel_errors``), and the others answer. The evidence and the fusion rule are :mod:`audioret.ranking.calibration`;
when no file reaches the line of a match, the :class:`Results` say "no good match".
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence

import numpy as np

from . import audio
from .errors import AudioDecodeError, InputError, ModelLoadError
from .query import Query
from .ranking.fusion import fuse
from .types import Feedback, Filters, Moment, Results

CHANNEL_NAMES = ("clap", "text")
# Query-by-example uses at most this many windows of the example (the first minute at the default hop).
MAX_EXAMPLE_WINDOWS = 6
DEPTH = 50  # files each channel returns at least (5 k when k is larger)


def check_weights(weights: Mapping[str, float]) -> None:
    if any(w < 0 for w in weights.values()):
        raise InputError(f"Channel weights must be at least 0, got {dict(weights)}")
    if not any(weights.get(c, 0) > 0 for c in CHANNEL_NAMES):
        raise InputError("Both channel weights are 0; give at least one channel a positive weight")


def results(hits: list) -> Results:
    return Results(hits, no_good_match=not hits or hits[0].score < 0.5)


def text_search(library, text: str, k: int, filters: Filters | None, weights: Mapping[str, float],
                text_query: str | None = None, feedback: Feedback | None = None) -> Results:  # fmt: skip
    """The ``k`` files that best match a text query, the channels with a positive weight fused.

    ``text_query`` is the text channel's query when it differs (the words of a spoken query, untranslated).
    ``feedback`` moves each channel's query towards the files liked and away from the others, which are left out.
    """
    query = Query.parse(text)
    if not query.text:
        raise InputError("The query is empty; type what you want to hear, e.g. 'rain on a tin roof'")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    check_weights(weights)
    words = Query.parse(text_query) if text_query and text_query.strip() else query
    depth = max(DEPTH, 5 * k)
    text_on = library.text_store.has_records() and library.available("text")
    exclude, only = _word_filters(library.text_channel(), query) if text_on else (set(), None)
    if feedback:
        exclude |= set(feedback.unliked)
    found = {}
    if weights.get("clap", 0) > 0 and library.available("clap"):
        found["clap"] = library.sound_channel().rank_text(query.text, depth, filters, only, exclude, feedback)
    if weights.get("text", 0) > 0 and text_on:
        found["text"] = library.text_channel().rank_text(words, depth, filters, only, exclude, feedback)
    if not found and library.channel_errors:
        raise ModelLoadError(" | ".join(library.channel_errors.values()))
    return results(fuse(found, weights, k))  # no channel: an empty index, or only text on and it holds nothing


def _word_filters(channel, query: Query) -> tuple[set[str], set[str] | None]:
    """The files ``-word`` leaves out, and (with quoted phrases) the only files that may be returned."""
    exclude = set().union(*(channel.paths_with([w]) for w in query.excluded))
    only = None
    for phrase in query.phrases:
        holding = channel.paths_with(phrase)
        only = holding if only is None else only & holding
    return exclude, (only - exclude if only is not None else None)


def sound_search(library, vectors: np.ndarray, k: int, filters: Filters | None = None,
                 exclude_ids: Collection[str] = (), exclude_paths: Collection[str] = ()) -> Results:  # fmt: skip
    """The ``k`` files of the sound channel nearest to one or more audio embeddings (shape (n, dim) or (dim,))."""
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    found = library.sound_channel().rank_vectors(vectors, max(k, DEPTH), filters, exclude_ids, exclude_paths)
    return results(fuse({"clap": found}, {"clap": 1.0}, k))


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


def timeline(library, path: str, text: str) -> list[Moment]:
    """Each window's and each utterance's cosine with a text query, scaled within the file and channel to 0-1
    (the best stretch is 1), for a strip under a long file."""
    moments = []
    if library.available("clap"):
        windows = library.store.file_records(path)
        if windows:
            cosines = library.file_vectors(path) @ library.query_vector("clap", text)
            moments += _scaled(windows, cosines, "clap")
    if library.text_store.has_records() and library.available("text"):
        passages = library.text_store.file_records(path)
        speech = [i for i, m in enumerate(passages) if m.metadata.get("kind") == "speech"]
        if speech:
            vectors = library.text_store.file_vectors(path)[speech]
            moments += _scaled([passages[i] for i in speech], vectors @ library.query_vector("text", text), "text")
    return moments


def _scaled(records, cosines: np.ndarray, channel: str) -> list[Moment]:
    low, high = float(np.min(cosines)), float(np.max(cosines))
    span = high - low if high > low else 1.0
    return [Moment(float(r.metadata["start_s"]), float(r.metadata["end_s"]), channel, (float(c) - low) / span if high > low else 1.0)
            for r, c in zip(records, cosines)]  # fmt: skip


def with_feedback(library, text: str, k: int, filters: Filters | None, weights: Mapping[str, float],
                  text_query: str | None, feedback: Feedback) -> Results:  # fmt: skip
    """``text_search`` with feedback, its ``changed`` saying what the feedback changed in the ranking."""
    before = text_search(library, text, k, filters, weights, text_query)
    after = text_search(library, text, k, filters, weights, text_query, feedback)
    after.changed = changes(before, after)
    return after


def changes(before: Sequence, after: Sequence) -> str:
    """What feedback changed in a ranking, in words: "2 new in the top 10, 1 left out, 3 moved up"."""
    old = [h.path for h in before]
    new = [h.path for h in after]
    added = sum(p not in old for p in new)
    gone = sum(p not in new for p in old)
    up = sum(p in old and i < old.index(p) for i, p in enumerate(new))
    parts = [f"{added} new in the top {len(new)}" if added else "", f"{gone} left out" if gone else "",
             f"{up} moved up" if up else ""]  # fmt: skip
    return ", ".join(p for p in parts if p) or "the same results"
