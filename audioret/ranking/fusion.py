"""Fusing the channels' files by their evidence into one ranked list of hits. Pure: no model, no store.

Each channel hands in its files as :class:`Found`: the file's best record, the evidence it carries (nats, see
:mod:`audioret.ranking.calibration`) and what the channel adds to a hit (the stretch that matched, a segment for
"more like this", what it found in words). A file's evidence adds up over the channels, with their weights; fusion
knows no channel by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..render import strength_word
from ..store.records import SegmentMatch, tags_of
from ..types import Hit
from .calibration import MATCH_BEYOND, match_evidence, match_evidences, strength
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
    ten reaches in some channel that could reach it by chance (ln 10 nats for one, 2.97 for two). A file's evidence
    against unrelated queries adds up over the channels with a say for it (:func:`null.say`); where none has one, it
    is the best channel's. A channel at chance for a file had added its 0.1-0.7 nats there, moving a talk the text
    channel found past the right one, or over the line (docs/BENCHMARKS.md, "A channel at chance adds nothing").
    """
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    order = {channel: i for i, channel in enumerate(found)}
    per_file: dict[str, dict[str, Found]] = {}
    # each file's weighted say and evidence summed, its beyond summed over the channels with a say for it, its best
    # cosine, and its largest weighted beyond (what it shows where no channel has a say)
    sums: dict[str, list[float]] = {}
    chances = 0.0  # the channels' chances (each one's most), for the match line
    for channel, items in found.items():
        weight = weights.get(channel, 0)
        if weight <= 0 or not items:
            continue
        chances += max([f.chance for f in items])
        for f in items:  # one pass, a file's channels in the registry's order
            path, cosine, beyond = f.match.metadata["path"], f.match.score, weight * f.against_unrelated
            row = sums.get(path)
            if row is None:
                per_file[path] = {channel: f}
                sums[path] = [weight * f.said, weight * f.evidence, beyond if f.said > 0 else 0.0, cosine, beyond]
            else:
                per_file[path][channel] = f
                row[0] += weight * f.said
                row[1] += weight * f.evidence
                if f.said > 0:
                    row[2] += beyond
                if cosine > row[3]:
                    row[3] = cosine
                if beyond > row[4]:
                    row[4] = beyond
    if not sums:
        return []
    line = match_line(chances)  # what an unrelated query reaches in one channel of those that could by chance
    paths = list(sums)
    said, evidence, beyond, cosine, alone = np.array(list(sums.values()), np.float64).T
    beyond = np.where(said > 0, beyond, alone)  # a channel at chance for a file adds nothing to one with a say
    shown = match_evidences(said, beyond, evidence, line)  # the score shown first, so ranks are in score order
    by_path = np.empty(len(paths), np.int64)  # the last key: each path's place in their order
    by_path[sorted(range(len(paths)), key=paths.__getitem__)] = np.arange(len(paths))
    top = np.lexsort((by_path, -cosine, -evidence, -said, -shown))[:k].tolist()
    return [_hit(rank, per_file[paths[i]], weights, order, line, shown.item(i)) for rank, i in enumerate(top, 1)]


def _hit(
    rank: int,
    by_channel: dict[str, Found],
    weights: Mapping[str, float],
    order: Mapping[str, int],
    line: float,
    total: float,
) -> Hit:
    founds = list(by_channel.values())
    first = founds[0].match
    duration_s = float(first.metadata["duration_s"])
    if len(founds) == 1:
        carrier = next(iter(by_channel))
    else:
        carrier = max(
            by_channel,
            key=lambda c: (weights[c] * by_channel[c].said, weights[c] * by_channel[c].evidence, -order[c]),
        )
    start_s, end_s = _time_range(by_channel[carrier], founds, duration_s)
    passage = segment_id = None
    tagged = first.metadata  # the first record that holds the file's tags, else the first
    for f in founds:
        m = f.match
        if passage is None and m.document is not None:
            passage = m
        if segment_id is None and f.similar_id is not None:
            segment_id = f.similar_id
        if "tags_sig" in m.metadata and "tags_sig" not in tagged:
            tagged = m.metadata
    alone = {c: strength(shown(f, line)) for c, f in by_channel.items()}  # each channel's, on this search's line
    return Hit(
        rank=rank,
        path=first.path,
        start_s=start_s,
        end_s=end_s,
        score=round(strength(total), 6),
        segment_id=segment_id,
        duration_s=duration_s,
        scores={c: min(float(f.cosine), 1.0) for c, f in by_channel.items() if f.cosine is not None},  # float32's 1+ulp
        text=passage.document if passage is not None else None,
        text_kind=passage.metadata.get("kind") if passage is not None else None,
        text_start_s=float(passage.metadata["start_s"]) if passage is not None else None,
        text_end_s=float(passage.metadata["end_s"]) if passage is not None else None,
        strengths={c: round(s, 6) for c, s in alone.items()},
        why=explain(by_channel, carrier, alone),
        tags=tags_of(tagged),
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
    for channel in [carrier, *(c for c in by_channel if c != carrier)]:
        f = by_channel[channel]
        word = strength_word(alone[channel])
        parts.append(f"{f.label}: {f.quote} ({word})" if f.quote else f"{f.label}: {word}")
    return " · ".join(parts)


def shown(f: Found, line: float = MATCH_BEYOND) -> float:
    """A channel's evidence for a file as shown (its strength and word): as if it were the only channel, against the
    line of the search it is in (:func:`null.match_line` of the channels' chances), so that no channel says "good"
    of a file whose score is under 0.5 (a search of two informative channels has the higher line of two chances)."""
    return match_evidence(f.said, f.against_unrelated, f.evidence, line)
