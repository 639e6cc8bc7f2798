"""The fingerprints of files, kept beside the index in SQLite while each file is unchanged, and taken from a file
when they are not (:func:`fingerprinted`), block by block (:class:`Printer`), so a long file costs no more memory
than a short one."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..audio import Resampler, open_audio, with_last
from .fingerprints import ITEM_S, MAX_FINGERPRINT_S, Stream, fingerprint
from .rule import QUIET_UNDER_S, WAVE_UNDER_S, Fingerprinted, spectrum_of, wants_profile, wave_of
from .spectrum import FINGERPRINT_RATE, PROFILE_BANDS, PROFILE_VERSION

# A kept fingerprint that covers this much less of its file than is fingerprinted now was taken when only a file's
# first two minutes were (Chromaprint's words cover a file but its first 2.6 s): it is taken again when first needed.
CUT_SHORT_S = 5.0


class FingerprintCache:
    """Fingerprints of files by path, valid while the file's size and mtime are unchanged (SQLite, one file)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        # a write-ahead log, synced at its checkpoints only: an index run writes a fingerprint per file, and a
        # commit that waits for the disk each time cost 20 ms of it (a cache: the last few lost to a power cut
        # are taken again)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS prints (path TEXT PRIMARY KEY, size INTEGER, mtime_ns "
                "INTEGER, format TEXT, sample_rate INTEGER, channels INTEGER, duration_s REAL, "
                "words BLOB, profile BLOB)"
            )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(prints)")}
            if "profile" not in columns:  # a cache from before short files were compared
                self._db.execute("ALTER TABLE prints ADD COLUMN profile BLOB")
            if "profile_version" not in columns:  # ...or before their spectra were taken at four phases
                self._db.execute("ALTER TABLE prints ADD COLUMN profile_version INTEGER")
            if "wave" not in columns:  # ...or before the shortest sounds were compared by their waveform
                self._db.execute("ALTER TABLE prints ADD COLUMN wave BLOB")

    def get(self, path: str, st: os.stat_result) -> Fingerprinted | None:
        with self._lock:
            row = self._db.execute(
                "SELECT size, mtime_ns, format, sample_rate, channels, duration_s, words, profile, profile_version, "
                "wave FROM prints WHERE path = ?",
                (path,),
            ).fetchone()
        if row is None or (row[0], row[1]) != (st.st_size, st.st_mtime_ns):
            return None
        words = np.frombuffer(row[6], np.uint32)
        if len(words) * ITEM_S < min(row[5], MAX_FINGERPRINT_S) - CUT_SHORT_S:
            return None  # fingerprinted when only a file's first two minutes were
        if wants_profile(row[5], words) and (row[7] is None or row[8] != PROFILE_VERSION):
            return None  # fingerprinted before such files had this profile
        if row[5] < WAVE_UNDER_S and row[9] is None:
            return None  # ...or their waveform
        kept = None if row[7] is None else np.frombuffer(row[7], np.uint8).reshape(-1, PROFILE_BANDS)
        wave = None if row[9] is None else np.frombuffer(row[9], np.int16)
        return Fingerprinted(path, words, row[2], row[3], row[4], row[5], row[0], kept, wave)

    def put(self, fp: Fingerprinted, st: os.stat_result) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO prints (path, size, mtime_ns, format, sample_rate, channels, duration_s, "
                "words, profile, profile_version, wave) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fp.path,
                    st.st_size,
                    st.st_mtime_ns,
                    fp.format,
                    fp.sample_rate,
                    fp.channels,
                    fp.duration_s,
                    fp.words.astype(np.uint32).tobytes(),
                    None if fp.profile is None else fp.profile.astype(np.uint8).tobytes(),
                    PROFILE_VERSION,
                    None if fp.wave is None else fp.wave.astype(np.int16).tobytes(),
                ),
            )

    def forget(self, paths: Iterable[str]) -> None:
        """Drops the fingerprints of ``paths`` (files removed from the library)."""
        with self._lock, self._db:
            self._db.executemany("DELETE FROM prints WHERE path = ?", [(p,) for p in paths])

    def forget_except(self, paths: Iterable[str]) -> None:
        """Drops the fingerprints of files no longer in the library."""
        keep = set(paths)
        with self._lock:
            stored = [r[0] for r in self._db.execute("SELECT path FROM prints")]
        with self._lock, self._db:
            self._db.executemany("DELETE FROM prints WHERE path = ?", [(p,) for p in stored if p not in keep])


def fingerprint_file(path: str) -> Fingerprinted:
    """Decodes a file block by block and fingerprints it (:class:`Printer`); raises AudioDecodeError."""
    info, blocks = open_audio(path)
    printer = Printer(info.sample_rate, path)
    try:
        for block, last in with_last(blocks):
            printer.push(block, last)
    finally:
        blocks.close()
    return printer.result(path, info.format, info.channels, os.path.getsize(path))


class Printer:
    """One file's fingerprint from its mono float32 blocks at its own ``sample_rate``, pushed in order (by an index
    run's decode thread, or by :func:`fingerprint_file`): resampled to FINGERPRINT_RATE as they come, the first
    MAX_FINGERPRINT_S fed to Chromaprint (which reads a stream), the first QUIET_UNDER_S kept for a spectrum
    (:func:`wants_profile`) or a waveform. Raises ModelLoadError where Chromaprint is missing."""

    def __init__(self, sample_rate: int, path: str = ""):
        self.sample_rate = sample_rate
        self.resampler = Resampler(sample_rate, FINGERPRINT_RATE, path)
        self.stream: Stream | None = None
        self.head: list[np.ndarray] = []  # the samples, while the file may still be short enough for a spectrum
        self.kept = self.read = 0  # samples at FINGERPRINT_RATE fingerprinted; at the file's rate read

    def push(self, block: np.ndarray, last: bool) -> None:
        self.read += len(block)
        if self.kept < MAX_FINGERPRINT_S * FINGERPRINT_RATE:
            out = self.resampler.push(block, last)
            if self.stream is None:
                self.stream = Stream()
            self.stream.feed(out)
            if self.kept < QUIET_UNDER_S * FINGERPRINT_RATE:
                self.head.append(out)
            self.kept += len(out)

    def result(self, path: str, format: str, channels: int, size: int) -> Fingerprinted:
        """The fingerprint of what was pushed (its duration: all of it, as read)."""
        whole = self.kept < MAX_FINGERPRINT_S * FINGERPRINT_RATE  # all resampled: its length at that rate
        duration_s = self.kept / FINGERPRINT_RATE if whole else self.read / self.sample_rate
        words = self.stream.words() if self.stream is not None else np.zeros(0, np.uint32)
        head = np.concatenate(self.head) if self.head else np.zeros(0, np.float32)
        self.head = []
        kept = spectrum_of(head, words) if wants_profile(duration_s, words) else None
        wave = wave_of(head) if whole else None
        return Fingerprinted(path, words, format, self.sample_rate, channels, duration_s, size, kept, wave)


def of_samples(samples: np.ndarray, sample_rate: int, name: str = "<array>") -> Fingerprinted:
    """The fingerprint of mono float32 audio at ``sample_rate`` (an example given as samples)."""
    import soxr

    x = np.asarray(samples, np.float32)
    if sample_rate != FINGERPRINT_RATE:
        x = soxr.resample(x, sample_rate, FINGERPRINT_RATE).astype(np.float32)
    words = fingerprint(x)
    duration_s = len(x) / FINGERPRINT_RATE
    return Fingerprinted(name, words, "", sample_rate, 1, duration_s, 0, spectrum_of(x, words), wave_of(x))


def fingerprinted(path: str, cache: FingerprintCache | None = None) -> Fingerprinted | None:
    """A file's fingerprint, from ``cache`` while the file is unchanged (else computed and kept there); None when
    the file cannot be read."""
    from ..errors import AudioDecodeError

    try:
        st = os.stat(path)
        found = cache.get(path, st) if cache is not None else None
        if found is None:
            found = fingerprint_file(path)
            if cache is not None:
                cache.put(found, st)
        return found
    except (OSError, AudioDecodeError):
        return None
