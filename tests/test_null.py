"""The measured null (audioret/ranking/null.py) on hand-made channels: no model, no store."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audioret.ranking.calibration import Background, calibrate, surprisal
from audioret.ranking.null import fit_tops, say


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def test_fit_tops_recovers_a_gumbel_law():
    rng = np.random.default_rng(1)
    tops = 3.0 + 0.5 * rng.gumbel(size=4000)
    location, scale = fit_tops(tops)
    assert location == pytest.approx(3.0, abs=0.05) and scale == pytest.approx(0.5, abs=0.05)
    # fitted on the tops themselves, the median top carries ln 2 nats and one in ten carries ln 10 or more
    e = surprisal(tops, location, scale)
    assert np.median(e) == pytest.approx(math.log(2), abs=0.05)
    assert np.mean(e >= math.log(10)) == pytest.approx(0.1, abs=0.02)


def test_fit_tops_holds_while_a_sixth_of_the_references_truly_match():
    rng = np.random.default_rng(2)
    chance = 3.0 + 0.5 * rng.gumbel(size=300)
    matches = rng.uniform(8.0, 20.0, size=60)  # a sixth of the reference prompts find something
    location, scale = fit_tops(np.concatenate([chance, matches]))
    assert np.median(surprisal(chance, location, scale)) < 1.0  # chance tops stay chance
    assert np.all(surprisal(matches, location, scale) > 5.0)


def test_say_is_nothing_at_chance_and_most_of_a_clear_winner():
    assert say([0.0, 0.7, 1.0]).tolist() == [0.0, 0.0, 0.0]
    assert say(2.0) == pytest.approx(1.0 - math.log(2.0))
    assert say(30.0) == pytest.approx(29.0 - math.log(30.0)) and say(30.0) > 0.85 * 30
    assert np.all(np.diff(say(np.linspace(0, 50, 200))) >= 0)  # never reverses an order


def _clustered_channel(rng, dim=64):
    """600 unrelated records and 3 clusters of files alike (12 each, 10 windows a file): an unrelated query that
    leans towards a cluster lifts all of it, as a channel whose answers are query-dependent noise does."""
    diffuse = _unit(rng.standard_normal((600, dim)))
    centres = _unit(rng.standard_normal((3, dim)))
    files = _unit(np.repeat(centres, 12, axis=0) + 0.2 * _unit(rng.standard_normal((36, dim))))
    windows = _unit(np.repeat(files, 10, axis=0) + 0.1 * _unit(rng.standard_normal((360, dim))))
    return np.vstack([diffuse, windows])


def test_correlated_records_do_not_fake_evidence():
    """Measured against the reference queries' tops, an unrelated query's top is chance and has next to no say;
    against the best of n independent normals (the law assumed before), one in six looks like a find."""
    rng = np.random.default_rng(2)
    records = _clustered_channel(rng)
    background = Background.of(records, len(records), _unit(rng.standard_normal((48, records.shape[1]))))
    measured, assumed = [], []
    for _ in range(300):
        query = _unit(rng.standard_normal((1, records.shape[1])))
        scores = records @ query[0]
        top = [int(np.argmax(scores))]
        measured.append(float(calibrate(scores[top], records[top], query, background)[0]))
        assumed.append(float(calibrate(scores[top], records[top], query, background, against_reference=False)[0]))
    measured, assumed = np.array(measured), np.array(assumed)
    assert np.mean(assumed > 4.0) > 0.12
    assert np.median(measured) == pytest.approx(math.log(2), abs=0.15) and np.mean(measured > 4.0) < 0.03
    assert np.mean(say(measured) > 0.5) < 0.1


def test_a_true_match_stands_out_of_the_measured_null():
    rng = np.random.default_rng(2)
    records = _clustered_channel(rng)
    background = Background.of(records, len(records), _unit(rng.standard_normal((48, records.shape[1]))))
    for target in (17, 700):  # one unrelated record, one window of a file in a cluster
        query = _unit(records[target] + 0.5 * _unit(rng.standard_normal(records.shape[1])))[None]
        e = calibrate(records @ query[0], records, query, background)
        assert say(e[target]) > 5.0 and e[target] >= e.max() - 1.0  # (its file's neighbours are alike)
