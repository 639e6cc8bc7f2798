"""The state behind the page: one :class:`Library`, the folders it serves, who the visitors are and what each may
see and do (:mod:`.access`, :mod:`.visitors`), and the media tokens of their results (:mod:`.media`).

No library work happens here (indexing, uploads and clips are the library's); this turns the page's inputs into
library calls, scoped to the visitor, and the library's answers into what the visitor may see: names relative to
a library folder, never a server path (:meth:`App.shown`, :meth:`App.scrub`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path

from ..config import Config
from ..errors import AudioretError, IndexBusy, InputError, ModelLoadError, message
from ..library import Library
from ..models import hub
from ..models.devices import device_name
from ..render import length
from ..store.filters import is_under
from ..types import Filters, Results
from . import uploads
from .access import Access, client_address, decide
from .exports import Exports
from .media import Media
from .turns import UploadQueue
from .uploads import UploadRoute
from .visitors import Visitors, remove_tree

logger = logging.getLogger("audioret")

UPLOADS = "your uploads"  # how a visitor's own folder is named on the page
# an absolute path of at least two levels (not "../x" or "a/b", nor a link's "//host/page"): /home/me/x.wav,
# C:\\Users\\me\\x.wav, file:///home/me/x.wav
_ABSOLUTE = re.compile(
    r"(?:(?<=file://)|(?<![\w.~/-]))(?:[A-Za-z]:)?[\\/](?![\\/])(?:[^\s\\/:*?\"'<>|`()\[\],;]+[\\/])+[^\s\\/:*?\"'<>|`()\[\],;]*"
)


def session_of(request) -> str:
    """The browser session a Gradio request comes from ("" outside a request, e.g. in tests calling handlers)."""
    return request.session_hash if request is not None else ""


class App:
    """Args:
    config: the library's settings.
    library_paths: folders indexed on first load and served to the page.
    allow_server_folders: whether the page may index any folder on the server (never in the public mode).
    access: who may do what (default: this machine alone, nothing restricted).
    """

    def __init__(
        self,
        config: Config,
        library_paths: list[str] | None = None,
        allow_server_folders: bool = False,
        access: Access | None = None,
    ):
        self.library = Library(config)
        self.access = access or decide("127.0.0.1", False, None)
        self.uploads = config.data_dir / "uploads"  # shared uploads (not public: everyone's)
        self.clips = config.data_dir / "clips"
        self.roots = [str(Path(p).resolve()) for p in (library_paths or [])]
        self.allow_server_folders = allow_server_folders and not self.access.public
        self.visitors = Visitors(config.data_dir / "visitors", self.access.limits)
        self.media = Media(self.library, trust_proxy=self.access.trust_proxy)
        self.upload_route: UploadRoute | None = None  # Gradio's upload route, bounded (public mode; set by launch)
        self.upload_queue = UploadQueue(self.index, lambda: self.library.indexing)
        if self.access.public:  # a visitor's uploads never move the scores another visitor sees
            self.library.keep_private([self.visitors.root])
        self.last_results: dict[str, tuple[str, Results]] = {}  # session -> what it searched last, and the hits
        self.tag_filter: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # session -> (wanted, left out)
        self.selection: dict[str, tuple[str, ...]] = {}  # session -> the files chosen on the map (searches stay there)
        self.on_end: list = []  # what else forgets a session when it ends (handlers' own per-session state)
        self.exports = Exports(config.data_dir / "exports", self.access.public, self.visitors.check_search)
        self.on_end.append(self.exports.end)
        self.start_note: str | None = None  # set once the library folders are indexed
        self.loading: tuple[str, float | None] = ("", None)  # what the start-up job is loading, and how far
        self._start_lock = threading.Lock()
        self.started_at = time.monotonic()  # when the start-up job began (for "how long so far")

    @property
    def served_paths(self) -> list[str]:
        """Folders Gradio's own file route may serve: none in the public mode (media go through tokens)."""
        return [] if self.access.public else [*self.roots, str(self.uploads), str(self.clips)]

    # -- who sees what -------------------------------------------------------------------------------------------

    def address(self, request) -> str:
        """The client address of a request (on a Space, from the proxy's header; see :mod:`.access`)."""
        return client_address(request, self.access.trust_proxy)

    def area(self, session: str) -> Path:
        """Where a visitor's uploads go: their own folder in the public mode, the shared uploads otherwise."""
        return self.visitors.get(session).area if self.access.public else self.uploads

    def scope(self, session: str, folder_name: str | None = None) -> Filters | None:
        """The folders a visitor's searches and lists may see (None: everything), narrowed to a shown folder name."""
        folders = None
        if self.access.public:
            folders = (*self.roots, str(self.area(session)))
        folder = self.folder_of(folder_name, session) if folder_name else None
        return Filters(folder=folder, folders=folders) if folder or folders else None

    def segment_label(self, segment: str, session: str) -> str | None:
        """``"<name> 0:10–0:20"`` for a stored segment the visitor may see, else None."""
        from ..render import time_range

        try:
            m = self.library.segment(segment, self.scope(session))
        except AudioretError:
            return None
        if m is None:
            return None
        return f"{self.shown(m['path'], session)[0]} {time_range(m['start_s'], m['end_s'], '–')}"

    def can_manage(self, session: str) -> bool:
        return self.access.open_management or self.visitors.is_admin(session)

    def owns(self, session: str, path: str) -> bool:
        return self.can_manage(session) or (self.access.public and is_under(path, [str(self.area(session))]))

    def folder_names(self, session: str) -> list[str]:
        """The folders a visitor may filter by, as shown: each library folder and its subfolders, and their uploads."""
        names = []
        for root in self.roots:
            names.append(Path(root).name)
            names += sorted(
                f"{Path(root).name}/{p.name}" for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith(".")
            )
        return names + [UPLOADS if self.access.public else "uploads"]

    def folder_of(self, name: str, session: str) -> str:
        """The server folder of a shown folder name; an unknown name is refused."""
        if name in (UPLOADS, "uploads"):
            return str(self.area(session))
        for root in self.roots:
            head, _, rest = name.partition("/")
            if head == Path(root).name and (not rest or (Path(root) / rest).is_dir()):
                return str(Path(root) / rest)
        raise InputError(f"No folder {name!r} in the library; choose one of {', '.join(self.folder_names(session))}")

    def shown(self, path: str, session: str = "") -> tuple[str, str]:
        """``(file name, folder)`` as the visitor may see them: relative to a library folder, or "your uploads"."""
        for root in sorted(self.roots, key=len, reverse=True):
            if is_under(path, [root]):
                rel = Path(path).relative_to(root)
                return rel.name, "/".join((Path(root).name, *rel.parent.parts))
        own = [str(self.area(session))] if session and self.access.public else []
        for base, label in ((own, UPLOADS), ([str(self.uploads)], "uploads")):
            if base and is_under(path, base):
                rel = Path(path).relative_to(base[0])
                return rel.name, "/".join((label, *rel.parent.parts))
        return Path(path).name, ""

    def shown_path(self, path: str, session: str = "") -> str:
        """A file as the visitor may see it, in one string: ``folder/name`` (the name alone at no folder)."""
        name, folder = self.shown(path, session)
        return f"{folder}/{name}" if folder else name

    def export_folder(self, prefix: str, session: str = "", address: str = "") -> Path:
        """A new folder for a file the app makes for a visitor to download (:class:`.exports.Exports`)."""
        return self.exports.folder(prefix, session, address)

    def scrub(self, text: str, session: str = "") -> str:
        """A message with every server path replaced by what the visitor may see (a library-relative name)."""
        text = str(text)
        for root in sorted(
            [*self.roots, str(self.area(session)) if session else str(self.uploads)], key=len, reverse=True
        ):  # noqa: E501
            text = text.replace(root, self.shown(root + os.sep + "x", session)[1] or Path(root).name)
        return _ABSOLUTE.sub(lambda m: Path(m.group(0)).name or "…", text)

    def user_error(self, e: Exception, session: str = ""):
        """An audioret error as a message on the page (a ``gr.Error``), never a traceback or a server path."""
        import gradio as gr

        return gr.Error(self.scrub(message(e), session), print_exception=False)  # a message, not a traceback in the log

    # -- the library ---------------------------------------------------------------------------------------------

    def warm_up(self) -> threading.Thread:
        """Loads the models (downloading them the first time, with progress in ``loading``) and indexes the library
        folders (only what changed), in the background; page loads meanwhile show what it is doing."""

        def run():
            with self._start_lock:
                self.started_at = time.monotonic()
                cfg = self.library.config
                for channel, label, name in (
                    ("clap", "the sound model (CLAP)", cfg.clap_model),
                    ("text", "the text model", cfg.text_model),
                ):
                    size = hub.SIZES_MB.get(name)
                    self.loading = (
                        f"loading {label}, {self.model_name(name)}"
                        + (f" (its first use downloads about {size} MB)" if size else ""),
                        None,
                    )

                    def report(done, total, label=label):
                        self.loading = (f"downloading {label}: {done / 1e6:.0f} of {total / 1e6:.0f} MB", done / total)

                    try:
                        hub.prefetch(name, report)
                    except Exception as e:  # the load below fails with the message that names the fix
                        logger.warning("Could not download %s: %s", name, e)
                    self.library.available(channel)
                self.loading = ("", None)
                self._start(None)
                self.library.warm()
            self._warm_map()  # after the start: Search is open meanwhile

        thread = threading.Thread(target=run, name="audioret-index", daemon=True)
        thread.start()
        return thread

    def _warm_map(self) -> None:
        """Lays out the library's map once after the start, so the first visitor's Library tab draws at once."""
        from .. import library_map

        try:
            # what a visitor sees before adding files: the shared library (everything, on a local page)
            library_map.file_map(self.library, Filters(folders=tuple(self.roots)) if self.access.public else None)
        except Exception as e:  # the map is drawn on demand then, and says what went wrong
            logger.warning("The map of the library was not laid out: %s", e)

    def start(self, on_progress=None) -> str:
        """Indexes the library folders once per process (the start-up job, or the first page load if no start-up
        job ran); later calls wait for it and return its note. A file removed from the index later stays out until
        the next start."""
        with self._start_lock:
            return self._start(on_progress)

    def _start(self, on_progress) -> str:
        from ..render import report_markdown

        if self.start_note is not None:
            return self.start_note
        try:
            report = self.index(self.roots, on_progress)
        except IndexBusy as e:
            note = f"**The library was not updated:** {self.scrub(message(e))}"
        except ModelLoadError as e:
            note = f"**No channel could start.** {self.scrub(e.short)}"
        except AudioretError as e:
            note = f"**The library was not updated:** {self.scrub(message(e))}"
        else:
            shown = lambda p: "/".join(filter(None, self.shown(p)[::-1]))  # noqa: E731
            note = (  # a skipped channel's reason may name a model by its server path
                self.scrub(report_markdown(report, name=shown)) if report.failed or report.skipped_channels else ""
            )
        self.start_note = note
        return note

    def starting(self) -> str | None:
        """While the start-up job runs, what it is doing and for how long, in a sentence; None once it is done."""
        if not self._start_lock.locked():
            return None
        text, _ = self.loading
        progress = self.library.progress
        if not text and progress is not None:
            text = f"indexing the library: {progress.files_done} of {progress.files_total} files"
        elapsed = time.monotonic() - self.started_at
        return (
            f"**Starting: {text or 'opening the index'}** ({elapsed:.0f} s so far). The first start on a machine "
            f"prepares each model once (20-30 s each); later starts take seconds. Search opens when it is done."
        )

    def searchable(self) -> bool:
        """Whether a search can run: the start-up job is done and at least one channel works."""
        return not self._start_lock.locked() and len(self.library.channel_errors) < len(self.library.channels)

    def index(self, paths: list[str], on_progress=None):
        return self.library.index(paths, prune=False, progress=False, on_progress=on_progress)

    def first_load(self, on_progress=None, say=None) -> str:
        """What a page load says about the library: the start-up job's note, after waiting for it. Meanwhile
        ``say(text, fraction or None)`` hears what it is doing (loading or downloading a model) and ``on_progress``
        the indexing's progress."""
        while self._start_lock.locked():
            text, fraction = self.loading
            if text and say is not None:
                say(text, fraction)
            elif on_progress is not None and self.library.progress is not None:
                on_progress(self.library.progress)
            time.sleep(0.5)
        return self.start(on_progress)

    def add(self, session: str, address: str, uploaded: list[str], on_progress=None, say=None):
        """A visitor's uploads added and indexed in turns (:func:`.uploads.add`): ``(report or None, skipped)``."""
        return uploads.add(self, session, address, uploaded, on_progress, say)

    def recording(self, session: str, address: str, path: str) -> str:
        """A query recording, checked and kept for removal when the visitor leaves (:func:`.uploads.recording`)."""
        return uploads.recording(self, session, address, path)

    def export(self, session: str, kind: str, address: str = "") -> str:
        """The session's last results as a file to download ("playlist", "csv", "json" or "clips"): its media URL.
        A playlist holds server paths, so the public mode refuses it; the other formats name files as shown."""
        from .. import export
        from ..clips import cut_clip

        if session not in self.last_results:
            raise InputError("Search first: there are no results to export yet")
        if kind == "playlist" and self.access.public:
            raise InputError(
                "A playlist names files by their place on the server, so this public page does not "
                "offer one; take the CSV, the JSON or the clips"
            )
        described, hits = self.last_results[session]
        name = (lambda p: self.shown_path(p, session)) if self.access.public else str
        out = self.export_folder("results-", session, address) / export.FILE_NAMES[kind]
        export.write(hits, out, {"query": described}, lambda h: cut_clip(h.path, h.start_s, h.end_s, self.clips), name)
        return self.media.download(str(out), session, address)

    def end_session(self, session: str) -> None:
        """A visitor left: their uploads leave the index and the disk, their media tokens are revoked."""
        visitor = self.visitors.end(session)
        self.media.forget(session)
        self.last_results.pop(session, None)
        self.selection.pop(session, None)
        self.tag_filter.pop(session, None)
        for forget in self.on_end:
            forget(session)
        if visitor is not None and self.access.public:
            self._remove_area(visitor.area)
            uploads.release(self, visitor.recordings, visitor.address)

    def sweep(self) -> None:
        """Ends the sessions idle past the limit, and removes areas left behind by an earlier run."""
        for session in self.visitors.expired():
            self.end_session(session)
        for area in self.visitors.leftovers():
            self._remove_area(area)
        self.visitors.forget_idle_addresses()
        self.exports.sweep()
        if self.upload_route is not None:
            self.upload_route.sweep()

    def _remove_area(self, area: Path) -> None:
        try:
            self.library.remove([area])
        except AudioretError as e:
            logger.warning("Could not remove a visitor's files from the index: %s", message(e))
        remove_tree(area)

    # -- what the page says --------------------------------------------------------------------------------------

    def model_name(self, name: str) -> str:
        return f"{Path(name).name} (local)" if os.path.isabs(name) or os.path.exists(name) else name

    def status(self, session: str = "", seen=None) -> str:
        """The header: what the library holds (``seen``: the visitor's files, when read already), the models, a
        channel that is off (and why), the public-mode line."""
        if self.access.public:  # the shared library and this visitor's own uploads, never another visitor's
            seen = self.library.files(self.scope(session)) if seen is None else seen
            files, seconds = len(seen), sum(f.duration_s for f in seen)
        else:
            s = self.library.stats()
            files, seconds = s["files"], s["hours"] * 3600
        cfg = self.library.config
        lines = [
            f"**{files} files**, {length(seconds)} of audio · device: {device_name(cfg.device)} · models: CLAP "
            f"`{self.model_name(cfg.clap_model)}`, text `{self.model_name(cfg.text_model)}`, Whisper "
            f"`{self.model_name(cfg.asr_model)}`"
        ]
        if self.access.public:
            hours = self.access.limits.session_hours
            lines.append(
                f"Public page: the shared library is read-only; files you add are yours alone and are deleted "
                f"when you leave (or after {hours:g} h)."
            )
        off = self.library.channel_errors
        if off:
            titles = self.library.channels.titles()
            on = [titles[c] for c in titles if c not in off]
            names = " and ".join(titles[c] for c in off)
            lead = (
                f"**{names[0].upper()}{names[1:]} {'is' if len(off) == 1 else 'are'} off**; searches use "
                f"{' and '.join(on)}."
                if on
                else f"**{'Both channels are' if len(titles) == 2 else 'Every channel is'} off**: no search can run."
            )
            lines.append(lead)
            for channel, error in off.items():
                failure = self.library.failures.get(channel)
                short, details = (failure.short, failure.details or str(failure)) if failure else (error, error)
                lines.append(
                    f"<details><summary>{titles[channel]}: {self.scrub(short)}</summary>\n\n"
                    f"{self.scrub(details)}</details>"
                )
        return "\n\n".join(lines)

    stats_markdown = status
