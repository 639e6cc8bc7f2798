"""The values every layer passes: frozen results and options, plus the report an indexing run fills in.

Nothing here imports a model, the store or another audioret module, so any layer may use these types.
Times are in seconds from the start of the file (``_s``), paths are absolute.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .errors import InputError

# A copy of an example recording (audioret.duplicates.copies): (difference, method, where the example lies in the
# file: the whole file for a whole copy, an excerpt's place, or None where it cannot be told)
Copy = tuple[float, str, "tuple[float, float] | None"]
SHOWN_KIND = {"tags": "embedded tags"}  # a passage's kind in a "why": "tags" alone read as the file's tag line
# A hit's score from which it is a match (the line of audioret.ranking.calibration.match_evidence): under it for every
# hit, the results say "no good match"
MATCH_SCORE = 0.5


@dataclass(slots=True)
class Hit:
    """One ranked file, the time range that matched, and how each channel scored it. Not frozen: a frozen
    dataclass sets each of its 15 fields through ``object.__setattr__``, 6.6 us a hit against 2.2 us, a fortieth
    of a warm query's evidence and fusion (docs/BENCHMARKS.md, "Fusion")."""

    rank: int  # 1-based
    path: str
    start_s: float  # the matching time range in the file
    end_s: float
    score: float  # match strength in [0, 1): MATCH_SCORE is the line between a match and chance, however many channels
    segment_id: str | None  # the stored window that overlaps the time range most: Library.similar()'s "more like this"
    duration_s: float  # the whole file's
    scores: dict[str, float] = field(default_factory=dict)  # channel -> cosine of the file's best record
    text: str | None = None  # the text channel's matching passage: transcribed words, name, tags or description
    text_kind: str | None = None  # "speech", "name", "tags" (embedded in the file), "sidecar" or "your tags"
    text_start_s: float | None = None  # where the matching words are (whole file for name, tags and sidecar)
    text_end_s: float | None = None
    strengths: dict[str, float] = field(default_factory=dict)  # channel -> its own match strength, 0-1
    why: str = ""  # which channels carried the hit and how strongly, in words
    tags: dict[str, float] = field(default_factory=dict)  # the file's tags -> strength 0-1 (your own tags: 1.0)

    @property
    def is_match(self) -> bool:
        """Whether the hit is a match (its score reaches MATCH_SCORE), not only the closest of weak ones."""
        return self.score >= MATCH_SCORE

    def to_dict(self) -> dict:
        """The hit as JSON writes it: whether it is a match said in so many words, after its score (a reader had to
        know the line), and lengths to the ms and cosines to six places, as the scores are."""
        out = asdict(self)
        out = {**{k: out[k] for k in ("rank", "path", "start_s", "end_s", "score")}, "match": self.is_match, **out}
        out["duration_s"] = round(self.duration_s, 3)
        for key in ("text_start_s", "text_end_s"):
            out[key] = None if out[key] is None else round(out[key], 3)
        out["scores"] = {c: round(v, 6) for c, v in self.scores.items()}
        return out


class Results(list):
    """Ranked :class:`Hit` (a list), and whether any of them is a good match.

    ``no_good_match`` is true when nothing stands out in any channel: the hits are then only the closest, all
    weak, and ``message`` says so. When nothing came back at all, ``empty`` says why (a filter, a phrase no file
    holds, an empty index), and ``message`` with it.
    """

    NO_MATCH = "No good match: nothing in your library clearly sounds like that or says it"
    NO_MATCH_EXAMPLE = "No good match: nothing in your library clearly sounds like that example"

    def __init__(self, hits=(), no_good_match: bool = False, changed: str = "", note: str = "", example: bool = False):
        super().__init__(hits)
        self.no_good_match = no_good_match
        self.example = example  # found by an example sound (nothing was said to match)
        self.filters: Filters | None = None  # what the search was within (why it found nothing: render.why_nothing)
        self.left_out: tuple[tuple[str, int], ...] = ()  # each exclusion (as typed) and how many files it left out
        self.unheld: tuple[tuple[str, ...], ...] | None = None  # required phrases no file holds (None: not asked)
        self.changed = changed  # what feedback changed, in words ("3 new in the top 10, 1 left out")
        self.note = note  # how the query was read, where that is not plain (Query.note)
        self.empty = ""  # why nothing came back, when nothing did (render.why_nothing; Library fills it in)
        self.unindexed = ""  # the channels asked that hold nothing for their model (render.unindexed), in words

    @property
    def message(self) -> str:
        """The verdict in words: why nothing came back; that nothing matches; or, for a query whose quoted phrase
        no file holds (its words searched without the quotes, and how near a passage is written to it), that the
        results are not that phrase ("" for results that match the query as typed)."""
        if not self and self.empty:
            return f"No results: {self.empty}"
        if self.unheld:
            quoted = " or ".join(f'"{" ".join(p)}"' for p in self.unheld)
            held = f"no file holds {quoted} word for word (a transcript may have heard it otherwise)"
            if self.no_good_match:
                return f"No good match: {held}, and nothing is clearly near it"
            return f"No exact match: {held}; these are the nearest to it, by its words and how they are written"
        return (self.NO_MATCH_EXAMPLE if self.example else self.NO_MATCH) if self.no_good_match else ""

    def to_dict(self) -> dict:
        out = {"no_good_match": self.no_good_match, "message": self.message}
        out |= {"note": self.note} if self.note else {}  # before the hits, where a reader of the JSON sees it
        out["hits"] = [h.to_dict() for h in self]
        return {**out, "feedback": self.changed} if self.changed else out


@dataclass(frozen=True)
class Filters:
    """Restrict results to a folder (and its subfolders), file extensions, a file duration range and/or tags.

    ``folders`` restricts them to files under any of several folders (the app's scope for one visitor: the shared
    library and the visitor's own uploads); it applies on top of ``folder``. ``tags`` keeps the files that carry
    every one of them, ``exclude_tags`` leaves out the files that carry any (tags are compared in lower case).
    """

    folder: str | None = None
    extensions: tuple[str, ...] | None = None  # without dots, lower case: ("wav", "flac")
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    folders: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None  # every one required
    exclude_tags: tuple[str, ...] | None = None  # none allowed

    def __post_init__(self):
        if self.folder is not None:
            object.__setattr__(self, "folder", os.path.abspath(self.folder))
        if self.folders is not None:
            object.__setattr__(self, "folders", tuple(os.path.abspath(f) for f in self.folders))
        if self.extensions is not None:
            object.__setattr__(self, "extensions", tuple(e.lower().lstrip(".") for e in self.extensions))
        low, high = self.min_duration_s, self.max_duration_s
        if any(d is not None and d < 0 for d in (low, high)):
            raise InputError(f"A duration is seconds, 0 or more; got {low if low is not None and low < 0 else high:g}")
        if low is not None and high is not None and low > high:
            raise InputError(
                f"The shortest duration asked for ({low:g} s) is longer than the longest ({high:g} s): no file can "
                "be both; swap them"
            )
        for name in ("tags", "exclude_tags"):
            given = getattr(self, name)
            if given is not None:
                given = (given,) if isinstance(given, str) else given
                object.__setattr__(self, name, tuple(dict.fromkeys(normal_tag(t) for t in given if normal_tag(t))))

    @property
    def by_path(self) -> bool:
        """Whether a folder restriction applies (checked on each record's path)."""
        return self.folder is not None or self.folders is not None

    @property
    def active(self) -> bool:
        """Whether any restriction applies."""
        durations = (self.min_duration_s, self.max_duration_s) != (None, None)
        return self.by_path or bool(self.extensions) or durations or bool(self.tags) or bool(self.exclude_tags)


def normal_tag(tag: str) -> str:
    """A tag as it is kept and compared: lower case, inner spaces single, none around (``" Rain  Storm"`` ->
    ``"rain storm"``)."""
    return " ".join(str(tag).lower().split())


@dataclass(frozen=True)
class Tag:
    """A tag of the library and how many files carry it (:meth:`audioret.library.Library.tags`).

    ``kind`` says where it comes from: "sound" (a label CLAP heard), "language" and "speech" (what Whisper
    heard), "loudness", "tempo" and "key" (measured), or "user" (added by hand)."""

    name: str
    kind: str
    files: int


@dataclass(frozen=True)
class Scope:
    """Which records a query may return: the :class:`Filters`, and the files and records kept or left out.

    Built once per query (:meth:`audioret.library.Library.search`, narrowed by the query's required phrases and
    excluded words in :func:`audioret.search.search`) and handed down unchanged to each channel and the store.
    """

    filters: Filters | None = None
    only_paths: frozenset[str] | None = None  # when given, only these files (absolute paths)
    exclude_paths: frozenset[str] = frozenset()
    exclude_ids: frozenset[str] = frozenset()  # records (segment ids) never returned
    left_out: tuple[tuple[str, int], ...] = ()  # each exclusion as typed ("-bark") and how many files it left out
    unheld: tuple[tuple[str, ...], ...] = ()  # required phrases no file holds: searched as plain words instead

    def narrowed(self, only_paths: Iterable[str] | None = None, exclude_paths: Iterable[str] = ()) -> Scope:
        """This scope with fewer files: only ``only_paths`` (within the ones kept so far), ``exclude_paths`` out."""
        exclude = self.exclude_paths | frozenset(exclude_paths)
        only = self.only_paths
        if only_paths is not None:
            only = frozenset(only_paths) if only is None else only & frozenset(only_paths)
        return replace(self, only_paths=None if only is None else only - exclude, exclude_paths=exclude)

    def leaving_out(self, exclusions: Mapping[str, set[str]]) -> Scope:
        """This scope without the files of each exclusion (``{"-bark": paths}``), ``left_out`` counting the files
        each takes out of those this scope kept."""

        def kept(paths: set[str]) -> int:
            return sum(p not in self.exclude_paths and (self.only_paths is None or p in self.only_paths) for p in paths)

        counts = tuple((name, kept(paths)) for name, paths in exclusions.items())
        return replace(self.narrowed(exclude_paths=set().union(*exclusions.values())), left_out=self.left_out + counts)

    @property
    def empty(self) -> bool:
        """Whether no file can pass (an empty ``only_paths``)."""
        return self.only_paths is not None and not self.only_paths


@dataclass(frozen=True)
class Feedback:
    """Files marked on earlier results: ``liked`` ("more like these") and ``unliked`` ("less like those"; they
    are also left out of the results). Paths, absolute."""

    liked: tuple[str, ...] = ()
    unliked: tuple[str, ...] = ()
    seen: frozenset[str] = frozenset()  # liked files whose match the judged list showed...
    found: frozenset[tuple[str, str]] = frozenset()  # ...and (channel, path): the channels that had a say in it

    def __bool__(self) -> bool:
        return bool(self.liked or self.unliked)

    def liked_by(self, channel: str) -> tuple[str, ...]:
        """The liked files ``channel`` learns from: the ones it had a say in, and those whose match is not known
        (a liked spoken "one" that the words found teaches the sound channel nothing: every spoken digit sounds
        alike; docs/BENCHMARKS.md, "Feedback on spoken digits")."""
        return tuple(p for p in self.liked if p not in self.seen or (channel, p) in self.found)


@dataclass(frozen=True)
class FileInfo:
    """One indexed file, as the library lists it."""

    path: str
    duration_s: float
    channels: tuple[str, ...]  # the channels that hold it: "clap", "text"
    speech: bool | None  # whether Whisper heard speech in it (None: not transcribed, or indexed before this was kept)
    size: int
    mtime_ns: int
    tags: dict[str, float] = field(default_factory=dict)  # tag -> strength 0-1 (your own tags: 1.0)
    loudness_lufs: float | None = None  # integrated loudness (EBU R 128), measured at index time
    tempo_bpm: float | None = None  # music only
    key: str | None = None  # music only: "a minor"
    speech_share: float | None = None  # the share of the file's time in which Whisper heard words
    language: str | None = None  # Whisper's ISO 639-1 code, where it heard speech

    @property
    def properties(self) -> dict:
        """The measured properties that are known (loudness, tempo, key, speech share, language)."""
        names = ("loudness_lufs", "tempo_bpm", "key", "speech_share", "language")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclass(frozen=True)
class Moment:
    """How well one stretch of a file matches a query, for a timeline of the file."""

    start_s: float
    end_s: float
    channel: str  # "clap" (a window) or "text" (an utterance)
    strength: float  # 0-1 within this file and channel: 1 is its best stretch


@dataclass(frozen=True)
class Utterance:
    """One transcribed stretch of speech, times in seconds from the start of the audio."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard.

    ``text`` is in the spoken language; ``english`` is the English translation when the language is not English
    and translation was asked for (otherwise the same as ``text``).
    """

    text: str
    language: str  # ISO 639-1 code detected by Whisper ("en"); an English-only model always says "en"
    language_probability: float | None  # None when the engine does not report it (openai-whisper)
    english: str
    utterances: tuple[Utterance, ...]
    speech_s: float  # seconds of audio the VAD passed to Whisper
    duration_s: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FileError:
    path: str
    reason: str


@dataclass(frozen=True)
class IndexProgress:
    files_done: int
    files_total: int
    segments: int  # sound segments written so far in this run
    passages: int = 0  # text passages written so far in this run


@dataclass
class IndexReport:
    """What one indexing run did. ``failed`` names every file that could not be indexed, with the reason."""

    roots: list[str]
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # content changed, re-embedded
    unchanged: int = 0
    found: int = 0  # audio files under the roots (indexed, unchanged, failed or left to a channel that was skipped)
    removed: list[str] = field(default_factory=list)  # gone from disk, pruned from the index
    failed: list[FileError] = field(default_factory=list)
    skipped_channels: dict[str, str] = field(default_factory=dict)  # channel -> why its model did not load
    segments: int = 0  # windows embedded and written in this run
    audio_s: float = 0.0  # seconds of audio embedded in this run
    text_files: int = 0  # files whose text-channel passages were (re)written
    passages: int = 0  # text passages embedded and written
    transcribed: int = 0  # files in which Whisper found speech
    checked_s: float = 0.0  # seconds of audio the speech gate (VAD) examined
    speech_s: float = 0.0  # seconds of it the gate passed to Whisper
    tagged: int = 0  # files whose tags were (re)judged in this run
    tagging_s: float = 0.0  # seconds the tagging after the run took (in elapsed_s too)
    map_s: float = 0.0  # seconds laying out the library's map after the run took (in elapsed_s too)
    elapsed_s: float = 0.0
    settings: dict = field(default_factory=dict)  # what ran: batch size, decode threads, backend, precision
    stages: dict[str, float] = field(default_factory=dict)  # seconds the model thread spent waiting, embedding, writing

    def to_dict(self) -> dict:
        return asdict(self)

    def write_json(self, path: str | os.PathLike):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False))
        os.replace(tmp, path)

    def summary(self) -> str:
        """One line: what was added, updated, removed and failed, how much was embedded, and how many files kept as
        they were had their tags judged again (new rules or a new vocabulary)."""
        text = ""
        if self.text_files:
            text = f"; text channel: {_count(self.text_files, 'file')}, {_count(self.passages, 'passage')}"
            if self.checked_s:
                heard = _amount(self.speech_s, self.checked_s)
                text += f", speech in {_count(self.transcribed, 'file')} ({heard} transcribed)"
        again = self.tagged - len(self.added) - len(self.updated)  # files kept as they were, their tags judged anew
        text += f"; {_count(again, 'file')} tagged again" if again > 0 else ""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {self.unchanged} unchanged, "
            f"{len(self.removed)} removed, {len(self.failed)} failed; {_count(self.segments, 'segment')} "
            f"({_amount(self.audio_s)} of audio){text} in {self.elapsed_s:.1f} s"
        )

    def fail(self, path: str, reason: str):
        """Names a failed file once, whichever channel found the problem first."""
        if all(f.path != path for f in self.failed):
            self.failed.append(FileError(path, reason))


def _count(n: int, word: str) -> str:
    """``1 file``, ``3 files``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _amount(seconds: float, of: float | None = None) -> str:
    """How much audio: ``12.5 s``, ``3.2 min``; with ``of``, ``2.0 of 3.2 min`` (in the unit of the larger)."""
    unit, scale = ("s", 1.0) if max(seconds, of or 0.0) < 60 else ("min", 60.0)
    if of is None:
        return f"{seconds / scale:.1f} {unit}"
    return f"{seconds / scale:.1f} of {of / scale:.1f} {unit}"
