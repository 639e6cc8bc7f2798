"""What a channel's best answer looks like by chance, measured on this library. Pure: numpy in, numbers out.

A channel's evidence for a file is how surprising its score is for this query (:mod:`audioret.ranking.calibration`).
The surprise is measured against what the same channel answers on this library, not against a law assumed for
independent scores: the windows of one file, and files alike (a folder of voice memos, of kick drums), move
together, so a channel's best answer to a query that finds nothing is higher, and more variable, than the best
of ``n`` independent scores. Two things are measured, because each alone misleads (docs/BENCHMARKS.md, "Fusion"):

- the tops of everyday prompts that have nothing to do with the query (``REFERENCE_PROMPTS``,
  ``Background.tops``). Some of them truly find things in the library (a memo that is "a reminder"), so their
  upper half is not chance: the law through their lower quantiles (:data:`TOP_QUANTILES`) is what a real match
  must beat; the law through their median and upper quartile (:data:`UNRELATED_QUANTILES`) is what an unrelated
  query reaches in this library, which a hit must beat to be called a match at all. Where the library holds what
  they name (a folder of news segments, phone calls and recipes among sounds named "dog barking"), they reach far
  into it, so a text channel measures it with requests a library seldom holds too (:data:`UNRELATED_PROMPTS`), and
  the lower line of the two stands (:func:`lowest_line`);
- the tops of directions that point nowhere (:func:`nowhere`: the reference prompts' mean, moved the typical
  distance in a random direction). A channel whose model aligns its queries with the library's structure (a
  trained CLAP, a sentence model) answers them far more weakly than real prompts; a channel whose answers are
  query-dependent noise (a random CLAP) answers them as strongly. The law through their median and upper
  quartile is the second thing a real match must beat, so a noise channel's chance top stays chance.

The two measurements also tell a channel that knows something from one whose answers are query-dependent noise
(:func:`informative`): an informative channel's reference prompts top its directions that point nowhere far more
often than not (measured: MiniLM 0.88-0.93 of the pairs, the stand-in CLAP 0.72-0.86); a noise channel's do not
(a random CLAP, collapsed or spread: 0.34-0.42). A channel that is not informative here gives no evidence, so it
has no say over a channel that found the words (docs/BENCHMARKS.md, "Fusion").

The say (:func:`say`) turns a channel's evidence into what it may add to a fused sum: nothing at chance.

A background counts alike records once (:func:`distinct`), where a channel asks it to: a text channel's passages
for a numbered series of files ("clip_0001.wav", "clip_0002.wav" ...) are near-copies of each other, and two
thousand of them had made the sample mostly names, moving the channel's centre, spread and laws with every such
folder added (docs/BENCHMARKS.md, "Stable as the library grows").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# Unrelated everyday queries: a file's mean score for them is its bias (see :mod:`.calibration`). Any broad
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
# Requests that a library seldom holds, as specific as a search of what is said or heard: the second measure of
# what an unrelated query reaches in a text channel (calibration.Background.unrelated_law). The everyday prompts
# above name what libraries hold most (a dog barking, the news, a phone call, a recipe); in a library of exactly
# those they are not unrelated to it, and they had put 26 of 40 right answers of a producer's folder under the
# line (docs/BENCHMARKS.md, "Unrelated queries that are unrelated"). None is in an evaluation set.
UNRELATED_PROMPTS = (
    "how to change the oil in a lawnmower",
    "a lecture on medieval tax law",
    "instructions for knitting a scarf",
    "the price of copper on the metals market",
    "a goat bleating in a barn",
    "someone sharpening a knife on a whetstone",
    "the final score of the basketball game",
    "a submarine sonar ping",
    "a review of a new smartphone camera",
    "the migration of salmon upstream",
    "advice on filing a tax return late",
    "a blacksmith hammering hot iron",
    "the history of the postal service",
    "a vending machine dropping a can",
    "tips for growing orchids indoors",
    "a speech about renewable energy subsidies",
    "the symptoms of a sprained ankle",
    "an elevator arriving with a chime",
    "a debate about school uniforms",
    "directions to the nearest petrol station",
    "a bowling ball striking pins",
    "the plot of a science fiction novel about Mars",
    "a referee blowing a whistle",
    "how glaciers carve valleys",
    "a sewing machine stitching fabric",
    "the timetable of the night bus",
    "a potter shaping clay on a wheel",
    "the rise of the stock market after the election",
    "a squeaky shopping trolley wheel",
    "a recipe for lemon meringue pie",
    "a zookeeper feeding the penguins",
    "an argument about who forgot the keys",
    "the maintenance of a sailing boat",
    "a hot air balloon burner firing",
    "a podcast about ancient Egyptian burial customs",
    "the rules for parking permits in the city centre",
    "a typewriter bell at the end of a line",
    "a fundraiser for the village hall roof",
    "the lifecycle of a monarch butterfly",
    "an astronaut describing a spacewalk",
    "coins dropping into a piggy bank",
    "a dance teacher counting the steps",
    "the dangers of carbon monoxide at home",
    "a car wash with spinning brushes",
    "a quiz show host reading a question",
    "how a violin is varnished",
    "a sermon about forgiveness",
    "a skipping rope slapping the pavement",
    "the weather forecast for the ski resort",
    "a locksmith opening a jammed door",
    "an interview with a marathon swimmer",
    "the opening ceremony of the Olympic games",
    "a photocopier jamming",
    "a tour guide describing a cathedral",
    "a snowplough clearing the road",
    "a press conference about a new bridge",
    "a grandmother telling a fairy tale",
    "a fax machine connecting",
    "a carpenter sawing a plank",
    "the cost of renting a flat in the capital",
    "a magician's trick explained",
    "a drone buzzing overhead",
    "a guide to changing a car's wiper blades",
)
TOP_QUANTILES = (0.10, 0.25)  # the reference prompts' tops: what a real match must beat (the chance bulk)
UNRELATED_QUANTILES = (0.50, 0.75)  # the reference prompts' tops: what an unrelated query reaches here
NOWHERE_QUANTILES = (0.50, 0.75)  # the directions that point nowhere: all of them are chance
NOWHERE_COUNT = 256  # directions drawn once per background
# informative(): how often the reference prompts' tops beat the directions' tops, from no say (at or under the
# first: no better than pointing nowhere) to a full one (from the second; the standard error of that share for 48
# prompts is about 0.05)
INFORMATIVE = (0.5, 0.6)
# distinct(): records at least this close (cosine) to one kept before count once; what a text channel asks
ALIKE = 0.95
# The share of a file's bias taken out of a query's scores (bias_slopes), at most the whole: a share above 1, fitted
# on the bulk of the sample, lifted the files at the far low end of the bias (anti-hubs, e.g. speech to a CLAP)
# further for queries about what is said, and cost the grown talks library 0.08 R@1 (docs/BENCHMARKS.md, "Fusion").
SHARE_OF_BIAS = (0.0, 1.0)
BIAS_FENCE, BIAS_ROUNDS = 3.0, 2  # bias_slopes: the records kept within 3 robust spreads of the line, fitted twice


def match_line(chances: float = 1.0, share: float = 0.1) -> float:
    """The evidence against unrelated queries (nats) that one unrelated query in ``1 / share`` reaches by chance
    in *some* of ``chances`` channels: each channel's chance top passes ``s`` nats with probability ``e^-s``, and
    the channels' tops seldom fall on one file, so the fused list passes it with ``1 - (1 - e^-s)^k``. ln 10 for
    one channel, 2.97 for two. ``chances`` is the channels' informative weights summed (:func:`informative`), so
    a noise channel, which gives no evidence, adds no chance either; never under 1. Pure."""
    k = max(float(chances), 1.0)
    return -math.log1p(-((1.0 - share) ** (1.0 / k)))


def fit_tops(tops: np.ndarray, quantiles: tuple[float, float] = TOP_QUANTILES) -> tuple[float, float]:
    """Location and scale of a Gumbel law through two quantiles of the tops. A standard Gumbel's quantile ``q``
    is ``-ln(-ln q)``."""
    lo, hi = np.quantile(np.asarray(tops, np.float64), quantiles)
    at = [-math.log(-math.log(q)) for q in quantiles]
    scale = max(float(hi - lo) / (at[1] - at[0]), 0.05)
    return float(lo) - at[0] * scale, scale


def no_wider(location: float, scale: float, bulk: float) -> tuple[float, float]:
    """A Gumbel law (``location``, ``scale``) spread no wider than ``bulk``, its median kept (a standard Gumbel's
    median is ``-ln ln 2``). For the unrelated queries' law: the reference prompts' upper tops are the library's
    own content where it holds what they name (a sound-effects library of dogs, rain and clocks, named so, tops "a
    dog barking" as any search would); they had widened the law 2.2 times there, and 29 of 50 right answers fell
    under the match line (docs/BENCHMARKS.md, "What the reference prompts name"). The chance bulk's spread
    (TOP_QUANTILES) is not moved by them."""
    if bulk >= scale:
        return location, scale
    return location + _GUMBEL_MEDIAN * (scale - bulk), bulk


_GUMBEL_MEDIAN = -math.log(math.log(2.0))


def lowest_line(laws: Sequence[tuple[float, float]], nats: float) -> tuple[float, float]:
    """Of Gumbel laws (location, scale), the one under which a score reaches a surprisal of ``nats`` soonest: its
    score there is ``location + scale * x``, with ``-ln(1 - exp(-exp(-x))) = nats`` (x = 2.25 for ln 10). Pure."""
    x = -math.log(-math.log1p(-math.exp(-nats)))
    return min(laws, key=lambda law: law[0] + law[1] * x)


def nowhere(reference: np.ndarray, n: int = NOWHERE_COUNT, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors that point nowhere in particular in the reference prompts' space: their mean, moved in
    a random direction by their root-mean-square distance from it. The same every time for the same prompts.

    Args:
        reference: the reference prompts' embeddings, shape (r, dim), r >= 2.
        n: how many.
        seed: the random directions' seed.
    """
    reference = np.asarray(reference, np.float64)
    if reference.ndim != 2 or len(reference) < 2:
        raise ValueError(f"Expected at least 2 reference vectors of shape (r, dim), got shape {reference.shape}")
    mean = reference.mean(axis=0)
    spread = math.sqrt(float(((reference - mean) ** 2).sum(axis=1).mean()))
    g = np.random.default_rng(seed).standard_normal((n, reference.shape[1]))
    v = mean + spread * g / np.linalg.norm(g, axis=1, keepdims=True)
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def informative(tops: np.ndarray, nowhere_tops: np.ndarray | None, line: tuple[float, float] = INFORMATIVE) -> float:
    """How much a channel's evidence counts here, from 0 to 1: the share of (reference prompt, direction that
    points nowhere) pairs in which the prompt's top is the higher, from 0 at or under ``line[0]`` to 1 from
    ``line[1]``. 1 when there is too little to measure (fewer than 8 of either).

    Args:
        tops: the reference prompts' tops (:attr:`calibration.Background.tops`).
        nowhere_tops: the tops of the directions that point nowhere, or None.
        line: the shares where the weight leaves 0 and reaches 1.
    """
    if nowhere_tops is None or len(tops) < 8 or len(nowhere_tops) < 8:
        return 1.0
    tops, nowhere_tops = np.asarray(tops, np.float64), np.sort(np.asarray(nowhere_tops, np.float64))
    share = float(np.searchsorted(nowhere_tops, tops, side="left").sum()) / (len(tops) * len(nowhere_tops))
    return float(np.clip((share - line[0]) / (line[1] - line[0]), 0.0, 1.0))


def say(e):
    """What evidence ``e`` (nats) may add to a fused sum: ``e - 1 - ln e`` above 1 nat, else 0 (the log of the
    largest Bayes factor a surprisal allows, Sellke, Bayarri and Berger 2001): nothing at chance (a channel that
    knows nothing gives its top about 0.7 nats), about ``e - 1 - ln e`` for a clear find. A float for a float
    (fusion calls it once a file and channel), else an array."""
    if isinstance(e, (float, int)):
        return e - 1.0 - math.log(e) if e > 1.0 else 0.0
    e = np.asarray(e, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e > 1.0, e - 1.0 - np.log(np.maximum(e, 1.0)), 0.0)


def distinct(sample: np.ndarray, alike: float = ALIKE) -> np.ndarray:
    """The indices of the records of ``sample`` that stand for it when near-copies count once, in order: a record
    is kept unless one kept before it is within cosine ``alike``.

    Args:
        sample: vectors, shape (s, dim) (they need not be unit length).
        alike: the cosine from which a record is a near-copy of one kept before it.
    """
    sample = np.asarray(sample, np.float32)
    if len(sample) < 2:
        return np.arange(len(sample))
    unit = sample / np.maximum(np.linalg.norm(sample, axis=1, keepdims=True), 1e-12)
    close = (unit @ unit.T) >= alike
    keep = np.ones(len(sample), bool)
    for i in range(len(sample)):
        if keep[i]:  # every later record this one stands for is dropped
            keep[i + 1 :] &= ~close[i, i + 1 :]
    return np.flatnonzero(keep)


def _slope_of(y: np.ndarray, b: np.ndarray, fence: float, rounds: int) -> float:
    """:func:`bias_slopes` of one query, with the upper median by one partition for the median (a background
    sample is large: the two differ by half a gap between neighbouring scores)."""
    slope, half = 1.0, len(y) // 2
    bb, by = b * b, b * y
    for _ in range(rounds):
        off = y - slope * b
        off -= np.partition(off, half)[half]
        np.abs(off, out=off)
        keep = (off <= fence * 1.4826 * np.partition(off, half)[half]).astype(np.float64)
        n, sb, sy = keep.sum(), keep @ b, keep @ y
        spread = n * (keep @ bb) - sb * sb
        if spread <= 1e-12 * max(n, 1.0):  # the kept records hardly differ in bias: nothing to fit
            return slope
        slope = float(n * (keep @ by) - sb * sy) / float(spread)
    return slope


def median_of(x) -> float:
    """The median of a 1-d array, as ``np.median`` gives it, by one partition and a maximum (a sixth of its time
    on a background sample of a thousand scores, which every query takes)."""
    x = np.asarray(x, np.float64)
    half = len(x) // 2
    if len(x) == 0:
        raise ValueError("The median of no scores is undefined: the background sample is empty")
    parted = np.partition(x, half)
    if len(x) % 2:
        return float(parted[half])
    return float(0.5 * (parted[:half].max() + parted[half]))  # the lower middle: the largest under the upper


def gumbel_max(n: int) -> tuple[float, float]:
    """Location and scale of the maximum of ``n`` standard normals (the Gumbel limit)."""
    if n < 2:
        return 0.0, 1.0
    r = math.sqrt(2.0 * math.log(n))
    return r - (math.log(math.log(n)) + math.log(4.0 * math.pi)) / (2.0 * r), 1.0 / r


def bias_slopes(
    scores: np.ndarray, bias: np.ndarray, fence: float = BIAS_FENCE, rounds: int = BIAS_ROUNDS
) -> np.ndarray:
    """How much of the records' bias each query's scores carry: the slope of a query's scores over the background
    sample on the records' bias, shape (q,) for scores of shape (q, s) and a bias of shape (s,) (or (q, s): each
    query's own).

    Starts from a slope of 1 (the share the reference queries carry on average) and, ``rounds`` times, keeps the
    records within ``fence`` robust spreads (MAD) of the line and fits the slope again by least squares on them:
    the records a query truly finds (a cluster far above the rest) are left out of the fit rather than tilting
    it. Pure."""
    y = np.atleast_2d(np.asarray(scores, np.float64))
    b = np.broadcast_to(np.atleast_2d(np.asarray(bias, np.float64)), y.shape)
    if len(y) == 1:  # a query: the same fit by partitions, a tenth of the time of the rows at once
        return np.array([_slope_of(y[0], b[0], fence, rounds)])
    slope = np.ones(len(y))
    for _ in range(rounds):
        residual = y - slope[:, None] * b
        off = np.abs(residual - np.median(residual, axis=1, keepdims=True))
        keep = off <= fence * 1.4826 * np.median(off, axis=1, keepdims=True)
        n = np.maximum(keep.sum(axis=1, keepdims=True), 1)
        bc = np.where(keep, b - np.where(keep, b, 0).sum(axis=1, keepdims=True) / n, 0.0)
        yc = np.where(keep, y - np.where(keep, y, 0).sum(axis=1, keepdims=True) / n, 0.0)
        spread = (bc * bc).sum(axis=1)
        slope = np.where(spread > 1e-12, (bc * yc).sum(axis=1) / np.maximum(spread, 1e-12), slope)
    return slope


def unbiased(scores: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each query's scores over the background sample (shape (q, s)) with the records' bias (shape (s,), or (q, s))
    taken out in the share the query carries it (:func:`bias_slopes`, within SHARE_OF_BIAS), and those
    shares, shape (q,). No bias (a channel that does not debias): the scores as they are, shares of 1."""
    scores, bias = np.asarray(scores, np.float64), np.asarray(bias, np.float64)
    if not bias.any():
        scores = np.atleast_2d(scores)
        return scores, np.ones(len(scores))
    if scores.ndim == 1 and bias.ndim == 1:  # one query (a text query to the sound channel): a float, a third faster
        slope = min(max(_slope_of(scores, bias, BIAS_FENCE, BIAS_ROUNDS), SHARE_OF_BIAS[0]), SHARE_OF_BIAS[1])
        return (scores - slope * bias)[None], np.array([slope])
    scores, bias = np.atleast_2d(scores), np.atleast_2d(bias)
    slopes = np.clip(bias_slopes(scores, bias), *SHARE_OF_BIAS)
    return scores - slopes[:, None] * bias, slopes
