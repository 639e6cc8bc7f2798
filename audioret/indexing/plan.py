"""The indexing plan: which files each channel must (re)index, and which stored files are gone from disk.

One plan serves every channel. Each file under the roots is stat'ed once; each channel compares that with what
its store holds (:meth:`Channel.current`: same size, modification time and settings means nothing to do). A
file some channel must redo becomes one :class:`Job`; the pipeline then reads and hashes it once, and decodes
it once, for all the channels that need it. Nothing here loads a model, so an unchanged library never does.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .. import audio
from ..errors import PathNotFound
from ..store.filters import is_under
from ..store.records import FileRecord
from ..types import IndexReport

logger = logging.getLogger("audioret")


@dataclass(eq=False)
class Job:
    """One file that at least one channel must (re)index."""

    path: str
    stat: os.stat_result
    stored: dict[str, FileRecord | None]  # channel -> its complete record of this path (None: not indexed)
    stale: set[str]  # channels holding records of this path (old or partial) that go before the new ones
    digest: str | None = None  # content hash, set by the decoder
    pending: set[str] = field(default_factory=set)  # channels whose records are not written yet
    fresh: set[str] = field(default_factory=set)  # channels that embedded new content (not a reuse)
    failed: bool = False

    def __post_init__(self):
        self.pending = set(self.stored)


@dataclass
class Plan:
    roots: list[str]
    jobs: list[Job]
    prune: dict[str, list[str]]  # channel -> stored paths under the roots that no longer exist


def scan(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Absolute paths of the audio files under ``paths`` (files are taken as given), sorted, without duplicates.

    Raises PathNotFound for a path that does not exist. Hidden files and folders are left out.
    """
    found = set()
    for p in paths:
        p = os.path.abspath(os.fspath(p))
        if os.path.isfile(p):
            found.add(p)
        elif os.path.isdir(p):
            for root, dirs, files in os.walk(p, onerror=_log_walk_error):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.update(os.path.join(root, f) for f in files if audio.is_audio_path(f) and not f.startswith("."))
        else:
            raise PathNotFound(p)
    return sorted(found)


def stat_files(paths: Iterable[str], report: IndexReport) -> Iterator[tuple[str, os.stat_result]]:
    """``(path, stat)`` of each file; a file that cannot be stat'ed is reported as failed and left out."""
    for path in paths:
        try:
            yield path, os.stat(path)
        except OSError as e:
            report.fail(path, e.strerror or str(e))


def file_hash(path: str, chunk: int = 1 << 20) -> str:
    """BLAKE2b of the file's bytes (hex, 32 chars)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def make_plan(paths: Sequence[str | os.PathLike], channels: Sequence, report: IndexReport, prune: bool = True) -> Plan:
    """The jobs for ``channels`` (objects with ``name``, ``store`` and ``current()``) over the files under ``paths``.

    A file no channel needs to touch counts as unchanged in ``report``.
    """
    roots = [os.path.abspath(os.fspath(p)) for p in paths]
    files = scan(roots)
    report.found += len(files)
    stored = {c.name: c.store.files() for c in channels}
    jobs = []
    for path, st in stat_files(files, report):
        records, stale = {}, set()
        for c in channels:
            complete, incomplete = stored[c.name]
            record = complete.get(path)
            if record is not None and c.current(record, st, path):
                continue
            records[c.name] = record
            if record is not None or path in incomplete:
                stale.add(c.name)
        if records:
            jobs.append(Job(path, st, records, stale))
        else:
            report.unchanged += 1
    gone: dict[str, list[str]] = {}
    if prune:
        on_disk = set(files)
        for c in channels:
            complete, incomplete = stored[c.name]
            gone[c.name] = sorted(
                p for p in (set(complete) | incomplete) - on_disk if is_under(p, roots) and not os.path.exists(p)
            )
    return Plan(roots, jobs, gone)


def _log_walk_error(error: OSError):
    logger.warning("Cannot read folder %s: %s", error.filename, error.strerror)
