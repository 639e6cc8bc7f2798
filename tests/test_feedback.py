"""Relevance feedback: "more like these, less like those" moves each channel's query (Rocchio), leaves the files
marked down out, and says what changed; the command line takes segment ids from earlier results."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audioret import Config, InputError, Library
from audioret.channels.feedback import rocchio
from audioret.cli import main

from .conftest import tone, write


def test_rocchio_moves_towards_the_liked_and_away_from_the_rest():
    q, liked, unliked = np.eye(4, dtype=np.float32)[:3]
    moved = rocchio(q, liked[None], unliked[None])
    assert np.linalg.norm(moved) == pytest.approx(1.0)
    assert moved @ liked > q @ liked and moved @ unliked < q @ unliked
    assert moved @ q > moved @ liked  # the query still leads (weights 1, 0.75, 0.15)
    np.testing.assert_allclose(rocchio(q, np.zeros((0, 4)), np.zeros((0, 4))), q)


NAMES = [
    "dog barking in the park",
    "dog barking at night",
    "a dog toy squeaking",
    "puppy whining at the door",
    "dog show applause",
    "rain on a tin roof",
    "church bells at noon",
    "a cat purring",
]


def _indexed(tmp_path, tiny_clap_dir, text_model) -> tuple[Library, object]:
    """The files under ``tmp_path / "lib"`` indexed with the tiny CLAP and file names for text."""
    config = Config(
        data_dir=tmp_path / "index",
        clap_model=str(tiny_clap_dir),
        text_model=text_model,
        device="cpu",
        transcribe=False,
    )
    library = Library(config)
    library.index(tmp_path / "lib", progress=False)
    return library, tmp_path / "lib"


@pytest.fixture
def names_library(tmp_path, tiny_clap_dir, text_model):
    for i, name in enumerate(NAMES):
        write(tmp_path / "lib" / f"{name}.wav", tone(3, 200 + 90 * i))
    return _indexed(tmp_path, tiny_clap_dir, text_model)


def test_feedback_reshapes_the_list_and_says_so(names_library):
    library, lib = names_library
    text_only = {"clap": 0.0, "text": 1.0}
    before = library.search("dog", k=5, weights=text_only)
    names = [h.path.rsplit("/", 1)[1][:-4] for h in before]
    assert "a dog toy squeaking" in names and before.changed == ""
    toy = next(h for h in before if "toy" in h.path)
    night = next(h for h in before if "at night" in h.path)
    # text-only hits carry no CLAP segment: their paths stand for them
    assert toy.segment_id is None
    after = library.search("dog", k=5, weights=text_only, like=[night.path], unlike=[toy.path])
    paths = [h.path for h in after]
    assert toy.path not in paths  # marked down: left out
    assert after.changed == "1 new in the top 5, 1 left out, 3 moved up"
    # liking "dog barking at night" lifts its neighbour "dog barking in the park" above where marking down alone
    # puts it
    unliked_only = library.search("dog", k=5, weights=text_only, unlike=[toy.path])
    park = str(lib / "dog barking in the park.wav")
    assert next(h.score for h in after if h.path == park) > next(h.score for h in unliked_only if h.path == park)
    # segment ids work as well as paths; anything else is a clear error
    both = library.search("dog", k=5)
    toy_id = next(h.segment_id for h in both if "toy" in h.path)
    assert toy_id and toy.path not in [h.path for h in library.search("dog", k=5, unlike=[toy_id])]
    with pytest.raises(InputError, match="No segment or indexed file"):
        library.search("dog", like=["no-such-segment"])


def test_the_command_line_takes_like_and_unlike(names_library, capsys, monkeypatch):
    library, _ = names_library
    config = library.config
    for name, value in (
        ("DATA_DIR", config.data_dir),
        ("CLAP_MODEL", config.clap_model),
        ("TEXT_MODEL", config.text_model),
        ("DEVICE", "cpu"),
    ):
        monkeypatch.setenv(f"AUDIORET_{name}", str(value))
    assert main(["search", "dog", "-k", "4", "--json", "--clap-weight", "0"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    toy = next(h for h in hits if "toy" in h["path"])
    assert main(["search", "dog", "-k", "4", "--clap-weight", "0", "--unlike", toy["path"]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("with your feedback: ") and "left out" in out.splitlines()[0] and "toy" not in out


@pytest.mark.slow
def test_votes_become_judgements_that_eval_scores(names_library, capsys, monkeypatch, tmp_path):
    """--like / --unlike are saved as relevance judgements; `eval --qrels` runs the judged queries on the library
    as it is and scores each channel against the files marked relevant."""
    library, lib = names_library
    for name, value in (
        ("DATA_DIR", library.config.data_dir),
        ("CLAP_MODEL", library.config.clap_model),
        ("TEXT_MODEL", library.config.text_model),
        ("DEVICE", "cpu"),
    ):
        monkeypatch.setenv(f"AUDIORET_{name}", str(value))
    bells, toy = str(lib / "church bells at noon.wav"), str(lib / "a dog toy squeaking.wav")
    assert main(["search", "Church  bells", "-k", "3", "--like", bells]) == 0
    assert "saved 1 judgement to" in capsys.readouterr().err
    assert main(["search", "dog", "-k", "3", "--unlike", toy]) == 0  # a query with no relevant file: not scored
    capsys.readouterr()
    out = tmp_path / "judged.json"
    assert main(["eval", "--qrels", "--channels", "text,fused", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 queries, 1 relevant of 1 judged files" in printed
    result = json.loads(out.read_text())
    assert result["judgements"]["relevant_not_indexed"] == []
    assert result["metrics"]["text"]["R@1"] == 1.0 and result["metrics"]["text"]["MRR"] == 1.0
    assert set(result["metrics"]) == {"text", "fused"}
    with pytest.raises(SystemExit):
        main(["eval"])  # neither a set nor --qrels


def test_the_latest_vote_counts_and_a_bad_line_is_named(tmp_path):
    from audioret import judgements

    path = tmp_path / "judgements.jsonl"
    judgements.record(path, "Rain on a roof", liked=["/a.wav", "/b.wav"], when=1.0)
    judgements.record(path, "rain on a  ROOF", unliked=["/b.wav"], when=2.0)  # the same query, b changed its mind
    judgements.record(path, "only dislikes", unliked=["/c.wav"], when=3.0)
    queries, qrels = judgements.load(path)
    assert queries == {"rain on a roof": "Rain on a roof"}
    assert qrels == {"rain on a roof": {"/a.wav": 1, "/b.wav": 0}}
    with open(path, "a") as f:
        f.write("not json\n")
    with pytest.raises(InputError, match="line 5: not a judgement"):
        judgements.load(path)


DIGITS = {  # FSDD's digits, each take named by its word and its speaker
    "one": ("george", "jackson", "theo"),
    "two": ("lucas", "nicolas"),
    "three": ("yweweler", "maria"),
    "four": ("anna",),
    "five": ("pierre",),
    "six": ("olga",),
}


@pytest.fixture
def digits_library(tmp_path, tiny_clap_dir, text_model):
    """Spoken digits, several takes of "one": to the tiny CLAP every spoken word sounds alike, so only the names
    tell the digits apart (as the stand-in CLAP of the feedback benchmark hears only "speech")."""
    from .conftest import speak

    for word, speakers in DIGITS.items():
        for speaker in speakers:
            speak(tmp_path / "lib" / f"{word} ({speaker}).wav", word, lead_s=0.3, tail_s=0.3)
    return _indexed(tmp_path, tiny_clap_dir, text_model)


@pytest.mark.slow
def test_a_liked_digit_found_by_its_name_moves_only_the_channel_that_found_it(digits_library):
    """A 👍 on a spoken "one" that the words found (the sound channel had no say) teaches the sound channel
    nothing: its strengths stay as they were, and the other takes of "one" come next. Moving the sound query
    towards the liked file's sound (as every channel did) changed them; with a CLAP that hears "speech" in every
    digit it lifted them all (bench/feedback.py: the digits' P@5 0.96 -> 0.72, now 0.90)."""
    from audioret.search import Request, search
    from audioret.types import Feedback

    library, lib = digits_library
    ones = {str(lib / f"one ({s}).wav") for s in DIGITS["one"]}
    first = library.search("one", k=10)
    liked = first[0]
    assert liked.path in ones and liked.strengths.get("clap", 0.0) < 0.25  # found by its name, not its sound
    after = library.search("one", k=10, like=[liked.path])
    assert {h.path for h in after[:3]} == ones  # the other takes of "one" next, no other digit
    sound = {h.path: h.strengths.get("clap", 0.0) for h in first}
    assert [h.strengths.get("clap", 0.0) for h in after] == pytest.approx([sound[h.path] for h in after], abs=1e-3)
    # every channel moving towards it, as before: the sound channel's strengths for the other digits move
    request = Request.parse("one", 10, feedback=Feedback((liked.path,)))
    every = search(library.channels, library.channels.weights(), request)
    moved = [h.strengths.get("clap", 0.0) - sound.get(h.path, 0.0) for h in every if h.path not in ones]
    # (the tiny CLAP is measured as noise for text prompts, so its first strengths are 0: ranking.null.informative;
    # a query moved towards a file's sound is not gated, and lifts other digits by up to 0.13 here)
    assert all(s == 0.0 for s in sound.values()) and max(abs(m) for m in moved) > 0.1
