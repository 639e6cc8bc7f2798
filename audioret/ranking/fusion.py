"""Fusing the channels' files by their evidence into one ranked list of hits. Pure: no model, no store.

Each channel hands in its files as :class:`Found`: the file's best record, the evidence it carries (nats, see
:mod:`audioret.ranking.calibration`) and what the channel adds to a hit (the stretch that matched, a segment for
"more like this", what it found in words). A file's evidence adds up over the channels, with their weights; fusion
knows no channel by name.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import InputError
from ..render import strength_word
from ..store.records import SegmentMatch, tags_of
from ..types import Hit
from .calibration import MATCH_BEYOND, match_evidence, strength
from .null import match_line, say

CLIP_S = 10.0  # the time range shown for a file found only by whole-file text (its name, tags or description)


@dataclass(slots=True)
class Found:
    """A channel's best record of one file, the evidence it carries, and what it adds to the hit. Not frozen: a
    frozen dataclass sets each field through ``object.__setattr__``, 5 us a file against 1 us, which a query's
    hundred files made a tenth of its evidence and fusion (docs/BENCHMARKS.md, "Fusion"); nothing changes one after
    it is made (``dataclasses.replace`` makes another)."""

    match: SegmentMatch
    evidence: float  # nats, for ranking
    leg: str  # how the channel found it: "sound" ("copy": the same recording); "meaning" or "words" (text)
    cosine: float | None  # the channel's cosine for the file; None when it found the file by other means alone
    span: tuple[float, float] | None = None  # the stretch that matched (s); None: the whole file (a name, tags)
    similar_id: str | None = None  # a stored segment that "more like this" (Library.similar) starts from
    label: str = ""  # what the channel found, in words: "sounds like", 'said at 0:12-0:16', "name"
    quote: str = ""  # the text it found, quoted, when it found text
    words: tuple[str, ...] = ()  # the query words found in that text
    beyond: float | None = None  # nats against what unrelated queries reach here; None: ``evidence`` (words, copies)
    chance: float = 1.0  # how far the channel's chance tops count towards the match line (null.informative here)
    said: float = field(init=False, repr=False, compare=False)  # what the evidence adds to the fused sum (null.say)

    def __post_init__(self):
        self.said = say(float(self.evidence))  # once: fusion reads it for every file

    @property
    def against_unrelated(self) -> float:
        return self.evidence if self.beyond is None else self.beyond


def fuse(found: Mapping[str, Sequence[Found]], weights: Mapping[str, float], k: int) -> list[Hit]:
    """The top ``k`` files by their score as shown (:func:`calibration.match_evidence`), then their weighted say
    summed over channels, then their evidence, then their best cosine, as :class:`Hit`. Ordered by the say alone,
    a file found by its words could come above one that shows a higher score; by the score shown, ranks are in
    score order, and R@1 and MRR are the same on both evaluation sets (docs/BENCHMARKS.md, "Fusion").

    Args:
        found: each channel's files (one :class:`Found` per file), by channel name, in the registry's order: on a
            tie, the earlier channel carries the hit.
        weights: each channel's weight; a channel weighted 0 is left out.
        k: how many hits.

    The time range follows the channel that carried the hit (the largest weighted evidence): its stretch, else the
    first stretch of another channel with a say (one at chance found nothing there), else the file's first seconds.
    A hit is a match (score 0.5) at :func:`null.match_line` of the channels' chances: what one unrelated query in
    ten reaches in some channel that could reach it by chance (ln 10 nats for one, 2.97 for two).
    """
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    order = {channel: i for i, channel in enumerate(found)}
    per_file: dict[str, dict[str, Found]] = {}
    totals: dict[str, tuple[float, float, float]] = {}
    cosines: dict[str, float] = {}
    for channel, items in found.items():
        weight = weights.get(channel, 0)
        if weight <= 0:
            continue
        for f in items:  # one pass: each file's channels, its weighted say and evidence summed, its best cosine
            path, cosine = f.match.path, f.match.score
            per_file.setdefault(path, {})[channel] = f
            said, evidence, beyond = totals.get(path, (0.0, 0.0, 0.0))
            totals[path] = (
                said + weight * f.said,
                evidence + weight * f.evidence,
                beyond + weight * f.against_unrelated,
            )
            if cosine > cosines.get(path, -math.inf):
                cosines[path] = cosine
    # a match beats what an unrelated query reaches in one channel of those that could reach it by chance
    line = match_line(
        sum(max(f.chance for f in items) for c, items in found.items() if items and weights.get(c, 0) > 0)
    )

    def key(path: str) -> tuple:  # the score shown first, so ranks are in score order
        said, evidence, beyond = totals[path]
        return -match_evidence(said, beyond, evidence, line), -said, -evidence, -cosines[path], path

    ranked = heapq.nsmallest(k, map(key, per_file))
    return [_hit(rank, per_file[r[-1]], weights, order, line) for rank, r in enumerate(ranked, 1)]


def _hit(
    rank: int, by_channel: dict[str, Found], weights: Mapping[str, float], order: Mapping[str, int], line: float
) -> Hit:
    founds = list(by_channel.values())
    first = founds[0].match
    duration_s = float(first.metadata["duration_s"])
    carrier = max(
        by_channel, key=lambda c: (weights[c] * by_channel[c].said, weights[c] * by_channel[c].evidence, -order[c])
    )
    total = match_evidence(
        sum(weights[c] * f.said for c, f in by_channel.items()),
        sum(weights[c] * f.against_unrelated for c, f in by_channel.items()),
        sum(weights[c] * f.evidence for c, f in by_channel.items()),
        line,
    )
    start_s, end_s = _time_range(by_channel[carrier], founds, duration_s)
    passage = next((f.match for f in founds if f.match.document is not None), None)
    alone = {c: strength(shown(f, line)) for c, f in by_channel.items()}  # each channel's, on this search's line
    return Hit(
        rank=rank,
        path=first.path,
        start_s=start_s,
        end_s=end_s,
        score=round(strength(total), 6),
        segment_id=next((f.similar_id for f in founds if f.similar_id is not None), None),
        duration_s=duration_s,
        scores={c: float(f.cosine) for c, f in by_channel.items() if f.cosine is not None},
        text=passage.document if passage is not None else None,
        text_kind=passage.metadata.get("kind") if passage is not None else None,
        text_start_s=float(passage.metadata["start_s"]) if passage is not None else None,
        text_end_s=float(passage.metadata["end_s"]) if passage is not None else None,
        strengths={c: round(s, 6) for c, s in alone.items()},
        why=explain(by_channel, carrier, alone),
        tags=tags_of(max((f.match.metadata for f in founds), key=lambda m: "tags_sig" in m)),
    )


def _time_range(carrier: Found, founds: Sequence[Found], duration_s: float) -> tuple[float, float]:
    """Where the carrying channel matched (spoken words' times, a window), else the first stretch another channel
    with a say found (a name matches the whole file: a window at chance would only be the least unlikely), else the
    file's first seconds."""
    span = carrier.span or next((f.span for f in founds if f.span is not None and f.said > 0), None)
    if span is not None:
        return float(span[0]), min(float(span[1]), duration_s)
    return 0.0, min(duration_s, CLIP_S)


def explain(by_channel: Mapping[str, Found], carrier: str, alone: Mapping[str, float]) -> str:
    """Why a file matched, carrying channel first: ``said at 0:12-0:16: "…" (strong) · sounds like: weak``
    (``alone``: each channel's strength as if it were the only one, on the search's line)."""
    parts = []
    for channel in sorted(by_channel, key=lambda c: c != carrier):
        f = by_channel[channel]
        word = strength_word(alone[channel])
        parts.append(f"{f.label}: {f.quote} ({word})" if f.quote else f"{f.label}: {word}")
    return " · ".join(parts)


def shown(f: Found, line: float = MATCH_BEYOND) -> float:
    """A channel's evidence for a file as shown (its strength and word): as if it were the only channel, against the
    line of the search it is in (:func:`null.match_line` of the channels' chances), so that no channel says "good"
    of a file whose score is under 0.5 (a search of two informative channels has the higher line of two chances)."""
    return match_evidence(f.said, f.against_unrelated, f.evidence, line)
