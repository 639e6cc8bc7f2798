"""Fusing the channels' files by their evidence into one ranked list of hits. Pure: no model, no store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import InputError
from ..types import Hit
from .calibration import Found, strength
from .explain import explain

CLIP_S = 10.0  # the time range shown for a file found only by whole-file text (its name, tags or description)


def fuse(found: Mapping[str, Sequence[Found]], weights: Mapping[str, float], k: int) -> list[Hit]:
    """The top ``k`` files by their weighted evidence summed over channels, as :class:`Hit`.

    ``found`` holds each channel's files (one :class:`Found` per file). The time range follows the channel that
    carried the hit (the largest weighted evidence): where the words were said, or the best CLAP window.
    """
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
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
    return [_hit(rank, -neg, by_channel, weights) for rank, (neg, _, _, by_channel) in enumerate(ranked[:k], 1)]


def _hit(rank: int, total: float, by_channel: dict[str, Found], weights: Mapping[str, float]) -> Hit:
    clap, text = by_channel.get("clap"), by_channel.get("text")
    first = (clap or text).match
    duration_s = float(first.metadata["duration_s"])
    carrier = max(by_channel, key=lambda c: (weights[c] * by_channel[c].evidence, c == "clap"))
    start_s, end_s = _time_range(by_channel[carrier], clap, duration_s)
    scores = {c: float(f.match.score if f.cosine is None else f.cosine) for c, f in by_channel.items()
              if f.leg != "words" or f.cosine is not None}  # fmt: skip
    return Hit(
        rank=rank,
        path=first.path,
        start_s=start_s,
        end_s=end_s,
        score=round(strength(total), 6),
        segment_id=clap.match.id if clap is not None else None,
        duration_s=duration_s,
        scores=scores,
        text=text.match.document if text is not None else None,
        text_kind=text.match.metadata.get("kind") if text is not None else None,
        text_start_s=float(text.match.metadata["start_s"]) if text is not None else None,
        text_end_s=float(text.match.metadata["end_s"]) if text is not None else None,
        strengths={c: round(strength(f.evidence), 6) for c, f in by_channel.items()},
        why=explain(by_channel, carrier),
    )


def _time_range(carrier: Found, clap: Found | None, duration_s: float) -> tuple[float, float]:
    """Where the carrying channel matched: spoken words' times, a CLAP window, or the file's first seconds."""
    m = carrier.match.metadata
    if carrier.leg != "clap" and m.get("kind") == "speech":
        return float(m["start_s"]), min(float(m["end_s"]), duration_s)
    if clap is not None:
        return float(clap.match.metadata["start_s"]), float(clap.match.metadata["end_s"])
    return 0.0, min(duration_s, CLIP_S)
