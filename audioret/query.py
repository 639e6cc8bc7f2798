"""The query grammar: words, "exact phrases" and -exclusions, and how an unbalanced quote is read."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The commonest English function words: too frequent to tell passages apart, so the lexical leg skips them as
# single words (they still count inside a phrase).
STOPWORDS = frozenset(
    "a an and are as at be by for from has have i in is it its of on or that the this to was were will with".split()
)


_MINUS = re.compile(r"(?<!\S)-(?:\"[^\"]*\"|[^\W\d_][\w']*(?:-[^\W\d_]+(?![\w-]))?)")  # -word, -wi-fi or -"a phrase"
# ("-3 dB" is no exclusion)


_TOKEN = re.compile(r"(?<!\S)-\"([^\"]*)\"|\"([^\"]*)\"|(?<!\S)-([^\W\d_][\w']*(?:-[^\W\d_]+(?![\w-]))?)|([\w']+)")
# a word of two parts of letters joined by a hyphen ("wi-fi", not "state-of-the-art"): one word, written whole, to
# the lexical leg, which finds it with the hyphen or without ("WiFi", "Wi-Fi"; store.word_index.joined)
_HYPHENED = re.compile(r"(?<![\w-])([^\W\d_]+)-([^\W\d_]+)(?![\w-])")
UNMATCHED_QUOTE = 'The unmatched " was read as a plain character: the words after it are ordinary words'
UNMATCHED_QUOTE_AT_END = 'The unmatched " at the end was left out'
EMPTY_QUOTES = 'The empty quotes "" were left out'


@dataclass(frozen=True)
class Query:
    """A typed query, parsed: ``"an exact phrase"`` is required, ``-word`` and ``-"a phrase"`` exclude the files
    whose text has them. A quote left unmatched is read as a plain character, and ``note`` says so.

    ``text`` is what the embedding models get (quotes and exclusions removed), ``words`` the lower-case words
    the lexical leg looks for (function words left out; "wi-fi" as "wifi", which finds "WiFi" and "Wi-Fi"),
    ``phrases`` each required phrase as its words, ``excluded`` the excluded words and ``excluded_phrases`` the
    excluded phrases (as their words).
    """

    text: str
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[str, ...] = ()
    excluded_phrases: tuple[tuple[str, ...], ...] = ()
    note: str = ""  # how the query was read, where that is not plain (an unmatched quote)

    @classmethod
    def parse(cls, raw: str) -> Query:
        notes = []
        if raw.count('"') % 2:  # the last quote has no partner: read it as a plain character
            at = raw.rindex('"')
            notes.append(UNMATCHED_QUOTE if _words(raw[at + 1 :]) else UNMATCHED_QUOTE_AT_END)
            raw = f"{raw[:at]} {raw[at + 1 :]}"
        if any(not _words(q) for q in re.findall(r'"([^"]*)"', raw)):  # "" or " ": nothing to require or leave out
            notes.append(EMPTY_QUOTES)
        note = ". ".join(notes)
        phrases, excluded, excluded_phrases = [], [], []
        for minus_quoted, quoted, minus, _ in _TOKEN.findall(raw):
            if minus:
                excluded.append(minus.lower().replace("-", ""))
            elif _words(minus_quoted):
                excluded_phrases.append(_words(minus_quoted))
            elif _words(quoted):
                phrases.append(_words(quoted))
        text = " ".join(_MINUS.sub(" ", raw).replace('"', " ").split())
        content = tuple(dict.fromkeys(w for w in _words(_HYPHENED.sub(r"\1\2", text)) if w not in STOPWORDS))
        single = [p[0] for p in excluded_phrases if len(p) == 1]  # -"word" is -word
        return cls(
            text,
            content,
            tuple(phrases),
            tuple(dict.fromkeys(excluded + single)),
            tuple(dict.fromkeys(p for p in excluded_phrases if len(p) > 1)),
            note,
        )

    @property
    def exclusions(self) -> tuple[tuple[str, ...], ...]:
        """Every exclusion as its words: each excluded word alone, and each excluded phrase."""
        return tuple((w,) for w in self.excluded) + self.excluded_phrases

    @property
    def all_words(self) -> tuple[str, ...]:
        """Every word of ``text``, lower case, in order (for matching the whole query as a phrase)."""
        return tuple(w.lower() for w in re.findall(r"[\w']+", self.text))


def minus(words: tuple[str, ...]) -> str:
    """An exclusion as it is typed: ``-bark``, ``-"dog park"``."""
    return f"-{words[0]}" if len(words) == 1 else f'-"{" ".join(words)}"'


def left_out_note(left_out) -> str:
    """What the exclusions left out, in words: "2 files left out by -bark, 1 by -"dog park"" ("" for none)."""
    parts = [f"{n} by {name}" for name, n in left_out]
    if parts:
        parts[0] = parts[0].replace(" by ", " file left out by " if left_out[0][1] == 1 else " files left out by ", 1)
    return ", ".join(parts)


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in re.findall(r"[\w']+", text))
