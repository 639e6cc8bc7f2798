"""A word index of the text channel's passages: SQLite FTS5 in a file beside the embedded Chroma store.

The lexical leg looks up the query's words. Chroma answers a ``$regex`` or ``$contains`` on documents by reading
every passage, which grows with the library, and a common word fills the scan's limit before a rare one is
reached. An inverted index answers each word from its own posting list, far faster and with the same passages
found (bench/words.py; docs/BENCHMARKS.md, "The word index").

What the index returns is a superset of what the channel accepts: FTS5's ``unicode61`` tokens (case and diacritics
folded, ``_`` and ``'`` split words) find every passage where the channel's own whole-word regular expression
matches, and the channel checks each passage's text with that expression, so results are the same as a scan's.
A word written with a hyphen inside is two tokens to FTS5, so the index also holds each such pair of a passage
joined (:func:`compounds`: "Wi-Fi" as "wifi"), and a word typed whole is matched written so (:func:`joined`):
Whisper writes "Wi-Fi", "e-mail" and "double-d" where a person types "wifi", "email" and "doubled". That costs
the index's rebuild a fifth more and a word's look-up 0.06 ms (docs/BENCHMARKS.md, "A word typed whole").

The index follows the store; Chroma stays the truth. The writer (the process holding the store's writer lock)
marks the index unsynced, writes the store, then writes the index and marks it synced in one transaction; a crash
in between leaves it unsynced, and the next writer rebuilds it from Chroma, as it does when the index is missing
or its row count differs from the store's. Readers use the index only while it is synced and scan otherwise (an
index being written, an index from before this one existed), so a search is never wrong, at worst slower.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from .numbers import spellings

VERSION = 2  # of the tables and the tokenizer; an index of another version is rebuilt (1: no joined words)
# The passages in a plain table (ids and paths indexed, for replacing and deleting); FTS5 indexes its text and
# follows it through triggers (an external-content table, as the SQLite FTS5 documentation sets out).
SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER);
CREATE TABLE IF NOT EXISTS docs (n INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, path TEXT NOT NULL,
                                 meta TEXT NOT NULL, text TEXT NOT NULL, joined TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS docs_path ON docs (path);
CREATE VIRTUAL TABLE IF NOT EXISTS passages USING fts5(text, joined, content = 'docs', content_rowid = 'n',
                                                      tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS docs_added AFTER INSERT ON docs BEGIN
    INSERT INTO passages (rowid, text, joined) VALUES (new.n, new.text, new.joined);
END;
CREATE TRIGGER IF NOT EXISTS docs_removed AFTER DELETE ON docs BEGIN
    INSERT INTO passages (passages, rowid, text, joined) VALUES ('delete', old.n, old.text, old.joined);
END;
"""
MAX_SPELLINGS = 16
MAX_JOINED = 24  # letters of a word looked for with a hyphen inside too (:func:`joined`)
HYPHENS = "-\u2010"  # a hyphen, and Unicode's own
_HYPHENED = re.compile(rf"[^\W\d_]+(?:[{HYPHENS}][^\W\d_]+)+")
DROP = "DROP TABLE IF EXISTS passages; DROP TABLE IF EXISTS docs; DELETE FROM state;"


def available() -> bool:
    """Whether this Python's SQLite has FTS5 (most builds do; without it the channel scans, as before)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        try:
            sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
            _AVAILABLE = True
        except sqlite3.Error:
            _AVAILABLE = False
    return _AVAILABLE


_AVAILABLE: bool | None = None


def fts_phrase(words: Sequence[str]) -> str | None:
    """An FTS5 query for ``words`` in this order (one word is a phrase of one), in each of their spellings
    (:func:`spellings`), or None when a word holds no letter or digit for the tokenizer to index, or the spellings
    make more than MAX_SPELLINGS phrases (the caller then scans)."""
    if not words or any(not re.search(r"[^\W_]", w) for w in words):
        return None
    variants = list(itertools.product(*(spellings(w) for w in words)))
    if len(variants) > MAX_SPELLINGS:
        return None
    return " OR ".join('"' + " ".join(w.replace('"', '""') for w in v) + '"' for v in variants)


class WordIndex:
    """Passages (id, path, metadata, text) by their words, in ``path`` (an SQLite file)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()  # one connection, shared by the threads of a server
        self._db: sqlite3.Connection | None = None
        self._schema = False

    def _connect(self, write: bool = True) -> sqlite3.Connection:
        """The connection; a writer's first also makes the tables (a reader never writes, so never waits for a
        writer's lock: it reads the last committed state)."""
        if self._db is None:
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        if write and not self._schema:
            self._db.execute("PRAGMA journal_mode=WAL")  # readers in other processes while the writer writes
            self._db.executescript(SCHEMA)
            self._schema = True
        return self._db

    def exists(self) -> bool:
        return self._db is not None or self.path.exists()

    # -- state ---------------------------------------------------------------------------------------------------

    def synced(self) -> bool:
        """Whether the index holds exactly the store's passages (no write in flight or crashed, current layout);
        False as well when it cannot be read."""
        if not self.exists():
            return False
        try:
            with self._lock:
                rows = dict(self._connect(write=False).execute("SELECT key, value FROM state").fetchall())
        except sqlite3.Error:
            return False
        return rows.get("version") == VERSION and rows.get("synced") == 1

    def _mark(self, db: sqlite3.Connection, synced: bool) -> None:
        db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", [("version", VERSION), ("synced", int(synced))])

    def unsynced(self) -> None:
        """Marks the index as not matching the store: before the store is written."""
        with self._lock, self._connect() as db:
            self._mark(db, False)

    def count(self) -> int:
        with self._lock:
            return self._connect().execute("SELECT count(*) FROM docs").fetchone()[0]

    # -- writing (the store's writer only, after writing the store; each marks the index synced again) ---------

    def put(self, ids: Sequence[str], metadatas: Sequence[dict], documents: Sequence[str]) -> None:
        """Adds or replaces passages."""
        with self._lock, self._connect() as db:
            db.executemany("DELETE FROM docs WHERE id = ?", [(i,) for i in ids])
            db.executemany(
                "INSERT INTO docs (id, path, meta, text, joined) VALUES (?, ?, ?, ?, ?)",
                _rows(ids, metadatas, documents),
            )
            self._mark(db, True)

    def update(self, ids: Sequence[str], metadatas: Sequence[dict]) -> None:
        with self._lock, self._connect() as db:
            db.executemany(
                "UPDATE docs SET meta = ?, path = ? WHERE id = ?",
                [(json.dumps(m), m.get("path", ""), i) for i, m in zip(ids, metadatas)],
            )
            self._mark(db, True)

    def delete_path(self, path: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM docs WHERE path = ?", (path,))
            self._mark(db, True)

    def rebuild(self, pages: Iterable[tuple[Sequence[str], Sequence[dict], Sequence[str]]]) -> int:
        """Replaces the whole index by the store's records, in pages of ids, metadatas and documents."""
        n = 0
        with self._lock, self._connect() as db:
            db.executescript(DROP + SCHEMA)  # faster than deleting row by row, and drops another version's layout
            for ids, metadatas, documents in pages:
                db.executemany(
                    "INSERT INTO docs (id, path, meta, text, joined) VALUES (?, ?, ?, ?, ?)",
                    _rows(ids, metadatas, documents),
                )
                n += len(ids)
            self._mark(db, True)
        return n

    # -- reading -------------------------------------------------------------------------------------------------

    def matching(self, query: str, limit: int | None) -> list[tuple[str, dict, str]]:
        """``(id, metadata, text)`` of the passages matching an FTS5 query (:func:`fts_phrase`), at most
        ``limit``."""
        sql = (
            "SELECT docs.id, docs.meta, docs.text FROM passages JOIN docs ON docs.n = passages.rowid "
            "WHERE passages MATCH ?" + (" LIMIT ?" if limit is not None else "")
        )
        with self._lock:
            rows = self._connect(write=False).execute(sql, (query,) if limit is None else (query, limit)).fetchall()
        return [(i, json.loads(m), t) for i, m, t in rows]

    def remove(self) -> None:
        """Deletes the index's files (the writer, before making it again)."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db, self._schema = None, False


def _rows(ids: Sequence[str], metadatas: Sequence[dict], documents: Sequence[str]) -> list[tuple]:
    return [
        (i, m.get("path", ""), json.dumps(m), d or "", compounds(d or "")) for i, m, d in zip(ids, metadatas, documents)
    ]


def joined(word: str) -> tuple[tuple[str, str], ...]:
    """The ways a word typed whole is written with a hyphen inside (Whisper writes "Wi-Fi" and "e-mail" where a
    person types "wifi" and "email"): its splits into two parts, for a word of letters only, up to MAX_JOINED of
    them. The index holds each such pair of a passage joined too (:func:`compounds`)."""
    if not (2 <= len(word) <= MAX_JOINED and word.isalpha()):
        return ()
    return tuple((word[:i], word[i:]) for i in range(1, len(word)))


def compounds(text: str) -> str:
    """The words of ``text`` written with a hyphen between letters, each pair joined ("Wi-Fi" is "wifi"; "state-of-
    the-art" gives "stateof", "ofthe", "theart"), lower case: what the index holds beside a passage's words, so that
    a word typed whole finds it (:func:`joined`)."""
    found = []
    for run in _HYPHENED.findall(text):
        parts = re.split(f"[{HYPHENS}]", run.lower())
        found += [a + b for a, b in zip(parts, parts[1:])]
    return " ".join(found)


def _either(word: str, checked: bool = True) -> str:
    """The alternatives of :func:`spellings` in a regular expression. Where ``checked`` (Python's ``re``, which
    checks each passage found), a digit spelling the query did not write is taken only where it stands for the
    number (:func:`_guarded`): in "2024-03-02 tree surgeons" the "03" is a month, and field recordings are named by
    date (it had made that file a "good" match for "three"). The store's own engine (Chroma's, Rust's ``regex``)
    has no look-around: its patterns find a superset, which the check narrows."""
    typed = word.lower()
    return "|".join(_guarded(w) if checked and w != typed and w.isdecimal() else re.escape(w) for w in spellings(word))


def _guarded(digits: str) -> str:
    """A digit spelling the query did not write, where it stands for the number: a leading-zero one not inside a
    run of numbers ("2024-03-02"), any not in a path or a fraction ("3.0" in a licence's
    "creativecommons.org/licenses/by/3.0/" had made a track a "good" match for "three"). A time stays ("leaves at
    6.15" answers "six fifteen": a guard on the decimal point too lost it, docs/BENCHMARKS.md)."""
    if digits.startswith("0"):
        return rf"(?<![0-9][\W_]){re.escape(digits)}(?![\W_][0-9])"
    return rf"(?<!/){re.escape(digits)}(?!(?:\.[0-9]+)*/)"


def word_pattern(word: str) -> str:
    """A regular expression (Python's, checking a passage) matching ``word`` as a whole word in any of its
    :func:`spellings`, or with a hyphen inside (:func:`joined`), any case."""
    return rf"(?i)\b(?:{_either(word)}{_hyphened(word)})\b"


def any_word_pattern(words: Sequence[str]) -> str:
    """A regular expression (the store's) matching any of ``words`` as a whole word, or with a hyphen inside, any
    case: one scan for several words."""
    return r"(?i)\b(?:" + "|".join(_either(w, checked=False) + _hyphened(w) for w in words) + r")\b"


def _hyphened(word: str) -> str:
    """The alternatives of :func:`joined` in a regular expression, each after a "|" ("" for none)."""
    return "".join(f"|{re.escape(a)}[{HYPHENS}]{re.escape(b)}" for a, b in joined(word.lower()))


def phrase_pattern(words: Sequence[str], checked: bool = True) -> str:
    """A regular expression matching ``words`` in this order, separated by spaces or punctuation, any case:
    Python's, checking a passage, or (not ``checked``) the store's."""
    return r"(?i)\b" + r"\W+".join(f"(?:{_either(w, checked)})" for w in words) + r"\b"
