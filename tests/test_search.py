"""Fusion on hand-made rankings: no model, no store."""

import pytest

from audioret.fusion import RRF_K, fuse
from audioret.records import SegmentMatch


def clap(path, score, start=0.0, end=10.0):
    return SegmentMatch(f"{path}-c", score, {"path": path, "start_s": start, "end_s": end, "duration_s": 60.0})


def text(path, score, kind="speech", start=30.0, end=34.0, words="we brought in the harvest"):
    meta = {"path": path, "start_s": start, "end_s": end, "duration_s": 60.0, "kind": kind}
    return SegmentMatch(f"{path}-t", score, meta, words)


RANKINGS = {
    "clap": [clap("a", 0.40), clap("b", 0.35), clap("c", 0.30)],
    "text": [text("c", 0.70), text("d", 0.50)],
}


def test_a_file_first_in_both_channels_scores_one():
    hits = fuse({"clap": [clap("a", 0.4)], "text": [text("a", 0.6)]}, {"clap": 1, "text": 1}, k=5)
    assert hits[0].score == pytest.approx(1.0)
    assert hits[0].scores == {"clap": pytest.approx(0.4), "text": pytest.approx(0.6)}


def test_rrf_ranks_and_keeps_files_only_one_channel_found():
    hits = fuse(RANKINGS, {"clap": 1, "text": 1}, k=10)
    # c: 1/(K+3) + 1/(K+1) beats a: 1/(K+1); b (CLAP alone) and d (text alone) tie at 1/(K+2), then by path
    assert [h.path for h in hits] == ["c", "a", "b", "d"]
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    norm = 2 / (RRF_K + 1)
    assert hits[0].score == pytest.approx((1 / (RRF_K + 3) + 1 / (RRF_K + 1)) / norm)
    assert hits[2].score == pytest.approx(hits[3].score)
    d = hits[3]
    assert set(d.scores) == {"text"} and d.segment_id is None  # no CLAP segment: no "more like this"
    assert (d.text, d.text_kind, d.start_s, d.end_s) == ("we brought in the harvest", "speech", 30.0, 34.0)
    assert set(hits[2].scores) == {"clap"} and hits[2].text is None


def test_weight_zero_removes_a_channel():
    hits = fuse(RANKINGS, {"clap": 1, "text": 0}, k=10)
    assert [h.path for h in hits] == ["a", "b", "c"]
    assert all(set(h.scores) == {"clap"} for h in hits)
    assert [h.score for h in hits] == pytest.approx([0.40, 0.35, 0.30])  # one channel: its cosine
    hits = fuse(RANKINGS, {"clap": 0, "text": 1}, k=10)
    assert [h.path for h in hits] == ["c", "d"]


def test_weights_shift_the_ranking():
    rankings = {"clap": [clap("a", 0.4), clap("b", 0.3)], "text": [text("b", 0.7), text("a", 0.5)]}
    assert fuse(rankings, {"clap": 2, "text": 1}, k=2)[0].path == "a"
    assert fuse(rankings, {"clap": 1, "text": 2}, k=2)[0].path == "b"


def test_time_range_follows_the_channel_that_found_it():
    # text ranks "c" first, CLAP third: the range is where the words were said
    c = next(h for h in fuse(RANKINGS, {"clap": 1, "text": 1}, k=10) if h.path == "c")
    assert (c.start_s, c.end_s) == (30.0, 34.0) and (c.text_start_s, c.text_end_s) == (30.0, 34.0)
    # CLAP ranks it better: the range is the CLAP segment's, the words are still shown
    rankings = {"clap": [clap("e", 0.5, 20.0, 30.0)], "text": [text("x", 0.9), text("e", 0.4)]}
    e = next(h for h in fuse(rankings, {"clap": 1, "text": 1}, k=10) if h.path == "e")
    assert (e.start_s, e.end_s) == (20.0, 30.0) and e.text_start_s == 30.0
    # a whole-file text match (the file name) found only by text: the first ten seconds
    n = fuse({"text": [text("n", 0.6, kind="name", start=0.0, end=60.0, words="rain on roof")]}, {"text": 1}, k=1)[0]
    assert (n.start_s, n.end_s, n.text_kind) == (0.0, 10.0, "name")


def test_k_limits_and_validates():
    assert len(fuse(RANKINGS, {"clap": 1, "text": 1}, k=2)) == 2
    with pytest.raises(ValueError, match="k must be at least 1"):
        fuse(RANKINGS, {"clap": 1}, k=0)
