"""Which labels stand out in a file's records: each label judged as a query, against the channel's background.

A label's prompt scores every record of a library somewhat (CLAP's text-audio cosines sit near 0.2 for anything),
and some labels score everything higher than others. So a label is not given where its cosine is high, but where it
stands out from what that label's prompt scores over the library's background sample, exactly as a search judges a
query (:func:`audioret.ranking.calibration.calibrate`): the record's bias against the reference queries taken out in
the share the label's prompt carries it (:func:`audioret.ranking.null.unbiased`), the score standardised
against the label's own median over the background and the channel's spread, and its surprise measured against the
law of an unrelated query's best record. A label is given to a record whose evidence reaches the line of a match
(``MATCH_EVIDENCE``): a file is tagged "rain" where a search for "the sound of rain" in that channel would call it a
match. A search also weighs a channel by how informative it is here (:func:`audioret.ranking.null.informative`);
:mod:`audioret.tagging` weighs the labels' evidence the same way, so a channel whose answers are noise gives none.

Except for hubs. Some labels' prompts score the whole library over a range several times wider than the others' (the
library varies along them): a file at the edge of that range stands out for such a label more than for its own, and
the hub label tops files of every kind. So a label whose spread over the background is an outlier among the
vocabulary's spreads (beyond Tukey's far-out fence, Q3 + 3 IQR) is measured in a spread that much wider
(:func:`hub_widths`); every other label is judged exactly as a search judges its prompt. Measuring every label in
its own spread was tried and lost right labels: a label's spread is not a hub's unless it stands apart from the
others' (docs/BENCHMARKS.md, "Tags"). Pure: numpy in, numbers out.
"""

from __future__ import annotations

import numpy as np

from .calibration import MATCH_EVIDENCE, Background, gumbel_max, strength, surprisal
from .null import unbiased

MAX_PER_FILE = 8  # labels kept per file, strongest first (AudioSet's hierarchy names one sound several ways)
HUB_FENCE = 3.0  # a hub's spread lies beyond Q3 + HUB_FENCE x IQR of the vocabulary's spreads (Tukey's "far out")
MIN_HUB_LABELS = 8  # fewer labels have no quartiles to speak of: none is taken for a hub


def null(labels: np.ndarray, background: Background) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What each label's prompt scores over the background sample, the records' bias taken out in the share the
    prompt carries it (:func:`null.unbiased`, as a search does): its median, spread (MAD) and that share,
    shape (l,) each. The same for every file of a library, so it is computed once per background."""
    labels = np.atleast_2d(labels).astype(np.float32)
    if len(background.sample) == 0:
        return np.zeros(len(labels)), np.ones(len(labels)), np.ones(len(labels))
    sample, slopes = unbiased(labels @ background.sample.T, background.sample_bias)  # (l, s)
    median = np.median(sample, axis=1)
    return median, np.maximum(1.4826 * np.median(np.abs(sample - median[:, None]), axis=1), 1e-3), slopes


def evidence(
    records: np.ndarray,
    labels: np.ndarray,
    background: Background,
    against_reference: bool = True,
    label_null: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The evidence (nats) of each label in each record, shape (records, labels): what
    :func:`~audioret.ranking.calibration.calibrate` gives each record for the label's prompt as the query.

    Args:
        records: the records' vectors, shape (m, dim).
        labels: the labels' prompt vectors (the channel's text side), shape (l, dim).
        background: the channel's :class:`Background` (its sample, reference queries and bias).
        against_reference: the channel's setting (see ``calibrate``).
        label_null: :func:`null` of these labels and background, when it is already known.
    """
    records, labels = np.atleast_2d(records).astype(np.float32), np.atleast_2d(labels).astype(np.float32)
    scores = (records @ labels.T).astype(np.float64)
    bg = background
    if len(bg.sample) == 0:  # nothing to judge against: the maximum of n normals
        return surprisal(scores, *gumbel_max(bg.n))
    median, spread, slopes = label_null if label_null is not None else null(labels, bg)
    if bg.sample_bias.any() and len(records):
        scores -= (records @ bg.reference_mean())[:, None] * slopes[None, :]
    if against_reference:  # the smaller surprisal under the two measured laws, as calibration.judge
        z = (scores - median) / (bg.scale * hub_widths(spread / bg.scale))
        return np.minimum(surprisal(z, *bg.law()), surprisal(z, *bg.nowhere_law()))
    return surprisal((scores - median) / spread, *gumbel_max(bg.n))


def hub_widths(spreads: np.ndarray, fence: float = HUB_FENCE) -> np.ndarray:
    """How many times the channel's spread each label is measured in, from each label's spread over the background
    in units of the channel's (shape (labels,)): 1 for most; for a hub, whose spread lies beyond ``fence``
    interquartile ranges above the upper quartile of the vocabulary's spreads, its spread over that fence. Pure."""
    spreads = np.asarray(spreads, np.float64)
    if len(spreads) < MIN_HUB_LABELS:
        return np.ones(len(spreads))
    q1, q3 = np.percentile(spreads, [25, 75])
    limit = max(q3 + fence * (q3 - q1), 1.0)  # never narrower than the channel's spread
    return np.maximum(spreads / limit, 1.0)


def given(e: np.ndarray, limit: int = MAX_PER_FILE) -> dict[int, float]:
    """The labels given to one record or file: label index -> strength (0-1, at least 0.5), for those whose
    evidence (shape (labels,)) reaches the line of a match, at most ``limit``, strongest first."""
    e = np.asarray(e, np.float64)
    order = [i for i in np.argsort(-e, kind="stable")[:limit] if e[i] >= MATCH_EVIDENCE]
    return {int(i): round(strength(float(e[i])), 4) for i in order}


def per_file(e: np.ndarray, limit: int = MAX_PER_FILE) -> tuple[dict[int, float], list[dict[int, float]]]:
    """A file's labels from the evidence of its records (shape (records, labels)): the file has a label where any
    record of it has (its strength is the best record's), and each record its own (with each of the file's labels
    at its best record, however many others that record has)."""
    e = np.atleast_2d(np.asarray(e, np.float64))
    best = given(e.max(axis=0), limit)
    records = [given(row, limit) for row in e]
    for label, s in best.items():
        records[int(np.argmax(e[:, label]))][label] = s
    return best, records
