"""Ranking files for a query: nearest records per channel, best record per file, then rank fusion.

Each channel (CLAP audio segments, the text channel's passages) is searched on its own; each file is represented
by its best-matching record, and files are ranked by that record's cosine similarity. The channels' file rankings
are combined by weighted reciprocal-rank fusion (RRF, Cormack et al. 2009), which needs no calibration between
the two models' score scales: CLAP's text-audio cosines and MiniLM's text-text cosines live on different scales.
Text-channel records below ``TEXT_MIN_SCORE`` are dropped before fusion: a text match that weak is noise (every
file has a name), and letting it in would let the text channel reorder sound queries it knows nothing about.
See docs/BENCHMARKS.md ("Fusion") for the measurement behind both choices.

Folder filters are applied after the vector search (Chroma's metadata filters have no prefix match), so the search
widens until it has enough files or has seen the whole collection.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .store import SegmentMatch, Store, segment_id

RRF_K = 60  # the constant of reciprocal-rank fusion; 60 is the value of the original paper and common practice
TEXT_MIN_SCORE = 0.3  # all-MiniLM-L6-v2 cosine below which a passage is not taken as a match
CLIP_S = 10.0  # the time range shown for a file found only by whole-file text (its name, tags or description)


@dataclass(frozen=True)
class Hit:
    """One ranked file, the time range that matched, and how each channel scored it."""

    rank: int  # 1-based
    path: str
    start_s: float  # the matching time range in the file
    end_s: float
    score: float  # one channel: its cosine similarity; several: fused RRF score in (0, 1], 1 = first in all
    segment_id: str | None  # the file's best CLAP segment: pass to Library.similar() for "more like this"
    duration_s: float  # the whole file's
    scores: dict[str, float] = field(default_factory=dict)  # channel -> cosine of the file's best record
    text: str | None = None  # the text channel's matching passage: transcribed words, name, tags or description
    text_kind: str | None = None  # "speech", "name", "tags" or "sidecar"
    text_start_s: float | None = None  # where the matching words are (whole file for name, tags and sidecar)
    text_end_s: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def clock(seconds: float) -> str:
    """A time in a file as ``m:ss.s`` (``h:mm:ss.s`` from an hour on)."""
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


@dataclass(frozen=True)
class Filters:
    """Restrict results to a folder (and its subfolders), file extensions and/or a file duration range."""

    folder: str | None = None
    extensions: tuple[str, ...] | None = None  # without dots, lower case: ("wav", "flac")
    min_duration_s: float | None = None
    max_duration_s: float | None = None

    def __post_init__(self):
        if self.folder is not None:
            object.__setattr__(self, "folder", os.path.abspath(self.folder))
        if self.extensions is not None:
            object.__setattr__(self, "extensions", tuple(e.lower().lstrip(".") for e in self.extensions))

    def where(self) -> dict | None:
        """The part Chroma can filter on: extension and duration."""
        clauses = []
        if self.extensions:
            clauses.append({"ext": {"$in": list(self.extensions)}})
        if self.min_duration_s is not None:
            clauses.append({"duration_s": {"$gte": float(self.min_duration_s)}})
        if self.max_duration_s is not None:
            clauses.append({"duration_s": {"$lte": float(self.max_duration_s)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, metadata: dict) -> bool:
        if self.folder is None:
            return True
        path = metadata["path"]
        return path.startswith(self.folder.rstrip(os.sep) + os.sep)


def rank_files(
    store: Store,
    queries: np.ndarray,
    n_files: int,
    filters: Filters | None = None,
    exclude_ids: Collection[str] = (),
    exclude_paths: Collection[str] = (),
    min_score: float | None = None,
) -> list[SegmentMatch]:
    """Each file's best record for one or more query vectors (shape (n, dim) or (dim,)), best file first.

    With several query vectors (the windows of an example recording), each record scores its best similarity
    to any of them. At most ``n_files`` files; records scoring below ``min_score`` are left out.

    A record's file is read from its id (``<hash of the path>-<index>``, see :func:`segment_id`), so the best
    record per file is picked from ids and scores alone and only the winners' metadata is fetched. A folder
    filter is checked on the path, so then the metadata comes with every candidate.
    """
    queries = np.atleast_2d(np.asarray(queries, np.float32))
    filters = filters or Filters()
    excluded_files = {segment_id(p, 0).rsplit("-", 1)[0] for p in exclude_paths}
    n = max(4 * n_files, 32)
    while True:
        where = filters.where()
        if filters.folder is None:
            results = [[(i, score, None) for i, score in scored] for scored in store.query_ids(queries, n, where)]
        else:
            results = [[(m.id, m.score, m) for m in matches] for matches in store.query(queries, n, where)]
        best: dict[str, tuple] = {}  # file key -> ((score, -index, id), match or None)
        for scored in results:
            for i, score, match in scored:
                key, index = i.rsplit("-", 1)
                outside = match is not None and not filters.accepts(match.metadata)
                if i in exclude_ids or key in excluded_files or outside:
                    continue
                candidate = (score, -int(index), i)
                if key not in best or candidate > best[key][0]:
                    best[key] = (candidate, match)
        below = min_score is not None and any(score < min_score for scored in results for _, score, _ in scored)
        exhausted = all(len(scored) < n for scored in results)  # every record was returned
        if len(best) >= n_files or exhausted or below:
            break
        n *= 4
    chosen = sorted(best.values(), key=lambda b: b[0], reverse=True)
    if min_score is not None:
        chosen = [c for c in chosen if c[0][0] >= min_score]
    chosen = chosen[: n_files + 8]  # a few more than needed, so that ties at the cut are broken by path
    if filters.folder is None:
        matches = store.matches([(i, score) for (score, _, i), _ in chosen])
    else:
        matches = [m for _, m in chosen]
    return sorted(matches, key=lambda m: (-m.score, m.metadata["path"], m.metadata["start_s"]))[:n_files]


def fuse(rankings: Mapping[str, Sequence[SegmentMatch]], weights: Mapping[str, float], k: int) -> list[Hit]:
    """Weighted reciprocal-rank fusion of per-channel file rankings into the top ``k`` :class:`Hit`.

    A file's fused score is the sum over channels of ``weight / (RRF_K + rank)``, divided by its maximum
    (``sum(weights) / (RRF_K + 1)``), so 1.0 means first in every channel. When only one channel has results the
    score is that channel's cosine similarity. Channels with weight 0 are ignored. Pure: no model, no store.

    The time range is the CLAP segment's, unless the text channel contributes more and matched spoken words:
    then it is where those words are.
    """
    active = {c: list(r) for c, r in rankings.items() if weights.get(c, 0) > 0 and len(r)}
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    per_file: dict[str, dict[str, tuple[int, SegmentMatch]]] = {}
    for channel, ranking in active.items():
        for rank, match in enumerate(ranking, 1):
            per_file.setdefault(match.metadata["path"], {})[channel] = (rank, match)
    norm = sum(weights[c] for c in active) / (RRF_K + 1)

    def contribution(channel: str, rank: int) -> float:
        return weights[channel] / (RRF_K + rank)

    scored = []
    for path, found in per_file.items():
        if len(active) == 1:
            score = next(iter(found.values()))[1].score
        else:
            score = sum(contribution(c, r) for c, (r, _) in found.items()) / norm
        best_rank = min(r for r, _ in found.values())
        scored.append((-score, best_rank, path, found))
    scored.sort(key=lambda item: item[:3])

    hits = []
    for i, (neg_score, _, path, found) in enumerate(scored[:k]):
        clap_rank, clap = found.get("clap", (None, None))
        text_rank, text = found.get("text", (None, None))
        duration_s = float((clap or text).metadata["duration_s"])
        text_leads = text is not None and (clap is None or contribution("text", text_rank) > contribution("clap", clap_rank))
        start_s, end_s = _time_range(clap, text, text_leads, duration_s)
        hits.append(
            Hit(
                rank=i + 1,
                path=path,
                start_s=start_s,
                end_s=end_s,
                score=float(-neg_score),
                segment_id=clap.id if clap is not None else None,
                duration_s=duration_s,
                scores={c: float(m.score) for c, (_, m) in found.items()},
                text=text.document if text is not None else None,
                text_kind=text.metadata.get("kind") if text is not None else None,
                text_start_s=float(text.metadata["start_s"]) if text is not None else None,
                text_end_s=float(text.metadata["end_s"]) if text is not None else None,
            )
        )
    return hits


def _time_range(clap, text, text_leads: bool, duration_s: float) -> tuple[float, float]:
    """Where spoken words matched, if the text channel leads; else the CLAP segment; else the file's start."""
    if text_leads and text.metadata.get("kind") == "speech":
        return float(text.metadata["start_s"]), float(text.metadata["end_s"])
    if clap is not None:
        return float(clap.metadata["start_s"]), float(clap.metadata["end_s"])
    return 0.0, min(duration_s, CLIP_S)


def search_vectors(
    store: Store,
    queries: np.ndarray,
    k: int = 10,
    filters: Filters | None = None,
    exclude_ids: Collection[str] = (),
    exclude_paths: Collection[str] = (),
) -> list[Hit]:
    """The top ``k`` files of the CLAP store for one or more query vectors (shape = (n, dim) or (dim,))."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranking = rank_files(store, queries, k, filters, exclude_ids, exclude_paths)
    return fuse({"clap": ranking}, {"clap": 1.0}, k)
