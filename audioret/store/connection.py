"""Reaching the store safely: retries while a Chroma server does not answer, and one writer per embedded index.

Two processes writing one embedded store would each keep their own copy of the HNSW index and overwrite each
other's; readers are fine. So the first write of a process takes a lock file next to the index for the rest of
the process's life (it dies with the process), and a second writer is refused with the holder's pid and the way
out: a ``chroma run`` server, which takes any number of writers.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from ..errors import IndexBusy, StoreError

logger = logging.getLogger("audioret")

WRITER_LOCK = "audioret-writer.lock"  # in the embedded store's directory; its .pid sibling names the holder
_writer_locks: dict[str, object] = {}  # one lock per store directory per process, shared by its Store objects
RETRY_DELAYS_S = (0.5, 1, 2, 4, 8)  # waits between tries when a Chroma server does not answer (15.5 s in all)


def retrying(fn, url: str):
    """``fn`` tried again with backoff while the server at ``url`` cannot be reached, then a StoreError.

    Every call the store makes is idempotent (upserts and deletes by deterministic ids, reads), so a call that
    reached the server before the connection broke can safely be made again.
    """
    import httpx

    def call(*args, **kwargs):
        for delay in (*RETRY_DELAYS_S, None):
            try:
                return fn(*args, **kwargs)
            except (httpx.TransportError, ConnectionError, ValueError) as e:
                if isinstance(e, ValueError) and "Could not connect" not in str(e):
                    raise
                if delay is None:
                    raise StoreError(
                        f"Cannot reach the Chroma server at {url} ({e}); tried {len(RETRY_DELAYS_S) + 1} times over "
                        f"{sum(RETRY_DELAYS_S):g} s. Start it with `chroma run --path DIR --host HOST --port PORT`, "
                        "or unset AUDIORET_CHROMA_URL to use the embedded store"
                    ) from e
                logger.warning("Chroma server at %s did not answer (%s); retrying in %s s", url, e, delay)
                time.sleep(delay)

    return call


class RetryingCollection:
    """A Chroma collection on a server whose calls retry while the server is unreachable (see ``retrying``)."""

    def __init__(self, collection, url: str):
        self._collection, self._url = collection, url

    def __getattr__(self, name):
        attr = getattr(self._collection, name)
        return retrying(attr, self._url) if callable(attr) else attr


def hold_writer_lock(path: Path) -> None:
    """Takes the embedded store's writer lock in ``path`` for the rest of this process's life, or raises IndexBusy."""
    if str(path) in _writer_locks:
        return
    from filelock import FileLock, Timeout

    lock = FileLock(path / WRITER_LOCK)
    pid_file = path / (WRITER_LOCK + ".pid")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = pid_file.read_text().strip() if pid_file.exists() else "unknown"
        raise IndexBusy(
            f"Another audioret process (pid {holder}) is writing to the index in {path}; only one process "
            "may index or remove at a time. Wait for it to finish (or stop it), or run a Chroma server and "
            "point every process at it with AUDIORET_CHROMA_URL"
        ) from None
    pid_file.write_text(str(os.getpid()))
    _writer_locks[str(path)] = lock
