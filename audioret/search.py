"""From a query to ranked hits: a function over the channels, their weights and the request.

A text query goes to every channel with a positive weight; an example recording or a stored segment only to the
channel that hears sound. ``"a phrase"`` in a query is required (only files whose text holds it; one that no file
holds is searched as plain words, and the results' message says so: a transcript can hold the words otherwise),
and ``-word`` leaves out files whose text has the word: a channel that reads words narrows the request's
:class:`~audioret.types.Scope` once, and the scope then goes down unchanged to every channel and its store. A
channel whose model cannot load is left out with a warning (``Library.channel_errors``), and the others answer.
Each channel returns its files with their evidence, and :func:`audioret.ranking.fusion.fuse` adds it up; when no
file reaches the line of a match, the :class:`Results` say "no good match".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .errors import InputError, ModelLoadError
from .query import Query, left_out_note, minus
from .ranking.calibration import COPY_EVIDENCE
from .ranking.fusion import fuse
from .store.filters import accepts
from .store.records import parse_id
from .types import Copy, Feedback, Filters, Moment, Results, Scope

DEPTH = 50  # files each channel returns at least (5 k when k is larger)
WINDOW_S = 10.0  # the longest a sound window is (CLAP's), for the windows that may overlap a time range
# A liked file teaches a channel when the channel's own strength for it was at least this: above what a channel
# that knows nothing gives its top (ln 2 nats, strength 0.26). Measured on the spoken digits (docs/BENCHMARKS.md).
TAUGHT_STRENGTH = 0.25


@dataclass(frozen=True)
class Request:
    """A text query, parsed, and what it may return."""

    query: Query  # what the channels' models get (the English text, for CLAP)
    words: Query  # what a channel reading words gets: the words said, in their own language (else ``query``)
    k: int
    scope: Scope = Scope()
    feedback: Feedback | None = None  # "more like these, less like those": each channel moves its query

    @classmethod
    def parse(
        cls,
        text: str,
        k: int = 10,
        filters: Filters | None = None,
        text_query: str | None = None,
        feedback: Feedback | None = None,
    ) -> Request:
        """A request from what a caller typed; InputError for an empty query or ``k`` below 1."""
        query = Query.parse(text)
        if not query.text:
            if query.exclusions:
                raise InputError(
                    f"The query only leaves things out ({' '.join(map(minus, query.exclusions))}); add what to look "
                    f"for, e.g. 'thunder {minus(query.exclusions[0])}'"
                )
            raise InputError("The query is empty; type what you want to hear, e.g. 'rain on a tin roof'")
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        words = Query.parse(text_query) if text_query and text_query.strip() else query
        return cls(query, words, k, Scope(filters), feedback or None)


def check_weights(names: Sequence[str], weights: Mapping[str, float]) -> None:
    if any(w < 0 for w in weights.values()):
        raise InputError(f"Channel weights must be at least 0, got {dict(weights)}")
    if not any(weights.get(c, 0) > 0 for c in names):
        every = "Both channel weights are" if len(names) == 2 else f"All {len(names)} channel weights are"
        raise InputError(f"{every} 0; give at least one channel ({', '.join(names)}) a positive weight")


def results(hits: list) -> Results:
    """The hits, and whether none of them is a match (:attr:`Hit.is_match`)."""
    return Results(hits, no_good_match=not any(h.is_match for h in hits))


def search(channels, weights: Mapping[str, float], request: Request) -> Results:
    """The ``request.k`` files that best match a text query, the channels with a positive weight fused.

    Args:
        channels: the library's :class:`~audioret.channels.registry.Channels`.
        weights: each channel's weight, by name; 0 leaves a channel out.
        request: the query and its scope; with feedback, the files not liked are left out too.
    """
    check_weights(channels.names, weights)
    scope = request.scope
    for channel in channels:  # the query's phrases and -words, by the channels that hold the files' words
        if channel.reads_words and channel.holds_records() and channels.available(channel.name):
            scope = channel.narrow(request.query, scope)
    if request.feedback:
        scope = scope.narrowed(exclude_paths=request.feedback.unliked)
    request = replace(request, scope=scope)
    depth = max(DEPTH, 5 * request.k)
    asked = [c for c in channels if weights.get(c.name, 0) > 0]
    ranking = [c for c in asked if (c.primary or c.holds_records()) and channels.available(c.name)]
    found = dict(zip((c.name for c in ranking), _each(ranking, lambda c: c.rank(request, depth))))
    if not found and channels.errors:
        raise ModelLoadError(" | ".join(channels.errors.values()))
    out = results(fuse(found, weights, request.k))  # no channel: an empty index, or only one on that holds nothing
    windows_shown(channels, out)
    out.filters, out.left_out, out.unheld = request.scope.filters, tuple(scope.left_out), scope.unheld
    out.note = ". ".join(n for n in (request.query.note, left_out_note(scope.left_out)) if n)
    return out


def windows_shown(channels, hits: Sequence) -> None:
    """Each hit's ``segment_id`` made the stored window that overlaps its time range most, where the range is not
    the sound channel's own window: a passage said at 1:58 of a talk whose nearest window by sound is at 3:30 gave
    "more like this" the stretch at 3:30. Windows start a hop apart, so those that may overlap a range are known by
    their index; all of them, for every such hit, are looked up at once (their times, no vectors)."""
    placed = [h for h in hits if h.segment_id is not None]
    if not placed:
        return
    channel = channels.hearing()
    hop, near = channel.hop_s, {}
    for h in placed:
        key, index = parse_id(h.segment_id)
        if abs(index * hop - h.start_s) > 1e-3:  # not the window's own range
            first, last = max(0, int((h.start_s - max(hop, WINDOW_S)) // hop)), int(h.end_s // hop)
            near[h.segment_id] = [f"{key}-{i:06d}" for i in range(first, last + 1)]
    if not near:
        return
    ids, _, metadatas = channel.store.get(sorted({i for ids in near.values() for i in ids}), vectors=False)
    times = {i: (m["start_s"], m["end_s"]) for i, m in zip(ids, metadatas)}
    for h in placed:
        overlap = {
            i: min(h.end_s, times[i][1]) - max(h.start_s, times[i][0]) for i in near.get(h.segment_id, ()) if i in times
        }
        best = max(overlap, key=lambda i: (overlap[i], i == h.segment_id), default=None)  # the one it had, if as good
        if best is not None and overlap[best] > 0:
            h.segment_id = best


SIDE_BY_SIDE = True  # the channels rank a query at once (False: one after the other; bench/query.py compares)
_POOL: list = []  # one thread pool for every search (made on first use)


def _each(channels: Sequence, call: Callable) -> list:
    """``call`` on each channel, the channels side by side: the model runtimes release the GIL, so one channel's
    model runs while another embeds and asks its store (docs/BENCHMARKS.md, "Warm query")."""
    if len(channels) < 2 or not SIDE_BY_SIDE:
        return [call(c) for c in channels]
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(4, thread_name_prefix="audioret-rank"))
    futures = [_POOL[0].submit(call, c) for c in channels[1:]]
    first = call(channels[0])
    return [first, *(f.result() for f in futures)]


def with_feedback(channels, weights: Mapping[str, float], request: Request) -> Results:
    """:func:`search` with feedback, its ``changed`` saying what the feedback changed in the ranking. The list
    without feedback (the one judged) says which channels had a say in each liked file (:func:`taught`)."""
    before = search(channels, weights, replace(request, feedback=None))
    after = search(channels, weights, replace(request, feedback=taught(request.feedback, before)))
    after.changed = changes(before, after)
    return after


def taught(feedback: Feedback, judged: Results) -> Feedback:
    """``feedback`` with, for each liked file in the ``judged`` list, the channels whose own strength for it was at
    least TAUGHT_STRENGTH, and the one that found it most strongly: only those move their query towards it
    (:meth:`Feedback.liked_by`)."""
    seen = [h for h in judged if h.path in feedback.liked]
    found = {
        (c, h.path)
        for h in seen
        for c, s in h.strengths.items()
        if s >= TAUGHT_STRENGTH or s == max(h.strengths.values())
    }
    return replace(feedback, seen=frozenset(h.path for h in seen), found=frozenset(found))


def by_example(
    channel,
    vectors: np.ndarray,
    k: int,
    scope: Scope = Scope(),
    same: Callable[[list[str]], Mapping[str, Copy]] | None = None,
) -> Results:
    """The ``k`` files of the sound channel nearest to one or more audio embeddings (shape (n, dim) or (dim,)).

    ``same`` gives, from the nearest files' paths (nearest first), the library's files that are the same
    recording as the example (:func:`audioret.duplicates.copies.copies`), wherever the sound channel ranks them:
    they come first, as "the same recording", the closest first (within ``scope``, as every hit)."""
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    found = channel.rank_vectors(vectors, max(k, DEPTH), scope)
    if same is not None:
        copies = same([f.match.path for f in found])
        further = set(copies) - {f.match.path for f in found}
        if further:  # copies the sound channel ranks further down
            found += channel.rank_vectors(vectors, len(further), scope.narrowed(only_paths=further))
        found = [  # the closest copy first: an exact one has COPY_EVIDENCE, one at the limit (bit error 0.1) 90 % of it
            replace(
                f,
                evidence=COPY_EVIDENCE * (1.0 - copies[f.match.path][0]),
                beyond=None,
                leg="copy",
                label="the same recording",
                **_placed(channel, f, copies[f.match.path][2], scope.exclude_ids),
            )
            if f.match.path in copies
            else f
            for f in found
        ]
    out = results(fuse({channel.name: found}, {channel.name: 1.0}, k))
    out.example, out.filters = True, scope.filters  # nothing was said: "no good match" says the example
    out.note = getattr(same, "note", "")  # the copy finder's word on the example (too short to compare)
    return out


def _placed(channel, f, span: tuple[float, float] | None, left_out: frozenset = frozenset()) -> dict:
    """A copy's place in the file it is a copy of (an excerpt's, or the whole file): its time range, and the stored
    window that overlaps it most for "more like this" (not the sound channel's nearest window, which can lie
    elsewhere in the file), never one of the windows ``left_out`` (a "more like this" search's own segment)."""
    if span is None:
        return {}
    windows = [w for w in channel.store.file_records(f.match.path) if w.id not in left_out]
    overlap = [min(span[1], w.metadata["end_s"]) - max(span[0], w.metadata["start_s"]) for w in windows]
    best = windows[max(range(len(windows)), key=overlap.__getitem__)].id if windows else f.similar_id
    return {"span": (round(span[0], 3), round(span[1], 3)), "similar_id": best}  # ms, as the index's times


def segment(channel, segment_id: str, filters: Filters | None = None) -> tuple[np.ndarray, dict] | None:
    """A stored segment's vector and metadata, or None when there is none within ``filters``' folders (a segment
    outside the caller's folders does not exist for the caller)."""
    got = channel.segment(segment_id)
    visible = Filters(folder=filters.folder, folders=filters.folders) if filters is not None else None
    return got if got is not None and accepts(visible, got[1]) else None


def similar(
    channel,
    segment_id: str,
    k: int,
    filters: Filters | None,
    same_file: bool,
    same: Callable[[str], Callable[[list[str]], Mapping[str, Copy]] | None] | None = None,
) -> Results:
    """ "More like this": the files that sound like a stored segment, never the segment itself, and other segments
    of its file only with ``same_file``."""
    got = segment(channel, segment_id, filters)
    if got is None:
        raise InputError(f"No segment {segment_id!r} in the index; take ids from search results")
    vectors, metadata = got
    exclude_paths = frozenset() if same_file else frozenset({metadata["path"]})
    scope = Scope(filters, exclude_paths=exclude_paths, exclude_ids=frozenset({segment_id}))
    return by_example(channel, vectors, k, scope, same(metadata["path"]) if same is not None else None)


def timeline(channels, path: str, text: str) -> list[Moment]:
    """Each window's and each utterance's cosine with a text query, scaled within the file and channel to 0-1
    (the best stretch is 1), for a strip under a long file."""
    return [m for channel in channels.answering() for m in channel.moments(os.path.abspath(path), text)]


def changes(before: Sequence, after: Sequence) -> str:
    """What feedback changed in a ranking, in words: "2 new in the top 10, 1 left out, 3 moved up"."""
    old = [h.path for h in before]
    new = [h.path for h in after]
    added = sum(p not in old for p in new)
    gone = sum(p not in new for p in old)
    up = sum(p in old and i < old.index(p) for i, p in enumerate(new))
    parts = [
        f"{added} new in the top {len(new)}" if added else "",
        f"{gone} left out" if gone else "",
        f"{up} moved up" if up else "",
    ]
    return ", ".join(p for p in parts if p) or "the same results"
