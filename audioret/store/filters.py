"""What :class:`~audioret.types.Filters` mean for a record: a Chroma ``where`` clause, and the same check in Python.

A file's tags are on every record of it, in every channel, as the list ``tags`` (:mod:`audioret.store.records`),
so a tag is filtered like an extension: ``$contains`` / ``$not_contains`` in the store, the same test here."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping

from ..types import Filters, Scope


def is_under(path: str, roots: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``roots`` or inside one of them (absolute paths, no prefix matching)."""
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def where(filters: Filters | None, only_paths: Collection[str] | None = None) -> dict | None:
    """The part of ``filters`` the store evaluates itself (extension, duration and tags), and ``only_paths``."""
    clauses = [{"path": {"$in": sorted(only_paths)}}] if only_paths is not None else []
    if filters is None:
        return clauses[0] if clauses else None
    if filters.extensions:
        clauses.append({"ext": {"$in": list(filters.extensions)}})
    if filters.min_duration_s is not None:
        clauses.append({"duration_s": {"$gte": float(filters.min_duration_s)}})
    if filters.max_duration_s is not None:
        clauses.append({"duration_s": {"$lte": float(filters.max_duration_s)}})
    clauses += [{"tags": {"$contains": t}} for t in filters.tags or ()]
    clauses += [{"tags": {"$not_contains": t}} for t in filters.exclude_tags or ()]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def accepts(filters: Filters | None, metadata: Mapping) -> bool:
    """Whether a record passes every filter (the store's part included)."""
    if filters is None:
        return True
    if filters.folder is not None and not is_under(metadata["path"], [filters.folder]):
        return False
    if filters.folders is not None and not is_under(metadata["path"], filters.folders):
        return False
    if filters.extensions and metadata.get("ext") not in filters.extensions:
        return False
    if filters.tags or filters.exclude_tags:
        tags = set(metadata.get("tags") or ())
        if not tags.issuperset(filters.tags or ()) or not tags.isdisjoint(filters.exclude_tags or ()):
            return False
    duration = float(metadata.get("duration_s", 0.0))
    if filters.min_duration_s is not None and duration < filters.min_duration_s:
        return False
    return filters.max_duration_s is None or duration <= filters.max_duration_s


def admits(scope: Scope, metadata: Mapping) -> bool:
    """Whether a record is within ``scope``: it passes the filters, and its file is kept and not left out (records
    left out by id are the nearest-file search's to drop)."""
    path = metadata["path"]
    if path in scope.exclude_paths or (scope.only_paths is not None and path not in scope.only_paths):
        return False
    return accepts(scope.filters, metadata)
