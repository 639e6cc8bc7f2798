"""Personal relevance judgements: the 👍 and 👎 a user gives results, kept as qrels that ``audioret eval --qrels``
scores, so that a user can measure which settings (channel weights, models, hop) work best on their own library
and their own idea of what a query should find.

Each vote is one JSON line in ``judgements.jsonl`` in the data directory: the query as typed, the file, 1 (👍) or
0 (👎), and when. A file's latest vote for a query counts. Queries are compared with their spaces and case
normalised. A query with no 👍 has nothing to find and is not scored; a 👎 is kept as judged not relevant, which
R@k, MRR and mAP treat as they treat any file not marked relevant. The app saves the votes of a local page, never
those of a public page's visitors; the CLI saves ``--like`` / ``--unlike``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from .errors import InputError, PathNotFound

FILE_NAME = "judgements.jsonl"


def query_id(text: str) -> str:
    """The key a query's judgements share: its words, lower case, single-spaced."""
    return " ".join(text.lower().split())


def record(
    path: str | os.PathLike,
    query: str,
    liked: Sequence[str] = (),
    unliked: Sequence[str] = (),
    when: float | None = None,
) -> int:
    """Appends a vote per file (1 for ``liked``, 0 for ``unliked``) for ``query``; returns how many."""
    if not query_id(query) or not (liked or unliked):
        return 0
    when = time.time() if when is None else when
    lines = [
        json.dumps(
            {"query": query.strip(), "file": str(f), "relevance": rel, "time": round(when, 3)}, ensure_ascii=False
        )
        for rel, files in ((1, liked), (0, unliked))
        for f in files
    ]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


def load(path: str | os.PathLike) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """``(queries, qrels)``: each judged query's text by its id, and ``{query id: {file: relevance}}`` with each
    file's latest vote, only for queries with at least one relevant file."""
    path = Path(path)
    if not path.is_file():
        raise PathNotFound(path, "no judgements yet: mark results 'Good match' or 'Not this' in the app, or use --like")
    queries: dict[str, str] = {}
    votes: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                vote = json.loads(line)
                qid, file, relevance = query_id(vote["query"]), str(vote["file"]), int(vote["relevance"])
            except (ValueError, KeyError, TypeError):
                raise InputError(
                    f"{path}, line {n}: not a judgement; each line is "
                    '{"query": ..., "file": ..., "relevance": 0 or 1}'
                ) from None
            queries.setdefault(qid, vote["query"])
            votes.setdefault(qid, {})[file] = relevance
    qrels = {q: v for q, v in votes.items() if any(r > 0 for r in v.values())}
    return {q: queries[q] for q in qrels}, qrels
