"""Checks a loaded model must pass, and text embeddings kept beside an export."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

import numpy as np

from ..config import KNOWN_CLAP_MODELS
from ..errors import ModelLoadError

# Contrasting prompts embedded at load. A checkpoint whose text tower maps them to nearly one vector would return
# the same list for every query (laion/larger_clap_music is reported to give cosine 0.999 between "jazz standard"
# and "heavy metal"); a working CLAP keeps unrelated prompts far apart (a random one: 0.995 here).
SANITY_PROMPTS = (
    "jazz standard",
    "heavy metal",
    "a dog barking",
    "rain on a roof",
    "a man speaking",
    "birds singing at dawn",
    "a car engine starting",
    "silence",
)


COLLAPSED_COSINE = 0.97  # mean cosine between the sanity prompts above which a text tower counts as collapsed


def mean_cosine(vectors: np.ndarray) -> float:
    """Mean cosine between distinct rows of unit vectors, shape (n, dim), n >= 2."""
    n = len(vectors)
    gram = vectors @ vectors.T
    return float((gram.sum() - np.trace(gram)) / (n * n - n))


def remembered(model, texts: Sequence[str], embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """``embed(texts)``, kept beside an exported model (whose vectors are the same on every run) so that a cold
    start does not compute them again: the sanity prompts and the fusion's reference queries, a large part of a
    cold CLI search (docs/BENCHMARKS.md, "Backends"). A torch model computes them each time."""
    folder = getattr(model, "folder", None)
    if folder is None:
        return embed(list(texts))
    path = folder / f"texts-{hashlib.sha1(chr(10).join(texts).encode()).hexdigest()[:16]}.npy"
    return kept(path, lambda: embed(list(texts)))


def kept(path, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The array saved at ``path``, or ``compute()`` saved there (atomically; a read-only place only costs the
    time of computing it again)."""
    try:
        return np.load(path)
    except (OSError, ValueError):
        pass
    vectors = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.tmp-{os.getpid()}.npy")
        np.save(tmp, vectors)
        os.replace(tmp, path)
    except OSError:
        pass
    return vectors


def check_text_tower(name: str, embed_text: Callable[[list[str]], np.ndarray], model=None) -> None:
    """Refuses a CLAP checkpoint whose text embeddings collapse (see SANITY_PROMPTS)."""
    cosine = mean_cosine(remembered(model, SANITY_PROMPTS, embed_text))
    if cosine > COLLAPSED_COSINE:
        raise ModelLoadError(
            f"The CLAP model {name!r} gives nearly the same text embedding for every query (mean cosine "
            f"{cosine:.3f} between {len(SANITY_PROMPTS)} unrelated prompts such as 'jazz standard' and 'heavy "
            f"metal'), so every search would return the same list. Set AUDIORET_CLAP_MODEL (or --clap-model) "
            f"to another checkpoint, e.g. {KNOWN_CLAP_MODELS[0]}"
        )
