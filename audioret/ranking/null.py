"""What a channel's best answer looks like by chance, measured on this library. Pure: numpy in, numbers out.

A channel's evidence for a file is how surprising its score is for this query (:mod:`audioret.ranking.calibration`). The
surprise is measured against what the same channel answers, on this library, for everyday queries that have
nothing to do with it (``REFERENCE_PROMPTS``), not against a law assumed for independent scores: the windows of
one file, and files alike (a folder of voice memos, of kick drums), move together, so a channel's best answer to
an unrelated query is higher, and more variable, than the best of ``n`` independent scores. Three steps:

1. Each record is measured against itself (:func:`standardise`): its score for a query, less its mean score over
   the reference queries, in units of its spread over them. A record that scores high for every query (a hub),
   or a cluster of records that some queries lift together, then stands out only when this query lifts it more
   than unrelated queries do.
2. The chance law of a channel's top (:func:`fit_tops`) is fitted to the reference queries' tops in that same
   measure, through their median and 90th percentile: the whole law, not only its lower part, because a
   channel whose answers are query-dependent noise gives some unrelated queries high tops, and those are
   exactly what a query's top must beat. (Up to a tenth of the reference queries may truly match something in
   a library without moving the fit.)
3. A channel's say (:func:`say`) is the most its evidence can shift the odds that the file is a match: for a
   surprisal ``e`` (a tail probability ``p = e^-e``), at most ``1 / (-e p ln p)`` (Sellke, Bayarri and Berger,
   2001), so ``ln`` of it is ``e - 1 - ln e`` for ``e > 1`` and nothing below. A chance top (about 0.7 nats, often
   1-2) says nothing; a clear winner keeps most of its evidence. So a channel whose top is chance cannot outvote
   one that found the words.

The numbers behind each choice are in docs/BENCHMARKS.md ("Fusion").
"""

from __future__ import annotations

import math

import numpy as np

MIN_SPREAD_SHARE = 0.25  # a record's spread is at least this share of the channel's median spread
TOP_QUANTILES = (0.5, 0.9)
# The quantiles of a standard Gumbel law at TOP_QUANTILES: -ln(-ln q)
_GUMBEL_AT = tuple(-math.log(-math.log(q)) for q in TOP_QUANTILES)


def standardise(profiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each record's mean score over the reference queries and its spread (standard deviation, at least
    MIN_SPREAD_SHARE of the median one), from ``profiles`` of shape (references, records)."""
    profiles = np.asarray(profiles, np.float64)
    mean = profiles.mean(axis=0)
    spread = profiles.std(axis=0)
    floor = MIN_SPREAD_SHARE * float(np.median(spread)) if spread.size else 0.0
    return mean, np.maximum(spread, max(floor, 1e-6))


def measured(scores, mean, spread) -> np.ndarray:
    """Scores in each record's own measure: ``(score - mean) / spread`` (any broadcastable shapes)."""
    return (np.asarray(scores, np.float64) - mean) / spread


def reference_tops(profiles: np.ndarray, mean: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, float]:
    """Each reference query's best record in the records' own measure, less the query's median there, in units
    of the channel's typical spread (the median over the queries of their MAD); and that spread.

    A reference query is left out of its own records' mean and spread (leave-one-out), so that its top is
    measured as a new query's would be."""
    profiles = np.asarray(profiles, np.float64)
    r = len(profiles)
    total, squares = profiles.sum(axis=0), (profiles**2).sum(axis=0)
    loo_mean = (total - profiles) / (r - 1)
    loo_var = np.maximum((squares - profiles**2) / (r - 1) - loo_mean**2, 0.0)
    floor = MIN_SPREAD_SHARE * float(np.median(spread))
    z = (profiles - loo_mean) / np.maximum(np.sqrt(loo_var), max(floor, 1e-6))
    median = np.median(z, axis=1)
    mad = 1.4826 * np.median(np.abs(z - median[:, None]), axis=1)
    scale = max(float(np.median(mad)), 1e-3)
    return (z.max(axis=1) - median) / scale, scale


def fit_tops(tops: np.ndarray) -> tuple[float, float]:
    """Location and scale of a Gumbel law through the tops' median and 90th percentile (TOP_QUANTILES)."""
    lo, hi = np.quantile(np.asarray(tops, np.float64), TOP_QUANTILES)
    scale = max(float(hi - lo) / (_GUMBEL_AT[1] - _GUMBEL_AT[0]), 0.05)
    return float(lo) - _GUMBEL_AT[0] * scale, scale


def say(e) -> np.ndarray:
    """How far evidence ``e`` (a surprisal, nats) can at most shift the odds of a match, in nats:
    ``e - 1 - ln e`` above 1, else 0 (see the module docstring)."""
    e = np.asarray(e, np.float64)
    safe = np.maximum(e, 1.0)
    return np.where(e > 1.0, safe - 1.0 - np.log(safe), 0.0)
