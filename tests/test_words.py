"""The text channel's word index (audioret/store/word_index.py): what it finds, and how it stays in step with the
store."""

from __future__ import annotations

import os
import re
import sqlite3

import numpy as np
import pytest

from audioret import Config, Library
from audioret.store.chroma import Store
from audioret.store.word_index import any_word_pattern, phrase_pattern, word_pattern

from .conftest import tone, write

PASSAGES = [
    "Rain on the tin roof, all night",
    "rain_drop_03 (in field recordings)",
    "It's raining; the ROOF leaks",
    "Café au lait at the harvest—festival",
    "the harvest festival, recorded in 2019",
    "cafe noise",
    "don't stop the tinroof",
    "drums",
]


def _store(tmp_path) -> Store:
    store = Store("some-text-model", 8, path=tmp_path / "chroma", channel="text", words=True)
    ids = [f"/lib/f{i}.wav-0" for i in range(len(PASSAGES))]
    metadatas = [{"path": f"/lib/f{i}.wav", "start_s": 0.0, "end_s": 1.0} for i in range(len(PASSAGES))]
    store.add(ids, np.random.default_rng(0).standard_normal((len(PASSAGES), 8)).astype(np.float32), metadatas, PASSAGES)
    return store


def _checked(matches, pattern: str) -> set[str]:
    check = re.compile(pattern)
    return {m.id for m in matches if check.search(m.document or "")}


@pytest.mark.parametrize(
    "words",
    [
        ["rain"],
        ["roof", "harvest"],
        ["café"],
        ["cafe"],
        ["don't"],
        ["tin"],
        ["drop"],
        ["2019"],
        ["missing"],
        ["rain_drop_03"],
    ],
)
def test_the_index_finds_what_a_scan_of_every_passage_finds(tmp_path, words):
    store = _store(tmp_path)
    assert store.words.synced()
    indexed = _checked(store.word_matches(words), any_word_pattern(words))
    scanned = _checked(store.text_matches(any_word_pattern(words)), any_word_pattern(words))
    assert indexed == scanned
    if words == ["rain"]:
        assert indexed == {"/lib/f0.wav-0"}  # not "raining", not "rain_drop"


@pytest.mark.parametrize("phrase", [["the", "harvest", "festival"], ["tin", "roof"], ["all", "night"], ["at", "the"]])
def test_phrases_are_found_as_a_scan_finds_them(tmp_path, phrase):
    store = _store(tmp_path)
    indexed = _checked(store.phrase_matches(phrase), phrase_pattern(phrase))
    assert indexed == _checked(store.text_matches(phrase_pattern(phrase)), phrase_pattern(phrase)) and indexed


def test_removing_a_file_removes_its_words(tmp_path):
    store = _store(tmp_path)
    store.delete_file("/lib/f7.wav")
    assert store.words.synced() and store.word_matches(["drums"]) == []


def test_a_crash_between_the_store_and_the_word_index_is_repaired_by_the_next_writer(tmp_path):
    """The state a SIGKILL leaves between Chroma's write and the index's: marked unsynced, a passage missing from
    the index. Searches scan meanwhile (and find it); the next writer rebuilds the index."""
    store = _store(tmp_path)
    store.words.unsynced()
    store.collection.upsert(
        ids=["/lib/late.wav-0"],
        embeddings=np.ones((1, 8), np.float32),
        metadatas=[{"path": "/lib/late.wav", "start_s": 0.0, "end_s": 1.0}],
        documents=["a thunderstorm far away"],
    )
    assert not store.words.synced()
    assert _checked(store.word_matches(["thunderstorm"]), word_pattern("thunderstorm")) == {"/lib/late.wav-0"}
    store.words.close()

    writer = Store("some-text-model", 8, path=tmp_path / "chroma", channel="text", words=True)
    writer.sync_words()
    assert writer.words.synced() and writer.words.count() == len(PASSAGES) + 1
    assert [i for i, *_ in writer.words.matching('"thunderstorm"', None)] == ["/lib/late.wav-0"]


def test_a_damaged_word_index_is_scanned_around_then_made_again(tmp_path):
    store = _store(tmp_path)
    store.words.close()
    store.words.path.write_bytes(b"not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / "chroma" / f"{store.words.path.name}{suffix}").unlink(missing_ok=True)
    reader = Store("some-text-model", 8, path=tmp_path / "chroma", channel="text", words=True)
    assert not reader.words.synced()
    assert _checked(reader.word_matches(["drums"]), word_pattern("drums")) == {"/lib/f7.wav-0"}  # by the scan
    reader.sync_words()  # what the next writer does
    assert reader.words.synced() and reader.words.count() == len(PASSAGES)
    assert [i for i, *_ in reader.words.matching('"drums"', None)] == ["/lib/f7.wav-0"]


def test_an_index_from_before_the_word_index_gets_one_at_its_next_run(tmp_path, tiny_clap_dir, text_model):
    """A library indexed without a word index is searched by scanning; the next `index` run, even one with
    nothing new to index, builds the index, and the search gives the same answer through it."""
    lib_dir = tmp_path / "lib"
    write(lib_dir / "thunderstorm over the bay.wav", tone(3.0, 220))
    write(lib_dir / "kitchen kettle.wav", tone(3.0, 880))
    config = Config.from_env(
        data_dir=tmp_path / "index",
        clap_model=str(tiny_clap_dir),
        text_model=text_model,
        device="cpu",
        transcribe=False,
    )
    Library(config).index([lib_dir], progress=False)
    words_file = next((tmp_path / "index" / "chroma").glob("*.words.sqlite3"))
    words_file.unlink()  # as an index built before the word index existed

    before = Library(config).search("thunderstorm", k=2)
    assert not words_file.exists() and before[0].path.endswith("thunderstorm over the bay.wav")
    assert "thunderstorm" in before[0].why

    report = Library(config).index([lib_dir], progress=False)
    assert report.unchanged == 2 and words_file.exists()
    rows = sqlite3.connect(words_file).execute("SELECT count(*) FROM passages").fetchone()[0]
    assert rows == 2
    after = Library(config).search("thunderstorm", k=2)
    assert [(h.path, round(h.score, 6)) for h in after] == [(h.path, round(h.score, 6)) for h in before]


def test_a_number_in_words_finds_it_in_digits_and_the_other_way(tmp_path):
    """Whisper writes "level 4" and "9 hundred"; people type "four" and "nine". Both are one word to the lexical
    leg, in the index and in the scan alike, a track's "02" is 2 too (not a date's "03" for three, nor a licence's
    "3.0" or "3/8", unless typed so; a time's "3.15" is), and "44" stays another number."""
    store = Store("some-text-model", 8, path=tmp_path / "chroma", channel="text", words=True)
    said = ["I parked on level 4 of the car park", "Table 44 at the Italian place", "level four, by the lift"]
    said += ["9 hundred", "02 Rain Song (in album)"]  # a track's number with its leading zero
    said += ["2024 03 02 tree surgeons (in Ambience)", "take 03 (in digits)"]  # a date's month is no "three"
    said += ["Vibe Ace. creativecommons.org/licenses/by/3.0/ for 3/8 of it"]  # nor a licence's path, nor a fraction
    said += ["the bus leaves at 3.15"]  # but a time
    ids = [f"/lib/n{i}.wav-0" for i in range(len(said))]
    store.add(ids, np.ones((len(said), 8), np.float32), [{"path": i[:-2]} for i in ids], said)
    cases = [(["four"], {ids[0], ids[2]}), (["4"], {ids[0], ids[2]}), (["nine"], {ids[3]}), (["two"], {ids[4]})]
    cases += [(["three"], {ids[6], ids[8]}), (["3"], {ids[6], ids[7], ids[8]}), (["03"], {ids[5], ids[6], ids[8]})]
    for words, found in [*cases, (["2"], {ids[4]}), (["02"], {ids[4], ids[5]})]:
        assert _checked(store.word_matches(words), word_pattern(words[0])) == found
        assert _checked(store.text_matches(any_word_pattern(words)), word_pattern(words[0])) == found
    for phrase, found in ((["level", "four", "of"], {ids[0]}), (["nine", "hundred"], {ids[3]})):
        assert _checked(store.phrase_matches(phrase), phrase_pattern(phrase)) == found
        assert _checked(store.text_matches(phrase_pattern(phrase, checked=False)), phrase_pattern(phrase)) == found


def _noted(tmp_path, tiny_clap_dir, text_model, notes: dict[str, str]) -> tuple[Library, object]:
    """A library of tones, each with a description beside it (``name.txt``), indexed."""
    lib_dir = tmp_path / "lib"
    for name, text in notes.items():
        write(lib_dir / f"{name}.wav", tone(2.0, 330))
        (lib_dir / f"{name}.txt").write_text(text)
    config = Config.from_env(
        data_dir=tmp_path / "index", clap_model=str(tiny_clap_dir), text_model=text_model, device="cpu"
    )
    library = Library(config)
    library.index([lib_dir], progress=False)
    return library, lib_dir


def test_a_spelled_number_finds_the_digits_said_and_leaves_them_out(tmp_path, tiny_clap_dir, text_model):
    """A search for "four" finds a description that says "4", a quoted phrase needs it, and -four leaves it out."""
    notes = {
        "parking": "Parked on level 4 of the multi-storey, near the lift.",
        "booking": "Table 44 booked at the Italian place for Saturday.",
        "charity": "The choir raised 9 hundred pounds for the hospital.",
    }
    library, lib_dir = _noted(tmp_path, tiny_clap_dir, text_model, notes)
    parking, booking, charity = (str(lib_dir / f"{n}.wav") for n in ("parking", "booking", "charity"))
    hits = library.search("level four of the car park", k=3)
    assert hits[0].path == parking and "level 4" in hits[0].why and not hits.no_good_match
    assert [h.path for h in library.search('"level four"', k=3)] == [parking]
    assert library.search("raised nine hundred pounds", k=1)[0].path == charity
    assert parking not in [h.path for h in library.search("where I left the car -four", k=3)]
    assert booking in [h.path for h in library.search("a table for the evening -four", k=3)]  # 44 is not four


def test_a_year_or_an_amount_said_in_words_finds_what_whisper_wrote(tmp_path, tiny_clap_dir, text_model):
    """Whisper writes "1815", "$300,000" and "1130"; strangers typed "eighteen fifteen", "three hundred thousand"
    and "eleven thirty" and got "no good match" or the "thirty" of another passage, and "one hundred thousand"
    called a clip named 1-100032-A a good match."""
    notes = {
        "eruption": "In 1815 the volcano erupted, and the next year had no summer.",
        "grant": "The council approved a grant of $300,000 for the new park.",
        "builders": "Meet the builders at 1130 by the gate.",
        "train": "The last train leaves at 9:45 tonight.",
        "mill": "I had worked there for thirty two years.",
    }
    others = [
        "bees in winter",
        "a bus to the hospital",
        "the rules of chess",
        "tides and the moon",
        "a recipe for bread",
    ]
    notes |= {f"note {i}": f"A talk about {topic}." for i, topic in enumerate(others + ["coffee", "the tern", "sleep"])}
    library, lib_dir = _noted(tmp_path, tiny_clap_dir, text_model, notes)
    write(lib_dir / "1-100032-A.wav", tone(2.0, 440))
    library.index([lib_dir], progress=False)
    eruption, grant, clip = (str(lib_dir / n) for n in ("eruption.wav", "grant.wav", "1-100032-A.wav"))
    hits = library.search("eighteen fifteen", k=3)
    assert hits[0].path == eruption and hits[0].is_match and "1815" in hits[0].why
    assert [h.path for h in library.search('"eighteen fifteen"', k=3)] == [eruption]
    hits = library.search("three hundred thousand", k=3)
    assert hits[0].path == grant and hits[0].is_match and "300,000" in hits[0].why
    assert clip not in [h.path for h in library.search("one hundred thousand", k=3) if h.is_match]
    # a time said in words: Whisper wrote "1130", and "9:45"; not the "thirty" of "thirty two years"
    builders, train, mill = (str(lib_dir / f"{n}.wav") for n in ("builders", "train", "mill"))
    hits = library.search("eleven thirty", k=3)
    assert hits[0].path == builders and hits[0].is_match and mill not in [h.path for h in hits if h.is_match]
    assert library.search("nine forty five", k=1)[0].path == train and library.search("9:45", k=1)[0].path == train


def test_a_phrase_whisper_broke_between_two_passages_is_held_by_its_file(tmp_path):
    """Whisper breaks long speech mid-sentence; a stranger's verbatim quote of such a sentence was "held by no file"
    ("No exact match"). The file holds it across two passages one after the other, within the filters; not where
    the two parts are in passages apart, in another order, or in a name."""
    from audioret.channels.words import across_passages
    from audioret.types import Filters

    store = Store("some-text-model", 8, path=tmp_path / "chroma", channel="text", words=True)
    files = {
        "/lib/talks/lecture.wav": [
            "Tambora erupted in 1815, and the next",
            "year was called the year without a summer.",
        ],
        "/lib/talks/apart.wav": ["the next", "it rained", "year was called the year without a summer"],
        "/lib/talks/swapped.wav": ["year was called the year without a summer", "and the next"],
        "/lib/memos/memo.wav": ["and the next", "year was called the year without a summer!"],
    }
    ids, metas, docs = [], [], []
    for path, said in files.items():
        for i, text in enumerate(said):
            ids.append(f"{path}-{i}")
            meta = {"path": path, "folder": os.path.dirname(path), "kind": "speech", "start_s": 5.0 * i}
            metas.append(meta | {"seg_index": i})
            docs.append(text)
    ids.append("/lib/talks/name.wav-0")
    metas.append(
        {"path": "/lib/talks/name.wav", "folder": "/lib/talks", "kind": "name", "start_s": 0.0, "seg_index": 0}
    )
    docs.append("the next year was called")  # a name is no speech: held in one passage, not across
    store.add(ids, np.ones((len(ids), 8), np.float32), metas, docs)
    phrase = tuple("the next year was called the year without a summer".split())
    assert across_passages(store, phrase) == {"/lib/talks/lecture.wav", "/lib/memos/memo.wav"}
    assert across_passages(store, phrase, Filters(folder="/lib/talks")) == {"/lib/talks/lecture.wav"}
    assert across_passages(store, ("summer", "and")) == {"/lib/talks/swapped.wav"}  # in its order there


def test_a_quoted_phrase_is_shown_in_the_passage_that_holds_it(tmp_path, tiny_clap_dir, text_model):
    """A stranger's "the mill finally closed" was shown at another passage of the talk, which the meaning leg
    preferred ("And if you remember the mill before it closed…"): a quoted phrase's own passage is the one shown."""
    notes = {"remember the mill before it closed": "By 1970 there were 11,000 people, and the mill finally closed."}
    notes |= {f"note {i}": f"A talk about {t}." for i, t in enumerate(["bees", "tides", "chess", "coffee", "sleep"])}
    library, lib_dir = _noted(tmp_path, tiny_clap_dir, text_model, notes)
    for query in ('"the mill finally closed"', 'closing "mill finally closed"'):
        hit = library.search(query, k=1)[0]
        assert hit.path == str(lib_dir / "remember the mill before it closed.wav")
        assert "mill finally closed" in hit.text and "mill finally closed" in hit.why, hit.why


def test_a_word_typed_whole_finds_it_written_with_a_hyphen(tmp_path):
    """Whisper writes "Wi-Fi" and "e-mail"; people type "wifi" and "email". The index finds them as a scan does,
    through the pairs it holds joined; "wi fi" apart, "wifi" inside another word, and a phrase not word for word
    are not found so."""
    store = Store("some-text-model", 8, path=tmp_path / "chroma", channel="text", words=True)
    said = ["The Wi-Fi password is on the fridge", "send me an e-mail about the state-of-the-art kit"]
    said += ["the wi fi is down", "mywi-fi", "the wifi is slow", "Tin\u2010roof rain"]
    ids = [f"/lib/h{i}.wav-0" for i in range(len(said))]
    store.add(ids, np.ones((len(said), 8), np.float32), [{"path": i[:-2]} for i in ids], said)
    assert store.words.synced()
    for word, found in (("wifi", {ids[0], ids[4]}), ("email", {ids[1]}), ("ofthe", {ids[1]}), ("tinroof", {ids[5]})):
        assert _checked(store.word_matches([word]), word_pattern(word)) == found
        assert _checked(store.text_matches(any_word_pattern([word])), word_pattern(word)) == found
    phrase = ["wifi", "password"]
    assert _checked(store.phrase_matches(phrase), phrase_pattern(phrase)) == set()  # word for word: "Wi-Fi password"
    assert _checked(store.text_matches(phrase_pattern(phrase, checked=False)), phrase_pattern(phrase)) == set()


def test_wifi_finds_the_note_that_says_wi_fi(tmp_path, tiny_clap_dir, text_model):
    """A search for "wifi password" finds the note that says "Wi-Fi password", as a match; -wifi leaves it out, and
    -wi-fi it and the note that says "WiFi"."""
    notes = {
        "router": "The Wi-Fi password is taped inside the cupboard under the stairs.",
        "garden": "Remember to water the tomatoes before the weekend.",
        "kettle": "The kettle in the office is broken again.",
        "modem": "The WiFi box in the hall blinks red when the line drops.",
    }
    library, lib_dir = _noted(tmp_path, tiny_clap_dir, text_model, notes)
    hits = library.search("wifi password", k=3)
    assert hits[0].path == str(lib_dir / "router.wav") and not hits.no_good_match
    assert "Wi-Fi" in hits[0].why
    assert str(lib_dir / "router.wav") not in [h.path for h in library.search("the cupboard under the stairs -wifi")]
    left = [h.path for h in library.search("a box in the hall or a cupboard -wi-fi", k=5)]  # typed with its hyphen
    assert left and not {str(lib_dir / "router.wav"), str(lib_dir / "modem.wav")} & set(left)


def test_a_word_index_from_before_joined_words_is_made_again(tmp_path):
    """An index of the layout before (no joined words) is not used; the store's next writer makes it again."""
    store = Store("some-text-model", 8, path=tmp_path / "chroma", channel="text", words=True)
    store.add(["/lib/w.wav-0"], np.ones((1, 8), np.float32), [{"path": "/lib/w.wav"}], ["The Wi-Fi password"])
    db = sqlite3.connect(store.words.path)
    with db:
        db.execute("UPDATE state SET value = 1 WHERE key = 'version'")
    db.close()
    assert not store.words.synced()
    assert {m.id for m in store.word_matches(["wifi"])} == {"/lib/w.wav-0"}  # scanned meanwhile
    store = Store("some-text-model", 8, path=tmp_path / "chroma", channel="text", words=True)
    store.add(["/lib/x.wav-0"], np.ones((1, 8), np.float32), [{"path": "/lib/x.wav"}], ["an e-mail"])
    assert store.words.synced()
    assert {i for i, _, _ in store.words.matching('"wifi" OR "email"', None)} == {"/lib/w.wav-0", "/lib/x.wav-0"}


def test_numbers_are_read_in_digits_whatever_their_spelling():
    from audioret.store.numbers import numbers_in, spellings

    assert numbers_in(["four", "4", "04"]) == {"4"} and numbers_in(["44"]) == {"44"}
    assert numbers_in(["forty", "two"]) == {"42"} and numbers_in(["twenty", "zero"]) == {"20", "0"}
    assert numbers_in(["²", "4th", "rain"]) == set()  # not numbers to the lexical leg either
    assert spellings("7") == ("7", "seven", "07") and spellings("rain") == ("rain",)
    assert spellings("44") == ("44", "forty four", "forty-four") and spellings("40") == ("40", "forty")
    assert spellings("100") == ("100", "1 hundred", "one hundred") and spellings("17") == ("17", "seventeen")
    assert spellings("1200") == ("1200", "1,200", "12 hundred", "twelve hundred")  # Whisper writes "1,200"
    assert spellings("0123") == ("0123",) and spellings("4567") == ("4567", "4,567")


def test_a_number_of_two_words_is_one_number():
    from audioret.store.numbers import numbers_joined

    assert numbers_joined(("seventy", "eight", "year", "old")) == ("78", "year", "old")
    assert numbers_joined(("forty", "three", "volunteers")) == ("43", "volunteers")
    assert numbers_joined(("twenty", "twenty", "one")) == ("2021",)  # a year, as said
    assert numbers_joined(("seventy", "miles")) == ("seventy", "miles") and numbers_joined(()) == ()
    assert numbers_joined(("seventyeight",)) == ("78",)  # "seventy-eight", as a query joins a hyphened word
    assert numbers_joined(("the", "twenty", "first")) == ("the", "21st") and numbers_joined(("twentyfirst",)) == (
        "21st",
    )


def test_a_number_said_with_a_scale_or_as_a_year_is_one_number():
    """A stranger's "eighteen fifteen" and "three hundred thousand" found neither the "1815" nor the "$300,000" that
    Whisper wrote: a number said with hundreds, thousands or millions, or a year in two pairs, is one number."""
    from audioret.store.numbers import numbers_in, numbers_joined, spellings

    said = {
        "three hundred thousand": "300000",
        "eighteen fifteen": "1815",
        "nineteen eighty four": "1984",
        "nineteen oh five": "1905",
        "twenty twenty four": "2024",
        "two thousand and five": "2005",
        "two thousand twenty four": "2024",
        "nineteen hundred": "1900",
        "one thousand two hundred": "1200",
        "2 million": "2000000",
    }
    for words, digits in said.items():
        assert numbers_joined(tuple(words.split())) == (digits,), words
        assert numbers_in(words.split()) == {digits}, words
    assert numbers_joined(("eleven", "thirty")) == ("1130",)  # a time, as Whisper writes it; not a year
    assert numbers_joined(("hundred", "acre", "wood")) == ("hundred", "acre", "wood")  # a scale alone is a word
    assert numbers_joined(("five", "six", "hundred")) == ("five", "600") and numbers_in(["hundred"]) == set()
    assert spellings("300000") == ("300000", "300,000", "300 thousand") and spellings("1815") == ("1815", "1,815")
    assert spellings("2000000") == ("2000000", "2,000,000", "2 million", "two million")
    assert spellings("900") == ("900", "9 hundred", "nine hundred")  # Whisper wrote "raised 9 hundred pounds"
    assert spellings("945") == ("945", "9:45", "9.45", "nine forty five", "nine forty-five")  # a time too
    assert spellings("1205")[-3:] == ("12:05", "12.05", "twelve oh five") and numbers_joined(
        ("nine", "oh", "five")
    ) == ("905",)
    assert re.search(word_pattern("900"), "The choir raised 9 hundred pounds") and not re.search(
        word_pattern("900"), "9 hundreds and thousands"
    )


def test_an_ordinal_is_one_word_in_letters_and_digits():
    from audioret.store.numbers import spellings

    assert spellings("fourteenth") == ("fourteenth", "14th") and spellings("14th") == ("14th", "fourteenth")
    assert spellings("21st") == ("21st", "twenty first", "twenty-first") and spellings("first") == ("first", "1st")
    assert spellings("12th") == ("12th", "twelfth") and spellings("40th") == ("40th",)


def test_a_number_typed_in_two_words_finds_it_and_not_its_ten(tmp_path, tiny_clap_dir, text_model):
    """Whisper writes "78" and "$35" where a person types "seventy eight" and "thirty five": the lexical leg took
    "seventy" alone and found the "70" of another passage as a good match (a stranger's producer folder)."""
    notes = {
        "storm": "Gusts of up to 70 miles an hour are expected along the coast tonight.",
        "marathon": "The loudest cheers were for Walter Price, who at 78 is the oldest finisher this year.",
        "tickets": "Tickets for the jazz weekend cost $35 at the door, or less online.",
    }
    library, lib_dir = _noted(tmp_path, tiny_clap_dir, text_model, notes)
    path = {name: str(lib_dir / f"{name}.wav") for name in notes}
    hits = library.search("seventy eight", k=3)
    assert hits[0].path == path["marathon"] and hits[0].is_match and "78" in hits[0].why
    assert path["storm"] not in [h.path for h in hits if h.is_match]
    assert [h.path for h in library.search('"seventy-eight"', k=3)] == [path["marathon"]]
    assert library.search("thirty five dollars", k=1)[0].path == path["tickets"]
    assert library.search("seventy-eight", k=1)[0].path == path["marathon"]  # typed with a hyphen


def test_a_date_typed_in_words_finds_it_as_whisper_writes_it(tmp_path, tiny_clap_dir, text_model):
    """Whisper writes "the 14th" and "the 21st"; a person types "fourteenth" and "twenty first" (a new user's
    church notices)."""
    notes = {
        "quiz": "Quiz night is on Friday the 14th in the church hall, teams of four.",
        "trip": "The minibus to the coast leaves at nine on the 21st of March.",
        "choir": "Choir practice moves to Thursday evening this month.",
    }
    library, lib_dir = _noted(tmp_path, tiny_clap_dir, text_model, notes)
    for query, answer in (("the fourteenth", "quiz"), ("twenty first of march", "trip")):
        found = library.search(query, k=3)
        assert found[0].path == str(lib_dir / f"{answer}.wav") and found[0].is_match, query
    assert library.search("twenty-first", k=1)[0].path == str(lib_dir / "trip.wav")  # a rare word of three notes


def test_thousands_are_found_as_whisper_writes_them_and_a_digit_answers_no_word(tmp_path, tiny_clap_dir, text_model):
    """Whisper writes "1,200"; a person types "1200". A spoken digit's transcript ("7.") is a number alone, which a
    sentence model still holds close to "pounds": it was a good match for it (a new user's church notices)."""
    notes = {
        "appeal": "The roof appeal has reached 1,200 pounds, thank you all for giving.",
        "7_george_3": "7.",
        "0_theo_4": "0.",
        "choir": "Choir practice moves to Thursday evening in the hall.",
    }
    library, lib_dir = _noted(tmp_path, tiny_clap_dir, text_model, notes)
    path = {name: str(lib_dir / f"{name}.wav") for name in notes}
    assert library.search("1200", k=1)[0].path == path["appeal"]
    called = [h.path for h in library.search("pounds", k=4) if h.is_match]
    assert path["7_george_3"] not in called and path["0_theo_4"] not in called
