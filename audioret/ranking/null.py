"""What a channel's best answer looks like by chance, measured on this library. Pure: numpy in, numbers out.

A channel's evidence for a file is how surprising its score is for this query (:mod:`audioret.ranking.calibration`).
The surprise is measured against what the same channel answers, on this library, for everyday queries that have
nothing to do with the query (``REFERENCE_PROMPTS``: their best records, ``Background.tops``), not against a law
assumed for independent scores: the windows of one file, and files alike (a folder of voice memos, of kick
drums), move together, so a channel's best answer to an unrelated query is higher, and more variable, than the
best of ``n`` independent scores.

The chance law of a channel's top (:func:`fit_tops`) is a Gumbel law through two quantiles of the reference tops.
Which two is a trade, measured on two evaluation sets in docs/BENCHMARKS.md ("Fusion"): through the median and
the upper quartile, the chance tops of a sound channel whose answers are query-dependent noise stay chance (the
random-CLAP stress regime on the talks set: fused R@1 0.77 -> 0.88 against 0.90 for text alone), but a channel
that knows sound classes loses its evidence wherever some reference prompts lift a cluster of the library (the
stand-in CLAP: 0.90 -> 0.65 on the memos set's sound queries). The lower quantiles (10th and 25th percentiles)
keep the informative channel's evidence, so they are the default (TOP_QUANTILES).
"""

from __future__ import annotations

import math

import numpy as np

TOP_QUANTILES = (0.10, 0.25)


def fit_tops(tops: np.ndarray, quantiles: tuple[float, float] = TOP_QUANTILES) -> tuple[float, float]:
    """Location and scale of a Gumbel law through two quantiles of the tops. A standard Gumbel's quantile ``q``
    is ``-ln(-ln q)``."""
    lo, hi = np.quantile(np.asarray(tops, np.float64), quantiles)
    at = [-math.log(-math.log(q)) for q in quantiles]
    scale = max(float(hi - lo) / (at[1] - at[0]), 0.05)
    return float(lo) - at[0] * scale, scale
