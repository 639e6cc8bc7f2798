"""Media for the results, served at ``/media/<token>``: a token stands for one clip, file or picture.

Gradio's own file payloads carry the server's absolute paths (in API responses and the page), which a public page
must not show; and its file route would serve any file under the allowed folders to whoever names the path. Here
the page only ever sees random tokens, each made for the results of one visitor and forgotten when that
visitor leaves. Responses support range requests, so the browser can seek in a long file.
"""

from __future__ import annotations

import io
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

MAX_TOKENS = 20_000  # the oldest are forgotten first
BROWSER_AUDIO = {".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".webm", ".mp4"}


@dataclass(frozen=True)
class Item:
    kind: str  # "clip", "file", "spectrogram" or "download" (a file the app made, saved under its own name)
    path: str
    start_s: float = 0.0
    end_s: float = 0.0
    owner: str = ""  # the session it was made for


class Media:
    """Args:
    library: the :class:`~audioret.library.Library` (clips are cut by it, into ``DATA_DIR/clips``).
    """

    def __init__(self, library):
        self.library = library
        self._items: OrderedDict[str, Item] = OrderedDict()
        self._lock = threading.Lock()

    def url(self, item: Item) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._items[token] = item
            while len(self._items) > MAX_TOKENS:
                self._items.popitem(last=False)
        return f"/media/{token}"

    def clip(self, path: str, start_s: float, end_s: float, owner: str) -> str:
        return self.url(Item("clip", path, start_s, end_s, owner))

    def whole(self, path: str, owner: str) -> str:
        """The whole file, where the browser can play its format; else the clip of its first minute."""
        if Path(path).suffix.lower() in BROWSER_AUDIO:
            return self.url(Item("file", path, owner=owner))
        return self.clip(path, 0.0, 60.0, owner)

    def download(self, path: str, owner: str) -> str:
        """A file the app made for a visitor (an exported list), offered under its own name."""
        return self.url(Item("download", path, owner=owner))

    def spectrogram(self, path: str, start_s: float, end_s: float, owner: str) -> str:
        return self.url(Item("spectrogram", path, start_s, end_s, owner))

    def forget(self, owner: str) -> None:
        """Revokes every token made for a session."""
        with self._lock:
            for token in [t for t, item in self._items.items() if item.owner == owner]:
                del self._items[token]

    def response(self, token: str):
        """The Starlette response for a token (404 for an unknown one)."""
        from starlette.responses import FileResponse, Response

        item = self._items.get(token)
        if item is None or not Path(item.path).exists():
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
