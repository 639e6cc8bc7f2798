"""The measured null (audioret/null.py) on hand-made channels: no model, no store."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audioret.ranking.calibration import gumbel_max, surprisal
from audioret.ranking.null import fit_tops, measured, reference_tops, say, standardise


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_standardise_is_each_records_mean_and_spread_over_the_references_with_a_floor():
    profiles = np.array([[0.1, 0.5, 0.30], [0.3, 0.5, 0.30], [0.2, 0.5, 0.31]])
    mean, spread = standardise(profiles)
    assert mean == pytest.approx([0.2, 0.5, 0.30333333])
    # the middle record never moves: its spread is floored at a quarter of the median spread, not 0
    assert spread[0] == pytest.approx(np.std([0.1, 0.3, 0.2])) and spread[1] == pytest.approx(0.25 * spread[2])
    assert measured(0.4, mean[0], spread[0]) == pytest.approx(0.2 / np.std([0.1, 0.3, 0.2]))


def test_reference_tops_leave_each_reference_out_of_its_own_null():
    rng = np.random.default_rng(0)
    profiles = rng.standard_normal((30, 200))
    mean, spread = standardise(profiles)
    tops, scale = reference_tops(profiles, mean, spread)
    others = np.delete(profiles, 7, axis=0)
    z = (profiles[7] - others.mean(axis=0)) / others.std(axis=0)
    all_z = [(profiles[i] - np.delete(profiles, i, axis=0).mean(0)) / np.delete(profiles, i, axis=0).std(0)
             for i in range(30)]  # fmt: skip
    mads = [1.4826 * np.median(np.abs(x - np.median(x))) for x in all_z]
    assert scale == pytest.approx(np.median(mads))
    assert tops[7] == pytest.approx((z.max() - np.median(z)) / scale)


def test_fit_tops_recovers_a_gumbel_law():
    rng = np.random.default_rng(1)
    tops = 3.0 + 0.5 * rng.gumbel(size=4000)
    location, scale = fit_tops(tops)
    assert location == pytest.approx(3.0, abs=0.05) and scale == pytest.approx(0.5, abs=0.05)
    # fitted on the tops themselves, the median top carries ln 2 nats and one in ten carries ln 10 or more
    e = surprisal(tops, location, scale)
    assert np.median(e) == pytest.approx(math.log(2), abs=0.05)
    assert np.mean(e >= math.log(10)) == pytest.approx(0.1, abs=0.02)


def test_say_is_nothing_at_chance_and_most_of_a_clear_winner():
    assert say([0.0, 0.7, 1.0]).tolist() == [0.0, 0.0, 0.0]
    assert say(2.0) == pytest.approx(1.0 - math.log(2.0))
    assert say(30.0) == pytest.approx(29.0 - math.log(30.0)) and say(30.0) > 0.85 * 30
    assert np.all(np.diff(say(np.linspace(0, 50, 200))) >= 0)  # never reverses an order


def _clustered_channel(rng, dim=64):
    """600 unrelated records and 3 clusters of files alike (12 each, 10 windows a file): unrelated queries lift
    a whole cluster at once, a channel whose answers depend on the query but mean nothing."""
    diffuse = _unit(rng.standard_normal((600, dim)))
    centres = _unit(rng.standard_normal((3, dim)))
    files = _unit(np.repeat(centres, 12, axis=0) + 0.2 * _unit(rng.standard_normal((36, dim))))
    windows = _unit(np.repeat(files, 10, axis=0) + 0.1 * _unit(rng.standard_normal((360, dim))))
    return np.vstack([diffuse, windows])


def test_correlated_records_do_not_fake_evidence():
    """Unrelated queries lift whole clusters of records at once: the best of n independent normals calls their
    tops a find; measured against the reference queries' tops, a new unrelated query's top is chance."""
    rng = np.random.default_rng(2)
    records = _clustered_channel(rng)
    reference = _unit(rng.standard_normal((48, records.shape[1])))
    profiles = reference @ records.T
    mean, spread = standardise(profiles)
    tops, scale = reference_tops(profiles, mean, spread)
    law = fit_tops(tops)
    measured_e, assumed_e = [], []
    for _ in range(200):
        q = _unit(rng.standard_normal(records.shape[1]))
        z = measured(records @ q, mean, spread)
        measured_e.append(float(surprisal((z.max() - np.median(z)) / scale, *law)))
        raw = records @ q
        mad = 1.4826 * np.median(np.abs(raw - np.median(raw)))
        assumed_e.append(float(surprisal((raw.max() - np.median(raw)) / mad, *gumbel_max(len(records)))))
    assert np.mean(np.array(assumed_e) > 4.0) > 0.12  # the assumed law: many unrelated queries look like finds
    assert np.median(measured_e) < 1.0 and np.mean(np.array(measured_e) > 4.0) < 0.05
    assert np.mean(say(measured_e) > 1.0) < 0.05  # and a chance top has next to no say


def test_a_true_match_stands_out_of_the_measured_null():
    rng = np.random.default_rng(3)
    records = _clustered_channel(rng)
    reference = _unit(rng.standard_normal((48, records.shape[1])))
    profiles = reference @ records.T
    mean, spread = standardise(profiles)
    tops, scale = reference_tops(profiles, mean, spread)
    law = fit_tops(tops)
    for target in (17, 700):  # one unrelated record, one window of a file in a cluster
        q = _unit(records[target] + 0.5 * _unit(rng.standard_normal(records.shape[1])))
        z = measured(records @ q, mean, spread)
        e = surprisal((z - np.median(z)) / scale, *law)
        assert say(e[target]) > 5.0 and e[target] >= e.max() - 1.0  # (its file's neighbours are alike)
