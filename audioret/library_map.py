"""The library as a map: each file placed in 2-D by what it sounds like, for the page's Library tab.

A file is its mean sound-channel vector (the mean of its window embeddings, renormalised). UMAP (umap-learn, cosine
metric, after a PCA to :data:`PCA_DIMS` dimensions, which keeps the neighbour search cheap) lays out
:data:`MIN_UMAP_FILES` files or more; below that UMAP's neighbour graph is too thin to mean anything, and the two
principal components (numpy) are the map.

Nobody waits for a layout: an index run lays the library out at its end (:func:`refresh`, in the run's time) and
keeps it beside the index (``DATA_DIR/map/``) with each file's mean vector. A map of files that layout does not
hold (added since, or a visitor's uploads) places each new file where its nearest laid-out files lie
(:func:`place`, as UMAP's own ``transform`` starts a new point), until a run finds more than
:data:`RELAYOUT_SHARE` of the library new and lays it out again. Files under the library's private roots (a public
page's visitors' uploads, ``Library.keep_private``) are never laid out nor kept: they are placed, for the view that
holds them only, so one visitor's uploads never move the map another sees. umap-learn's compiled functions are
kept by numba on disk (:func:`_cached_numba`), so a process pays their compilation only on a machine's first
layout. Maps are also kept in memory per index state (the files' paths, sizes and mtimes). Timings:
docs/BENCHMARKS.md "Map".
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .types import FileInfo

MIN_UMAP_FILES = 30  # fewer files than this are laid out by PCA
PCA_DIMS = 50  # UMAP runs on this many principal components of the mean vectors
UMAP_NEIGHBOURS = 15  # umap-learn's default; fewer when the library is small
UMAP_EPOCHS = 200  # umap-learn's own choice above 10,000 points (below, 500: a map of files needs no more)
KEPT_LAYOUTS = 8  # layouts kept (one per index state and scope)
RELAYOUT_SHARE = 0.2  # an index run lays the map out again when more of the files than this are not laid out
PLACE_NEIGHBOURS = 5  # a new file is placed at the weighted mean of this many nearest laid-out files
logger = logging.getLogger("audioret")
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
    placed: int = 0  # files not in the kept layout, placed by their nearest laid-out files


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


def place(
    means: NDArray[np.float32], known: NDArray, known_xy: NDArray, k: int = PLACE_NEIGHBOURS
) -> NDArray[np.float32]:
    """Where new files go on a kept map (pure): each at the mean of its ``k`` most similar laid-out files'
    places, weighted by cosine (negative ones count nothing), as UMAP's ``transform`` initialises a new point.

    Args:
        means: the new files' unit mean vectors, shape (m, dim).
        known: the laid-out files' unit mean vectors, shape (n, dim).
        known_xy: their places, shape (n, 2).
    """
    means = np.atleast_2d(np.asarray(means, np.float32))
    if len(means) == 0 or len(known) == 0:
        return np.full((len(means), 2), 0.5, np.float32)
    sims = means @ np.asarray(known, np.float32).T  # (m, n)
    k = min(k, sims.shape[1])
    nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    weights = np.maximum(np.take_along_axis(sims, nearest, axis=1), 0.0) + 1e-6
    xy = np.asarray(known_xy, np.float64)[nearest]  # (m, k, 2)
    return ((weights[..., None] * xy).sum(axis=1) / weights.sum(axis=1)[:, None]).astype(np.float32)


def _cached_numba() -> None:
    """Has numba keep umap-learn's compiled functions on disk (pynndescent marks its own ``cache=True``; most of
    umap-learn's are not), so that only the first layout on a machine compiles them. A function numba cannot
    cache is compiled each time, as before."""
    import umap.layouts
    import umap.umap_
    import umap.utils
    from numba.core.dispatcher import Dispatcher

    for module in (umap.umap_, umap.layouts, umap.utils):
        for value in vars(module).values():
            if isinstance(value, Dispatcher) and getattr(value, "_cache", None) is not None:
                if type(value._cache).__name__ == "NullCache":
                    try:
                        value.enable_caching()
                    except Exception as e:  # e.g. a dynamically made function: compiled as before
                        logger.debug("numba cannot cache %s: %s", value, e)


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

    _cached_numba()
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


def refresh(library, report=None) -> None:
    """At the end of an index run: lays the library's map out again where the kept layout is missing or more than
    :data:`RELAYOUT_SHARE` of the files are new to it, and keeps it; the seconds go to ``report.map_s`` (and its
    ``elapsed_s``). A failure is logged: the map is then laid out when it is first drawn."""
    import time

    t0 = time.perf_counter()
    try:
        of(library).refresh(library.files())
    except Exception as e:  # the index is written; only the map waits for its first view
        logger.warning("The map of the library was not laid out: %s: %s", type(e).__name__, e)
    if report is not None:
        report.map_s += time.perf_counter() - t0
        report.elapsed_s += time.perf_counter() - t0


def of(library) -> MapCache:
    """The cache of a :class:`~audioret.library.Library` (made on first use); its layout is kept under
    ``DATA_DIR/map``, one per sound collection (a model of its own)."""
    cache = _CACHES.get(library)
    if cache is None:
        try:
            which = library.channels.hearing().store.collection.name
        except Exception:  # no hearing channel: nothing to lay out, nothing kept
            which = None
        kept = None if which is None else library.config.data_dir / "map" / f"layout-{_digest(which)}.npz"
        cache = _CACHES[library] = MapCache(library.file_vectors, kept)
    cache.private = tuple({r for c in library.channels for r in getattr(c.store, "private_roots", ())})
    return cache


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Kept:
    """A full layout as kept on disk: each laid-out file's version, mean vector and place."""

    keys: dict[tuple[str, int, int], int]  # (path, size, mtime_ns) -> row
    means: NDArray[np.float32]
    xy: NDArray[np.float32]
    method: str


class MapCache:
    """Mean vectors per file version and layouts per index state, shared by every visitor of a page.

    Args:
        vectors_of: a file's window vectors (``Library.file_vectors``).
        kept_path: where the library's full layout is kept (None: in memory only).
    """

    def __init__(self, vectors_of: Callable[[str], NDArray[np.float32]], kept_path: Path | None = None):
        self.vectors_of, self.kept_path = vectors_of, kept_path
        self._means: dict[tuple[str, int, int], NDArray[np.float32] | None] = {}
        self._layouts: OrderedDict[str, FileMap] = OrderedDict()
        self._kept: tuple[float, Kept] | None = None  # (the file's mtime, what it holds)
        self._lock = threading.Lock()
        self.private: tuple[str, ...] = ()  # roots whose files are placed, never laid out nor kept

    def _shared(self, files: Sequence[FileInfo]) -> list[FileInfo]:
        """``files`` without those under :attr:`private`."""
        roots = tuple(r.replace("\\", "/").rstrip("/") + "/" for r in self.private)
        return [f for f in files if not roots or not f.path.replace("\\", "/").startswith(roots)]

    def mean(self, f: FileInfo) -> NDArray[np.float32] | None:
        key = (f.path, f.size, f.mtime_ns)
        if key not in self._means:
            self._means[key] = mean_vector(self.vectors_of(f.path))
        return self._means[key]

    def kept(self) -> Kept | None:
        """The kept full layout (read again when its file changed), or None."""
        if self.kept_path is None:
            return self._kept[1] if self._kept else None
        try:
            mtime = self.kept_path.stat().st_mtime_ns
        except OSError:
            return None
        if self._kept is None or self._kept[0] != mtime:
            try:
                with np.load(self.kept_path, allow_pickle=False) as z:
                    versions = zip(z["paths"].tolist(), z["sizes"].tolist(), z["mtimes"].tolist())
                    keys = {(p, s, m): i for i, (p, s, m) in enumerate(versions)}
                    found = Kept(keys, z["means"].astype(np.float32), z["xy"].astype(np.float32), str(z["method"]))
            except (OSError, ValueError, KeyError) as e:
                logger.warning("The kept map %s could not be read (%s); it is laid out again", self.kept_path, e)
                return None
            self._kept = (mtime, found)
        return self._kept[1]

    def _keep(self, files: Sequence[FileInfo], means: list, xy: NDArray, method: str) -> None:
        keys = [(f.path, f.size, f.mtime_ns) for f in files]
        found = Kept({k: i for i, k in enumerate(keys)}, np.stack(means).astype(np.float32), xy, method)
        if self.kept_path is None:
            self._kept = (0.0, found)
            return
        try:
            self.kept_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.kept_path.with_name(f"{self.kept_path.stem}.tmp-{threading.get_ident()}.npz")
            with open(tmp, "wb") as out:
                np.savez(
                    out,
                    paths=np.array([k[0] for k in keys], dtype=str),
                    sizes=np.array([k[1] for k in keys], np.int64),
                    mtimes=np.array([k[2] for k in keys], np.int64),
                    means=found.means.astype(np.float16),  # for placing new files: half precision is plenty
                    xy=xy,
                    method=np.array(method),
                )
            tmp.replace(self.kept_path)
        except OSError as e:
            logger.warning("Could not keep the map at %s: %s", self.kept_path, e)
            self._kept = (0.0, found)

    def _with_sound(self, files: Sequence[FileInfo]) -> tuple[list[FileInfo], list[str], list]:
        kept, missing, means = [], [], []
        for f in sorted(files, key=lambda f: f.path):
            m = self.mean(f)
            (missing if m is None else kept).append(f.path if m is None else f)
            if m is not None:
                means.append(m)
        return kept, missing, means

    def _stale(self, files: Sequence[FileInfo], kept: Kept | None) -> bool:
        new = sum((f.path, f.size, f.mtime_ns) not in kept.keys for f in files) if kept else len(files)
        return kept is None or new > RELAYOUT_SHARE * len(files)

    def refresh(self, files: Sequence[FileInfo]) -> None:
        """Lays ``files`` (the shared ones) out again and keeps the layout, where the kept one is missing or stale."""
        files = self._shared(files)
        with self._lock:
            if len(files) < 2 or not self._stale(files, self.kept()):
                return
        laid, _, means = self._with_sound(files)  # outside the lock: the page draws from the old layout meanwhile
        if len(laid) >= 2:
            xy, method = layout(np.stack(means))
            with self._lock:
                self._keep(laid, means, xy, method)
                self._layouts.clear()

    def file_map(self, files: Sequence[FileInfo]) -> FileMap:
        """The map of ``files`` (computed once per index state): from the kept layout, new files placed by their
        nearest laid-out files; laid out (and kept) only where no layout is kept yet."""
        key = state_key(files)
        with self._lock:
            if key in self._layouts:
                self._layouts.move_to_end(key)
                return self._layouts[key]
            kept = self.kept()
            shared = self._shared(files)
            if kept is None and len(shared) < len(files):  # the shared files laid out and kept; the others placed
                laid, _, means = self._with_sound(shared)
                if len(laid) >= 2:
                    self._keep(laid, means, *layout(np.stack(means)))
                    kept = self.kept()
            if kept is None:
                laid, missing, means = self._with_sound(files)
                xy, method = layout(np.stack(means) if means else np.zeros((0, 1), np.float32))
                if len(laid) >= 2 and len(shared) == len(files):
                    self._keep(laid, means, xy, method)
                found = FileMap(tuple(f.path for f in laid), xy, method, tuple(missing))
            else:
                found = self._from_kept(files, kept)
            live, paths = {(f.path, f.size, f.mtime_ns) for f in files}, {f.path for f in files}
            for stale in [k for k in self._means if k[0] in paths and k not in live]:
                del self._means[stale]
            self._layouts[key] = found
            while len(self._layouts) > KEPT_LAYOUTS:
                self._layouts.popitem(last=False)
            return found

    def _from_kept(self, files: Sequence[FileInfo], kept: Kept) -> FileMap:
        paths, rows, new, missing = [], [], [], []
        for f in sorted(files, key=lambda f: f.path):
            row = kept.keys.get((f.path, f.size, f.mtime_ns))
            if row is not None:
                paths.append(f.path)
                rows.append(row)
                continue
            m = self.mean(f)
            if m is None:
                missing.append(f.path)
            else:
                paths.append(f.path)
                rows.append(-1)
                new.append(m)
        xy = np.zeros((len(paths), 2), np.float32)
        at = np.array(rows, np.intp)
        xy[at >= 0] = kept.xy[at[at >= 0]]
        if new:
            xy[at < 0] = place(np.stack(new), kept.means, kept.xy)
        if len(paths) < len(kept.keys) or new:  # a part of the library, or more: fill the square again
            xy = to_unit_square(xy) if len(paths) > 1 else np.full((len(paths), 2), 0.5, np.float32)
        method = kept.method if len(paths) > 1 else "none"
        return FileMap(tuple(paths), xy, method, tuple(missing), len(new))
