"""The text channel's words leg: the passages that hold a query's rare words, or the whole query verbatim.

A passage's evidence by its words is the summed idf of the query's words it holds, times the share of the query's
idf they cover (:func:`audioret.ranking.calibration.word_evidence`), and it speaks only where that share is at least
WORD_COVERAGE: one shared word of several is the meaning leg's to weigh. The whole query found verbatim is a phrase's
evidence (:func:`~audioret.ranking.calibration.phrase_evidence`); a quoted phrase that no file holds gives each
passage a phrase's evidence in the share of its letters held (:func:`~audioret.channels.passages.heard`). How rare a
word is counts the shared library only: a public page's visitors never change it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..query import Query
from ..ranking.calibration import idf, phrase_evidence, word_evidence
from ..ranking.fusion import Found
from ..store.chroma import TEXT_MATCH_LIMIT
from ..store.filters import accepts, admits
from ..store.numbers import numbers_joined
from ..store.word_index import phrase_pattern, word_pattern
from ..types import Scope
from .passages import heard

WORD_COVERAGE = 0.5  # the share of the query's words (by idf) a passage must hold for its words to speak


def lexical(store, query: Query, count: int, scope: Scope, found_as: Callable) -> list[Found]:
    """Each file's best passage by the query's words: rare words found, and the whole query found verbatim.

    Args:
        store: the text channel's store (its word index finds the passages that may hold a word).
        query: the query; its words and all of them in order (the phrase).
        count: how many passages the channel holds (for idf).
        scope: the filters and the quoted phrases no file holds.
        found_as: makes a :class:`Found` of a passage (the channel's ``found``).
    """
    # the passages that may hold a word (the store's word index), then each one's words and the phrase, found here
    passages: dict[str, tuple] = {}  # id -> (match, words found)
    asked, phrase, verbatim = numbers_joined(query.words), numbers_joined(query.all_words), set()
    words = list(asked)
    found = store.word_matches(words) if words else []
    if not words and len(phrase) >= 2:  # only function words: the phrase alone
        found = store.phrase_matches(phrase)
    patterns = {w: re.compile(word_pattern(w)) for w in words}
    whole = re.compile(phrase_pattern(phrase)) if len(phrase) >= 2 else None
    hits = {w: 0 for w in words}
    for m in found:
        held = {w for w, pattern in patterns.items() if pattern.search(m.document or "")}
        shared = not store.is_private(m.path)  # a public page's visitors never change how rare a word is
        for w in held:
            hits[w] += shared
        passages[m.id] = (m, held)
        if whole is not None and whole.search(m.document or ""):
            verbatim.add(m.id)
    weight = {w: idf(min(hits[w], TEXT_MATCH_LIMIT), count) for w in asked}
    unheld = [" ".join(p) for p in scope.unheld]  # quoted phrases no file holds: how near each passage is written
    best: dict[str, Found] = {}
    for record_id, (m, words) in passages.items():
        if not admits(scope, m.metadata):
            continue
        e = word_evidence([weight[w] for w in words], list(weight.values()))
        e = e if sum(weight[w] for w in words) >= WORD_COVERAGE * sum(weight.values()) else 0.0
        e = max(e, phrase_evidence(len(phrase)) if record_id in verbatim else 0.0)
        e = max(e, heard(unheld, m.document or "")) if unheld else e
        if e > 0 and (m.path not in best or e > best[m.path].evidence):
            best[m.path] = found_as(m, e, "words", tuple(w for w in asked if w in words))
    return list(best.values())


ACROSS_FILES = 20  # files whose passages start with a phrase's end, looked through for its start before them
ACROSS_PASSAGES = 200  # passages holding a phrase's end read for that (more: too common to be told so)


def across_passages(store, words: Sequence[str], filters=None) -> set[str]:
    """The files (within ``filters``) whose speech holds ``words`` (a phrase, numbers joined) across two passages
    one after the other: Whisper breaks long speech mid-sentence ("... the next year / was called the year without
    a summer"), and a stranger's quote of such a sentence was "held by no file". For each place the phrase may be
    broken, the passages that start with its end (the word index), then the passage before each in its file, which
    must end with its start; an end held by ACROSS_PASSAGES passages or more, or that starts passages in more than
    ACROSS_FILES files, is too common to be told this way (a look-up a place, for the phrases of a query only)."""
    found: set[str] = set()
    speech: dict[str, list] = {}  # each candidate file's speech passages in time order, read once for every break
    for k in range(1, len(words)):
        head = re.compile(phrase_pattern(words[:k]) + r"\W*$")
        tail = re.compile(phrase_pattern(words[k:]).replace("(?i)", r"(?i)^\W*", 1))
        holding = store.phrase_matches(words[k:], limit=ACROSS_PASSAGES)
        starting = [m for m in holding if tail.search(m.document or "")]
        if len(holding) >= ACROSS_PASSAGES or len({m.path for m in starting}) > ACROSS_FILES:
            continue
        for path in {m.path for m in starting} - found:
            if path not in speech:
                said = (r for r in store.file_records(path, documents=True) if r.metadata.get("kind") == "speech")
                speech[path] = sorted(said, key=lambda r: r.metadata["start_s"])
            pairs = zip(speech[path], speech[path][1:])
            ends = [b for a, b in pairs if head.search(a.document or "") and tail.search(b.document or "")]
            if ends and accepts(filters, ends[0].metadata):
                found.add(path)
    return found
