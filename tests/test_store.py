from __future__ import annotations

import numpy as np
import pytest

from audioret.records import segment_id
from audioret.store import Store, StoreError, collection_name


def test_collection_names_are_valid_and_distinct(tmp_path):
    names = {collection_name(m) for m in ("laion/clap-htsat-unfused", "laion/larger_clap_general", str(tmp_path))}
    assert len(names) == 3
    assert collection_name("laion/clap-htsat-unfused") == "audioret-laion--clap-htsat-unfused"
    assert collection_name(str(tmp_path)).startswith(f"audioret-local-{tmp_path.name}"[:40])


def test_segment_ids_are_deterministic_per_path_and_window():
    assert segment_id("/a/b.wav", 3) == segment_id("/a/b.wav", 3)
    assert segment_id("/a/b.wav", 3) != segment_id("/a/b.wav", 4) != segment_id("/a/c.wav", 4)
    assert segment_id("/a/b.wav", 3).endswith("-000003")


def test_vectors_of_another_dimension_are_refused(tmp_path):
    Store("some/model", 512, path=tmp_path)
    with pytest.raises(StoreError, match="holds 512-d vectors, but model 'some/model' makes 64-d vectors"):
        Store("some/model", 64, path=tmp_path)


def test_models_do_not_mix(tmp_path):
    a, b = Store("model/a", 4, path=tmp_path), Store("model/b", 4, path=tmp_path)
    meta = {"path": "/x.wav", "hash": "h", "seg_index": 0, "n_segments": 1, "is_last": True, "start_s": 0.0,
            "end_s": 1.0, "duration_s": 1.0, "size": 1, "mtime_ns": 1, "hop_s": 7.5}  # fmt: skip
    a.add(["x-000000"], np.eye(4, dtype=np.float32)[:1], [meta])
    assert (a.count(), b.count()) == (1, 0)
    assert b.query(np.eye(4, dtype=np.float32)[:1], 5) == [[]]
    (match,) = a.query(np.eye(4, dtype=np.float32)[:1], 5)[0]
    assert match.id == "x-000000" and match.score == pytest.approx(1.0)
