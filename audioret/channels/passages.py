"""The text channel's inputs and encoder: what a file says, and what is written about it.

Each file becomes a few passages: its name made readable, its embedded tags (through mutagen), a sidecar
description (``NAME.txt`` or ``NAME.json`` next to the file) and, where Whisper heard speech, one passage per
sentence it wrote (its segments cut mid-sentence joined: :func:`sentences`) with its time range. A
sentence-transformers model embeds them into one vector each. A passage found by a search becomes the hit's "why"
here (:func:`passage_found`); a passage that says other numbers than a query that is mostly a number is no answer to
it by meaning (:func:`numbers_disagree`). A quoted phrase no file holds is looked for by how near a passage is
written (:func:`heard`).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..query import STOPWORDS
from ..ranking.calibration import phrase_evidence
from ..ranking.fusion import Found
from ..render import time_range
from ..store.numbers import numbers_in, said_numbers
from ..store.records import SegmentMatch
from ..store.word_index import word_pattern
from ..types import SHOWN_KIND, Utterance

logger = logging.getLogger("audioret")

TAG_KEYS = ("title", "artist", "albumartist", "album", "genre", "comment", "description", "keywords")
# A tag value that only names the program that wrote the file ("Processed by SoX", "Lavf58.29.100", "Encoded with
# LAME"): it says nothing about the sound, so it is neither searched nor shown as a reason.
TOOL_STAMP = re.compile(
    r"^\s*(?:(?:processed|encoded|created|made|generated|converted|written|edited|ripped|recorded)\s+(?:by|with|using)"
    r"\s+\S+(?:\s+v?[\d.]+)?\s*\.?|lav[fc][\d.]*|(?:sox|ffmpeg|lame|libvorbis|audacity|itunes)(?:\s+v?[\d.]+)?)\s*$",
    re.IGNORECASE,
)
SIDECAR_KEYS = ("title", "description", "caption", "captions", "tags", "keywords", "text", "transcript", "notes")
MAX_PASSAGE_WORDS = 120  # all-MiniLM-L6-v2 reads 256 word pieces; longer text is cut into passages
MAX_SIDECAR_BYTES = 64 * 1024
# sentences(): an utterance that does not end a sentence runs on into the next one that starts with a small letter
# within JOIN_GAP_S, up to JOIN_MOST_WORDS words together
SENTENCE_ENDS = (".", "?", "!", "…", '."', '?"', '!"')
JOIN_GAP_S = 1.5
JOIN_MOST_WORDS = 30


@dataclass(frozen=True)
class Passage:
    """A piece of text about a file. Whole-file passages (name, tags, sidecar) span the whole file."""

    kind: str  # "name", "tags", "sidecar" or "speech"
    text: str
    start_s: float
    end_s: float


def readable_name(path: str | os.PathLike) -> str:
    """The file name as words: ``rain_on-tinRoof_02.wav`` -> ``rain on tin Roof 02``, with its folder's name."""
    stem = os.path.splitext(os.path.basename(path))[0]
    folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
    name = _words(stem)
    return f"{name} (in {_words(folder)})" if folder else name


def _words(s: str) -> str:
    s = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", s)  # camelCase
    return " ".join(re.sub(r"[_\-.+~]+", " ", s).split())


def read_tags(path: str | os.PathLike) -> str:
    """Title, artist, album, genre and comment tags as one line (empty when the file has none)."""
    import mutagen

    try:
        f = mutagen.File(path, easy=True)
    except Exception as e:  # mutagen raises many types for damaged headers; tags are optional
        logger.debug("No tags read from %s: %s", path, e)
        return ""
    if f is None or not f.tags:
        return ""
    parts = []
    for key in TAG_KEYS:
        try:
            values = f.tags.get(key) or []
        except (KeyError, ValueError):
            continue
        text = "; ".join(str(v).strip() for v in values if str(v).strip() and not TOOL_STAMP.match(str(v)))
        if text:
            parts.append(f"{key}: {text[:500]}")
    return ". ".join(parts)


def sidecar_paths(path: str | os.PathLike) -> list[str]:
    stem = os.path.splitext(os.fspath(path))[0]
    return [stem + ".txt", stem + ".json"]


def sidecar_signature(path: str | os.PathLike) -> str:
    """Size and modification time of the sidecar files: changes when a description is added or edited."""
    parts = []
    for p in sidecar_paths(path):
        try:
            st = os.stat(p)
        except OSError:
            continue
        parts.append(f"{os.path.basename(p)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def read_sidecar(path: str | os.PathLike) -> str:
    """The description in ``NAME.txt`` and/or ``NAME.json`` (its text fields) next to the audio file."""
    texts = []
    txt, js = sidecar_paths(path)
    try:
        if os.path.isfile(txt):
            texts.append(_read_text(txt))
    except OSError as e:  # as a broken JSON one: the file is indexed without it, and the warning says why
        logger.warning("Ignored sidecar %s: it cannot be read (%s)", txt, e.strerror or e)
    if os.path.isfile(js):
        try:
            data = json.loads(_read_text(js) or "null")
        except ValueError as e:
            logger.warning("Ignored sidecar %s: not valid JSON (%s)", js, e)
        except OSError as e:
            logger.warning("Ignored sidecar %s: it cannot be read (%s)", js, e.strerror or e)
        else:
            texts.append(_json_text(data))
    return "\n".join(t for t in texts if t).strip()


def sidecar_kind(path: str | os.PathLike) -> str:
    """ "your tags" for a sidecar that holds only tags (a JSON one, as ``audioret tag`` writes it: the user wrote
    the tags, not a sidecar), else "sidecar"."""
    txt, js = sidecar_paths(path)
    try:
        data = json.loads(_read_text(js) or "null") if os.path.isfile(js) and not os.path.isfile(txt) else None
    except (ValueError, OSError):
        return "sidecar"
    only_tags = isinstance(data, dict) and not {k for k in SIDECAR_KEYS if data.get(k)} - {"tags"}
    return "your tags" if only_tags and data.get("tags") else "sidecar"


def _read_text(path: str) -> str:
    with open(path, "rb") as f:
        return f.read(MAX_SIDECAR_BYTES).decode("utf-8", "replace")


def _json_text(data) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return ", ".join(t for t in (_json_text(v) for v in data) if t)
    if isinstance(data, dict):
        keyed = [data[k] for k in SIDECAR_KEYS if k in data]
        return ". ".join(t for t in (_json_text(v) for v in keyed) if t)
    return ""


def described(path: str) -> tuple[tuple[str, str], ...]:
    """What a file says of itself, as (kind, text): its embedded tags and its sidecar."""
    return ("tags", read_tags(path)), (sidecar_kind(path), read_sidecar(path))


def file_passages(
    path: str,
    duration_s: float,
    utterances: Sequence[Utterance] = (),
    told: tuple[tuple[str, str], ...] | None = None,
) -> list[Passage]:
    """All passages of one file: name, tags, sidecar (cut to at most MAX_PASSAGE_WORDS words each), speech.
    ``told``: :func:`described` of the file, when it was read already (in a decode thread)."""
    passages = [Passage("name", readable_name(path), 0.0, duration_s)]
    for kind, text in told if told is not None else described(path):
        for piece in _cut(text):
            passages.append(Passage(kind, piece, 0.0, duration_s))
    for u in sentences(utterances):  # Whisper's times can run a little past the end (VAD padding): never past it
        if u.text.strip():
            start = min(float(u.start_s), duration_s)
            passages.append(Passage("speech", u.text.strip(), start, min(max(float(u.end_s), start), duration_s)))
    return passages


def sentences(utterances: Sequence[Utterance], gap_s: float = JOIN_GAP_S, most: int = JOIN_MOST_WORDS) -> list:
    """Utterances joined into sentences: one that does not end a sentence (no ``.``, ``?``, ``!``) runs on into
    the next when that goes on with it (starts with a small letter, as Whisper writes a sentence's middle) within
    ``gap_s``, up to ``most`` words. Whisper cuts its segments mid-sentence ("… the press combined movable type" /
    "and a screw press."), and a fragment on its own reads as something else: "and a screw press." answered "a
    dentist's drill" as a good match, "adds rain to the picture." "a lawn sprinkler" (docs/BENCHMARKS.md,
    "Sentences, not fragments"). Whisper leaves the full stop off many whole sentences, so one that starts with a
    capital stays apart; a lone short utterance ("Four.") stays as it is. Pure."""
    joined: list[Utterance] = []
    for u in utterances:
        text = u.text.strip()
        if not text:
            continue
        last = joined[-1] if joined else None
        if (
            last is not None
            and not last.text.rstrip().endswith(SENTENCE_ENDS)
            and text[0].islower()
            and u.start_s - last.end_s <= gap_s
            and len(last.text.split()) + len(text.split()) <= most
        ):
            joined[-1] = Utterance(last.start_s, max(last.end_s, u.end_s), f"{last.text.rstrip()} {text}")
        else:
            joined.append(Utterance(u.start_s, u.end_s, text))
    return joined


def _cut(text: str) -> list[str]:
    words = text.split()
    return [" ".join(words[i : i + MAX_PASSAGE_WORDS]) for i in range(0, len(words), MAX_PASSAGE_WORDS)]


QUOTE_CHARS = 90  # of a passage shown in a hit's "why"


def excerpt(text: str, words: Sequence[str] = (), width: int = QUOTE_CHARS) -> str:
    """``text`` cut to about ``width`` characters for a hit's "why", at word bounds, "…" where it was cut: its
    start, or where the first of ``words`` is found in it (:func:`word_pattern`), a few words before it, so that
    the words that matched are shown ("…and I treat in late summer with oxalic ac…" had hidden "acid"). Pure."""
    if len(text) <= width:
        return text
    found = [m.start() for w in words if (m := re.search(word_pattern(w), text))]
    at = min(found, default=0)
    start = 0 if at < width // 2 else max(0, min(at - width // 4, len(text) - width))
    start = text.find(" ", start - 1) + 1 if start else 0  # from a word's start
    end = start + width
    if end < len(text):  # to a word's end
        end = max(text.rfind(" ", start, end), start + 1) if " " in text[start:end] else end
    return f"{'…' if start else ''}{text[start:end].strip()}{'…' if end < len(text) else ''}"


def passage_found(
    match: SegmentMatch,
    evidence: float,
    leg: str = "meaning",
    words: tuple[str, ...] = (),
    cosine: float | None = None,
    beyond: float | None = None,
    chance: float = 1.0,
) -> Found:
    """What a passage adds to a hit: where the words were said (speech) and the passage itself, quoted.
    ``cosine`` is the passage's cosine when the meaning leg did not find it (the words leg); ``chance``, what the
    channel's chance tops count for in fusion's match line."""
    m, text = match.metadata, match.document or ""
    speech = m.get("kind") == "speech"
    kind = m.get("kind", "text")
    label = f"said at {time_range(m['start_s'], m['end_s'])}" if speech else SHOWN_KIND.get(kind, kind)
    quote = f'"{excerpt(text, words if leg == "words" else ())}"'
    if leg == "words" and words:
        quote += f" (words {', '.join(repr(w) for w in words)})"
    span = (float(m["start_s"]), float(m["end_s"])) if speech else None
    shown = match.score if leg == "meaning" else cosine
    return Found(match, evidence, leg, shown, span, None, label, quote, words, beyond, chance)


def numbers_disagree(asked: Sequence[str], text: str) -> bool:
    """Whether a passage's meaning cannot answer a query for its numbers: both hold numbers (in letters or digits),
    they share none, and the passage is numbers alone (besides function words) or numbers, and words for a number
    (``NUMBER_WORDS``), are half the query's words or more ("track 2", "room 102", "someone saying the number
    nine"). A sentence model sets numbers close to each other, so a spoken digit's transcript ("four.") matched any
    query that is a number ("three") by meaning, as a strong match, and "Track 3" answered "track 2"; the name of
    another digit's take ("8 george 10 (in digits)") was a match for "someone saying the number nine"
    (docs/BENCHMARKS.md, "A number is matched by its number", "a word for a number"). "the number five" still finds
    "5.", and a memo that says "level 4" still answers "parked on level three" by what else it says. A passage that
    is a number alone ("7", "0.") answers no query that asks for none: "pounds" had called two digit takes good
    matches. A number written with thousands separators is one ("$300,000"). Pure.

    Args:
        asked: the query's words, function words left out (:attr:`Query.words`).
        text: the passage.
    """
    wanted = numbers_in(asked)
    if not wanted and len(text) > NUMBER_ALONE_CHARS:  # too long to be a number alone: nothing to read
        return False
    said = [w.replace(",", "") for w in re.findall(r"\d{1,3}(?:,\d{3})+|[\w']+", text.lower()) if w not in STOPWORDS]
    held = numbers_in(said)
    if not wanted:  # a passage that is a number alone ("7", "0.") answers no query that asks for none
        return bool(held) and all(numbers_in((w,)) for w in said)
    spelled = [d for w in said for d in sorted(numbers_in((w,)))]  # in the passage's order, one word at a time
    runs = held | {a + b for a, b in zip(spelled, spelled[1:])}  # "9:45" holds 945, "32 pounds 50" no 500
    if not held or any(_within(a, b) for a in wanted for b in runs):
        return False
    said_so = {k for start, stop, _ in said_numbers(asked) for k in range(start, stop)}  # "one hundred thousand"
    numeric = sum(k in said_so or bool(numbers_in((w,))) or w in NUMBER_WORDS for k, w in enumerate(asked))
    return 2 * numeric >= len(asked) or all(numbers_in((w,)) for w in said)


# numbers_disagree: words that ask for a number, counted with the numbers of a query; the longest passage read for
# being a number alone when the query asks for none ("Seven. Seven. Seven" is 19), so a query reads few passages
NUMBER_WORDS = frozenset({"number", "numbers", "digit", "digits", "numeral", "numerals"})
NUMBER_ALONE_CHARS = 40


def _within(number: str, other: str) -> bool:
    """Whether ``number`` is ``other``, or of two digits or more and written inside it: Whisper runs digits together
    ("room 1011" for "room 101 1", "730" for "7 30") or apart ("9:45" for 945: two numbers of a passage one after
    the other are also read as one), so such a passage keeps its say. Not the other way: the "50" of "32 pounds 50"
    is no answer to "five hundred pounds"."""
    return number == other or (len(number) >= 2 and number in other)


# heard_evidence: a passage holding at least this share of a quoted phrase's letter trigrams may be the phrase
# misheard; unrelated passages stay under 0.45 for 90 % of absent queries (docs/BENCHMARKS.md, "Fusion")
HEARD_FROM = 0.5


def letters_held(phrase: str, text: str) -> float:
    """The share of ``phrase``'s letter trigrams (each word padded by a space at both ends) that ``text`` holds: 1
    for the phrase verbatim, 0.62 for "feeding the cat while" in Whisper's "fall feed in the cut while", under 0.45
    for most passages that are not it. Pure."""
    wanted = _trigrams(phrase)  # the phrase's once, whatever number of passages it is held against
    return len(wanted & _trigrams(text)) / len(wanted) if wanted else 0.0


@functools.lru_cache(maxsize=64)
def _trigrams(words: str) -> frozenset[str]:
    padded = " " + " ".join(re.findall(r"[^\W_]+", words.lower())) + " "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def heard_evidence(share: float, n_words: int) -> float:
    """A verbatim phrase's evidence (:func:`calibration.phrase_evidence`) in the share of its letter trigrams a
    passage holds above HEARD_FROM: none up to it, all of it for the phrase word for word. For a quoted phrase no
    file holds, so that what Whisper wrote for it ("to buy a quasor") is found by how it is written. Pure."""
    return phrase_evidence(n_words) * max(share - HEARD_FROM, 0.0) / (1.0 - HEARD_FROM)


def heard(phrases: Sequence[str], text: str) -> float:
    """The most :func:`heard_evidence` a passage's ``text`` carries for any of ``phrases`` (quoted phrases no file
    holds). Pure."""
    return max((heard_evidence(letters_held(p, text), len(p.split())) for p in phrases), default=0.0)
