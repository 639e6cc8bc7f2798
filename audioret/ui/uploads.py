"""Uploads on a shared page: Gradio's upload route bounded, each file claimed only by whoever sent it, and indexing
that takes turns between visitors.

Gradio stores whatever is posted to ``/gradio_api/upload``, session or not, in a folder named by the content's hash
(so the same content lands at the same path for anyone). :class:`UploadRoute` wraps that route: a client address
may post at most ``2 x AUDIORET_ADDRESS_MB`` an hour there, everyone together ``AUDIORET_ALL_VISITORS_MB`` an hour
(beyond, 429), and each stored path is remembered with the address that sent it. ``add_files`` on a public page then
takes only paths its own address sent, and removes only those. The files themselves go with Gradio's
``delete_cache`` (:data:`CACHE_DELETE`); empty ``tmp*`` files that a refused or broken upload leaves in the folder
are removed by the page's sweep.

``add_files`` then measures an upload by its content and its minutes of audio (:mod:`.minutes`) and indexes it
in turns with other visitors' (:mod:`.turns`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..store.filters import is_under
from ..types import IndexReport
from .access import client_address
from .minutes import headers, measure_lengths

CACHE_DELETE = (600, 3600)  # Gradio's delete_cache: every 10 minutes, the uploads older than an hour
HOUR = 3600.0
STRAY_S = 600.0  # a tmp* file untouched this long in the upload folder is left over from a broken upload
UPLOAD_PATH = "/gradio_api/upload"
DEEP_LINK_PATH = "/gradio_api/deep_link"  # writes a session's state to disk per call: the page uses no deep links


class UploadRoute:
    """Who sent which file through Gradio's upload route, and how much each address sent in the last hour.

    Args:
        folder: Gradio's upload folder.
        address_bytes: bytes one address may post in an hour.
        all_bytes: bytes everyone together may post in an hour.
        trust_proxy: whether the client address is the proxy header's (:func:`.access.client_address`).
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        address_bytes: float,
        all_bytes: float,
        trust_proxy: bool = False,
        clock=time.monotonic,
    ):
        self.folder, self.trust_proxy, self.clock = Path(folder), trust_proxy, clock
        self.address_bytes, self.all_bytes = address_bytes, all_bytes
        self._sent: dict[str, set[str]] = {}  # real path -> the addresses that sent it (the same content, same path)
        self._posted: deque[tuple[float, str, int]] = deque()  # (time, address, bytes) in the last hour
        self._lock = threading.Lock()

    def _recent(self) -> list[tuple[float, str, int]]:
        now = self.clock()
        while self._posted and now - self._posted[0][0] > HOUR:
            self._posted.popleft()
        return list(self._posted)

    def admit(self, address: str, size: int) -> str | None:
        """Counts a post of ``size`` bytes from ``address``; the reason it is refused, or None."""
        with self._lock:
            posted = self._recent()
            mine = sum(n for _, a, n in posted if a == address)
            if mine + size > self.address_bytes:
                return (
                    f"Uploads from your address are limited to {self.address_bytes / 1e6:g} MB an hour; "
                    f"{mine / 1e6:.1f} MB were sent in the last hour"
                )
            if sum(n for *_, n in posted) + size > self.all_bytes:
                return "This page takes no more uploads this hour; come back later"
            self._posted.append((self.clock(), address, size))
        return None

    def sent(self, address: str, paths: Sequence[str]) -> None:
        with self._lock:
            for p in paths:
                self._sent.setdefault(os.path.realpath(p), set()).add(address)

    def owned(self, path: str, address: str) -> bool:
        """Whether ``path`` was sent through the upload route from ``address``."""
        return address in self._sent.get(os.path.realpath(path), ())

    def release(self, path: str, address: str) -> bool:
        """``address`` is done with ``path``; returns whether nobody else sent it (so it may be removed)."""
        with self._lock:
            holders = self._sent.get(os.path.realpath(path), set())
            holders.discard(address)
            if holders:
                return False
            self._sent.pop(os.path.realpath(path), None)
            return True

    def middleware(self):
        """The ASGI middleware that bounds Gradio's upload route, for ``Blocks.launch(app_kwargs={"middleware":
        [...]})`` (see the module docstring)."""
        from starlette.middleware import Middleware

        return Middleware(_Guard, route=self)

    def sweep(self) -> None:
        """Removes the ``tmp*`` files a refused or broken upload left at the top of the upload folder, and forgets
        paths whose files Gradio's cache deletion removed."""
        if self.folder.is_dir():
            now = time.time()
            for p in self.folder.glob("tmp*"):
                try:
                    if p.is_file() and now - p.stat().st_mtime > STRAY_S:
                        p.unlink()
                except OSError:
                    pass
        with self._lock:
            for path in [p for p in self._sent if not os.path.exists(p)]:
                del self._sent[path]


def claim(files: Sequence[str], route: UploadRoute | None, address: str, folder: str | os.PathLike) -> list[str]:
    """The uploaded files ``add_files`` may take: on a public page (``route`` given) only files its address sent
    through the upload route; anywhere, never a folder. Raises InputError naming the file otherwise."""
    for f in files:
        if os.path.isdir(f):
            raise InputError(f"{Path(f).name} is a folder; add the audio files in it, or a zip archive of it")
        if route is not None and not route.owned(f, address):
            raise InputError(f"{Path(f).name} was not uploaded from this browser; upload the file again")
    return [str(f) for f in files if is_under(os.path.realpath(f), [os.path.realpath(folder)])]


def upload_folder() -> str:
    """Gradio's upload folder (GRADIO_TEMP_DIR, as build_demo sets it)."""
    from gradio.utils import get_upload_folder

    return get_upload_folder()


def add(app, session: str, address: str, uploaded: list[str], on_progress=None, say=None):
    """Adds a visitor's uploaded files (or zips) to their area and indexes them in turns with other uploads
    (:class:`UploadQueue`); returns ``(report or None, skipped)``. In the public mode only files this address
    uploaded are taken, and the upload is measured by its content against what the visitor, their address and
    everyone may still add (:func:`audioret.archive.measure`), refused whole with the figures.

    Args:
        app: the page's state (:class:`.state.App`).
    """
    from ..archive import import_files

    public = app.access.public
    files = claim(uploaded, app.upload_route, address, upload_folder()) if public else list(uploaded)
    area = app.area(session)
    if public:
        try:
            imported, lengths = _measured(app, session, address, files, area)
        except FileNotFoundError:  # two calls at once named one stored upload, and the first refused it
            raise InputError("An uploaded file is gone (it was refused, or added already); upload it again") from None
        except InputError:
            release(app, files, address)  # refused: its stored upload cannot be sent again by its path
            raise
    else:
        imported, lengths = import_files(files, area), {}
    release(app, files, address)
    if not imported.files:
        return None, imported.skipped
    report = app.upload_queue.run(session, address, imported.files, on_progress, say, lengths)
    drop_failed(app, session, address, report, imported.files)
    return report, imported.skipped


def _measured(app, session: str, address: str, files: list[str], area) -> tuple:
    """A public page's upload, imported and measured against what the visitor, their address and everyone may
    still add: ``(imported, lengths)``; refused whole (nothing kept) with the figures."""
    from ..archive import discard, import_files, measure

    with app.visitors.reserving(address):
        count, size, archives = measure(files)
        try:
            app.visitors.check_upload(session, count, size, address)
        except InputError as e:
            within = f" ({'; '.join(archives)})" if archives else ""
            raise InputError(f"{e}{within}. Nothing was added") from None
        imported = import_files(files, area, allowance=app.visitors.allowance(session, address))
        left, said = app.visitors.seconds_left(session, address), headers(imported.files)
        try:  # first by the headers, which cost nothing to read: an honest upload over the allowance stops here
            app.visitors.check_upload(session, 0, 0, address, sum(s * c for s, c in said.values()))
        except InputError as e:
            discard(imported, area)
            raise InputError(f"{e}. Nothing was added") from None
        lengths = measure_lengths(imported.files, left, {f: c for f, (_, c) in said.items()})
        try:
            app.visitors.check_upload(session, 0, 0, address, sum(lengths.values()))
        except InputError as e:
            discard(imported, area)  # the headers said less than decoding found: the decoding is counted
            app.visitors.added(session, 0, 0, address, min(sum(lengths.values()), left))
            raise InputError(
                f"{e}, more than the files' headers said (the minutes decoded are counted). Nothing was added"
            ) from None
        app.visitors.added(session, len(imported.files), imported.bytes, address, sum(lengths.values()))
    return imported, lengths


def drop_failed(app, session: str, address: str, report: IndexReport, written: Sequence[str]) -> None:
    """Deletes the uploaded files no channel could index (not audio after all: the report names them), so nothing
    that was refused stays in the uploads folder; in the public mode their files and bytes no longer count against
    the visitor, their minutes do (what decoded before a failure was indexed)."""
    kept = set(report.added) | set(report.updated)
    for failure in report.failed:
        path = Path(failure.path)
        if failure.path in written and failure.path not in kept and path.is_file():
            size = path.stat().st_size
            path.unlink(missing_ok=True)
            if app.access.public:  # its minutes stay counted: indexing decoded them before it failed
                app.visitors.added(session, -1, -size, address)


def release(app, uploaded: Sequence[str], address: str) -> None:
    """Removes uploaded files from Gradio's upload folder once used: on a public page only those this address sent
    and nobody else did (the same content is the same path), on this machine any in the upload folder; never a
    file elsewhere."""
    route, folder = app.upload_route, os.path.realpath(upload_folder())
    for f in uploaded:
        if app.access.public and (route is None or not route.owned(f, address) or not route.release(f, address)):
            continue
        if is_under(os.path.realpath(f), [folder]):
            Path(f).unlink(missing_ok=True)


def recording(app, session: str, address: str, path: str) -> str:
    """A spoken or example query's recording: on a public page, only one this address uploaded; it is removed
    when the visitor leaves."""
    if app.access.public:
        claim([path], app.upload_route, address, upload_folder())
        app.visitors.get(session, address).recordings.append(path)
    return path


class _Guard:
    """ASGI middleware: posts to Gradio's upload route are counted against the sender's address (429 beyond), and the
    paths Gradio stored are remembered with that address (:class:`UploadRoute`). Gradio's deep-link route, which
    writes the session's state to disk on every call and serves it to whoever has its hash, answers 404."""

    def __init__(self, app, route: UploadRoute):
        self.app, self.route = app, route

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("path", "").rstrip("/").endswith(DEEP_LINK_PATH):
            from starlette.responses import PlainTextResponse

            return await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
        posting = scope.get("type") == "http" and scope.get("method") == "POST"
        if not posting or not scope.get("path", "").endswith(UPLOAD_PATH):
            return await self.app(scope, receive, send)
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse

        route = self.route
        address = client_address(Request(scope), route.trust_proxy)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if not declared.isdigit():  # a chunked body's size is known only once it is stored: refused before
            message = "Uploads must say their size (Content-Length); send the file as a browser does"
            return await PlainTextResponse(message, status_code=411)(scope, receive, send)
        size = int(declared)
        refused = route.admit(address, size)
        if refused:
            return await PlainTextResponse(refused, status_code=429)(scope, receive, send)
        status, body, received = [0], [], [0]

        async def bounded():  # never more than the size the sender declared, and counted
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > size:
                    return {"type": "http.disconnect"}
            return message

        async def capture(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        await self.app(scope, bounded, capture)
        if status[0] == 200:
            try:
                paths = json.loads(b"".join(body))
            except ValueError:
                paths = []
            route.sent(address, [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else [])
