"""Fusing the channels by their evidence for this query. Pure: no model, no store.

A channel's raw cosines say little on their own: CLAP's text-audio cosines and MiniLM's text-text cosines live on
different scales, and a channel that cannot tell the candidates apart (a random CLAP, or a real one hearing "a
person speaking" in every voice memo) still ranks them. Rank fusion (RRF) gave such a channel as much say as
one with a clear winner, and the fused ranking lost to its own text channel (docs/BENCHMARKS.md, "Fusion").

So each channel's score for a file is first turned into **evidence**: how surprising the score is for this
query, given what the channel scores in general (:func:`calibrate`). Two things are taken out first:

- the file's own bias: a file that scores high for every query (a "hub": a random CLAP puts the same file first
  for every query) is measured against its mean score for a fixed set of unrelated reference queries
  (``REFERENCE_PROMPTS``; for an example recording, the channel's own records), as CSLS does for cross-modal
  retrieval (Conneau et al. 2018). The bias is taken out in the share *this* query carries it, at most whole
  (:func:`null.unbiased`: its scores' slope on the bias over the background sample, fitted robustly): queries
  carry it in shares from 0.4 to 1.3 (the stand-in CLAP), and taking all of it out lifted the files that score
  low for every prompt (anti-hubs: speech, to a model whose prompts are about sounds) to the top of unrelated
  queries with 9-29 nats (docs/BENCHMARKS.md, "Fusion": "A file's bias, in the share a query carries it");
- the query's scale: the adjusted score is standardised (``z``) against the adjusted scores of a fixed sample
  of the channel's records (:meth:`Store.background`), with the median and MAD.

What chance gives is measured, not assumed (:meth:`Background.law`, :mod:`audioret.ranking.null`), because
windows of one file and files alike move together: the evidence (:func:`judge`) is the smaller surprisal of the
score, in nats, under two measured laws of the channel's top: the chance bulk of unrelated prompts' tops, and the
tops of directions that point nowhere (so a channel whose answers are query-dependent noise stays at chance:
about 0.7 nats for its best file; a clear winner gets tens). A second value measures the score against what
unrelated queries reach in this library (their tops' median and upper quartile): for the text channel, the lower of
what the everyday prompts reach and what requests a library seldom holds reach (null.UNRELATED_PROMPTS), since
prompts that name what a library holds are not unrelated to it.

A channel whose answers are query-dependent noise here (its reference prompts do not top its directions that point
nowhere: :func:`null.informative`) gives no evidence at all. Fusion (:mod:`audioret.ranking.fusion`) adds each
channel's say (:func:`null.say`) to rank the files. A file's ``score`` is :func:`strength` of
:func:`match_evidence`: 0.5 where some channel has a say and the evidence against unrelated queries reaches
MATCH_BEYOND (a top one unrelated query in ten reaches here), whichever channels found it. When no hit shown
reaches it, the results say "no good match" instead of showing noise with confident numbers. The rule and what
it was measured against: docs/BENCHMARKS.md ("Fusion").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .null import (
    NOWHERE_QUANTILES,
    TOP_QUANTILES,
    UNRELATED_QUANTILES,
    distinct,
    fit_tops,
    gumbel_max,
    informative,
    lowest_line,
    median_of,
    no_wider,
    nowhere,
    unbiased,
)
from .threads import one_blas_thread

# A match (score 0.5 at the line; :func:`match_evidence`) needs some say (a fused null.say above MATCH_SAY: a
# channel above chance) and evidence of MATCH_BEYOND nats against what unrelated queries reach in this library: a
# top that one unrelated query in ten reaches here (ln 10). Shown on the scale of MATCH_EVIDENCE: a match shows 2
# nats or more. Chosen on the memos set and held out on the talks set (docs/BENCHMARKS.md, "Fusion").
MATCH_EVIDENCE = 2.0
MATCH_BEYOND = math.log(10.0)  # one channel's line; with more, null.match_line
MATCH_SAY = 0.0
SAY_LINE_EVIDENCE = 1.0  # one channel's evidence from which it has a say (null.say): under it, hits are graded
# The evidence (nats) of "the same recording" (query by example, audioret/duplicates/copies.py): strength 0.96,
# far above what a channel's evidence for a merely similar sound reaches.
COPY_EVIDENCE = 50.0
# A phrase found verbatim: each word of it counts this much (a common English word in its place by chance is
# rarer than e^-2; so a 4-word quote is strong evidence).
PHRASE_NATS_PER_WORD = 2.0


@dataclass(frozen=True)
class Null:
    """What a channel scores for this query when nothing matches: its background, and how many records there are."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, scores: np.ndarray, n: int) -> Null:
        """From the cosines of a sample of the channel's records (median and MAD, so a few true matches in the
        sample do not widen it)."""
        scores = np.asarray(scores, np.float64)
        if len(scores) == 0:
            return cls(0.0, 1.0, max(n, 1))
        median = float(np.median(scores))
        spread = 1.4826 * float(np.median(np.abs(scores - median)))
        return cls(median, max(spread, 1e-3), max(n, 1))


# Background.remembered: (id(sample), id(reference), n, debias, alike) -> arrays, value
_REMEMBERED: dict[tuple, tuple] = {}


@dataclass(frozen=True)
class Background:
    """What a channel scores in general, for calibrating its scores: built from a sample of its records and a set of
    unrelated reference queries (:meth:`remembered` keeps it while they stay the same).

    ``tops`` holds, for each reference query, the standardised score of its best sample record: what the best
    answer of a query that has nothing to do with the library looks like in this channel. A channel whose answers
    do not depend on the query (a collapsed or random model) gives every query such a top, so no query's best
    stands out from them; an informative channel's answer to a query it knows lies far above them.
    """

    sample: np.ndarray  # (s, dim), the channel's background sample (Store.background)
    n: int  # records in the channel
    reference: np.ndarray  # (r, dim), unrelated queries in the query's modality
    sample_bias: np.ndarray  # (s,), each sample record's mean cosine to the reference queries (zeros: no debiasing)
    scale: float  # the channel's spread of scores: the median over the reference queries of their MAD
    tops: np.ndarray  # (r,), each reference query's best score over the sample, standardised
    nowhere_tops: np.ndarray | None = None  # the same for directions that point nowhere (null.nowhere)
    gate: float | None = None  # null.informative, measured in of() (None: from tops and nowhere_tops)
    unrelated_tops: np.ndarray | None = None  # the same for requests a library seldom holds (null.UNRELATED_PROMPTS)

    @classmethod
    def of(
        cls,
        sample: np.ndarray,
        n: int,
        reference: np.ndarray,
        debias: bool = True,
        alike: float | None = None,
        unrelated: np.ndarray | None = None,
    ) -> Background:
        """From a channel's sample of ``n`` records; with ``alike``, the sample's near-copies count once
        (:func:`null.distinct`) and ``n`` shrinks in proportion: what a query scores in general is then what the
        library's distinct records score, however many copies of one kind it holds.

        With ``debias``, each reference query's top is measured as a new query's is: against the bias of the
        other reference queries, in the share it carries it (:func:`null.unbiased`), so that the laws of the tops are
        the laws a query is judged by. Whether the channel is informative (:func:`null.informative`) is measured
        with the whole bias taken out of the prompts and the directions that point nowhere alike, as it was when
        its line was set. ``unrelated``: the vectors of requests a library seldom holds, whose tops are a second
        measure of what an unrelated query reaches (:meth:`unrelated_law`)."""
        sample = np.asarray(sample, np.float32)
        if alike is not None and len(sample) >= 2:
            keep = distinct(sample, alike)
            n = max(len(keep), round(n * len(keep) / len(sample)))
            sample = sample[keep]
        if len(sample) < 2 or len(reference) < 2:
            return cls(sample, max(n, 1), reference, np.zeros(len(sample)), 1.0, np.zeros(0))
        profiles = (reference @ sample.T).astype(np.float64)  # (r, s)
        bias = profiles.mean(axis=0) if debias else np.zeros(len(sample))
        aimless = nowhere(reference) @ sample.T
        # whether the channel is informative: prompts and aimless directions with the whole bias taken out
        scale, tops = _tops(profiles - bias)
        gate = informative(tops, _tops(aimless - bias, scale)[1])
        if debias:  # each reference query against the others' bias, in the share it carries it, as a query is
            others = (len(reference) * bias - profiles) / (len(reference) - 1)
            scale, tops = _tops(unbiased(profiles, others)[0])
        nowhere_tops = _tops(unbiased(aimless, bias)[0], scale)[1]
        unrelated_tops = None if unrelated is None else _tops(unbiased(unrelated @ sample.T, bias)[0], scale)[1]
        return cls(sample, max(n, 1), reference, bias, scale, tops, nowhere_tops, gate, unrelated_tops)

    @classmethod
    def remembered(
        cls,
        sample: np.ndarray,
        n: int,
        reference: np.ndarray,
        debias: bool = True,
        alike: float | None = None,
        unrelated: np.ndarray | None = None,
    ) -> Background:
        """:meth:`of`, kept while the same sample and prompt arrays come back (a store keeps its sample until it
        writes; the prompts' vectors are computed once), which saves each query the work (docs/BENCHMARKS.md,
        "Figures behind the code")."""
        if len(reference) < 2:  # an example recording's query: nothing to compute
            return cls.of(sample, n, reference, debias, alike)
        key = (id(sample), id(reference), id(unrelated), n, debias, alike)
        held = _REMEMBERED.get(key)
        if held is None or held[0] is not sample or held[1] is not reference or held[2] is not unrelated:
            if len(_REMEMBERED) >= 8:
                _REMEMBERED.clear()
            held = _REMEMBERED[key] = (
                sample,
                reference,
                unrelated,
                cls.of(sample, n, reference, debias, alike, unrelated),
            )
        return held[3]

    def law(self) -> tuple[float, float]:
        """The law a real match must beat: the reference tops' chance bulk (null.TOP_QUANTILES), computed once."""
        return self._fitted("_law", self.tops, TOP_QUANTILES)

    def nowhere_law(self) -> tuple[float, float]:
        """The law of the tops of directions that point nowhere (null.nowhere), which a real match must beat too."""
        if self.nowhere_tops is None or len(self.nowhere_tops) < 8:
            return self.law()
        return self._fitted("_nowhere", self.nowhere_tops, NOWHERE_QUANTILES)

    def informative(self) -> float:
        """How much this channel's evidence counts here (0-1, :func:`null.informative`): nothing where its
        reference prompts do not top its directions that point nowhere more often than not. Computed once."""
        if self.gate is not None:
            return self.gate
        if "_informative" not in self.__dict__:
            self.__dict__["_informative"] = informative(self.tops, self.nowhere_tops)
        return self.__dict__["_informative"]

    def unrelated_law(self) -> tuple[float, float]:
        """What an unrelated query reaches here: the reference tops through their median and upper quartile
        (null.UNRELATED_QUANTILES), and the unrelated requests' tops where there are, each no wider than the
        chance bulk (:func:`null.no_wider`); of the two, the one whose line is the lower (:func:`null.lowest_line`):
        prompts that name what this library holds are not unrelated to it. Computed once."""
        if "_unrelated" not in self.__dict__:
            held = self.unrelated_tops is not None and len(self.unrelated_tops) >= 8
            laws = [
                no_wider(*self.fit_law(t, UNRELATED_QUANTILES), self.law()[1])
                for t in (self.tops, self.unrelated_tops)[: 1 + held]
            ]
            self.__dict__["_unrelated"] = lowest_line(laws, MATCH_BEYOND)
        return self.__dict__["_unrelated"]

    def laws(self) -> tuple[np.ndarray, np.ndarray]:
        """The locations and scales of :meth:`law`, :meth:`nowhere_law` and :meth:`unrelated_law` as columns, shape
        (3, 1) each, for judging a query's scores under all three in one pass. Computed once."""
        if "_laws" not in self.__dict__:
            fitted = np.array([self.law(), self.nowhere_law(), self.unrelated_law()], np.float64)
            self.__dict__["_laws"] = (fitted[:, :1], fitted[:, 1:])
        return self.__dict__["_laws"]

    def _fitted(self, key: str, tops: np.ndarray, quantiles: tuple[float, float]) -> tuple[float, float]:
        if key not in self.__dict__:
            self.__dict__[key] = self.fit_law(tops, quantiles)
        return self.__dict__[key]

    @property
    def debiased(self) -> bool:
        """Whether the records' bias is taken out (a channel that debiases, with a bias to take), kept."""
        if "_debiased" not in self.__dict__:
            self.__dict__["_debiased"] = bool(np.any(self.sample_bias))
        return self.__dict__["_debiased"]

    def reference_mean(self) -> np.ndarray:
        """The reference queries' mean vector (a record's mean cosine to them is its cosine to this), kept."""
        if "_reference_mean" not in self.__dict__:
            self.__dict__["_reference_mean"] = np.asarray(self.reference, np.float32).mean(axis=0)
        return self.__dict__["_reference_mean"]

    def fit_law(self, tops: np.ndarray | None = None, quantiles: tuple[float, float] = TOP_QUANTILES):
        """Location and scale of the chance law of the channel's top, measured on this library: a Gumbel law
        through two quantiles of measured tops (the reference tops unless given; :func:`null.fit_tops`), moved
        from the sample's size to the channel's (the maximum of more records is higher: the Gaussian-tail shift
        a_n - a_s)."""
        tops = self.tops if tops is None else tops
        if len(tops) < 8:
            return gumbel_max(self.n)
        location, scale = fit_tops(tops, quantiles)
        return location + gumbel_max(self.n)[0] - gumbel_max(len(self.sample))[0], scale


def _tops(centred: np.ndarray, scale: float | None = None) -> tuple[float, np.ndarray]:
    """The channel's spread (the median of each row's MAD, unless given) and each row's standardised top."""
    median = np.median(centred, axis=1)  # each query's Null (median and MAD), all at once
    if scale is None:
        scale = float(np.median(np.maximum(1.4826 * np.median(np.abs(centred - median[:, None]), axis=1), 1e-3)))
    return scale, (centred.max(axis=1) - median) / scale


def calibrate(
    scores,
    candidates: np.ndarray,
    queries: np.ndarray,
    background: Background,
    against_reference: bool = True,
    gated: bool = True,
) -> np.ndarray:
    """Evidence (nats) of each candidate's score for a query (the first of :func:`judge`)."""
    return judge(scores, candidates, queries, background, against_reference, gated)[0]


def judge(
    scores,
    candidates: np.ndarray,
    queries: np.ndarray,
    background: Background,
    against_reference: bool = True,
    gated: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's evidence (nats) for a query, and its evidence against what unrelated queries reach.

    With ``against_reference`` (a channel with structure: hubs, clusters of similar records), ``z`` is in the
    channel's typical spread; the evidence is the smaller surprisal ``-ln P(top >= z)`` under two measured laws
    (:meth:`Background.law`, the reference tops' chance bulk, and :meth:`Background.nowhere_law`, directions
    that point nowhere), and the second value its surprisal under :meth:`Background.unrelated_law`; with
    ``gated``, both times :meth:`Background.informative` (0 for a channel whose answers are query-dependent noise
    here; without, the laws alone). Without (a
    channel whose background is plain), ``z`` is in this query's spread, the law is the maximum of ``n``
    normals, and both values are that surprisal.

    Args:
        scores: each candidate's cosine for the query (its best over ``queries``), shape (m,).
        candidates: the candidates' vectors, shape (m, dim).
        queries: the query vectors, shape (q, dim) (several for an example recording's windows).
        background: the channel's :class:`Background` (with its bias if it debiases).
        against_reference: measure against the reference prompts' tops (else the query's own spread).
        gated: weigh the evidence by :meth:`Background.informative`.
    """
    scores = np.asarray(scores, np.float64)
    bg = background
    if len(bg.sample) == 0:
        e = evidence(scores, Null(0.0, 1.0, bg.n))
        return e, e
    with one_blas_thread():
        best = bg.sample @ queries[0] if len(queries) == 1 else (bg.sample @ queries.T).max(axis=1)
        sample_scores = best
        if bg.debiased:  # the query's share of the bias (null.unbiased), out of the sample and the candidates
            unbiased_best, shares = unbiased(best, bg.sample_bias)
            sample_scores, share = unbiased_best[0], float(shares[0])
            if len(candidates):  # each one's mean cosine to the reference: one product
                scores = scores - share * (candidates @ bg.reference_mean())
    if not against_reference:
        e = evidence(scores, Null.of(sample_scores, bg.n))
        return e, e
    centre = median_of(sample_scores)  # what Null.of takes as its mean
    z = (scores - centre) / bg.scale
    weight = bg.informative() if gated else 1.0
    location, scale = bg.laws()
    s = surprisal(z[None, :], location, scale)  # under the three laws at once, shape (3, m)
    return weight * np.minimum(s[0], s[1]), weight * s[2]


def evidence(scores, null: Null) -> np.ndarray:
    """Surprisal (nats) of each score as the best of ``null.n`` unrelated records: ``-ln P(max >= score)``.

    0.7 (ln 2) is the median for the best of a channel that knows nothing; each 1 more means e times less likely
    by chance. Pure and vectorised: ``scores`` is any array of cosines.
    """
    return surprisal((np.asarray(scores, np.float64) - null.mean) / null.std, *gumbel_max(null.n))


def surprisal(z, location: float, scale: float) -> np.ndarray:
    """``-ln P(T >= z)`` for a Gumbel law ``T`` (nats): 0.7 at its median, about ``(z - location) / scale`` far out."""
    x = (np.asarray(z, np.float64) - location) / scale
    # P(T >= z) = 1 - exp(-exp(-x)), stable at both ends; exp(-x) of x under -700 is 1e304 or more, whose tail is 1
    # as that of an overflow to infinity: no warning to hold back (np.errstate was a third of this function's time)
    tail = -np.expm1(-np.exp(-np.maximum(x, -700.0)))
    return np.where(x > 30, x, -np.log(np.maximum(tail, 1e-300)))


def idf(df: int, n: int) -> float:
    """Inverse document frequency, smoothed: a word in none of ``n`` passages is rarer than one in one."""
    return math.log((n + 1) / (df + 0.5))


def word_evidence(matched_idf: Sequence[float], query_idf: Sequence[float]) -> float:
    """Evidence (nats) of a passage holding some of the query's words: the matched words' summed idf (how unlikely
    a passage is to hold all of them by chance), times the share of the query's idf they cover, so that one
    common word of a long query says little."""
    total, got = sum(query_idf), sum(matched_idf)
    return got * got / total if total > 0 else 0.0


def phrase_evidence(n_words: int) -> float:
    """Evidence of a passage holding the query's words in order: PHRASE_NATS_PER_WORD per word, from two words."""
    return PHRASE_NATS_PER_WORD * n_words if n_words >= 2 else 0.0


def strength(e: float) -> float:
    """Evidence as a 0-1 match strength: 0.5 at MATCH_EVIDENCE."""
    return e / (e + MATCH_EVIDENCE) if e > 0 else 0.0


def match_evidence(fused_say: float, beyond: float, evidence: float = 0.0, line: float = MATCH_BEYOND) -> float:
    """A file's evidence as shown (nats; :func:`strength` 0.5 at the line, MATCH_EVIDENCE): its evidence against
    unrelated queries, moved so that ``line`` (MATCH_BEYOND for one channel, :func:`null.match_line` for the
    informative channels fused) shows as MATCH_EVIDENCE (scaled under it, shifted above it, so
    a copy's COPY_EVIDENCE still shows as about 50 nats), where some channel has a say (``fused_say`` above
    MATCH_SAY); so it is a match only when both hold. Without a say (every channel at chance), the fused
    ``evidence`` grades it, as ``e / (e + SAY_LINE_EVIDENCE)`` of the line, so a weak hit is not shown as
    nothing and stays under the line."""
    if beyond < line:
        shown = MATCH_EVIDENCE * beyond / line
    else:
        shown = MATCH_EVIDENCE + beyond - line
    if fused_say <= MATCH_SAY:
        shown = min(shown, MATCH_EVIDENCE * max(evidence, 0.0) / (max(evidence, 0.0) + SAY_LINE_EVIDENCE))
    return max(shown, 0.0)


def match_evidences(fused_say: np.ndarray, beyond: np.ndarray, evidence: np.ndarray, line: float) -> np.ndarray:
    """:func:`match_evidence` of many files at once (arrays of one shape), to the same bits: fusion ranks a
    query's files by it, one call for some seventy files in place of one a file (docs/BENCHMARKS.md, "Fusion")."""
    beyond = np.asarray(beyond, np.float64)
    shown = np.where(beyond < line, MATCH_EVIDENCE * beyond / line, MATCH_EVIDENCE + beyond - line)
    floor = np.maximum(evidence, 0.0)
    graded = np.minimum(shown, MATCH_EVIDENCE * floor / (floor + SAY_LINE_EVIDENCE))
    return np.maximum(np.where(np.asarray(fused_say) <= MATCH_SAY, graded, shown), 0.0)
