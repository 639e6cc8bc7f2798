"""Why a file matched, in words: each channel's strength as "strong", "good" or "weak", and what it found."""

from __future__ import annotations

from collections.abc import Mapping

from ..render import time_range
from .calibration import Found, strength

STRONG_SCORE = 0.75  # a channel's strength from here on reads "strong"; from 0.5 "good", below "weak"


def strength_word(s: float) -> str:
    return "strong" if s >= STRONG_SCORE else "good" if s >= 0.5 else "weak"


def explain(by_channel: Mapping[str, Found], carrier: str) -> str:
    """Why a file matched, carrying channel first: ``said at 0:12-0:16: "…" (strong) · sounds like: weak``."""
    parts = []
    for channel in sorted(by_channel, key=lambda c: c != carrier):
        f = by_channel[channel]
        word = strength_word(strength(f.evidence))
        if f.leg == "clap":
            parts.append(f"sounds like: {word}")
            continue
        m, text = f.match.metadata, f.match.document or ""
        quoted = f'"{text[:90]}{"…" if len(text) > 90 else ""}"'
        where = f"said at {time_range(m['start_s'], m['end_s'])}" if m.get("kind") == "speech" else m.get("kind", "text")
        words = f" (words {', '.join(repr(w) for w in f.words)})" if f.leg == "words" and f.words else ""
        parts.append(f"{where}: {quoted}{words} ({word})")
    return " · ".join(parts)
