"""Indexing of a shared page's uploads in turns: each waiting upload indexes a few files (:data:`TURN_FILES`, or
fewer that hold :data:`TURN_SECONDS` of audio), then the next visitor's takes its turn, so a large upload delays a
small one by one turn, not by its whole length. A visitor has one upload in the queue at a time (an address
:data:`PER_ADDRESS`); whoever waits sees how many uploads are ahead.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import IndexBusy, InputError
from ..types import IndexReport

TURN_FILES = 8  # files one upload indexes before the next visitor's takes a turn...
TURN_SECONDS = 600.0  # ...or this much audio (at least one file), whichever comes first
PER_ADDRESS = 3  # uploads one client address may have waiting or indexing at once


def merge(reports: Sequence[IndexReport], roots: list[str]) -> IndexReport:
    """One report of an upload indexed in turns."""
    out = IndexReport(roots=roots)
    for r in reports:
        out.added += r.added
        out.updated += r.updated
        out.failed += r.failed
        out.unchanged += r.unchanged
        out.found += r.found
        out.skipped_channels.update(r.skipped_channels)
        out.segments += r.segments
        out.audio_s += r.audio_s
        out.passages += r.passages
        out.elapsed_s += r.elapsed_s
    return out


def turn_size(files: Sequence[str], lengths: dict[str, float], most: int, seconds: float = TURN_SECONDS) -> int:
    """How many of ``files`` the next turn indexes: at most ``most``, and no more once they hold ``seconds`` of
    audio by ``lengths`` (a file not in it counts nothing); at least one. Pure."""
    held = 0.0
    for n, f in enumerate(files[:most], 1):
        held += lengths.get(f, 0.0)
        if held >= seconds:
            return n
    return max(1, min(most, len(files)))


class UploadQueue:
    """Indexing of uploads, in turns between the uploads waiting (see the module docstring).

    Args:
        index: indexes a list of files, with an ``on_progress`` callback (the library's, scoped by the caller).
        busy: whether the library's own indexing job of this process is running (waited for; another process's
            job fails the upload with its message).
    """

    def __init__(
        self,
        index: Callable[..., IndexReport],
        busy: Callable[[], bool],
        turn_files: int = TURN_FILES,
        per_address: int = PER_ADDRESS,
    ):
        self.index, self.busy, self.turn_files, self.per_address = index, busy, turn_files, per_address
        self._ring: deque[object] = deque()  # one ticket per waiting upload; the first indexes
        self._who: dict[object, tuple[str, str]] = {}  # ticket -> (session, address)
        self._turn = threading.Condition()

    def waiting(self) -> int:
        return len(self._ring)

    def run(
        self,
        session: str,
        address: str,
        files: list[str],
        on_progress=None,
        say: Callable[[str, float | None], None] | None = None,
        lengths: dict[str, float] | None = None,
    ) -> IndexReport:
        """Indexes ``files`` in turns; ``say(text, fraction or None)`` hears the place in the queue while waiting;
        ``lengths`` (seconds of audio, by file) end a turn early once it holds :data:`TURN_SECONDS`."""
        ticket = object()
        with self._turn:
            mine = [t for t, (s, a) in self._who.items() if s == session or a == address]
            if any(self._who[t][0] == session for t in mine):
                raise InputError("Your previous upload is still being indexed; add more when it is done")
            if len(mine) >= self.per_address:
                raise InputError(
                    f"{self.per_address} uploads from your address are being indexed; add more when one is done"
                )
            self._ring.append(ticket)
            self._who[ticket] = (session, address)
        reports, done = [], 0
        try:
            while done < len(files):
                self._wait(ticket, say, done, len(files))
                try:
                    part = files[done : done + turn_size(files[done:], lengths or {}, self.turn_files)]
                    reports.append(self._index(part, on_progress, say))
                    done += len(part)
                finally:
                    with self._turn:  # the next upload's turn; this one goes to the back, if it has more
                        self._ring.remove(ticket)
                        if done < len(files):
                            self._ring.append(ticket)
                        self._turn.notify_all()
        finally:
            with self._turn:
                if ticket in self._ring:
                    self._ring.remove(ticket)
                self._who.pop(ticket, None)
                self._turn.notify_all()
        return merge(reports, sorted({str(Path(f).parent) for f in files}))

    def _wait(self, ticket, say, done: int, total: int) -> None:
        with self._turn:
            while self._ring[0] is not ticket:
                ahead = self._ring.index(ticket)
                if say is not None:
                    say(
                        f"waiting for {ahead} other upload{'s' * (ahead != 1)} to take a turn "
                        f"({done} of {total} files indexed)",
                        done / max(total, 1),
                    )
                self._turn.wait(timeout=1.0)

    def _index(self, files: list[str], on_progress, say) -> IndexReport:
        """One turn; the library's own job (the start-up indexing, a server folder) is waited for, not failed on."""
        while True:
            try:
                return self.index(files, on_progress)
            except IndexBusy:
                if not self.busy():
                    raise
                if say is not None:
                    say("waiting for the library's own indexing to finish", None)
                time.sleep(1.0)
