"""The measured null (audioret/ranking/null.py) on hand-made channels: no model, no store."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audioret.ranking.calibration import Background, calibrate, surprisal
from audioret.ranking.null import fit_tops


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("quantiles", [(0.10, 0.25), (0.5, 0.75)])
def test_fit_tops_recovers_a_gumbel_law(quantiles):
    rng = np.random.default_rng(1)
    tops = 3.0 + 0.5 * rng.gumbel(size=4000)
    location, scale = fit_tops(tops, quantiles)
    assert location == pytest.approx(3.0, abs=0.05) and scale == pytest.approx(0.5, abs=0.05)
    # fitted on the tops themselves, the median top carries ln 2 nats and one in ten carries ln 10 or more
    e = surprisal(tops, location, scale)
    assert np.median(e) == pytest.approx(math.log(2), abs=0.05)
    assert np.mean(e >= math.log(10)) == pytest.approx(0.1, abs=0.02)


def test_the_default_fit_ignores_references_that_truly_match():
    rng = np.random.default_rng(2)
    chance = 3.0 + 0.5 * rng.gumbel(size=300)
    matches = rng.uniform(8.0, 20.0, size=150)  # a third of the reference prompts find something
    location, scale = fit_tops(np.concatenate([chance, matches]))
    assert np.median(surprisal(chance, location, scale)) < 1.5  # chance tops stay near chance
    assert np.all(surprisal(matches, location, scale) > 7.0)  # the true matches keep their evidence


def _clustered_channel(rng, dim=64):
    """600 unrelated records and 3 clusters of files alike (12 each, 10 windows a file): an unrelated query that
    leans towards a cluster lifts all of it, as a channel whose answers are query-dependent noise does."""
    diffuse = _unit(rng.standard_normal((600, dim)))
    centres = _unit(rng.standard_normal((3, dim)))
    files = _unit(np.repeat(centres, 12, axis=0) + 0.2 * _unit(rng.standard_normal((36, dim))))
    windows = _unit(np.repeat(files, 10, axis=0) + 0.1 * _unit(rng.standard_normal((360, dim))))
    return np.vstack([diffuse, windows])


def test_correlated_records_fake_less_evidence_against_the_measured_law():
    """An unrelated query's top in a channel with clusters: against the best of n independent normals (the law
    assumed before) one in six looks like a find (> 4 nats); against the law measured on the reference queries'
    tops, fewer (the default fit) or almost none (through the median and upper quartile)."""
    rng = np.random.default_rng(2)
    records = _clustered_channel(rng)
    background = Background.of(records, len(records), _unit(rng.standard_normal((48, records.shape[1]))))
    queries = [_unit(rng.standard_normal((1, records.shape[1]))) for _ in range(300)]
    tops = [int(np.argmax(records @ q[0])) for q in queries]
    assumed = np.array(
        [
            calibrate(records[[t]] @ q[0], records[[t]], q, background, against_reference=False)[0]
            for q, t in zip(queries, tops)
        ]
    )
    measured = np.array([calibrate(records[[t]] @ q[0], records[[t]], q, background)[0] for q, t in zip(queries, tops)])
    upper = Background.of(records, len(records), background.reference)
    upper.__dict__["_law"] = (fit_tops(upper.tops, (0.5, 0.75))[0], fit_tops(upper.tops, (0.5, 0.75))[1])
    through_upper = np.array([calibrate(records[[t]] @ q[0], records[[t]], q, upper)[0] for q, t in zip(queries, tops)])
    assert np.mean(assumed > 4.0) > 0.12
    assert np.mean(measured > 4.0) < np.mean(assumed > 4.0)
    assert np.median(through_upper) == pytest.approx(math.log(2), abs=0.2) and np.mean(through_upper > 4.0) < 0.03


def test_a_true_match_stands_out_of_the_measured_null():
    rng = np.random.default_rng(2)
    records = _clustered_channel(rng)
    background = Background.of(records, len(records), _unit(rng.standard_normal((48, records.shape[1]))))
    for target in (17, 700):  # one unrelated record, one window of a file in a cluster
        query = _unit(records[target] + 0.5 * _unit(rng.standard_normal(records.shape[1])))[None]
        e = calibrate(records @ query[0], records, query, background)
        assert e[target] > 8.0 and e[target] >= e.max() - 1.0  # (its file's neighbours are alike)


def test_calibration_leaves_blas_threads_as_it_found_them():
    """A query's products run on one BLAS thread (its threads spun for them, against the models' own); a caller's
    BLAS setting is back when calibrate returns, and the evidence is what it was."""
    from threadpoolctl import ThreadpoolController, threadpool_info

    blas = ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("numpy has no BLAS that threadpoolctl can set")
    rng = np.random.default_rng(3)
    records = _clustered_channel(rng)
    background = Background.of(records, len(records), _unit(rng.standard_normal((48, records.shape[1]))))
    query = _unit(rng.standard_normal((1, records.shape[1])))
    with blas.limit(limits=2):
        e = calibrate(records[:50] @ query[0], records[:50], query, background)
        assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == [2] * len(
            blas.lib_controllers
        )
    assert e[0] == calibrate(records[:50] @ query[0], records[:50], query, background)[0]
