"""What an example recording's nearest file must reach to be a match, measured on this library. Pure: numpy in,
numbers out.

Query by example (and "more like this") had judged a file's score as the best of ``n`` independent normals in
the example's own spread. Sounds of one kind are not independent: a new dog bark against a library of 32 dog barks
lies in a cluster, not above a normal's tail. With the stand-in CLAP (bench/standin.py), 47 of 48 new recordings of
a kind the library holds found one of their kind first, and 33 of them were "no good match" (docs/BENCHMARKS.md,
"Query by example that tells the truth").

So the library's own files are the measure. Each record of the channel's background sample is taken as an
example with its own file left out (:func:`nearest_tops`): its best score over the other files' records, in the
channel's spread of scores, measured two ways. That is what a recording of a kind the library holds reaches; one the
library holds nothing like falls under most of it.

- Standardised as a query's is, its own median over the sample out: how far the nearest file stands out from the
  rest. The line is what nine in ten of the library's files reach for their nearest other file (``NEAREST_SHARE``).
- Against the channel's centre (the median of all those scores): how near the nearest file is at all. In a library
  of one kind (voice memos, spoken digits) every file is near every other, and a sound of another kind still has
  some file standing out from the rest of its (low) scores: with the first measure alone, 48 of 48 sounds that
  were not speech were matches in a library of spoken digits. The line is what 19 in 20 reach (``LEVEL_SHARE``):
  a guard, looser than the first.

An example's evidence is the smaller of its surprisals under two Gumbel laws, one for each, with the spread of
the nearest tops' lower tail (``NEAREST_QUANTILES``) and their upper tenth beginning at the line, so an example at
a line carries ln 10 nats, the match line of one channel. Measured with the stand-in (``python bench/examples.py``,
five libraries): new recordings of a held kind "no good match" 71-100 % → 2-13 %, kinds the library lacks 58-90 %
flagged (0 % in the library of digits with the first measure alone).

The rule needs a model that relates sounds: a random CLAP's nearest files are noise, yet they sit as far above
the rest as a trained model's (without the gate, 85 % of the examples the library lacks were matches). The sound
channel's evidence for an example is weighed by its text prompts' gate (:func:`null.informative`), the one measure
of whether its model knows anything here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .calibration import MATCH_BEYOND, surprisal
from .null import fit_tops, gumbel_max

NEAREST_SHARE = 0.10  # the line: what this share of the library's files fall under for their nearest other file
LEVEL_SHARE = 0.05  # the same for the level (the channel's centre out): a guard, looser
NEAREST_QUANTILES = (0.10, 0.25)  # the nearest tops' lower tail, whose spread the law takes
MIN_FILES = 8  # fewer files in the sample: nothing to measure (the best of n normals, in the example's spread)
_X_LINE = -math.log(-math.log1p(-math.exp(-MATCH_BEYOND)))  # where a standard Gumbel's surprisal is ln 10 (2.25)


def nearest_tops(sample: np.ndarray, owner: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Each sample record as an example with its own file left out: the channel's spread of scores (the median
    over the records of their MAD against the other files' records), its centre (the median of those scores), and
    each record's best score over the other files' records standardised twice, shape (s,) each (none where the
    sample holds one file): its own median out, and the channel's centre out; both over the spread.

    Args:
        sample: the channel's background sample, shape (s, dim), unit vectors.
        owner: each record's file (any label), shape (s,).
    """
    sample = np.asarray(sample, np.float32)
    owner = np.asarray(owner)
    others = owner[:, None] != owner[None, :]
    keep = others.any(axis=1)
    scores = np.where(others, sample @ sample.T, np.nan)[keep].astype(np.float64)
    if not len(scores):
        return 1.0, 0.0, np.zeros(0), np.zeros(0)
    median = _medians(scores)
    mad = 1.4826 * _medians(np.abs(scores - median[:, None]))
    scale, centre = float(np.median(np.maximum(mad, 1e-3))), float(np.median(median))
    top = np.nanmax(scores, axis=1)
    return scale, centre, (top - median) / scale, (top - centre) / scale


def _medians(x: np.ndarray) -> np.ndarray:
    """Each row's median with its NaNs left out (each row holds a number): one sort, NaNs last; a fifth of the
    time of ``np.nanmedian`` on the 1,024 x 1,024 of a full sample (6 ms against 34)."""
    x = np.sort(x, axis=1)
    k = (~np.isnan(x)).sum(axis=1)[:, None]
    return (np.take_along_axis(x, (k - 1) // 2, axis=1) + np.take_along_axis(x, k // 2, axis=1))[:, 0] / 2


@dataclass(frozen=True)
class ExampleLaw:
    """The laws an example's scores are judged by, in the channel's spread of scores: for its best score with its
    own median out, and with the channel's centre out, a Gumbel law (location, scale) each whose upper tenth begins
    at what nine in ten (for the level, 19 in 20) of the library's files reach for their nearest other file."""

    scale: float
    centre: float
    location: float
    gumbel_scale: float
    level_location: float
    level_scale: float

    @classmethod
    def of(cls, sample: np.ndarray, owner: np.ndarray, n: int) -> ExampleLaw | None:
        """From the channel's background sample of ``n`` records and each sample record's file; None where fewer
        than MIN_FILES files are sampled. The tops are moved from the sample's size to the channel's (the best of
        more records is higher: the Gaussian-tail shift, as :meth:`calibration.Background.fit_law`)."""
        if len(set(np.asarray(owner).tolist())) < MIN_FILES:
            return None
        scale, centre, tops, levels = nearest_tops(sample, owner)
        shift = gumbel_max(max(n, len(sample)))[0] - gumbel_max(len(sample))[0]
        laws = []
        for t, share in ((tops + shift, NEAREST_SHARE), (levels + shift, LEVEL_SHARE)):
            width = fit_tops(t, NEAREST_QUANTILES)[1]
            laws += [float(np.quantile(t, share)) - _X_LINE * width, width]
        return cls(scale, centre, *laws)

    def evidence(self, scores, sample_scores: np.ndarray) -> np.ndarray:
        """Each candidate's evidence (nats) for an example: the smaller of its surprisals under the two laws, its
        score standardised as a query's (the example's median over the background sample out) and against the
        channel's centre, both over the channel's spread.

        Args:
            scores: each candidate's cosine for the example (its best over the example's windows), shape (m,).
            sample_scores: each background sample record's best cosine for the example, shape (s,).
        """
        scores = np.asarray(scores, np.float64)
        z = (scores - float(np.median(sample_scores))) / self.scale
        level = (scores - self.centre) / self.scale
        return np.minimum(
            surprisal(z, self.location, self.gumbel_scale), surprisal(level, self.level_location, self.level_scale)
        )
