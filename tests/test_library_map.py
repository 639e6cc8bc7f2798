"""The library map's numbers: files that sound alike lie together, a lasso holds what it encloses, a layout is kept
until the library changes; and a real index's map (tiny CLAP over the demo library)."""

from __future__ import annotations

import numpy as np
import pytest

from audioret import Config, Library
from audioret.library_map import (
    MIN_UMAP_FILES,
    MapCache,
    file_map,
    in_polygon,
    layout,
    mean_vector,
    pca,
    place,
    state_key,
    to_unit_square,
)
from audioret.types import FileInfo

from .conftest import EXAMPLES_DIR


def clusters(n_per: int, k: int, dim: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``k`` tight groups of unit vectors around random centres: (vectors, group of each)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim))
    labels = np.repeat(np.arange(k), n_per)
    x = centres[labels] + 0.15 * rng.standard_normal((k * n_per, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), labels


def separation(xy: np.ndarray, labels: np.ndarray) -> float:
    """The smallest distance between two groups' centres over the largest spread within a group."""
    centres = np.array([xy[labels == g].mean(axis=0) for g in np.unique(labels)])
    spread = max(np.linalg.norm(xy[labels == g] - centres[g], axis=1).max() for g in np.unique(labels))
    between = min(np.linalg.norm(a - b) for i, a in enumerate(centres) for b in centres[i + 1 :])
    return between / spread


def test_mean_vector_is_unit_length_and_none_without_windows():
    v = mean_vector(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32))
    assert np.allclose(v, [2**-0.5, 2**-0.5])
    assert mean_vector(np.zeros((0, 4), np.float32)) is None


def test_pca_is_deterministic_and_orders_by_variance():
    x, labels = clusters(10, 2)
    a, b = pca(x, 2), pca(x[::-1].copy(), 2)[::-1]
    assert np.allclose(a, b, atol=1e-4)  # the same points in another order: the same places
    assert a[:, 0].var() >= a[:, 1].var()
    assert (np.sign(a[labels == 0, 0]) != np.sign(a[labels == 1, 0])).all()  # two groups: the first axis splits them


def test_to_unit_square_keeps_the_aspect_within_the_margin():
    xy = to_unit_square(np.array([[0, 0], [10, 0], [10, 2]]), margin=0.05)
    assert xy.min() >= 0.05 - 1e-6 and xy.max() <= 0.95 + 1e-6
    assert np.ptp(xy[:, 0]) == pytest.approx(0.9) and np.ptp(xy[:, 1]) == pytest.approx(0.18)
    assert np.allclose(to_unit_square(np.ones((3, 2))), 0.5)


def test_small_libraries_use_pca_and_keep_groups_apart():
    x, labels = clusters(4, 3)
    xy, method = layout(x)
    assert method == "pca" and xy.shape == (12, 2) and len(x) < MIN_UMAP_FILES
    assert separation(xy, labels) > 1
    assert layout(x[:1])[1] == "none" and layout(np.zeros((0, 8), np.float32))[0].shape == (0, 2)


@pytest.mark.slow  # umap-learn compiles its numba functions on first use
def test_umap_keeps_groups_apart():
    x, labels = clusters(40, 4, dim=128)
    xy, method = layout(x)
    assert method == "umap" and xy.shape == (160, 2) and 0 <= xy.min() and xy.max() <= 1
    assert separation(xy, labels) > 1.5


def test_in_polygon_holds_what_a_lasso_encloses():
    xy = np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9], [0.5, 0.05], [0.2, 0.25]])
    box = [(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)]
    assert in_polygon(xy, box).tolist() == [1]
    triangle = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    assert in_polygon(xy, triangle).tolist() == [0, 3, 4]
    assert in_polygon(xy, box[:2]).tolist() == []  # two corners enclose nothing


def _info(path: str, mtime: int = 1) -> FileInfo:
    return FileInfo(path, 8.0, ("clap",), False, 100, mtime)


def test_cache_reads_each_file_once_and_recomputes_only_after_a_change():
    x, _ = clusters(3, 2, dim=8)
    vectors = {f"/lib/{i}.wav": np.stack([x[i], x[i]]) for i in range(6)}
    vectors["/lib/words-only.wav"] = np.zeros((0, 8), np.float32)
    reads = []

    def vectors_of(path):
        reads.append(path)
        return vectors[path]

    cache = MapCache(vectors_of)
    files = [_info(p) for p in vectors]
    first = cache.file_map(files)
    assert first.paths == tuple(sorted(p for p in vectors if "words" not in p)) and first.method == "pca"
    assert first.missing == ("/lib/words-only.wav",) and len(reads) == 7
    assert cache.file_map(list(reversed(files))) is first and len(reads) == 7  # the same state: kept
    changed = [_info(f.path, 2) if f.path == "/lib/0.wav" else f for f in files]
    second = cache.file_map(changed)
    assert second is not first and reads[7:] == ["/lib/0.wav"]  # only the changed file is read again
    assert state_key(files) != state_key(changed) and state_key(files) == state_key(files[::-1])


def test_a_new_file_is_placed_among_its_nearest_laid_out_files():
    x, labels = clusters(5, 3, dim=16)
    xy = np.array([[0.1, 0.1], [0.5, 0.9], [0.9, 0.1]], np.float32)[labels]  # each group at one corner
    new, _ = clusters(2, 3, dim=16, seed=0)  # the same groups' centres, other members
    placed = place(new, x, xy)
    assert np.allclose(placed, xy[::5].repeat(2, axis=0), atol=1e-5)  # each lands on its own group's place
    between = mean_vector(np.stack([x[0], x[5]]))[None]  # as like group 0 as group 1: between them
    assert 0.1 < place(between, x, xy, k=10)[0, 1] < 0.9
    assert place(np.zeros((0, 16), np.float32), x, xy).shape == (0, 2)


def test_a_kept_layout_serves_a_new_process_and_places_new_files(tmp_path):
    x, labels = clusters(4, 3, dim=8)
    vectors = {f"/lib/{i:02d}.wav": x[i][None] for i in range(12)}
    reads = []

    def vectors_of(path):
        reads.append(path)
        return vectors[path]

    kept = tmp_path / "map" / "layout.npz"
    files = [_info(p) for p in vectors]
    first = MapCache(vectors_of, kept).file_map(files)  # no layout kept yet: laid out now, and kept
    assert kept.exists() and first.placed == 0 and len(reads) == 12
    vectors["/lib/new.wav"] = x[:1] * 0.9 + x[1:2] * 0.1  # like file 0 (of group 0)
    again = MapCache(vectors_of, kept)  # another process: the kept layout, and only the new file read
    found = again.file_map(files + [_info("/lib/new.wav")])
    assert reads[12:] == ["/lib/new.wav"] and found.placed == 1 and found.method == first.method
    group0 = found.xy[[found.paths.index(f"/lib/{i:02d}.wav") for i in range(4)]]
    new_at = found.xy[found.paths.index("/lib/new.wav")]
    others = found.xy[[found.paths.index(f"/lib/{i:02d}.wav") for i in range(4, 12)]]
    assert np.linalg.norm(group0 - new_at, axis=1).max() < np.linalg.norm(others - new_at, axis=1).min()
    part = again.file_map(files[:6])  # a visitor's part of the library: its places from the same layout
    assert part.placed == 0 and part.paths == tuple(f.path for f in files[:6])
    again.refresh(files + [_info("/lib/new.wav")])  # one new file in 13: the kept layout stays
    assert again.file_map(files + [_info("/lib/new.wav")]).placed == 1
    more = {f"/lib/more-{i}.wav": x[i][None] for i in range(6)}
    vectors.update(more)
    everything = files + [_info("/lib/new.wav")] + [_info(p) for p in more]
    again.refresh(everything)  # 7 of 19 new: laid out again, and kept for the next process
    assert MapCache(vectors_of, kept).file_map(everything).placed == 0


@pytest.mark.slow  # indexes the demo library with the tiny CLAP
def test_a_library_map_places_every_file_with_sound(tmp_path, tiny_clap_dir, text_model):
    library = Library(Config(data_dir=tmp_path, clap_model=str(tiny_clap_dir), text_model=text_model, device="cpu"))
    library.index([str(EXAMPLES_DIR)], progress=False)
    found = file_map(library)
    paths = [f.path for f in library.files()]
    assert sorted(found.paths) == sorted(paths) and found.method == "pca" and found.missing == ()
    assert found.xy.shape == (len(paths), 2) and 0 <= found.xy.min() and found.xy.max() <= 1
    assert file_map(library) is found  # kept while nothing changed
    from audioret.types import Filters

    sounds = file_map(library, Filters(folder=str(EXAMPLES_DIR / "sounds")))
    assert sounds.paths and all("/sounds/" in p for p in sounds.paths)


def test_the_map_colours_by_sound_labels_only():
    from audioret.ui.map_view import top_tag

    kinds = {"rain": "sound", "thunder": "sound", "loud": "loudness", "mine": "user", "speech": "speech"}
    assert top_tag({"loud": 1.0, "rain": 0.6, "thunder": 0.8, "mine": 1.0}, kinds) == "thunder"
    assert top_tag({"loud": 1.0, "speech": 0.4, "mine": 1.0}, kinds) == "speech"
    assert top_tag({"loud": 1.0, "mine": 1.0}, kinds) == "no sound label"


def test_a_lasso_whose_corners_are_not_pairs_of_numbers_is_refused():
    """A forged selection (three "corners" of a million numbers each) is refused before any work, not reshaped."""
    xy = np.zeros((10, 2))
    many = list(range(1_000))
    with pytest.raises(ValueError, match="pairs of finite numbers"):
        in_polygon(xy, [[many, many], [many, many], [many, many]])
    with pytest.raises(ValueError, match="pairs of finite numbers"):
        in_polygon(xy, [[0, 0], [1, float("nan")], [1, 1]])


def test_a_visitors_uploads_do_not_move_another_visitors_map(tmp_path):
    """On a public page an index run of one visitor's upload laid the whole library out again once a fifth of it
    was new (the shared map moved for everyone, and the kept layout held the visitor's paths). Files under the
    private roots are placed in their own visitor's view only, never laid out nor kept."""
    x, _ = clusters(4, 3, dim=8)
    vectors = {f"/lib/{i:02d}.wav": x[i][None] for i in range(12)}
    vectors.update({f"/visitors/a/{i}.wav": x[i][None] * 0.9 + x[i + 1][None] * 0.1 for i in range(8)})
    kept = tmp_path / "map" / "layout.npz"
    shared = [_info(p) for p in vectors if p.startswith("/lib/")]
    a_view = shared + [_info(p) for p in vectors if p.startswith("/visitors/a/")]
    cache = MapCache(lambda p: vectors[p], kept)
    cache.private = ("/visitors",)
    first_a = cache.file_map(a_view)  # visitor A draws first, with no layout kept yet
    assert first_a.placed == 8 and len(first_a.paths) == 20
    b_before = cache.file_map(shared)  # visitor B sees the shared library only
    cache.refresh(a_view)  # the end of A's upload's index run: 8 of 20 files new
    b_after = MapCache(lambda p: vectors[p], kept).file_map(shared)  # as B's next view reads the kept layout
    assert b_after.paths == b_before.paths and np.allclose(b_after.xy, b_before.xy)
    with np.load(kept) as z:
        assert all(p.startswith("/lib/") for p in z["paths"].tolist())  # no visitor's path is kept
    assert cache.file_map(a_view).placed == 8  # A's own files: placed by their nearest laid-out files
