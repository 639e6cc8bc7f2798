"""Each file's best record among scored records."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from ..store.records import parse_id


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
