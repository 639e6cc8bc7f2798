"""Files the page makes for a visitor to download (results as CSV, JSON or clips; the duplicates list), each in a
new folder under ``DATA_DIR/exports``.

Writing one costs disk and CPU, so in the public mode an export counts as a search against the visitor's, their
address's and everyone's rate (:meth:`.visitors.Visitors.check_search`), a session keeps only its newest export
(the one before is deleted when the next is made), a session's export goes when the session ends, and any export
older than :data:`EXPORT_HOURS` is swept with the idle visitors. On this machine alone exports stay until deleted.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

EXPORT_HOURS = 1.0  # an export older than this is deleted by the sweep (public mode)


class Exports:
    """Args:
    root: the folder of every export (``DATA_DIR/exports``).
    public: whether the limits above hold.
    check: counts a visitor's export against their rate, ``check(session, address)``; raises when over it.
    """

    def __init__(self, root: Path, public: bool, check: Callable[[str, str], None]):
        self.root, self.public, self.check = Path(root), public, check
        self._newest: dict[str, Path] = {}  # session -> its export folder
        self._lock = threading.Lock()

    def folder(self, prefix: str, session: str = "", address: str = "") -> Path:
        """A new folder for a session's export; in the public mode counted, and the session's earlier one deleted."""
        if self.public:
            self.check(session, address)
        self.root.mkdir(parents=True, exist_ok=True)
        made = Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))
        if self.public:
            with self._lock:
                old = self._newest.get(session)
                self._newest[session] = made
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        return made

    def end(self, session: str) -> None:
        """The session ended: its export is deleted."""
        with self._lock:
            old = self._newest.pop(session, None)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def sweep(self, now: float | None = None) -> None:
        """Deletes the exports older than :data:`EXPORT_HOURS` (public mode)."""
        if not self.public or not self.root.is_dir():
            return
        cutoff = (time.time() if now is None else now) - EXPORT_HOURS * 3600
        for folder in self.root.iterdir():
            try:
                old = folder.stat().st_mtime < cutoff
            except OSError:
                continue
            if old:
                shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink(missing_ok=True)
        with self._lock:
            for session in [s for s, p in self._newest.items() if not p.exists()]:
                del self._newest[session]
