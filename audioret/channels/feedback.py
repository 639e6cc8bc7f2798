"""Relevance feedback: a channel's query vector moved towards what was liked and away from what was not."""

from __future__ import annotations

import numpy as np

# Relevance feedback, Rocchio's rule with its textbook weights (Manning et al., "Introduction to Information
# Retrieval", 9.1.1): the query moves towards the mean of what was liked and, less, away from what was not.
ROCCHIO = (1.0, 0.75, 0.15)


def rocchio(
    query: np.ndarray, liked: np.ndarray, unliked: np.ndarray, weights: tuple[float, float, float] = ROCCHIO
) -> np.ndarray:
    """A query vector (dim,) moved towards the mean of ``liked`` (n, dim) and away from the mean of ``unliked``
    (m, dim), unit length. Either may be empty."""
    alpha, beta, gamma = weights
    moved = alpha * np.asarray(query, np.float32)
    if len(liked):
        moved = moved + beta * np.mean(liked, axis=0)
    if len(unliked):
        moved = moved - gamma * np.mean(unliked, axis=0)
    return (moved / max(float(np.linalg.norm(moved)), 1e-12)).astype(np.float32)


def moved(query: np.ndarray, store, feedback, channel: str) -> np.ndarray:
    """A channel's query vector (dim,) moved by Rocchio's rule towards the files of ``feedback`` (a
    :class:`~audioret.types.Feedback`) that the channel learns from (:meth:`~audioret.types.Feedback.liked_by`)
    and away from those not liked, each file standing as the mean of its vectors in the channel's ``store``; a
    file the channel does not hold counts for nothing."""

    def means(paths):
        rows = [v.mean(axis=0) for v in (store.file_vectors(p) for p in paths) if len(v)]
        return np.stack(rows) if rows else np.zeros((0, len(query)), np.float32)

    return rocchio(query, means(feedback.liked_by(channel)), means(feedback.unliked))
