"""Fusing the channels' file rankings into one list of hits. Pure: no model, no store.

Each channel ranks files by their best record. The channels' rankings are combined by weighted reciprocal-rank
fusion (RRF, Cormack et al. 2009), which needs no calibration between the two models' score scales: CLAP's
text-audio cosines and MiniLM's text-text cosines live on different scales. See docs/BENCHMARKS.md ("Fusion").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .errors import InputError
from .records import SegmentMatch
from .types import Hit

RRF_K = 60  # the constant of reciprocal-rank fusion; 60 is the value of the original paper and common practice
CLIP_S = 10.0  # the time range shown for a file found only by whole-file text (its name, tags or description)


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
        raise InputError(f"k must be at least 1, got {k}")
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
