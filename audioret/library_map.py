"""The library as a map: each file placed in 2-D by what it sounds like, for the page's Library tab.

A file is its mean sound-channel vector (the mean of its window embeddings, renormalised). UMAP (umap-learn, cosine
metric, after a PCA to :data:`PCA_DIMS` dimensions, which keeps the neighbour search cheap) lays out
:data:`MIN_UMAP_FILES` files or more; below that UMAP's neighbour graph is too thin to mean anything, and the two
principal components (numpy) are the map. A layout is kept per index state (the files' paths, sizes and mtimes),
so a map is computed once per change of the library (and once more for a visitor of a public page who has added
files); a file's mean vector is kept
per (path, size, mtime), so a change reads only new files. Timings: docs/BENCHMARKS.md "Map".
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .types import FileInfo

MIN_UMAP_FILES = 30  # fewer files than this are laid out by PCA
PCA_DIMS = 50  # UMAP runs on this many principal components of the mean vectors
UMAP_NEIGHBOURS = 15  # umap-learn's default; fewer when the library is small
UMAP_EPOCHS = 200  # umap-learn's own choice above 10,000 points (below, 500: a map of files needs no more)
KEPT_LAYOUTS = 8  # layouts kept (one per index state and scope)
_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Library -> its MapCache


@dataclass(frozen=True)
class FileMap:
    """Files placed on a map: ``xy[i]`` (in [0, 1]², float32) is where ``paths[i]`` lies.

    ``method`` is "umap", "pca" or "none" (no file, or one); ``missing`` lists files without sound vectors
    (indexed by the text channel alone), which the map leaves out.
    """

    paths: tuple[str, ...]
    xy: NDArray[np.float32]
    method: str
    missing: tuple[str, ...] = ()


def mean_vector(vectors: NDArray[np.float32]) -> NDArray[np.float32] | None:
    """The unit-length mean of a file's window vectors (shape (n, dim)); None for a file without any."""
    if len(vectors) == 0:
        return None
    mean = np.asarray(vectors, np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


def pca(vectors: NDArray[np.float32], dims: int) -> NDArray[np.float32]:
    """The first ``dims`` principal components of ``vectors`` (shape (n, d)): shape (n, min(dims, n, d)). Signs are
    fixed (each component's largest coordinate positive), so the same vectors give the same map."""
    x = np.asarray(vectors, np.float64)
    x = x - x.mean(axis=0)
    # the eigenvectors of the d x d covariance: one matrix product over the files, not an SVD of them
    values, vectors_ = np.linalg.eigh(x.T @ x)
    vt = vectors_[:, ::-1][:, : min(dims, len(x), x.shape[1])].T
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])[:, None]
    return (x @ vt.T).astype(np.float32)


def to_unit_square(xy: NDArray, margin: float = 0.04) -> NDArray[np.float32]:
    """Points scaled into [margin, 1 - margin]² with their aspect kept (the longer side fills it), centred."""
    xy = np.asarray(xy, np.float64)
    if len(xy) == 0:
        return np.zeros((0, 2), np.float32)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = float((hi - lo).max())
    if span == 0:
        return np.full((len(xy), 2), 0.5, np.float32)
    out = (xy - (lo + hi) / 2) / span * (1 - 2 * margin) + 0.5
    return out.astype(np.float32)


def layout(vectors: NDArray[np.float32], seed: int = 0) -> tuple[NDArray[np.float32], str]:
    """2-D positions in [0, 1]² for files given by their mean vectors (shape (n, dim)), and the method used:
    UMAP from :data:`MIN_UMAP_FILES` files on, PCA below."""
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2), np.float32), "none"
    if n == 1:
        return np.full((1, 2), 0.5, np.float32), "none"
    if n < MIN_UMAP_FILES:
        xy = pca(vectors, 2)
        if xy.shape[1] < 2:
            xy = np.column_stack([xy, np.zeros(n, np.float32)])
        return to_unit_square(xy), "pca"
    import warnings

    import umap  # umap-learn: imported here, it takes seconds (numba)

    reduced = pca(vectors, PCA_DIMS)
    with warnings.catch_warnings():  # "n_jobs overridden by setting random_state": one thread keeps maps stable
        warnings.simplefilter("ignore")
        model = umap.UMAP(
            n_neighbors=min(UMAP_NEIGHBOURS, n - 1),
            n_epochs=UMAP_EPOCHS,
            min_dist=0.1,
            metric="cosine",
            init="pca",
            random_state=seed,
        )
        xy = model.fit_transform(reduced)
    return to_unit_square(xy), "umap"


def state_key(files: Sequence[FileInfo]) -> str:
    """A key for the index state a map shows: the files' paths, sizes and mtimes (visitors who see the same files
    share a map; one who sees other files gets another)."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        h.update(f"{f.path}\0{f.size}\0{f.mtime_ns}\n".encode())
    return h.hexdigest()


def in_polygon(xy: NDArray, polygon: Sequence[Sequence[float]]) -> NDArray[np.intp]:
    """Indices of the points inside a polygon (a lasso or a box: its corners in order), by ray casting."""
    pts = np.asarray(xy, np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, np.float64)
    if poly.ndim != 2 or poly.shape[1] != 2 or not np.isfinite(poly).all():
        raise ValueError(f"Expected a polygon's corners as (x, y) pairs of finite numbers, got shape {poly.shape}")
    if len(poly) < 3 or len(pts) == 0:
        return np.zeros(0, np.intp)
    x, y = pts[:, 0:1], pts[:, 1:2]
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    inside = (crosses & (x < at)).sum(axis=1) % 2 == 1
    return np.flatnonzero(inside)


def file_map(library, filters=None) -> FileMap:
    """The files of a :class:`~audioret.library.Library` within ``filters`` (:class:`~audioret.types.Filters`) on
    a 2-D map by how they sound, kept until the library changes."""
    return of(library).file_map(library.files(filters))


def of(library) -> MapCache:
    """The cache of a :class:`~audioret.library.Library` (made on first use)."""
    cache = _CACHES.get(library)
    if cache is None:
        cache = _CACHES[library] = MapCache(library.file_vectors)
    return cache


class MapCache:
    """Mean vectors per file version and layouts per index state, shared by every visitor of a page.

    Args:
        vectors_of: a file's window vectors (``Library.file_vectors``).
    """

    def __init__(self, vectors_of: Callable[[str], NDArray[np.float32]]):
        self.vectors_of = vectors_of
        self._means: dict[tuple[str, int, int], NDArray[np.float32] | None] = {}
        self._layouts: OrderedDict[str, FileMap] = OrderedDict()
        self._lock = threading.Lock()

    def mean(self, f: FileInfo) -> NDArray[np.float32] | None:
        key = (f.path, f.size, f.mtime_ns)
        if key not in self._means:
            self._means[key] = mean_vector(self.vectors_of(f.path))
        return self._means[key]

    def file_map(self, files: Sequence[FileInfo]) -> FileMap:
        """The map of ``files`` (computed once per index state)."""
        key = state_key(files)
        with self._lock:
            if key in self._layouts:
                self._layouts.move_to_end(key)
                return self._layouts[key]
            kept, missing, means = [], [], []
            for f in sorted(files, key=lambda f: f.path):
                m = self.mean(f)
                (missing if m is None else kept).append(f.path)
                if m is not None:
                    means.append(m)
            live = {(f.path, f.size, f.mtime_ns) for f in files}
            for stale in [k for k in self._means if k[0] in {f.path for f in files} and k not in live]:
                del self._means[stale]
            xy, method = layout(np.stack(means) if means else np.zeros((0, 1), np.float32))
            found = FileMap(tuple(kept), xy, method, tuple(missing))
            self._layouts[key] = found
            while len(self._layouts) > KEPT_LAYOUTS:
                self._layouts.popitem(last=False)
            return found
