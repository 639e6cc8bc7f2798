"""Visitors of a public page: a private folder each, their limits, and who signed in as admin.

A visitor is a browser session (Gradio's ``session_hash``; an API client has one too). Their uploads go to a
folder with a random name under ``DATA_DIR/visitors/``; searches see the shared library and that folder only.
The folder and its index entries go when the session ends (the page is closed) or after ``Limits.session_hours``
without a request. Everything here is in memory: a restart ends every session (and the next start removes
what was left behind).
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


@dataclass
class Visitor:
    area: Path
    seen: float
    files: int = 0
    bytes: int = 0
    admin: bool = False
    searches: deque = field(default_factory=deque)  # times of the searches in the last minute
    failed_logins: deque = field(default_factory=deque)


class Visitors:
    """Args:
    root: the folder holding every visitor's area (``DATA_DIR/visitors``).
    limits: each visitor's limits.
    clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, root: Path, limits: Limits, clock=time.monotonic):
        self.root, self.limits, self.clock = Path(root), limits, clock
        self._visitors: dict[str, Visitor] = {}
        self._lock = threading.Lock()

    def get(self, session: str) -> Visitor:
        """The visitor of a session (created on first sight), marked as seen now."""
        with self._lock:
            visitor = self._visitors.get(session)
            if visitor is None:
                visitor = self._visitors[session] = Visitor(self.root / secrets.token_hex(8), self.clock())
            visitor.seen = self.clock()
            return visitor

    def known(self, session: str) -> Visitor | None:
        return self._visitors.get(session)

    def areas(self) -> list[Path]:
        return [v.area for v in self._visitors.values()]

    def check_search(self, session: str) -> None:
        """Counts a search; refuses one over the per-minute limit."""
        visitor, now = self.get(session), self.clock()
        while visitor.searches and now - visitor.searches[0] > 60:
            visitor.searches.popleft()
        if len(visitor.searches) >= self.limits.searches_per_minute:
            raise InputError(f"More than {self.limits.searches_per_minute} searches in a minute; wait a little and "
                             "search again")  # fmt: skip
        visitor.searches.append(now)

    def check_upload(self, session: str, files: int, size: int) -> None:
        """Refuses an upload that would take a visitor over their files or bytes."""
        visitor, limits = self.get(session), self.limits
        if visitor.files + files > limits.upload_files:
            raise InputError(f"A visitor may add {limits.upload_files} files in all; you have added {visitor.files}")
        if visitor.bytes + size > limits.upload_mb * 1e6:
            raise InputError(f"A visitor may add {limits.upload_mb:g} MB in all; you have added "
                             f"{visitor.bytes / 1e6:.1f} MB")  # fmt: skip

    def added(self, session: str, files: int, size: int) -> None:
        visitor = self.get(session)
        visitor.files += files
        visitor.bytes += size

    def sign_in(self, session: str, user: str, password: str, admin: tuple[str, str] | None) -> bool:
        """Checks an admin login; five wrong tries in a minute lock the session out for that minute."""
        visitor, now = self.get(session), self.clock()
        while visitor.failed_logins and now - visitor.failed_logins[0] > 60:
            visitor.failed_logins.popleft()
        if len(visitor.failed_logins) >= 5:
            raise InputError("Too many wrong logins; wait a minute")
        ok = admin is not None and secrets.compare_digest(f"{user}\0{password}", f"{admin[0]}\0{admin[1]}")
        if not ok:
            visitor.failed_logins.append(now)
        visitor.admin = visitor.admin or ok
        return ok

    def is_admin(self, session: str) -> bool:
        visitor = self._visitors.get(session)
        return visitor is not None and visitor.admin

    def end(self, session: str) -> Path | None:
        """Forgets a session; returns its area for the caller to remove from the index and disk."""
        with self._lock:
            visitor = self._visitors.pop(session, None)
        return visitor.area if visitor else None

    def expired(self) -> list[str]:
        """The sessions idle for longer than the limit."""
        cutoff = self.clock() - self.limits.session_hours * 3600
        return [s for s, v in list(self._visitors.items()) if v.seen < cutoff]

    def leftovers(self) -> list[Path]:
        """Areas on disk that belong to no current session (left by an earlier run)."""
        live = set(self.areas())
        return [p for p in self.root.iterdir() if p.is_dir() and p not in live] if self.root.exists() else []


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
