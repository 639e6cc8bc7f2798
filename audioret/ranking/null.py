"""What a channel's best answer looks like by chance, measured on this library, and how much say a channel's
evidence has. Pure: numpy in, numbers out.

A channel's evidence for a file is how surprising its score is for this query (:mod:`audioret.ranking.calibration`).
The surprise is measured against what the same channel answers, on this library, for everyday queries that have
nothing to do with the query (``REFERENCE_PROMPTS``: their best records, ``Background.tops``), not against a law
assumed for independent scores. The windows of one file, and files alike (a folder of voice memos, of kick drums),
move together: an unrelated query that happens to lean towards such a cluster lifts all of it, so a channel's best
answer to unrelated queries is higher, and more variable, than the best of ``n`` independent scores. Two
decisions, each measured in docs/BENCHMARKS.md ("Fusion"):

1. The chance law of a channel's top (:func:`fit_tops`) is a Gumbel law through the reference tops' median and
   upper quartile. The upper half of the unrelated queries' tops is where a channel that answers with
   query-dependent noise puts its chance tops, so the law must go through it; above the upper quartile some
   reference prompts may truly match something in a library ("drums" in a library of drum loops): a sixth of
   them doing so moves the fit little; a quarter widens it, and true matches then carry less evidence.
2. A channel's say (:func:`say`) is the most its evidence can shift the odds that a file is a match: a surprisal
   ``e`` is a tail probability ``p = e^-e``, and no alternative makes such a ``p`` more than ``1 / (-e p ln p)``
   times likelier than chance (Sellke, Bayarri and Berger, 2001), so the say is ``e - 1 - ln e`` for ``e > 1``
   and nothing below. A chance top (about 0.7 nats, often 1-2) says nothing; a clear winner keeps most of its
   evidence. A channel whose top is chance cannot outvote one that found the words.
"""

from __future__ import annotations

import math

import numpy as np

TOP_QUANTILES = (0.5, 0.75)


def fit_tops(tops: np.ndarray, quantiles: tuple[float, float] = TOP_QUANTILES) -> tuple[float, float]:
    """Location and scale of a Gumbel law through two quantiles of the tops (TOP_QUANTILES: the median and the
    upper quartile). A standard Gumbel's quantile ``q`` is ``-ln(-ln q)``."""
    lo, hi = np.quantile(np.asarray(tops, np.float64), quantiles)
    at = [-math.log(-math.log(q)) for q in quantiles]
    scale = max(float(hi - lo) / (at[1] - at[0]), 0.05)
    return float(lo) - at[0] * scale, scale


def say(e) -> np.ndarray:
    """How far evidence ``e`` (a surprisal, nats) can at most shift the odds of a match, in nats:
    ``e - 1 - ln e`` above 1, else 0 (see the module docstring). Increasing, so it never reverses an order."""
    e = np.asarray(e, np.float64)
    safe = np.maximum(e, 1.0)
    return np.where(e > 1.0, safe - 1.0 - np.log(safe), 0.0)
