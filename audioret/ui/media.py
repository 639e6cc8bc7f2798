"""Media for the results, served at ``/media/<token>``: a token stands for one clip, file or picture.

Gradio's own file payloads carry the server's absolute paths (in API responses and the page), which a public page
must not show; and its file route would serve any file under the allowed folders to whoever names the path. Here
the page only ever sees random tokens, each made for the results of one visitor and forgotten when that
visitor leaves. Responses support range requests, so the browser can seek in a long file.

A token answers only requests from the client address it was made for (:func:`.access.client_address`): another
visitor who learns it gets 404. The table is bounded per address as well as in all: a client that searches under a
new session id each time pushes out its own oldest tokens, and a full table loses tokens of the address holding
the most, never another visitor's.
"""

from __future__ import annotations

import io
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

from .access import client_address

MAX_TOKENS = 20_000  # in all; when full, the address holding the most loses its oldest
MAX_TOKENS_PER_CLIENT = 2_000  # per client address (about 60 searches of 10 results); its oldest are forgotten first
BROWSER_AUDIO = {".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".webm", ".mp4"}


@dataclass(frozen=True)
class Item:
    kind: str  # "clip", "file", "spectrogram" or "download" (a file the app made, saved under its own name)
    path: str
    start_s: float = 0.0
    end_s: float = 0.0
    owner: str = ""  # the session it was made for
    address: str = ""  # the client address it was made for: only requests from there get it


class Media:
    """Args:
    library: the :class:`~audioret.library.Library` (clips are cut by it, into ``DATA_DIR/clips``).
    trust_proxy: whether a request's address is the proxy header's (:func:`.access.client_address`).
    """

    def __init__(self, library, trust_proxy: bool = False):
        self.library, self.trust_proxy = library, trust_proxy
        self._items: dict[str, Item] = {}
        self._by_client: dict[str, OrderedDict[str, None]] = {}  # address -> its tokens, oldest first
        self._lock = threading.Lock()

    def url(self, item: Item) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._items[token] = item
            mine = self._by_client.setdefault(item.address, OrderedDict())
            mine[token] = None
            while len(mine) > MAX_TOKENS_PER_CLIENT:
                self._drop(item.address)
            while len(self._items) > MAX_TOKENS:
                self._drop(max(self._by_client, key=lambda a: len(self._by_client[a])))
        return f"/media/{token}"

    def _drop(self, address: str) -> None:
        """Forgets the oldest token of an address (the lock held)."""
        tokens = self._by_client[address]
        token, _ = tokens.popitem(last=False)
        self._items.pop(token, None)
        if not tokens:
            del self._by_client[address]

    def clip(self, path: str, start_s: float, end_s: float, owner: str, address: str = "") -> str:
        return self.url(Item("clip", path, start_s, end_s, owner, address))

    def whole(self, path: str, owner: str, address: str = "") -> str:
        """The whole file, where the browser can play its format; else the clip of its first minute."""
        if Path(path).suffix.lower() in BROWSER_AUDIO:
            return self.url(Item("file", path, owner=owner, address=address))
        return self.clip(path, 0.0, 60.0, owner, address)

    def download(self, path: str, owner: str, address: str = "") -> str:
        """A file the app made for a visitor (an exported list), offered under its own name."""
        return self.url(Item("download", path, owner=owner, address=address))

    def spectrogram(self, path: str, start_s: float, end_s: float, owner: str, address: str = "") -> str:
        return self.url(Item("spectrogram", path, start_s, end_s, owner, address))

    def forget(self, owner: str) -> None:
        """Revokes every token made for a session."""
        with self._lock:
            for token in [t for t, item in self._items.items() if item.owner == owner]:
                item = self._items.pop(token)
                tokens = self._by_client.get(item.address)
                if tokens is not None:
                    tokens.pop(token, None)
                    if not tokens:
                        del self._by_client[item.address]

    def response(self, token: str, request: Request):
        """The Starlette response for a token: 404 for an unknown one, or one made for another client address."""
        from starlette.responses import FileResponse, Response

        item = self._items.get(token)
        if item is None or not Path(item.path).exists():
            return Response(status_code=404)
        if item.address and client_address(request, self.trust_proxy) != item.address:
            return Response(status_code=404)
        if item.kind == "file":
            return FileResponse(item.path, headers={"Cache-Control": "private, max-age=3600"})
        if item.kind == "download":
            return FileResponse(item.path, filename=Path(item.path).name, headers={"Cache-Control": "private"})
        from ..clips import cut_clip, spectrogram_image

        clip = cut_clip(item.path, item.start_s, item.end_s, self.library.config.data_dir / "clips")
        if item.kind == "clip":
            return FileResponse(clip, media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})
        import matplotlib.image

        buffer = io.BytesIO()
        matplotlib.image.imsave(buffer, spectrogram_image(clip), format="png")
        return Response(buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    def attach(self, demo) -> None:
        """Adds the ``/media/{token}`` route to a launched Blocks' server."""
        demo.app.add_api_route("/media/{token}", self.response, methods=["GET"], include_in_schema=False)
