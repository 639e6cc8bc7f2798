import json
from pathlib import Path

import mutagen
import numpy as np
import pytest

from audioret.channels.passages import (
    excerpt,
    file_passages,
    numbers_disagree,
    read_sidecar,
    read_tags,
    readable_name,
    sidecar_signature,
)
from audioret.models.asr import Utterance

from .conftest import tone, write


def test_readable_name():
    assert readable_name("/x/Field Recordings/rain_on-tinRoof_02.wav") == "rain on tin Roof 02 (in Field Recordings)"


def test_tags_sidecars_and_speech_become_passages(tmp_path):
    path = write(tmp_path / "walks" / "dawn.flac", tone(3))
    f = mutagen.File(path)
    f["title"], f["artist"], f["genre"] = "Dawn chorus", "A. Recordist", "Field recording"
    f.save()
    assert read_tags(path) == "title: Dawn chorus. artist: A. Recordist. genre: Field recording"
    for stamp in ("Processed by SoX", "Lavf58.29.100", "Encoded with LAME 3.100", "sox"):  # the writer's name
        f["comment"] = stamp
        f.save()
        assert read_tags(path) == "title: Dawn chorus. artist: A. Recordist. genre: Field recording", stamp
    f["comment"] = "Processed by hand: rain recorded by the river"  # words about the sound stay
    f.save()
    assert read_tags(path).endswith("comment: Processed by hand: rain recorded by the river")
    del f["comment"]
    f.save()
    assert read_sidecar(path) == "" and sidecar_signature(path) == ""

    (tmp_path / "walks" / "dawn.txt").write_text("Blackbirds and a distant road, recorded at 5 am.")
    (tmp_path / "walks" / "dawn.json").write_text(json.dumps({"tags": ["birds", "spring"], "other": "ignored"}))
    assert read_sidecar(path) == "Blackbirds and a distant road, recorded at 5 am.\nbirds, spring"
    assert "dawn.txt" in sidecar_signature(path) and "dawn.json" in sidecar_signature(path)

    passages = file_passages(str(path), 3.0, [Utterance(1.0, 2.5, " good morning ")])
    assert [(p.kind, p.start_s, p.end_s) for p in passages] == [
        ("name", 0.0, 3.0),
        ("tags", 0.0, 3.0),
        ("sidecar", 0.0, 3.0),
        ("speech", 1.0, 2.5),
    ]
    assert passages[0].text == "dawn (in walks)" and passages[-1].text == "good morning"


def test_broken_sidecar_and_long_text(tmp_path, caplog):
    path = write(tmp_path / "a.wav", np.zeros(4800, np.float32))
    (tmp_path / "a.json").write_text("{not json")
    assert read_sidecar(path) == ""
    assert "not valid JSON" in caplog.text
    (tmp_path / "a.txt").write_text("word " * 300)
    sidecar = [p for p in file_passages(str(path), 0.1) if p.kind == "sidecar"]
    assert [len(p.text.split()) for p in sidecar] == [120, 120, 60]


def test_encoder_embeds_paraphrases_close(text_encoder):
    v = text_encoder.encode(["we brought in the harvest from the fields", "farmers gathering crops", "a jazz trio"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert v[0] @ v[1] > 0.3 > v[0] @ v[2]
    assert text_encoder.encode([]).shape == (0, 384)


@pytest.mark.parametrize("name", ["/no/such/model"])
def test_unloadable_text_model_names_the_setting(name):
    from audioret import Config
    from audioret.errors import ModelLoadError
    from audioret.models.load import load_text_encoder

    with pytest.raises(ModelLoadError, match="AUDIORET_TEXT_MODEL") as error:
        load_text_encoder(name, device="cpu")
    # a path that is not there is said to be one, not answered with the hub's words on a malformed repo id
    assert str(error.value).startswith(f"There is no text model at {name!r}: no such folder or file. To fix: set")
    assert "Repo id" not in str(error.value)
    # "~" in a setting (quoted, so no shell expanded it) is the home folder, as the data folder's is
    assert Config(text_model="~/models/minilm").text_model == str(Path.home() / "models" / "minilm")


def test_a_model_the_library_was_not_indexed_with_says_it_answers_nothing(tmp_path, tiny_clap_dir, text_model):
    """A search with another text or CLAP model than the index was made with (a mistyped path, a new model) used to
    drop that channel without a word, and an example's empty answer blamed "the query's exclusions"."""
    import shutil

    from audioret import Config, Library

    lib = tmp_path / "lib"
    kettle = write(lib / "kettle whistling.flac", tone(3, 660))
    write(lib / "low hum.flac", tone(3, 110))
    settings = dict(data_dir=tmp_path / "index", device="cpu", transcribe=False)
    Library(Config(clap_model=str(tiny_clap_dir), text_model=text_model, **settings)).index(lib, progress=False)

    typo = Library(Config(clap_model=str(tiny_clap_dir), text_model="/no/such/model", **settings))
    hits = typo.search("kettle whistling", k=2)
    assert hits and all(h.scores.keys() == {"clap"} for h in hits)  # the sound channel still answers
    assert "the text channel" in hits.note and "has nothing indexed with /no/such/model (there is no such folder)" in (
        hits.note
    )
    assert "`audioret index`" in hits.note

    other = shutil.copytree(tiny_clap_dir, tmp_path / "another clap")  # the same weights, another model to the index
    fresh = Library(Config(clap_model=str(other), text_model=text_model, **settings))
    empty = fresh.search_audio(kettle, k=2)
    assert not empty and f"has nothing indexed with {other}" in empty.empty and "exclusions" not in empty.empty
    assert "has nothing" not in empty.note  # said once, as the reason
    assert fresh.search("kettle whistling", k=2)[0].path == str(kettle)  # the text channel answers by the name
    assert "the sound channel (CLAP) has nothing indexed" in fresh.search("kettle whistling", k=2).note


def test_an_empty_answer_says_why_most_likely_first():
    from audioret.render import PAGE_HINTS, empty_reasons
    from audioret.types import Filters

    assert empty_reasons('rain "tin roof"', Filters(), set(), True) == 'no file holds "tin roof" word for word'
    # an exclusion may have left out the files that hold it: the message does not say none does
    left_out = (("-rent", 1), ('-"the bell"', 0), ("-milk", 2))  # those that left nothing out are not named
    assert empty_reasons('buy "olive oil" -rent -"the bell" -milk', Filters(), set(), True, left_out=left_out) == (
        'no file holds "olive oil" word for word, or -rent and -milk left out those that do'
    )
    # where the search said which phrases no file holds: the others are held, and what left their files out is named
    assert empty_reasons('buy "olive oil" -rent -milk', Filters(), set(), True, left_out=left_out, unheld=()) == (
        '-rent and -milk left out the files that hold "olive oil" word for word'
    )
    folder = Filters(folder="/home/u/lib/notes")
    assert empty_reasons('"olive oil" "spa day"', folder, set(), True, unheld=(("spa", "day"),)) == (
        'the filters left out the files that hold "olive oil" word for word; no file holds "spa day" word for word'
    )
    assert empty_reasons("rain", Filters(tags=("Night",)), {"rain"}, True) == (
        'no file is tagged "night" (`audioret tags` lists them); the filters leave nothing'
    )
    assert empty_reasons("rain", Filters(), set(), False) == "the index is empty (`audioret index FOLDER` adds files)"
    # a folder with no indexed file (mistyped, or relative to another place) is named, not an empty index
    assert empty_reasons("rain", Filters(folder="/home/u/lib/rian"), {"rain"}, True, in_folder=False) == (
        "no indexed file is under /home/u/lib/rian; the filters leave nothing"
    )
    # the page says the same reasons, with its own hints (no commands to type there)
    assert empty_reasons("rain", Filters(tags=("night",)), set(), False, PAGE_HINTS) == (
        'no file is tagged "night"; the filters leave nothing; the library holds nothing yet'
    )


def test_times_show_what_tells_them_apart():
    from audioret.render import clock, duration, time_range

    assert time_range(12.0, 16.0) == "0:12.0-0:16.0" and clock(3725.25) == "1:02:05.2"
    assert time_range(0.0, 0.019) == "0:00.00-0:00.02"  # a hit in a 19-ms sample: not 0:00.0-0:00.0
    assert time_range(0.0, 0.0) == "0:00.0-0:00.0"
    assert duration(0.044) == "0:00.04" and duration(4.5) == "0:04.5"


def test_an_index_summary_says_how_much_audio_in_a_unit_that_shows_it():
    from audioret.types import IndexReport

    short = IndexReport(["lib"], added=["a.wav"], segments=4, audio_s=2.5, text_files=1, passages=2, checked_s=2.5)
    assert "4 segments (2.5 s of audio)" in short.summary()  # was "0.0 min of audio"
    assert "(0.0 of 2.5 s transcribed)" in short.summary()
    long_ = IndexReport(["lib"], segments=90, audio_s=900.0, text_files=3, passages=9, checked_s=900.0, speech_s=45.0)
    assert "(15.0 min of audio)" in long_.summary() and "(0.8 of 15.0 min transcribed)" in long_.summary()
    # files kept as they were whose tags were judged again (new tagging rules) are said, not hidden
    again = IndexReport(["lib"], added=["a.wav"], unchanged=45, tagged=46)
    assert "; 45 files tagged again in" in again.summary() and "tagged again" not in short.summary()


@pytest.mark.slow
def test_a_match_in_embedded_tags_says_so_apart_from_the_tag_line(tmp_path, tiny_clap_dir, text_model):
    from audioret import Config, Library
    from audioret.render import hit_lines

    lib = tmp_path / "lib"
    harbour = write(lib / "harbour.flac", tone(3, 330))
    f = mutagen.File(harbour)
    f["title"] = "thunder over the harbour"
    f.save()
    write(lib / "kettle.flac", tone(3, 660))
    library = Library(
        Config(
            data_dir=tmp_path / "index",
            clap_model=str(tiny_clap_dir),
            text_model=text_model,
            device="cpu",
            transcribe=False,
        )
    )
    library.index(lib, progress=False)
    hit = library.search("thunder over the harbour", k=1, weights={"text": 1})[0]
    assert hit.path == str(harbour) and hit.text_kind == "tags"  # the API keeps the stored kind
    lines = hit_lines(hit)
    assert 'embedded tags: "title: thunder over the harbour"' in lines[1]
    assert not any(line.strip().startswith('tags: "') for line in lines)  # "tags:" is the file's own tag line


@pytest.mark.parametrize(
    "query, passage, off",
    [
        ("three", "four.", True),  # a spoken digit is no answer to another number
        ("three", "Three.", False),
        ("4", "Four!", False),  # in digits or in letters
        ("four", "7", True),
        ("the number seven", "9", True),  # the passage is a number alone
        ("the number seven", "7.", False),
        ("the number seven", "3 jackson 1 (in digits)", True),  # "number" and a number: the number decides
        ("someone saying the number seven", "3 jackson 1 (in digits)", True),  # "number" asks for a number too
        ("someone saying the number nine", "8 george 10 (in digits)", True),
        ("someone saying the number nine", "9 george 10 (in digits)", False),
        ("a phone number", "Call 0161 496 0000 after six", False),  # no number asked for
        ("2816", "1 28135 A (in sounds)", True),  # the query is a number alone
        ("parked on level three", "I parked on level 4 of the car park", False),  # both say more than a number
        ("track 2", "Track 3 (in music)", True),  # the number is half the query: another track is no answer
        ("room 101", "The interview is in room 1011", False),  # digits run together by Whisper
        ("7 30", "Meet at 730 in the lobby", False),
        ("room 2", "Built in 1920", True),  # one digit inside another number is not it
        ("how long does one round take", "about 90 minutes", False),  # "one" is a small share of the question
        ("apples", "I bought 7.", False),  # no number asked for, and the passage says more than one
        ("pounds", "7.", True),  # a passage that is a number alone answers no query that asks for none
        ("pounds", "Seven. Seven. Seven", True),
        ("saving my computer files", "saving", False),
        ("a quiet walk", "7 george 3 (in digits)", False),
        ("four", "Buy four apples and bread", False),
        ("44", "4", True),  # another number, not another spelling
        ("1", "01 (in album)", False),  # a track's number
        ("forty two", "42 Baker Street", False),  # tens and units are one number too
        ("42", "forty-two", False),
        ("forty two", "40", True),
        ("one", "²", False),  # not a number
        ("three hundred thousand", "The grant was $300,000 this year.", False),  # said with a scale, written so
        ("one hundred thousand", "The grant was $300,000 this year.", True),  # another amount
        ("one hundred thousand", "1 100032 A (in sounds)", True),  # a name full of digits is no answer
        ("two million", "about 2,000,000 people", False),
        ("eighteen fifteen", "In 1815 the volcano erupted", False),  # a year in two pairs
        ("eighteen fifteen", "1 19898 C (in sounds)", True),
        ("eleven thirty", "Meet the builders at 1130 by the gate.", False),  # a time, as Whisper writes it
        ("eleven thirty", "I had worked there for thirty two years.", True),
        ("nine forty five", "The last train leaves at 9:45 tonight.", False),  # two numbers one after the other
        ("nine forty five", "It weighs almost 9 tons.", True),
        ("five hundred pounds", "The total came to 32 pounds 50.", True),  # a part of the number is no answer
    ],
)
def test_a_passage_that_says_another_number_is_no_answer_to_a_number(query, passage, off):
    from audioret.query import Query

    assert numbers_disagree(Query.parse(query).words, passage) is off


@pytest.mark.slow
def test_a_number_finds_the_files_that_say_it_not_every_number(tmp_path, tiny_clap_dir, text_model):
    """A sentence model sets numbers close to each other: each take of a spoken digit was a strong match for any
    query that is a number. Descriptions stand in for the takes' transcripts here (the same passages to the text
    channel); both channels on, as a user has them."""
    from audioret import Config, Library

    lib = tmp_path / "lib"
    said = {"take a": "Four.", "take b": "7", "take c": "Nine.", "memo": "Buy four apples and bread on the way home"}
    for i, (name, text) in enumerate(said.items()):
        write(lib / f"{name}.flac", tone(2, 200 + 150 * i))
        (lib / f"{name}.txt").write_text(text)
    settings = dict(data_dir=tmp_path / "index", device="cpu", transcribe=False)
    library = Library(Config(clap_model=str(tiny_clap_dir), text_model=text_model, **settings))
    library.index(lib, progress=False)
    path = {name: str(lib / f"{name}.flac") for name in said}

    four = library.search("four", k=4)
    assert [h.path for h in four[:2]] == [path["take a"], path["memo"]] and four[0].is_match
    assert not any(h.is_match for h in four[2:])  # "7" and "Nine." are no match, and come after the memo
    seven = library.search("the number seven", k=4)
    assert seven[0].path == path["take b"] and [h.path for h in seven if h.is_match] == [path["take b"]]
    three = library.search("three", k=4)  # said by no file
    assert three.no_good_match and not any(h.is_match for h in three)


@pytest.mark.slow
def test_the_name_of_another_digits_take_is_no_match_for_a_number(tmp_path, tiny_clap_dir, text_model):
    """Spoken digits are named for the digit and the take ("8_george_10.wav"); to a sentence model such a name is
    near any query for a number, and it was called a match for "someone saying the number nine". Descriptions
    stand in for the takes' transcripts, among sound effects named for what they are."""
    from audioret import Config, Library

    lib = tmp_path / "lib"
    digits = "zero one two three four five six seven eight nine".split()
    for d, word in enumerate(digits):
        take = lib / "digits" / f"{d}_george_{10 + d}.flac"
        write(take, tone(1, 200 + 40 * d))
        take.with_suffix(".txt").write_text(word.capitalize() + ".")
    for i, name in enumerate(SOUND_EFFECTS[:30]):
        write(lib / "sounds" / f"{name}.flac", tone(1, 700 + 20 * i))
    settings = dict(data_dir=tmp_path / "index", device="cpu", transcribe=False)
    library = Library(Config(clap_model=str(tiny_clap_dir), text_model=text_model, **settings))
    library.index(lib, progress=False)

    nine = library.search("someone saying the number nine", k=10)
    assert Path(nine[0].path).stem == "9_george_19" and nine[0].is_match
    assert [Path(h.path).stem for h in nine if h.is_match] == ["9_george_19"]


SOUND_EFFECTS = """dog_barking_at_mailman Dog-Growl-Low puppy_whimper_kennel RainOnCarRoof rain_heavy_gutter_overflow
drizzle-on-leaves thunder_rumble_distant Thunderclap-Close waves_breaking_shingle_beach SeaSurf-Calm-Evening
harbour_water_lapping baby_giggle_bath Toddler-Tantrum grandfather-clock-chime-noon kitchen_timer_ticking
sneeze_and_sniff CoughDry-Male helicopter_passing_overhead Plane-Jet-Takeoff chainsaw_starting_up leaf_blower_garden
rooster_dawn_farmyard hens_clucking_coop cow_moo_field crackling_bonfire_beach candle_flame_flicker
kettle_boiling_whistle frying_pan_sizzle door_slam_wooden DoorCreak-Old-House footsteps_snow_crunch keys_jingle_pocket
typing_laptop_keyboard printer_office_paper crowd_cheer_stadium applause_small_theatre church_bells_sunday
bicycle_bell_ring train_passing_station tram_brakes_squeal car_engine_start_cold car_horn_short motorbike_revving
siren_ambulance_passing wind_through_pines stream_babbling_brook waterfall_roar kick_808_long snare_tight_rim
hihat_closed_16ths cymbal_crash_ride vinyl_crackle_loop piano_chord_c_major acoustic_guitar_strum violin_pizzicato
choir_ahh_pad bass_sub_drop synth_arp_bright""".split()
NOTES = {
    "memo_2025_05_09": "The plumber said the leak under the sink is the washer. He comes back Monday at eight.",
    "memo_2025_05_16": "For Sunday lunch roast the lamb with rosemary and garlic for ninety minutes, then rest it.",
    "memo_2025_05_30": "The quarterly numbers are down four percent. Move the budget review to next week.",
    "memo_2025_06_27": "Interview three candidates for the designer role on Tuesday; the second had the best work.",
    "memo_2025_07_11": "The kitten needs her second vaccination next Friday, and we are out of the dry food she likes.",
}


def _described(tmp_path, tiny_clap_dir, text_model, named: list[str], described: dict[str, str]):
    """A library of 2-s noise files under ``named`` names, and ``described`` ones with a description beside each
    (standing in for a transcript), indexed without Whisper: (its folder, the library)."""
    from audioret import Config, Library

    lib = tmp_path / "lib"
    rng = np.random.default_rng(0)
    for name in [*named, *described]:
        write(lib / f"{name}.wav", (0.1 * rng.standard_normal(32000) * np.hanning(32000)).astype(np.float32), 16000)
    for name, text in described.items():
        (lib / f"{name}.txt").write_text(text)
    settings = dict(data_dir=tmp_path / "index", device="cpu", transcribe=False)
    library = Library(Config(clap_model=str(tiny_clap_dir), text_model=text_model, **settings))
    library.index(lib, progress=False)
    return lib, library


@pytest.mark.slow
def test_a_library_named_for_what_the_reference_prompts_name_still_calls_a_right_answer_a_match(
    tmp_path, tiny_clap_dir, text_model
):
    """A sound-effects library named for dogs, rain, clocks and drums holds what the reference prompts name, so
    their tops are its own files; their upper tops had widened the law of what an unrelated query reaches, and a
    right answer found by a name's meaning fell under the line. Now it is a match, and what the library does not
    hold still is not. (Descriptions stand in for five voice notes' transcripts; the tiny CLAP hears nothing.)"""
    lib, library = _described(tmp_path, tiny_clap_dir, text_model, SOUND_EFFECTS, NOTES)
    for query, answer in (
        ("a hound growling", "Dog-Growl-Low"),  # 0.496 "no good match" before
        ("boiling water", "kettle_boiling_whistle"),  # 0.497
        ("how long does the meat cook", "memo_2025_05_16"),  # 0.446
    ):
        found = library.search(query, k=3)
        assert found[0].path == str(lib / f"{answer}.wav") and found[0].is_match and not found.no_good_match, query
    for absent in ("a cat meowing", "an owl hooting", "a horse", "a flute"):
        assert library.search(absent, k=3).no_good_match, absent


NAMED_SOUNDS = """dog_barking_backyard rain_on_window piano_practice_scales drum_kit_groove door_closing_hallway
baby_crying_night phone_ringing_office kettle_whistle car_passing_street birds_dawn_chorus crowd_applause_hall
church_bell_tolling footsteps_gravel thunder_storm_far train_arriving_platform wind_in_trees clock_ticking_kitchen
guitar_strumming_folk engine_idling_truck siren_fire_engine typing_keyboard_fast waves_on_the_shore horse_trotting_road
someone_laughing airplane_overhead water_running_sink""".split()
SEGMENTS = {
    "seg_0311_a": "And now the local news. The town council voted last night to close the old swimming pool on Mill "
    "Street after forty years. A new leisure centre will open by the river next spring.",
    "seg_0311_b": "On tonight's phone-in, listeners call about their gardens. Margaret from Ashford says her tomatoes "
    "split after the heavy rain, and our expert suggests watering little and often.",
    "seg_0312_a": "Here's a recipe for winter soup. Fry two onions, add lentils, carrots and a litre of stock, and "
    "simmer for half an hour before you blend it.",
    "seg_0312_b": "An interview with the headteacher of Oak Lane primary, whose pupils built a weather station for the "
    "science fair and won first prize.",
    "seg_0313_a": "Traffic and travel: the ring road is closed at junction four because of a lorry fire, so expect "
    "delays on the bypass until this evening.",
    "seg_0313_b": "Our book club this month read a novel about a lighthouse family. The discussion turned to whether "
    "the ending was hopeful or sad.",
}


@pytest.mark.slow
def test_a_library_of_what_the_everyday_prompts_name_calls_what_is_said_in_it_a_match(
    tmp_path, tiny_clap_dir, text_model
):
    """Radio segments among sound effects named for dogs, rain, a phone, a crowd: the library holds what the
    everyday reference prompts name ("the news", "a phone call", "a recipe", "a dog barking"), so they are not
    unrelated to it, and what they reach had put every segment found by what it says under the line (strength
    0.20-0.46). What an unrelated query reaches is now also measured with requests a library seldom holds, the
    lower of the two. (Descriptions stand in for the segments' transcripts; the tiny CLAP hears nothing.)"""
    lib, library = _described(tmp_path, tiny_clap_dir, text_model, NAMED_SOUNDS, SEGMENTS)
    for query, answer in (
        ("the council shutting the public baths", "seg_0311_a"),
        ("gardening advice from a caller", "seg_0311_b"),
        ("children winning a science competition", "seg_0312_b"),
        ("road closed after a truck caught fire", "seg_0313_a"),
        ("a reading group talking about a novel", "seg_0313_b"),
        ("a dog barking", "dog_barking_backyard"),
    ):
        found = library.search(query, k=3)
        assert Path(found[0].path).stem == answer and found[0].is_match and not found.no_good_match, query
    for absent in ("a cat meowing", "the price of petrol", "a football match result", "the mayor resigns"):
        found = library.search(absent, k=3)
        assert found.no_good_match and found[0].score < 0.3, absent


def test_a_quoted_phrase_no_file_holds_is_found_by_how_near_a_passage_is_written():
    """What Whisper wrote for a quote ("fall feed in the cut while" for "feeding the cat while") holds 0.62 of its
    letter trigrams; a passage about something else a quarter. From HEARD_FROM (0.5) up, a passage carries that
    share of a verbatim phrase's evidence: none at 0.5, all of it word for word."""
    from audioret.channels.passages import HEARD_FROM, heard, heard_evidence, letters_held
    from audioret.ranking.calibration import phrase_evidence

    assert letters_held("feeding the cat while", "Fall feed in the cut while.") == pytest.approx(13 / 21)
    assert letters_held("feeding the cat while", "We were feeding the cat while it rained") == 1.0
    assert letters_held("feeding the cat while", "The meeting is about the new budget.") < 0.3
    assert letters_held("", "anything") == 0.0
    assert HEARD_FROM == 0.5 and heard_evidence(0.5, 4) == 0.0 and heard_evidence(0.3, 4) == 0.0
    assert heard_evidence(1.0, 4) == phrase_evidence(4) and heard_evidence(0.75, 4) == phrase_evidence(4) / 2
    assert heard(["a dog", "feeding the cat while"], "fall feed in the cut while") == pytest.approx(
        heard_evidence(13 / 21, 4)
    )
    assert heard([], "fall feed in the cut while") == 0.0


def test_whisper_segments_cut_mid_sentence_are_one_passage():
    """A segment Whisper cut mid-sentence runs on into the next one, which goes on with a small letter: "and a
    screw press." on its own had answered "a dentist's drill" as a good match. A segment without a full stop that
    is followed by a capital (Whisper leaves many whole sentences without one) stays apart, as do a pause longer
    than JOIN_GAP_S, a run past JOIN_MOST_WORDS and a lone "Four."."""
    from audioret.channels.passages import JOIN_GAP_S, JOIN_MOST_WORDS, file_passages, sentences
    from audioret.types import Utterance

    said = [
        Utterance(0.0, 2.0, "The press combined movable type"),
        Utterance(2.0, 3.4, " and a screw press."),
        Utterance(3.6, 6.0, "In a good year one hive can produce 20 kilograms"),
        Utterance(6.0, 8.0, "Healthy colonies hold 50,000 workers"),
        Utterance(8.0 + JOIN_GAP_S + 0.1, 10.0, "after a long pause."),
        Utterance(12.0, 12.5, "Four."),
    ]
    assert sentences(said) == [
        Utterance(0.0, 3.4, "The press combined movable type and a screw press."),
        *said[2:4],
        Utterance(said[4].start_s, 10.0, "after a long pause."),
        said[5],
    ]
    twenty = Utterance(0.0, 1.0, "word " * 20)  # no full stop
    assert len(sentences([twenty, Utterance(1.0, 2.0, "and " * (JOIN_MOST_WORDS - 20))])) == 1
    assert len(sentences([twenty, Utterance(1.0, 2.0, "and " * (JOIN_MOST_WORDS - 19))])) == 2
    assert [p.text for p in file_passages("/lib/talk.wav", 20.0, said[:2], told=()) if p.kind == "speech"] == [
        "The press combined movable type and a screw press."
    ]
    assert sentences([]) == [] and sentences([Utterance(0.0, 1.0, "  ")]) == []


def test_the_words_that_matched_are_in_the_passage_shown():
    """A hit's "why" showed a long passage's first 90 characters, cut inside a word: "…with oxalic ac…" hid the
    word that matched. The passage is shown from a few words before the first word found, cut at word bounds."""
    said = (
        "In the interview the beekeeper explained the seasons of the hive, and I treat in late summer with oxalic "
        "acid when the brood is low, and never in spring."
    )
    shown = excerpt(said, ("oxalic", "acid"))
    assert "oxalic acid" in shown and shown.startswith("…") and len(shown) <= 92
    assert excerpt(said) == "In the interview the beekeeper explained the seasons of the hive, and I treat in late…"
    assert excerpt(said, ("spring",)).endswith("never in spring.")  # the end, as much of it as fits
    assert excerpt(said, ("interview",)) == excerpt(said) and excerpt("a short one", ("one",)) == "a short one"
    assert all(not w or w in said.split() for w in excerpt(said, ("hive",)).strip("…").split())  # whole words
