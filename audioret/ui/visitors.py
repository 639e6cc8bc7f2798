"""Visitors of a public page: a private folder each, their limits, and who signed in as admin.

A visitor is a browser session (Gradio's ``session_hash``; an API client has one too). Their uploads go to a
folder with a random name under ``DATA_DIR/visitors/``; searches see the shared library and that folder only.
The folder and its index entries go when the session ends (the page is closed) or after ``Limits.session_hours``
without a request. Everything here is in memory: a restart ends every session (and the next start removes
what was left behind).

A client chooses its session id, so every limit is also kept per client address and for all visitors together
(:mod:`.access`): a new session id on each request starts a new visitor, never a new allowance. What a visitor
has added counts against the address it came from and the whole page for as long as it is kept (until the session
ends), whatever address the visitor's later requests come from.

The admin login is throttled per account, whoever tries: after ``Limits.login_free_tries`` wrong tries in 15
minutes the account takes its next try only ``login_wait_s`` after the last wrong one, doubled with each further
wrong try (up to :data:`LOGIN_MAX_WAIT_S`), and a try before then is refused at once with the time left; a session
or an address with five wrong tries in a minute is refused outright. Nothing waits inside a handler: a burst of
tries would otherwise hold the page's workers and fill its queue for everyone (docs/RELIABILITY.md).
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .access import Limits

MINUTE = 60.0
LOGIN_WINDOW_S = 15 * 60.0  # wrong logins on the account are counted over this long
LOGIN_TRIES_PER_MINUTE = 5  # wrong logins a session, or an address, may make in a minute
LOGIN_MAX_WAIT_S = 10.0  # the longest a login try waits: at most one guess in this long, from everywhere


@dataclass
class Visitor:
    area: Path
    seen: float
    address: str = ""  # the address of the latest request
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0  # of audio
    # files, bytes and seconds of audio added from each address: they count against the address that sent them,
    # wherever the visitor's later requests come from (a home has an IPv4 and an IPv6 address to move between)
    sent: dict[str, list[float]] = field(default_factory=dict)
    admin: bool = False
    searches: deque = field(default_factory=deque)  # times of the searches in the last minute
    failed_logins: deque = field(default_factory=deque)
    recordings: list = field(default_factory=list)  # query recordings this visitor sent (removed when they leave)


def _recent(times: deque, now: float, window_s: float) -> deque:
    while times and now - times[0] > window_s:
        times.popleft()
    return times


def login_wait_s(failures: int, limits: Limits) -> float:
    """Seconds the admin account waits, after its latest wrong try, before it takes the next one.

    Args:
        failures: wrong tries on the account in the last ``LOGIN_WINDOW_S``, the latest included.
        limits: ``login_free_tries`` (no wait below it) and ``login_wait_s`` (the first wait, doubled per try).
    """
    extra = failures - limits.login_free_tries
    return 0.0 if extra < 0 else min(limits.login_wait_s * 2**extra, LOGIN_MAX_WAIT_S)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min"


class Visitors:
    """Args:
    root: the folder holding every visitor's area (``DATA_DIR/visitors``).
    limits: the limits of each visitor, each address and everyone.
    clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, root: Path, limits: Limits, clock=time.monotonic):
        self.root, self.limits, self.clock = Path(root), limits, clock
        self._visitors: dict[str, Visitor] = {}
        self._lock = threading.Lock()
        self._searches: dict[str, deque] = {}  # address -> times of its searches in the last minute
        self._all_searches: deque = deque()
        self._loads: dict[str, deque] = {}  # address -> times of its page loads in the last minute
        self._address_logins: dict[str, deque] = {}  # address -> times of its wrong logins in the last minute
        self._account_failures: deque = deque()  # times of the admin account's wrong logins
        self._account_opens = 0.0  # when the account takes its next try (clock seconds)
        self._address_locks: dict[str, threading.Lock] = {}

    def get(self, session: str, address: str | None = None) -> Visitor:
        """The visitor of a session (created on first sight), marked as seen now (from ``address``, when given)."""
        with self._lock:
            visitor = self._visitors.get(session)
            if visitor is None:
                visitor = self._visitors[session] = Visitor(self.root / secrets.token_hex(8), self.clock())
            visitor.seen = self.clock()
            if address is not None:
                visitor.address = address
            return visitor

    def known(self, session: str) -> Visitor | None:
        return self._visitors.get(session)

    def areas(self) -> list[Path]:
        return [v.area for v in list(self._visitors.values())]

    def check_search(self, session: str, address: str = "") -> None:
        """Counts a search; refuses one over the per-minute limit of the visitor, their address or everyone."""
        limits = self.limits
        visitor, now = self.get(session, address), self.clock()
        with self._lock:
            by_address = self._searches.setdefault(address, deque())
            for times, limit, who in (
                (visitor.searches, limits.searches_per_minute, "searches in a minute"),
                (by_address, limits.address_searches_per_minute, "searches in a minute from your address"),
                (
                    self._all_searches,
                    limits.all_searches_per_minute,
                    "searches in a minute on this page, from everyone",
                ),
            ):
                if len(_recent(times, now, MINUTE)) >= limit:
                    raise InputError(f"More than {limit} {who}; wait a little and search again")
            for times in (visitor.searches, by_address, self._all_searches):
                times.append(now)

    def check_load(self, address: str) -> None:
        """Counts a page load from ``address``; refuses one over ``address_loads_per_minute`` (before any visitor is
        made for its session: a client may make up a session id per load)."""
        limit, now = self.limits.address_loads_per_minute, self.clock()
        with self._lock:
            times = _recent(self._loads.setdefault(address, deque()), now, MINUTE)
            if len(times) >= limit:
                raise InputError(f"Too many page loads from your address (over {limit} in a minute); wait a minute")
            times.append(now)

    def _rows(self, session: str, address: str) -> list[tuple[str, str, tuple[float, ...], tuple[float, ...]]]:
        """What the visitor, their address and everyone have added, and may: ``(who, verb, (files, bytes, seconds),
        (max files, max bytes, max seconds))``."""
        limits, visitor = self.limits, self.get(session, address)
        live = list(self._visitors.values())
        sent = [v.sent[address] for v in live if address in v.sent]
        return [
            (
                "A visitor",
                "you have",
                (visitor.files, visitor.bytes, visitor.seconds),
                (limits.upload_files, limits.upload_mb * 1e6, limits.upload_minutes * 60),
            ),
            (
                "Visitors from one address",
                "yours have",
                tuple(sum(s[i] for s in sent) for i in range(3)),
                (limits.address_files, limits.address_mb * 1e6, limits.address_minutes * 60),
            ),
            (
                "All visitors together",
                "they have",
                tuple(sum(getattr(v, k) for v in live) for k in ("files", "bytes", "seconds")),
                (limits.all_files, limits.all_mb * 1e6, limits.all_minutes * 60),
            ),
        ]

    def allowance(self, session: str, address: str = "") -> tuple[int, int]:
        """``(files, bytes)`` a visitor may still add: the least of what they, their address and everyone have left."""
        rows = self._rows(session, address)
        return (
            max(0, int(min(most[0] - used[0] for _, _, used, most in rows))),
            max(0, int(min(most[1] - used[1] for _, _, used, most in rows))),
        )

    def seconds_left(self, session: str, address: str = "") -> float:
        """Seconds of audio a visitor may still add: the least of what they, their address and everyone have left."""
        return max(0.0, min(most[2] - used[2] for _, _, used, most in self._rows(session, address)))

    def check_upload(self, session: str, files: int, size: int, address: str = "", seconds: float = 0.0) -> None:
        """Refuses an upload that would take a visitor, their address or everyone over the files, the bytes or the
        minutes of audio, with the figures."""
        for who, verb, (used, used_bytes, used_s), (max_files, max_bytes, max_s) in self._rows(session, address):
            holds = f"; this upload holds {files:,}" if files else ""
            if used + files > max_files:
                raise InputError(f"{who} may add {max_files} files in all; {verb} added {used:,.0f}{holds}")
            if used_bytes + size > max_bytes:
                raise InputError(
                    f"{who} may add {max_bytes / 1e6:g} MB in all; {verb} added {_mb(used_bytes)}"
                    + (f"; this upload holds {_mb(size)}" if size else "")
                )
            if used_s + seconds > max_s:
                raise InputError(
                    f"{who} may add {max_s / 60:g} minutes of audio in all; {verb} added {_minutes(used_s)}"
                    + (f"; this upload holds {_minutes(seconds)} or more" if seconds else "")
                )

    def added(self, session: str, files: int, size: int, address: str | None = None, seconds: float = 0.0) -> None:
        """Counts what a visitor added (negative: deleted) against them and the address that sent it."""
        visitor = self.get(session, address)
        with self._lock:
            visitor.files += files
            visitor.bytes += size
            visitor.seconds += seconds
            sent = visitor.sent.setdefault(visitor.address if address is None else address, [0, 0, 0.0])
            sent[0] += files
            sent[1] += size
            sent[2] += seconds

    def reserving(self, address: str) -> threading.Lock:
        """A lock per address, held while an upload is measured, extracted and counted: two at once from one
        address cannot both spend the same allowance."""
        with self._lock:
            return self._address_locks.setdefault(address, threading.Lock())

    def sign_in(self, session: str, user: str, password: str, admin: tuple[str, str] | None, address: str = "") -> bool:
        """Checks an admin login.

        Five wrong tries in a minute from a session or an address refuse that session or address for the minute.
        After ``login_free_tries`` wrong tries on the account in 15 minutes, from anywhere, the account takes its
        next try only some seconds after the last wrong one; a try before then raises InputError with the time left.
        """
        visitor, now = self.get(session, address), self.clock()
        with self._lock:
            by_address = _recent(self._address_logins.setdefault(address, deque()), now, MINUTE)
            if len(_recent(visitor.failed_logins, now, MINUTE)) >= LOGIN_TRIES_PER_MINUTE or (
                len(by_address) >= LOGIN_TRIES_PER_MINUTE
            ):
                raise InputError("Too many wrong logins; wait a minute")
            failures = len(_recent(self._account_failures, now, LOGIN_WINDOW_S))
            if now < self._account_opens:
                raise InputError(
                    f"Too many wrong logins on this account ({failures} in the last 15 minutes): the next try is "
                    f"taken in {self._account_opens - now:.0f} s"
                )
            ok = admin is not None and secrets.compare_digest(f"{user}\0{password}", f"{admin[0]}\0{admin[1]}")
            if not ok:
                visitor.failed_logins.append(now)
                by_address.append(now)
                self._account_failures.append(now)
                self._account_opens = now + login_wait_s(failures + 1, self.limits)
        visitor.admin = visitor.admin or ok
        return ok

    def is_admin(self, session: str) -> bool:
        visitor = self._visitors.get(session)
        return visitor is not None and visitor.admin

    def end(self, session: str) -> Visitor | None:
        """Forgets a session; returns its visitor for the caller to remove their area from the index and disk."""
        with self._lock:
            return self._visitors.pop(session, None)

    def expired(self) -> list[str]:
        """The sessions idle for longer than the limit."""
        cutoff = self.clock() - self.limits.session_hours * 3600
        return [s for s, v in list(self._visitors.items()) if v.seen < cutoff]

    def forget_idle_addresses(self) -> None:
        """Drops the per-address counters that have been quiet for a minute (so they do not pile up)."""
        now = self.clock()
        with self._lock:
            for table in (self._searches, self._address_logins, self._loads):
                for address in [a for a, times in table.items() if not _recent(times, now, MINUTE)]:
                    del table[address]
            live = {a for v in self._visitors.values() for a in (v.address, *v.sent)}
            for address in [a for a, lock in self._address_locks.items() if a not in live and not lock.locked()]:
                del self._address_locks[address]

    def leftovers(self) -> list[Path]:
        """Areas on disk that belong to no current session (left by an earlier run)."""
        live = set(self.areas())
        return [p for p in self.root.iterdir() if p.is_dir() and p not in live] if self.root.exists() else []


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
