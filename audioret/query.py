"""The query grammar: words, "exact phrases" and -exclusions, and how an unbalanced quote is read."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The commonest English function words: too frequent to tell passages apart, so the lexical leg skips them as
# single words (they still count inside a phrase).
STOPWORDS = frozenset("a an and are as at be by for from has have i in is it its of on or that the this to was were "
                      "will with".split())  # fmt: skip


_MINUS = re.compile(r"(?<!\S)-[^\W\d_][\w']*")  # -word (a letter first, so "-3 dB" is not an exclusion)


_TOKEN = re.compile(r"\"([^\"]*)\"|(?<!\S)-([^\W\d_][\w']*)|([\w']+)")


@dataclass(frozen=True)
class Query:
    """A typed query, parsed: ``"an exact phrase"`` is required, ``-word`` excludes files whose text has it.

    ``text`` is what the embedding models get (quotes and excluded words removed), ``words`` the lower-case words
    the lexical leg looks for (function words left out), ``phrases`` each required phrase as its words.
    """

    text: str
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str) -> Query:
        phrases, excluded = [], []
        for quoted, minus, _ in _TOKEN.findall(raw):
            if minus:
                excluded.append(minus.lower())
            elif quoted.strip():
                phrases.append(tuple(w.lower() for w in re.findall(r"[\w']+", quoted)))
        text = " ".join(_MINUS.sub(" ", raw).replace('"', " ").split())
        words = [w.lower() for w in re.findall(r"[\w']+", text)]
        content = tuple(dict.fromkeys(w for w in words if w not in STOPWORDS))
        return cls(text, content, tuple(p for p in phrases if p), tuple(dict.fromkeys(excluded)))

    @property
    def all_words(self) -> tuple[str, ...]:
        """Every word of ``text``, lower case, in order (for matching the whole query as a phrase)."""
        return tuple(w.lower() for w in re.findall(r"[\w']+", self.text))
