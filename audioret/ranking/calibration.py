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
  retrieval (Conneau et al. 2018);
- the query's scale: the adjusted score is standardised (``z``) against the adjusted scores of a fixed sample
  of the channel's records (:meth:`Store.background`), with the median and MAD.

What chance gives is measured, not assumed: the law of the channel's top for unrelated queries on this library
(:meth:`Background.law`, :mod:`audioret.ranking.null`), because windows of one file and files alike move
together. The evidence is the surprisal of the score under that law, in nats: about 0.7 for the best of a
channel that knows nothing, tens for a clear winner.

Evidence adds up across channels (with their weights), and a file's ``score`` is ``E / (E + MATCH_EVIDENCE)``:
0.5 is the line between a match and chance, whichever channels found it. When no file reaches it, the results say "no
good match" instead of
showing noise with confident numbers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .null import fit_tops

# Unrelated everyday queries: a file's mean score for them is its bias (see the module docstring). Any broad
# set would do; these span sounds, music and speech, and none is in an evaluation set.
REFERENCE_PROMPTS = (
    "a dog barking",
    "rain",
    "music",
    "a person talking",
    "traffic noise",
    "birds",
    "a door closing",
    "a phone call",
    "a meeting",
    "a song",
    "wind",
    "footsteps",
    "a baby",
    "an engine",
    "applause",
    "a bell",
    "water running",
    "someone laughing",
    "a piano",
    "drums",
    "a guitar",
    "a crowd",
    "silence",
    "a kitchen",
    "a car",
    "a train",
    "an airplane",
    "cooking",
    "typing",
    "a clock",
    "a siren",
    "thunder",
    "the sea",
    "a horse",
    "someone singing",
    "a lecture",
    "a voice message",
    "a reminder",
    "an interview",
    "the news",
    "a shopping list",
    "directions",
    "a recipe",
    "a birthday",
    "a holiday",
    "an argument",
    "a machine",
    "nature",
)
# The evidence (nats) that makes a match: score 0.5. Chosen from the no-good-match sweep in docs/BENCHMARKS.md
# ("Fusion"): higher lines flag more answerable queries, which costs a user more than a weak list does.
MATCH_EVIDENCE = 2.0
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


_REMEMBERED: dict[tuple, tuple] = {}  # Background.remembered: (id(sample), id(reference), n, debias) -> arrays, value


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

    @classmethod
    def of(cls, sample: np.ndarray, n: int, reference: np.ndarray, debias: bool = True) -> Background:
        sample = np.asarray(sample, np.float32)
        if len(sample) < 2 or len(reference) < 2:
            return cls(sample, max(n, 1), reference, np.zeros(len(sample)), 1.0, np.zeros(0))
        profiles = reference @ sample.T  # (r, s)
        bias = profiles.mean(axis=0) if debias else np.zeros(len(sample), np.float32)
        centred = (profiles - bias).astype(np.float64)
        median = np.median(centred, axis=1)  # each reference query's Null (median and MAD), all at once
        spread = np.maximum(1.4826 * np.median(np.abs(centred - median[:, None]), axis=1), 1e-3)
        scale = float(np.median(spread))
        tops = (centred.max(axis=1) - median) / scale
        return cls(sample, max(n, 1), reference, bias, scale, tops)

    @classmethod
    def remembered(cls, sample: np.ndarray, n: int, reference: np.ndarray, debias: bool = True) -> Background:
        """:meth:`of`, kept while the same sample and reference arrays come back (a store keeps its sample until
        it writes; the reference prompts' vectors are computed once), which saves each query the work
        (docs/BENCHMARKS.md, "Figures behind the code")."""
        if len(reference) < 2:  # an example recording's query: nothing to compute
            return cls.of(sample, n, reference, debias)
        key = (id(sample), id(reference), n, debias)
        held = _REMEMBERED.get(key)
        if held is None or held[0] is not sample or held[1] is not reference:
            if len(_REMEMBERED) >= 8:
                _REMEMBERED.clear()
            held = _REMEMBERED[key] = (sample, reference, cls.of(sample, n, reference, debias))
        return held[2]

    def law(self) -> tuple[float, float]:
        """The Gumbel law of the channel's tops (:meth:`fit_law`), computed once per background."""
        if "_law" not in self.__dict__:
            self.__dict__["_law"] = self.fit_law()
        return self.__dict__["_law"]

    def fit_law(self) -> tuple[float, float]:
        """Location and scale of the chance law of the channel's top, measured on this library: a Gumbel law
        through two quantiles of the reference tops (:func:`null.fit_tops`), moved from the sample's size to the
        channel's (the maximum of more records is higher: the Gaussian-tail shift a_n - a_s)."""
        if len(self.tops) < 8:
            return gumbel_max(self.n)
        location, scale = fit_tops(self.tops)  # the 10th and 25th percentiles (null.TOP_QUANTILES)
        return location + gumbel_max(self.n)[0] - gumbel_max(len(self.sample))[0], scale


def calibrate(
    scores, candidates: np.ndarray, queries: np.ndarray, background: Background, against_reference: bool = True
) -> np.ndarray:
    """Evidence (nats) of each candidate's score for a query: ``-ln P(top >= z)``.

    With ``against_reference`` (a channel with structure: hubs, clusters of similar records), ``z`` is in the
    channel's typical spread and the law is the reference tops'; without (a channel whose background is plain),
    ``z`` is in this query's spread and the law the maximum of ``n`` normals.

    Args:
        scores: each candidate's cosine for the query (its best over ``queries``), shape (m,).
        candidates: the candidates' vectors, shape (m, dim).
        queries: the query vectors, shape (q, dim) (several for an example recording's windows).
        background: the channel's :class:`Background` (with its bias if it debiases).
    """
    scores = np.asarray(scores, np.float64)
    bg = background
    if len(bg.sample) == 0:
        return evidence(scores, Null(0.0, 1.0, bg.n))
    with one_blas_thread():
        sample_scores = (bg.sample @ queries.T).max(axis=1) - bg.sample_bias
        if bg.sample_bias.any() and len(candidates):
            scores = scores - (candidates @ bg.reference.T).mean(axis=1)
    null = Null.of(sample_scores, bg.n)
    if not against_reference:
        return evidence(scores, null)
    return surprisal((scores - null.mean) / bg.scale, *bg.law())


ONE_BLAS_THREAD = True  # False: BLAS's own threads, as bench/query.py compares
_BLAS: list = []  # threadpoolctl's handle on numpy's BLAS, made on first use
_BLAS_LOCK = threading.Lock()


@contextmanager
def one_blas_thread():
    """numpy's BLAS on one thread for a query's products, which are small (a sample of about a thousand records
    by one query): BLAS's threads woke for them and then spun, a fifth of a warm query's CPU time, against the
    model runtimes' threads (docs/BENCHMARKS.md, "Warm query"). The ranking is the same; scores may move in their
    sixth decimal. Searches from several threads take turns here, so each restores what it found."""
    if not ONE_BLAS_THREAD:
        yield
        return
    with _BLAS_LOCK:
        if not _BLAS:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController().select(user_api="blas"))
        with _BLAS[0].limit(limits=1):
            yield


def gumbel_max(n: int) -> tuple[float, float]:
    """Location and scale of the maximum of ``n`` standard normals (the Gumbel limit)."""
    if n < 2:
        return 0.0, 1.0
    r = math.sqrt(2.0 * math.log(n))
    return r - (math.log(math.log(n)) + math.log(4.0 * math.pi)) / (2.0 * r), 1.0 / r


def evidence(scores, null: Null) -> np.ndarray:
    """Surprisal (nats) of each score as the best of ``null.n`` unrelated records: ``-ln P(max >= score)``.

    0.7 (ln 2) is the median for the best of a channel that knows nothing; each 1 more means e times less likely
    by chance. Pure and vectorised: ``scores`` is any array of cosines.
    """
    return surprisal((np.asarray(scores, np.float64) - null.mean) / null.std, *gumbel_max(null.n))


def surprisal(z, location: float, scale: float) -> np.ndarray:
    """``-ln P(T >= z)`` for a Gumbel law ``T`` (nats): 0.7 at its median, about ``(z - location) / scale`` far out."""
    x = (np.asarray(z, np.float64) - location) / scale
    with np.errstate(over="ignore"):
        tail = -np.expm1(-np.exp(-x))  # P(T >= z) = 1 - exp(-exp(-x)), stable at both ends
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
