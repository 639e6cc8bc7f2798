"""What an example recording's nearest file must reach to be a match, measured on this library. Pure: numpy in,
numbers out.

Query by example (and "more like this") had judged a file's score as the best of ``n`` independent normals in
the example's own spread. Sounds of one kind are not independent: a new dog bark against a library of 32 dog barks
lies in a cluster, not above a normal's tail. With the stand-in CLAP (bench/standin.py), 47 of 48 new recordings of
a kind the library holds found one of their kind first, and 33 of them were "no good match" (docs/BENCHMARKS.md,
"Query by example that tells the truth").

So the library's own files are the measure. Each record of the channel's background sample is taken as an
example with its own file left out (:func:`nearest_tops`): its best score over the other files' records,
standardised as a query's is (its median over the sample out, over the channel's spread of scores). That is what
a recording of a kind the library holds reaches; one the library holds nothing like falls under most of it. The
line is what nine in ten of the library's files reach for their nearest other file (``NEAREST_SHARE``): an
example's evidence is its surprisal under a Gumbel law with that spread (the nearest tops' lower tail,
``NEAREST_QUANTILES``) whose upper tenth begins at the line, so an example at the line carries ln 10 nats, the
match line of one channel, and a sound the library holds nothing like reaches it one time in ten. Measured with
the stand-in on ESC-10 and Sonic Pi (``python bench/examples.py``): new recordings of a held kind "no good match"
70 % → 4 %, kinds the library lacks 94 % → 79 %.

The rule needs a model that relates sounds: a random CLAP's nearest files are noise, yet they sit as far above
the rest as a trained model's (it called 88 % of the examples the library lacks matches). The sound channel's
evidence for an example is weighed by its text prompts' gate (:func:`null.informative`), the one measure of
whether its model knows anything here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .calibration import surprisal
from .null import fit_tops, gumbel_max

NEAREST_SHARE = 0.10  # the line: what this share of the library's files fall under for their nearest other file
NEAREST_QUANTILES = (0.10, 0.25)  # the nearest tops' lower tail, whose spread the law takes
MIN_FILES = 8  # fewer files in the sample: nothing to measure (the best of n normals, in the example's spread)
_X_LINE = -math.log(-math.log1p(-NEAREST_SHARE))  # a standard Gumbel's quantile 1 - NEAREST_SHARE (2.25)


def nearest_tops(sample: np.ndarray, owner: np.ndarray) -> tuple[float, np.ndarray]:
    """Each sample record as an example with its own file left out: the channel's spread of scores (the median
    over the records of their MAD against the other files' records) and each record's standardised best score over
    the other files' records, shape (s,) (none where the sample holds one file).

    Args:
        sample: the channel's background sample, shape (s, dim), unit vectors.
        owner: each record's file (any label), shape (s,).
    """
    sample = np.asarray(sample, np.float32)
    owner = np.asarray(owner)
    others = owner[:, None] != owner[None, :]
    keep = others.any(axis=1)
    scores = np.where(others, sample @ sample.T, np.nan)[keep].astype(np.float64)
    median = _medians(scores)
    mad = 1.4826 * _medians(np.abs(scores - median[:, None]))
    scale = float(np.median(np.maximum(mad, 1e-3))) if len(mad) else 1.0
    return scale, (np.nanmax(scores, axis=1) - median) / scale if len(mad) else np.zeros(0)


def _medians(x: np.ndarray) -> np.ndarray:
    """Each row's median with its NaNs left out (each row holds a number): one sort, NaNs last; a fifth of the
    time of ``np.nanmedian`` on the 1,024 x 1,024 of a full sample (6 ms against 34)."""
    x = np.sort(x, axis=1)
    k = (~np.isnan(x)).sum(axis=1)[:, None]
    return (np.take_along_axis(x, (k - 1) // 2, axis=1) + np.take_along_axis(x, k // 2, axis=1))[:, 0] / 2


@dataclass(frozen=True)
class ExampleLaw:
    """The law an example's scores are judged by: the channel's spread of scores and a Gumbel law (in that
    spread) whose upper tenth begins at what nine in ten of the library's files reach for their nearest other
    file."""

    scale: float
    location: float
    gumbel_scale: float

    @classmethod
    def of(cls, sample: np.ndarray, owner: np.ndarray, n: int) -> ExampleLaw | None:
        """From the channel's background sample of ``n`` records and each sample record's file; None where fewer
        than MIN_FILES files are sampled. The tops are moved from the sample's size to the channel's (the best of
        more records is higher: the Gaussian-tail shift, as :meth:`calibration.Background.fit_law`)."""
        if len(set(np.asarray(owner).tolist())) < MIN_FILES:
            return None
        scale, tops = nearest_tops(sample, owner)
        tops = tops + gumbel_max(max(n, len(sample)))[0] - gumbel_max(len(sample))[0]
        line = float(np.quantile(tops, NEAREST_SHARE))
        width = fit_tops(tops, NEAREST_QUANTILES)[1]
        return cls(scale, line - _X_LINE * width, width)

    def evidence(self, scores, sample_scores: np.ndarray) -> np.ndarray:
        """Each candidate's evidence (nats) for an example: its score standardised as a query's (the example's median
        over the background sample out, over the channel's spread), its surprisal under the law.

        Args:
            scores: each candidate's cosine for the example (its best over the example's windows), shape (m,).
            sample_scores: each background sample record's best cosine for the example, shape (s,).
        """
        z = (np.asarray(scores, np.float64) - float(np.median(sample_scores))) / self.scale
        return surprisal(z, self.location, self.gumbel_scale)
