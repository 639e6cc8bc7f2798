"""The evidence rule and fusion on hand-made rankings: no model, no store."""

import math
from dataclasses import replace

import numpy as np
import pytest

from audioret.channels.sound import SoundChannel
from audioret.channels.text import TextChannel
from audioret.query import Query
from audioret.ranking.calibration import (
    MATCH_BEYOND,
    MATCH_EVIDENCE,
    MATCH_SAY,
    Background,
    Null,
    calibrate,
    evidence,
    gumbel_max,
    match_evidence,
    phrase_evidence,
    strength,
    word_evidence,
)
from audioret.ranking.fusion import fuse
from audioret.ranking.null import SHARE_OF_BIAS, bias_slopes, match_line, say
from audioret.search import results
from audioret.store.records import SegmentMatch


def clap(path, e, score=0.3, start=0.0, end=10.0):
    meta = {"path": path, "start_s": start, "end_s": end, "duration_s": 60.0}
    return SoundChannel.found(SegmentMatch(f"{path}-c", score, meta), e)


def text(path, e, score=0.6, kind="speech", start=30.0, end=34.0, words="we brought in the harvest", leg="meaning"):
    meta = {"path": path, "start_s": start, "end_s": end, "duration_s": 60.0, "kind": kind}
    return TextChannel.found(SegmentMatch(f"{path}-t", score, meta, words), e, leg)


def test_a_channel_that_knows_nothing_gives_chance_evidence():
    """The best of n unrelated records carries about ln 2 nats (the median of the Gumbel law), whatever n."""
    rng = np.random.default_rng(0)
    for n in (50, 1000, 20000):
        tops = [rng.standard_normal(n).max() for _ in range(400)]
        e = evidence(tops, Null(0.0, 1.0, n))
        assert np.median(e) == pytest.approx(math.log(2), abs=0.15)
        assert np.mean(e >= 3.0) == pytest.approx(math.exp(-3.0), abs=0.03)  # a surprisal: e^-E of chance tops exceed E


def test_evidence_grows_with_the_score_and_is_finite():
    null = Null(0.05, 0.07, 500)
    e = evidence([0.0, 0.2, 0.4, 0.6, 0.9, 5.0], null)
    assert all(np.diff(e) > 0) and np.all(np.isfinite(e)) and e[0] == pytest.approx(0.0, abs=1e-9)
    assert e[3] > 3 * MATCH_EVIDENCE  # 0.6 against a background of 0.05 +- 0.07 is a clear winner
    a, b = gumbel_max(1000)
    assert a == pytest.approx(3.0, abs=0.15) and 0 < b < 1


def test_the_null_is_robust_to_a_few_true_matches():
    rng = np.random.default_rng(1)
    background = np.concatenate([rng.normal(0.1, 0.05, 990), np.full(10, 0.9)])
    null = Null.of(background, 1000)
    assert null.mean == pytest.approx(0.1, abs=0.01) and null.std == pytest.approx(0.05, abs=0.01)
    assert Null.of([], 0) == Null(0.0, 1.0, 1)


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _channel(rng, collapsed: bool):
    """A sample of 1,000 records from 20 classes, and 40 unrelated reference queries. Collapsed: every query is
    nearly the same vector, as in a broken checkpoint."""
    classes = _unit(rng.standard_normal((20, 64)))
    labels = rng.integers(0, 20, 1000)
    sample = _unit(classes[labels] + 0.8 * _unit(rng.standard_normal((1000, 64))))
    common = _unit(rng.standard_normal(64))
    spread = 0.02 if collapsed else 1.0
    reference = _unit(common + spread * _unit(rng.standard_normal((40, 64))))
    return classes, labels, sample, reference, common, spread


@pytest.mark.parametrize("debias", [False, True])
def test_calibration_follows_what_the_channel_knows(debias):
    rng = np.random.default_rng(3)
    classes, labels, sample, reference, common, spread = _channel(rng, collapsed=False)
    background = Background.of(sample, 1000, reference, debias)
    query = _unit(classes[7] + 0.3 * common)[None]
    scores = sample @ query[0]
    best = np.argsort(-scores)[:5]
    # the laws alone: these reference queries are random directions, which null.informative weighs as nothing
    e = calibrate(scores[best], sample[best], query, background, gated=False)
    assert labels[best[0]] == 7 and e[0] > 1.5 * MATCH_EVIDENCE  # a class it knows: a clear winner
    unrelated = _unit(common + spread * _unit(rng.standard_normal(64)))[None]  # like the reference queries
    top = np.argsort(-(sample @ unrelated[0]))[:1]
    assert calibrate(sample[top] @ unrelated[0], sample[top], unrelated, background, gated=False)[0] < MATCH_EVIDENCE
    assert calibrate(sample[top] @ unrelated[0], sample[top], unrelated, background)[0] < MATCH_EVIDENCE


@pytest.mark.parametrize("debias", [False, True])
def test_background_is_each_reference_querys_null_and_is_kept_while_its_inputs_stay(debias):
    rng = np.random.default_rng(5)
    _, _, sample, reference, _, _ = _channel(rng, collapsed=False)
    sample, reference = sample.astype(np.float32), reference.astype(np.float32)
    background = Background.of(sample, 1000, reference, debias)
    profiles = (reference @ sample.T).astype(np.float64)
    centred = profiles
    if debias:  # each reference query less its share of the other reference queries' mean (its bias, as a query's)
        others = (len(reference) * profiles.mean(axis=0) - profiles) / (len(reference) - 1)
        centred = profiles - np.clip(bias_slopes(profiles, others), *SHARE_OF_BIAS)[:, None] * others
    nulls = [Null.of(p, 1000) for p in centred]
    scale = float(np.median([n.std for n in nulls]))
    assert background.scale == pytest.approx(scale, rel=1e-9)
    tops = [(float(p.max()) - n.mean) / scale for p, n in zip(centred, nulls)]
    assert np.allclose(background.tops, tops, rtol=1e-9, atol=1e-12)
    kept = Background.remembered(sample, 1000, reference, debias)
    assert Background.remembered(sample, 1000, reference, debias) is kept  # same arrays: computed once
    assert Background.remembered(sample.copy(), 1000, reference, debias) is not kept  # a new sample (the store wrote)
    assert Background.remembered(sample, 2000, reference, debias).n == 2000


def test_the_lowest_line_is_the_law_a_score_passes_a_surprisal_soonest():
    from audioret.ranking.calibration import surprisal
    from audioret.ranking.null import lowest_line

    nats = math.log(10.0)
    assert surprisal(2.2504, 0.0, 1.0) == pytest.approx(nats, abs=1e-4)  # the x of ln 10
    narrow, wide = (3.0, 0.5), (2.0, 1.5)  # lines at 4.13 and 5.38: the lower location is not the lower line
    assert lowest_line([narrow, wide], nats) == narrow and lowest_line([wide, narrow], nats) == narrow
    assert lowest_line([wide], nats) == wide


def test_prompts_that_name_what_the_library_holds_do_not_set_what_an_unrelated_query_reaches():
    """A library holding what the everyday prompts name tops them as a search would; requests it does not hold
    top lower, and what an unrelated query reaches is the lower of the two. Where the requests top higher (they
    name this library), the everyday prompts' law stays."""
    rng = np.random.default_rng(7)
    sample = _unit(rng.standard_normal((600, 32))).astype(np.float32)
    named = _unit(sample[:48] + 0.1 * rng.standard_normal((48, 32))).astype(np.float32)  # each finds a record
    elsewhere = _unit(rng.standard_normal((64, 32))).astype(np.float32)  # requests the library does not hold
    everyday = Background.of(sample, 600, named, debias=False)
    both = Background.of(sample, 600, named, debias=False, unrelated=elsewhere)
    assert both.unrelated_tops is not None and np.median(both.unrelated_tops) < np.median(both.tops) - 1.0
    assert both.unrelated_law()[0] < everyday.unrelated_law()[0] - 1.0
    assert both.law() == everyday.law() and both.nowhere_law() == everyday.nowhere_law()  # evidence as before
    reversed_ = Background.of(sample, 600, elsewhere, debias=False, unrelated=named)
    assert reversed_.unrelated_law() == Background.of(sample, 600, elsewhere, debias=False).unrelated_law()
    kept = Background.remembered(sample, 600, named, False, None, elsewhere)
    assert Background.remembered(sample, 600, named, False, None, elsewhere) is kept
    assert Background.remembered(sample, 600, named, False, None, elsewhere.copy()) is not kept


def test_a_channel_whose_answers_do_not_depend_on_the_query_gets_no_say():
    rng = np.random.default_rng(4)
    _, _, sample, reference, common, spread = _channel(rng, collapsed=True)
    background = Background.of(sample, 1000, reference)
    tops = []
    for _ in range(30):
        query = _unit(common + spread * _unit(rng.standard_normal(64)))[None]
        scores = sample @ query[0]
        best = int(np.argmax(scores))
        tops.append(calibrate(scores[[best]], sample[[best]], query, background)[0])
    assert np.median(tops) < 2.0 and np.mean(np.array(tops) < MATCH_EVIDENCE) >= 0.9


def test_regime_a_only_the_text_channel_knows():
    """A sound channel that cannot tell files apart puts some file first, with chance evidence; the text channel's
    clear winner decides, and the time range is where the words were said."""
    found = {
        "clap": [clap("noise-hub", 1.0), clap("memo", 0.5), clap("other", 0.3)],
        "text": [text("memo", 25.0), text("other", 0.6)],
    }
    hits = fuse(found, {"clap": 1, "text": 1}, k=3)
    assert [h.path for h in hits] == ["memo", "noise-hub", "other"]  # the hub's chance evidence has no say
    assert (hits[0].start_s, hits[0].end_s) == (30.0, 34.0) and hits[0].score > 0.85
    assert hits[0].why.startswith('said at 0:30.0-0:34.0: "we brought in the harvest" (strong) · sounds like: weak')
    assert hits[1].score < 0.5  # the hub is weak, and says so


def test_regime_b_only_the_sound_channel_knows():
    found = {
        "clap": [clap("dog", 18.0, start=20.0, end=30.0), clap("cat", 1.0)],
        "text": [text("name-noise", 0.9, kind="name", start=0.0, end=60.0), text("dog", 0.2, kind="name")],
    }
    hits = fuse(found, {"clap": 1, "text": 1}, k=3)
    assert hits[0].path == "dog" and (hits[0].start_s, hits[0].end_s) == (20.0, 30.0)
    assert hits[0].why.startswith("sounds like: strong")
    assert hits[0].segment_id == "dog-c" and set(hits[0].scores) == {"clap", "text"}


def test_regime_c_both_know_and_agreement_adds_up():
    found = {"clap": [clap("both", 3.5), clap("sound-only", 4.0)], "text": [text("both", 3.5), text("text-only", 4.5)]}
    hits = fuse(found, {"clap": 1, "text": 1}, k=3)
    assert hits[0].path == "both"  # the says of 3.5 and 3.5 nats add up to more than 4.5's or 4's alone
    assert [h.path for h in hits[1:]] == ["text-only", "sound-only"]
    two_channels = match_line(2)  # both could reach a chance top: the line one unrelated query in ten reaches
    assert hits[0].score == pytest.approx(strength(match_evidence(2 * say(3.5), 7.0, line=two_channels)), abs=1e-6)
    # each channel's own strength is on the same line, so no channel calls "good" what the score puts under 0.5
    assert hits[0].strengths["clap"] == pytest.approx(
        strength(match_evidence(say(3.5), 3.5, line=two_channels)), abs=1e-6
    )
    alone = fuse({"clap": [clap("a", 2.6)], "text": [text("b", 2.5)]}, {"clap": 1, "text": 1}, k=2)
    assert all((h.score >= 0.5) == (max(h.strengths.values()) >= 0.5) for h in alone)  # 2.6 nats: a match alone
    assert hits[0].score > hits[1].score > hits[2].score


def test_weights_scale_a_channel_and_zero_turns_it_off():
    found = {"clap": [clap("a", 5.0)], "text": [text("b", 4.0)]}
    assert fuse(found, {"clap": 1, "text": 2}, k=2)[0].path == "b"
    hits = fuse(found, {"clap": 0, "text": 1}, k=2)
    assert [h.path for h in hits] == ["b"] and set(hits[0].scores) == {"text"} and hits[0].segment_id is None


def _says(target: float) -> float:
    """The least evidence whose say reaches ``target`` (say grows from 1 nat on)."""
    lo, hi = 1.0, 100.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if say(mid) < target else (lo, mid)
    return hi


def test_score_means_the_same_for_one_channel_or_two():
    """The line (0.5) is where some channel has a say (fused say above MATCH_SAY) and the evidence against
    unrelated queries reaches what one unrelated query in ten reaches in some channel: MATCH_BEYOND (ln 10) with
    one channel, 2.97 nats with two that could each reach it by chance, whichever channels bring the evidence. A
    channel whose answers are noise here (informative 0: its chance counts for nothing) does not move the line."""
    assert match_line(1) == pytest.approx(MATCH_BEYOND) and match_line(0.0) == pytest.approx(MATCH_BEYOND)
    assert match_line(2) == pytest.approx(-math.log(1 - math.sqrt(0.9)), abs=1e-12)  # 2.97 nats
    e1 = _says(0.5)
    one = fuse({"clap": [found_with(clap, "a", e1, MATCH_BEYOND)]}, {"clap": 1}, k=1)[0]
    halves = {c: [found_with(make, "a", e1, match_line(2) / 2)] for c, make in (("clap", clap), ("text", text))}
    two = fuse(halves, {"clap": 1, "text": 1}, k=1)[0]
    assert one.score == pytest.approx(0.5, abs=1e-6) and two.score == pytest.approx(0.5, abs=1e-6)
    at_ln10 = {c: [found_with(make, "a", e1, MATCH_BEYOND / 2)] for c, make in (("clap", clap), ("text", text))}
    assert fuse(at_ln10, {"clap": 1, "text": 1}, k=1)[0].score < 0.5  # two chances: ln 10 is not enough
    noise = {"clap": [replace(f, chance=0.0) for f in at_ln10["clap"]], "text": at_ln10["text"]}
    assert fuse(noise, {"clap": 1, "text": 1}, k=1)[0].score == pytest.approx(0.5, abs=1e-6)
    # either part under its line keeps the file under 0.5
    short = fuse({"clap": [found_with(clap, "a", 20.0, MATCH_BEYOND * 0.9)]}, {"clap": 1}, k=1)[0]
    assert short.score < 0.5 and results([short]).no_good_match
    at_chance = {c: [found_with(make, "a", 1.0, 10 * MATCH_BEYOND)] for c, make in (("clap", clap), ("text", text))}
    chance = fuse(at_chance, {"clap": 1, "text": 1}, k=1)[0]  # no channel above chance: no say
    assert MATCH_SAY == 0 and chance.score < 0.5 and results([chance]).no_good_match
    assert 0 <= strength(0.0) < strength(1.0) < strength(100.0) < 1


def found_with(make, path, e, beyond):
    return replace(make(path, e), beyond=beyond)


def test_ranks_are_in_the_order_of_the_scores_shown():
    """A file found by its words carries the same evidence in both senses; one found by its meaning carries more
    against unrelated queries than its say shows. Ranked by the say, the word match came first with the lower score
    shown (a visitor saw 0.716 above 0.724); ranked by the score shown, ranks follow the scores."""
    words = text("by-words.wav", 6.0, leg="words")
    meaning = found_with(text, "by-meaning.wav", 5.0, 7.0)
    hits = fuse({"text": [words, meaning]}, {"text": 1}, k=2)
    assert [h.path for h in hits] == ["by-meaning.wav", "by-words.wav"] and hits[0].score > hits[1].score > 0.5
    at_chance = [text(f"weak{i}.wav", 0.2 * i) for i in range(5)]  # under the line, graded by their evidence
    ranked = fuse({"text": at_chance + [words, meaning]}, {"text": 1}, k=7)
    assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)
    assert [h.path for h in ranked][2:] == [f"weak{i}.wav" for i in (4, 3, 2, 1, 0)]


def test_a_channel_at_chance_for_a_file_adds_nothing_to_it():
    """The text channel finds the right talk (2.61 nats) a little above another (2.58); the sound channel hears both
    at chance (under 1 nat: no say), the other at 0.50. That chance no longer puts the other first, nor over the line
    of two channels (2.97 nats): both stay weak, in the text channel's order. Where no channel has a say, a file's
    grade is its best channel's."""
    right, other = (found_with(text, p, e, e) for p, e in (("right.wav", 2.61), ("other.wav", 2.58)))
    sound = [found_with(clap, "right.wav", 0.04, 0.04), found_with(clap, "other.wav", 0.5, 0.5)]
    hits = fuse({"clap": sound, "text": [right, other]}, {"clap": 1, "text": 1}, k=2)
    assert [h.path for h in hits] == ["right.wav", "other.wav"] and results(hits).no_good_match
    assert hits[0].score == pytest.approx(strength(MATCH_EVIDENCE * 2.61 / match_line(2)), abs=1e-6)
    heard = fuse({"clap": sound, "text": [right, other]}, {"clap": 1, "text": 0.0}, k=2)  # the text channel off
    assert [h.path for h in heard] == ["other.wav", "right.wav"] and heard[0].score > 0  # graded, not all 0
    weak = {c: [found_with(make, "w.wav", e, e)] for c, make, e in (("clap", clap, 0.9), ("text", text, 0.6))}
    alone = fuse({"clap": weak["clap"]}, {"clap": 1}, k=1)[0]
    assert fuse(weak, {"clap": 1, "text": 1}, k=1)[0].score <= alone.score  # the best channel's, not the sum


def test_ties_in_the_score_shown_go_by_say_evidence_cosine_and_name():
    """Files at chance all show 0 (no say, no evidence); more than k of them tie there. They are ordered by the
    fused say, then evidence, then the best cosine, then the path, and the same files come whatever their order in."""
    nothing = [clap(f"{name}.wav", 0.0, score=score) for name, score in (("b", 0.2), ("a", 0.2), ("c", 0.4))]
    nothing += [clap("d.wav", 0.0, score=0.1), clap("e.wav", 0.0, score=0.2)]
    for items in (nothing, nothing[::-1]):
        hits = fuse({"clap": items}, {"clap": 1}, k=4)
        assert [h.path for h in hits] == ["c.wav", "a.wav", "b.wav", "e.wav"] and {h.score for h in hits} == {0.0}
    some = [clap("x.wav", 0.5), clap("y.wav", 0.9)]  # graded by their evidence, over the files at chance
    assert [h.path for h in fuse({"clap": nothing + some}, {"clap": 1}, k=3)] == ["y.wav", "x.wav", "c.wav"]


def test_no_good_match_when_nothing_stands_out():
    weak = fuse({"clap": [clap("a", 0.9), clap("b", 0.7)], "text": [text("c", 1.5)]}, {"clap": 1, "text": 1}, k=3)
    assert results(weak).no_good_match and "No good match" in results(weak).message
    good = fuse({"clap": [clap("a", 9.0)]}, {"clap": 1}, k=3)
    assert not results(good).no_good_match and results(good).message == ""
    assert results([]).no_good_match


def test_a_whole_file_text_match_shows_the_first_seconds():
    hit = fuse({"text": [text("n", 15.0, kind="name", start=0.0, end=60.0, words="rain on roof")]}, {"text": 1}, k=1)[0]
    assert (hit.start_s, hit.end_s, hit.text_kind) == (0.0, 10.0, "name")
    assert hit.why == 'name: "rain on roof" (strong)'
    # the sound channel's best window of that file, at chance, does not move the range there
    found = {
        "clap": [clap("n", 0.8, start=37.5, end=47.0)],
        "text": [text("n", 15.0, kind="name", start=0.0, end=60.0)],
    }
    hit = fuse(found, {"clap": 1, "text": 1}, k=1)[0]
    assert (hit.start_s, hit.end_s) == (0.0, 10.0)
    # a sound channel with a say there does
    found["clap"] = [clap("n", 6.0, start=37.5, end=47.0)]
    hit = fuse(found, {"clap": 1, "text": 1}, k=1)[0]
    assert (hit.start_s, hit.end_s) == (37.5, 47.0)


def test_lexical_evidence():
    # all of a query's rare words in one passage is strong; one common word of several is weak
    assert word_evidence([5.0, 4.0], [5.0, 4.0]) == pytest.approx(9.0)
    assert word_evidence([0.5], [0.5, 5.0, 4.0]) < 0.1
    assert word_evidence([], [3.0]) == 0 and word_evidence([], []) == 0
    assert phrase_evidence(4) >= MATCH_EVIDENCE and phrase_evidence(1) == 0


def test_k_is_checked():
    with pytest.raises(ValueError, match="k must be at least 1"):
        fuse({"clap": [clap("a", 1.0)]}, {"clap": 1}, k=0)


def test_query_parsing():
    q = Query.parse('"canned pears" for lunch -peaches')
    assert q.text == "canned pears for lunch" and q.phrases == (("canned", "pears"),) and q.excluded == ("peaches",)
    assert q.words == ("canned", "pears", "lunch")  # "for" is too common to count alone
    assert Query.parse("-3 dB").excluded == () and Query.parse("re-index").text == "re-index"
    assert Query.parse("🔔 日本語").text == "🔔 日本語" and Query.parse('  "" ').text == ""


def test_a_word_of_two_parts_is_one_word_typed_whole():
    """ "wi-fi" is looked for as "wifi" (which finds "WiFi" and "Wi-Fi"), and -wi-fi leaves it out; in quotes it
    stays word for word, and a longer chain ("state-of-the-art") stays its words."""
    q = Query.parse("wi-fi password -e-mail")
    assert q.text == "wi-fi password" and q.words == ("wifi", "password") and q.excluded == ("email",)
    assert Query.parse('"wi-fi password"').phrases == (("wi", "fi", "password"),)
    assert Query.parse("state-of-the-art mic").words == ("state", "art", "mic")
    assert Query.parse("-3 dB").words == ("3", "db") and Query.parse("take-2").words == ("take", "2")


def test_query_parsing_of_excluded_phrases_and_an_unmatched_quote():
    q = Query.parse('rain -"tin roof" -thunder')
    assert q.text == "rain" and q.words == ("rain",) and q.phrases == ()
    assert q.excluded == ("thunder",) and q.excluded_phrases == (("tin", "roof"),) and q.note == ""
    assert q.exclusions == (("thunder",), ("tin", "roof"))
    assert Query.parse('-"bell"').excluded == ("bell",)  # a one-word phrase is the word
    odd = Query.parse('"rain" -"bell" "')
    assert odd.phrases == (("rain",),) and odd.excluded == ("bell",) and odd.text == "rain"
    assert odd.note == 'The unmatched " at the end was left out'  # no words follow it to be read as ordinary
    mid = Query.parse('"olive oil from the shop')  # the only quote: its words are ordinary words
    assert mid.text == "olive oil from the shop" and mid.phrases == ()
    assert mid.note == 'The unmatched " was read as a plain character: the words after it are ordinary words'
    for empty in ('rain -""', '"" rain', 'rain " "'):  # nothing to require or leave out: said, not silently dropped
        q = Query.parse(empty)
        assert (
            q.text == "rain" and q.phrases == () and q.excluded == () and q.note == 'The empty quotes "" were left out'
        )
    both = Query.parse('"" rain "')
    assert (
        both.text == "rain"
        and both.note == 'The unmatched " at the end was left out. The empty quotes "" were left out'
    )
