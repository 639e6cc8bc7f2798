"""Fusing the channels' files by their evidence into one ranked list of hits. Pure: no model, no store.

Each channel hands in its files as :class:`Found`: the file's best record, the evidence it carries (nats, see
:mod:`audioret.ranking.calibration`) and what the channel adds to a hit (the stretch that matched, a segment for
"more like this", what it found in words). A file's evidence adds up over the channels, with their weights; fusion
knows no channel by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..render import strength_word
from ..store.records import SegmentMatch, tags_of
from ..types import Hit
from .calibration import strength

CLIP_S = 10.0  # the time range shown for a file found only by whole-file text (its name, tags or description)


@dataclass(frozen=True)
class Found:
    """A channel's best record of one file, the evidence it carries, and what it adds to the hit."""

    match: SegmentMatch
    evidence: float  # nats
    leg: str  # how the channel found it: "sound" ("copy": the same recording); "meaning" or "words" (text)
    cosine: float | None  # the channel's cosine for the file; None when it found the file by other means alone
    span: tuple[float, float] | None = None  # the stretch that matched (s); None: the whole file (a name, tags)
    similar_id: str | None = None  # a stored segment that "more like this" (Library.similar) starts from
    label: str = ""  # what the channel found, in words: "sounds like", 'said at 0:12-0:16', "name"
    quote: str = ""  # the text it found, quoted, when it found text
    words: tuple[str, ...] = ()  # the query words found in that text


def fuse(found: Mapping[str, Sequence[Found]], weights: Mapping[str, float], k: int) -> list[Hit]:
    """The top ``k`` files by their weighted evidence summed over channels, as :class:`Hit`.

    Args:
        found: each channel's files (one :class:`Found` per file), by channel name, in the registry's order: on a
            tie, the earlier channel carries the hit.
        weights: each channel's weight; a channel weighted 0 is left out.
        k: how many hits.

    The time range follows the channel that carried the hit (the largest weighted evidence): its stretch, else the
    first stretch another channel found, else the file's first seconds.
    """
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    order = {channel: i for i, channel in enumerate(found)}
    per_file: dict[str, dict[str, Found]] = {}
    for channel, items in found.items():
        if weights.get(channel, 0) <= 0:
            continue
        for f in items:
            per_file.setdefault(f.match.path, {})[channel] = f
    ranked = []
    for path, by_channel in per_file.items():
        total = sum(weights[c] * f.evidence for c, f in by_channel.items())
        best_cosine = max(f.match.score for f in by_channel.values())
        ranked.append((-total, -best_cosine, path, by_channel))
    ranked.sort(key=lambda r: r[:3])
    return [_hit(rank, -neg, by_channel, weights, order) for rank, (neg, _, _, by_channel) in enumerate(ranked[:k], 1)]


def _hit(
    rank: int, total: float, by_channel: dict[str, Found], weights: Mapping[str, float], order: Mapping[str, int]
) -> Hit:
    founds = list(by_channel.values())
    first = founds[0].match
    duration_s = float(first.metadata["duration_s"])
    carrier = max(by_channel, key=lambda c: (weights[c] * by_channel[c].evidence, -order[c]))
    start_s, end_s = _time_range(by_channel[carrier], founds, duration_s)
    passage = next((f.match for f in founds if f.match.document is not None), None)
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
        strengths={c: round(strength(f.evidence), 6) for c, f in by_channel.items()},
        why=explain(by_channel, carrier),
        tags=tags_of(max((f.match.metadata for f in founds), key=lambda m: "tags_sig" in m)),
    )


def _time_range(carrier: Found, founds: Sequence[Found], duration_s: float) -> tuple[float, float]:
    """Where the carrying channel matched (spoken words' times, a window), else the first stretch another channel
    found, else the file's first seconds."""
    span = carrier.span or next((f.span for f in founds if f.span is not None), None)
    if span is not None:
        return float(span[0]), min(float(span[1]), duration_s)
    return 0.0, min(duration_s, CLIP_S)


def explain(by_channel: Mapping[str, Found], carrier: str) -> str:
    """Why a file matched, carrying channel first: ``said at 0:12-0:16: "…" (strong) · sounds like: weak``."""
    parts = []
    for channel in sorted(by_channel, key=lambda c: c != carrier):
        f = by_channel[channel]
        word = strength_word(strength(f.evidence))
        parts.append(f"{f.label}: {f.quote} ({word})" if f.quote else f"{f.label}: {word}")
    return " · ".join(parts)
