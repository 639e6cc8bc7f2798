"""The state behind the page: one :class:`Library`, the folders it serves, and the start-up indexing job.

No library work happens here (indexing, uploads and clips are the library's); this turns the page's inputs into
library calls and the library's answers into what the page shows.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from ..config import Config
from ..devices import device_name
from ..errors import AudioretError, IndexBusy, InputError, ModelLoadError, message
from ..library import Library
from ..types import Filters

logger = logging.getLogger("audioret")

CHANNEL_NAMES = {"clap": "The sound (CLAP) channel", "text": "The text channel"}


class App:
    """Args:
    config: the library's settings.
    library_paths: folders indexed on first load and served to the page.
    allow_server_folders: whether the page may index any folder on the server.
    """

    def __init__(self, config: Config, library_paths: list[str] | None = None, allow_server_folders: bool = False):
        self.library = Library(config)
        self.uploads = config.data_dir / "uploads"
        self.clips = config.data_dir / "clips"
        self.roots = [str(Path(p).resolve()) for p in (library_paths or [])]
        self.allow_server_folders = allow_server_folders

    @property
    def served_paths(self) -> list[str]:
        """The only folders the server may send files from: the library, uploads and cut clips."""
        return [*self.roots, str(self.uploads), str(self.clips)]

    # -- searching -----------------------------------------------------------------------------------------------

    def search(self, query, k, clap_weight, text_weight, folder, extensions, min_s, max_s):
        return self.library.search(query or "", k=int(k), filters=filters(folder, extensions, min_s, max_s),
                                   weights={"clap": float(clap_weight), "text": float(text_weight)})  # fmt: skip

    def spoken(self, recording, k, clap_weight, text_weight, folder, extensions, min_s, max_s):
        if not recording:
            raise InputError("Record or upload a spoken query first")
        transcript, hits = self.library.search_spoken(
            recording, k=int(k), filters=filters(folder, extensions, min_s, max_s),
            weights={"clap": float(clap_weight), "text": float(text_weight)},
        )  # fmt: skip
        note = f"Heard ({transcript.language}): “{transcript.text}”"
        if transcript.english != transcript.text:
            note += f" — searched in English: “{transcript.english}”"
        return transcript.english, note, hits

    def example(self, recording, k, folder, extensions, min_s, max_s):
        if not recording:
            raise InputError("Upload or record an example sound first")
        return self.library.search_audio(recording, k=int(k), filters=filters(folder, extensions, min_s, max_s))

    def similar(self, segment_id: str, k):
        return self.library.similar(segment_id, k=int(k))

    # -- the library ---------------------------------------------------------------------------------------------

    def index_in_background(self) -> threading.Thread:
        """Index the library folders (only what changed) without holding up the page or the API."""

        def run():
            try:
                self.index(self.roots)
            except AudioretError as e:
                logger.warning("Indexing %s at start-up: %s", self.roots, e)

        thread = threading.Thread(target=run, name="audioret-index", daemon=True)
        thread.start()
        return thread

    def index(self, paths: list[str], on_progress=None):
        return self.library.index(paths, prune=False, progress=False, on_progress=on_progress)

    def wait_for_index(self, on_progress=None, poll_s: float = 0.5) -> None:
        """Blocks while an indexing job of this process runs (the start-up one), passing its progress on."""
        while self.library.indexing:
            if on_progress and self.library.progress is not None:
                on_progress(self.library.progress)
            time.sleep(poll_s)

    def first_load(self, on_progress=None) -> str:
        """Index the library folders (only what changed), or wait for the start-up job; returns a note for the page."""
        from ..render import report_markdown

        try:
            report = self.index(self.roots, on_progress)
        except IndexBusy as e:
            if not self.library.indexing:  # another process holds the embedded index
                return f"**The library was not updated:** {e}"
            self.wait_for_index(on_progress)
            return ""
        except ModelLoadError as e:
            return f"**No channel could start:** {e}"
        except AudioretError as e:
            return f"**The library was not updated:** {e}"
        return report_markdown(report) if report.added or report.failed or report.skipped_channels else ""

    def stats_markdown(self) -> str:
        s = self.library.stats()
        off = "".join(f"\n\n**{CHANNEL_NAMES[c]} is off**, searches use the other one. {e}"
                      for c, e in self.library.channel_errors.items())  # fmt: skip
        return (
            f"**{s['files']} files**, {s['segments']} sound segments, {s['passages']} text passages "
            f"({s['speech_passages']} spoken), {s['hours']:.2f} h of audio · device: "
            f"{device_name(self.library.config.device)}\n\n"
            f"Models: CLAP `{s['clap_model']}` · text `{s['text_model']}` · Whisper `{s['asr_model']}`{off}"
        )


def user_error(e: Exception):
    """An audioret error as a message on the page (a ``gr.Error``), not a traceback."""
    import gradio as gr

    return gr.Error(message(e))


def filters(folder, extensions, min_s, max_s) -> Filters:
    """The page's filter inputs as :class:`Filters` (empty inputs mean no filter)."""
    exts = tuple(e.strip() for e in (extensions or "").split(",") if e.strip()) or None
    return Filters(folder=folder or None, extensions=exts, min_duration_s=float(min_s) if min_s else None,
                   max_duration_s=float(max_s) if max_s else None)  # fmt: skip
