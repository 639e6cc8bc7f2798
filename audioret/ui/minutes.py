"""How long a shared page's upload is, as indexing it would find: the minutes a visitor's allowance is charged.

A header may say anything, and silence compresses to nothing (two hours of it are 180 kB of FLAC), so an upload
is measured by decoding it (:func:`audioret.audio.decoded_seconds`), no further than the allowance left; its
headers, which cost nothing to read, refuse an honest upload over the allowance first. A minute beyond 192-kHz
stereo costs its share of samples (:func:`cost`). What measuring costs: docs/RELIABILITY.md.
"""

from __future__ import annotations

from collections.abc import Sequence


def cost(sample_rate: int, channels: int) -> float:
    """How many minutes of the allowance one minute of a file costs: 1 up to 192-kHz stereo, more beyond, as its
    samples take longer to decode and resample (8 channels at 655 kHz: 14). Pure."""
    return max(1.0, sample_rate * channels / (2 * 192_000))


def headers(files: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Each file's ``(seconds its header says, its cost)``: ``(0, 1)`` where the header says nothing."""
    from ..audio import probe

    said = {}
    for f in files:
        try:
            info = probe(f)
            said[f] = (info.duration_s, cost(info.sample_rate, info.channels))
        except Exception:  # not audio after all: indexing fails it
            said[f] = (0.0, 1.0)
    return said


def measure_lengths(files: Sequence[str], at_most: float, costs: dict[str, float] | None = None) -> dict[str, float]:
    """Each file's seconds of audio as decoding finds them (:func:`audioret.audio.decoded_seconds`, at its
    :func:`cost`, from ``costs`` or its header), until their sum passes ``at_most``: a file of hours with a header
    of seconds, or silence compressed to nothing, is measured by what indexing it would cost, and no further than
    the allowance."""
    from ..audio import decoded_seconds

    costs = {f: c for f, (_, c) in headers(files).items()} if costs is None else costs
    lengths, total = {}, 0.0
    for f in files:
        weight = costs.get(f, 1.0)
        lengths[f] = weight * decoded_seconds(f, (at_most - total) / weight)
        total += lengths[f]
        if total > at_most:
            break
    return lengths
