"""Each file's best record for a query: the search policy over one channel's store.

A channel's answer is a list of files, each represented by its best record. The nearest records are asked for by
id and score alone, each file's best is picked from those, and only the winners' metadata is fetched.

A :class:`~audioret.types.Filters` is checked here on the candidates' metadata, not by the store: Chroma evaluates a
``where`` in SQLite, which costs far more than the nearest-neighbour search itself at a large library
(docs/BENCHMARKS.md, "Scale"). The search widens until it has enough files or has seen every record; a filter that
few candidates pass (``RARE_FILTER``) goes to the store after all, which is then the faster way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import numpy as np

from ..store.filters import accepts, where
from ..store.records import SegmentMatch, file_key, parse_id
from ..types import Filters, Scope

# A filter is checked on the nearest candidates (with their metadata), widening as the files found so far say, as
# long as at least 1 in RARE_FILTER candidates passes and fewer than POST_FILTER_LIMIT were fetched; a rarer
# extension or duration goes to the store's own index, which is fast when few records match and slow when many do
# (docs/BENCHMARKS.md, "Scale").
POST_FILTER_LIMIT = 4096
RARE_FILTER = 40


def best_files(
    store,
    queries: np.ndarray,
    n_files: int,
    scope: Scope = Scope(),
    min_score: float | None = None,
    vectors: bool = False,
    documents: bool = False,
) -> list[SegmentMatch]:
    """Each file's best record in ``store`` for one or more query vectors, best file first.

    With several query vectors (the windows of an example recording), each record scores its best similarity to
    any of them.

    Args:
        store: a channel's :class:`~audioret.store.chroma.Store`.
        queries: float32, shape (n, dim) or (dim,).
        n_files: at most this many files.
        scope: the filters, and the files and records kept or left out.
        min_score: records scoring below this cosine are left out.
        vectors: each match carries its record's vector.
        documents: each match carries its record's text (a text channel's passages).

    Returns:
        One :class:`SegmentMatch` per file, best first; ties broken by path, then start.
    """
    queries = np.atleast_2d(np.asarray(queries, np.float32))
    if scope.empty:
        return []
    filters, exclude_ids = scope.filters, scope.exclude_ids
    excluded = {file_key(p, store.key) for p in scope.exclude_paths}
    filtered = filters is not None and filters.active
    clause, in_store = where(None, scope.only_paths), False
    known: dict[str, dict] = {}  # metadata fetched so far, by id
    n = max((16 if filtered else 4) * n_files, 32)  # ids alone are cheap
    while True:
        found = store.query_ids(queries, n, clause)
        exhausted = all(len(f) < n for f in found)  # every record was returned
        below = min_score is not None and any(score < min_score for f in found for _, score in f)
        if filtered:
            records, fetched = _passing(store, found, filters, n_files, exclude_ids, excluded, known)
        else:
            records, fetched = [(i, score, None) for f in found for i, score in f], 0
        best = best_per_file(records, exclude_ids, excluded)
        if len(best) >= n_files or exhausted or below:
            break
        if filtered and not in_store:
            rare = len(records) * RARE_FILTER < fetched or n >= POST_FILTER_LIMIT
            if rare and where(filters) is not None:  # a rare extension or duration: the store's index
                clause, in_store, n = where(filters, scope.only_paths), True, max(4 * n_files, 32)
                continue
            # as many more candidates as the files found so far say are needed, with a margin
            n = int(n * min(max(2.5 * n_files / max(len(best), 1), 2), 16))
            continue
        n *= 4
    # the filter fetched the winners' metadata; vectors and text it did not fetch
    return _winners(store, best, n_files, min_score, filtered and not vectors and not documents, vectors)


def _winners(store, best: dict, n_files: int, min_score, have_metadata: bool, vectors: bool) -> list[SegmentMatch]:
    """The ``n_files`` best of each file's best record, with their metadata (fetched unless it already was);
    ties are broken by path, then start."""
    chosen = sorted(best.values(), key=lambda b: b[0], reverse=True)
    if min_score is not None:
        chosen = [c for c in chosen if c[0][0] >= min_score]
    chosen = chosen[: n_files + 8]  # a few more than needed, so that ties at the cut are broken by path
    if have_metadata:
        found = [SegmentMatch(i, score, metadata) for (score, _, i), metadata in chosen]
    else:
        found = store.matches([(i, score) for (score, _, i), _ in chosen], vectors)
    return sorted(found, key=lambda m: (-m.score, m.metadata["path"], m.metadata["start_s"]))[:n_files]


def _passing(store, found, filters: Filters, n_files: int, exclude_ids, excluded, known: dict[str, dict]):
    """The candidates that pass ``filters``, best first, fetching metadata (which costs more than the search
    itself) only until ``n_files`` files pass: ``([(id, score, metadata)], records looked at)``."""
    scores: dict[str, float] = {}
    for f in found:  # several query vectors: each record's best score
        for i, score in f:
            if score > scores.get(i, -2.0):
                scores[i] = score
    order = sorted(scores.items(), key=lambda kv: -kv[1])
    passing: list[tuple[str, float, dict]] = []
    step, at = max(12 * n_files, 32), 0  # each call has a fixed cost and a cost per record: few, large calls
    while at < len(order):
        chunk = order[at : at + step]
        missing = [i for i, _ in chunk if i not in known]
        if missing:
            known.update(store.metadatas(missing))
        passing += [(i, score, known[i]) for i, score in chunk if i in known and accepts(filters, known[i])]
        at += len(chunk)
        if len(best_per_file(passing, exclude_ids, excluded)) >= n_files:
            break
    return passing, at


def best_per_file(
    scored: Iterable[tuple[str, float, dict | None]],
    exclude_ids: Collection[str] = (),
    exclude_files: Collection[str] = (),
) -> dict[str, tuple[tuple[float, int, str], dict | None]]:
    """Each file's best record among ``(id, score, metadata or None)``: file key -> ((score, -index, id), metadata).

    Ties go to the earlier record. Ids in ``exclude_ids`` and files whose key is in ``exclude_files`` are left out.
    """
    best: dict[str, tuple[tuple[float, int, str], dict | None]] = {}
    for record_id, score, metadata in scored:
        key, index = parse_id(record_id)
        if record_id in exclude_ids or key in exclude_files:
            continue
        candidate = (score, -index, record_id)
        if key not in best or candidate > best[key][0]:
            best[key] = (candidate, metadata)
    return best
