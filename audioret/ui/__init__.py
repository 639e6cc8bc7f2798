"""The web app: ``build_demo(config)`` returns the Gradio Blocks, unlaunched; :func:`launch` serves it (``app.py``).

The page is laid out by one short function per tab (:mod:`.search_tab`, :mod:`.library_tab`); :mod:`.state`
holds what the page knows and what each visitor may see (:mod:`.access`, :mod:`.visitors`), :mod:`.results`
how results read, and :mod:`.media` serves their audio without server paths; :mod:`.uploads` bounds Gradio's upload
route and indexes visitors' uploads in turns. Handlers call only the public :class:`~audioret.library.Library` API.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import gradio as gr  # at module level: Gradio reads the handlers' gr.Request / gr.EventData hints from here

from ..config import Config
from ..errors import AudioretError
from ..types import Tag
from .access import Access, Limits, believing, decide
from .library_tab import build_library_tab
from .map_view import build_map_view
from .search_tab import EXAMPLE_QUERIES, PUSH_TO_TALK, build_search_tab
from .state import App, session_of
from .uploads import CACHE_DELETE, UploadRoute

logger = logging.getLogger("audioret")

__all__ = [
    "EXAMPLE_QUERIES",
    "MAX_FILE_SIZE",
    "Access",
    "App",
    "Limits",
    "build_demo",
    "decide",
    "launch",
    "tag_queries",
]

SWEEP_S = 60.0  # how often idle visitors' uploads are looked for
UPLOADS_DIR = "gradio-uploads"  # Gradio's upload folder in the public mode: in the data directory
MAX_FILE_SIZE = "200mb"  # per uploaded file, unless launch is given another


def build_demo(
    config: Config | None = None,
    library_paths: list[str] | None = None,
    allow_server_folders: bool = False,
    access: Access | None = None,
    examples: Sequence[str] | None = EXAMPLE_QUERIES,
):
    """The audioret page, unlaunched. ``library_paths`` are indexed on first load and served to the page.

    ``examples`` are the query chips under the box: the demo library's queries by default; ``None`` puts the
    visitor's library's own most common sound and user tags there (``app.py`` does so for ``--library``)."""
    app = App(config or Config.from_env(), library_paths, allow_server_folders, access)
    _upload_folder(app)
    with gr.Blocks(title="audioret — search your audio with language", delete_cache=CACHE_DELETE) as demo:
        demo.audioret = app  # for tests and app.py
        gr.Markdown("# audioret\nSearch your audio library with language: type it, say it, or play an example.")
        status = gr.Markdown("**Starting…**", elem_id="status", label="status", show_label=False)
        timer = gr.Timer(1.0)
        with gr.Tabs() as tabs:
            with gr.Tab("Search", id="search"):
                search, on_search = build_search_tab(app, chips=examples is not None)  # else its tags, once known
            with gr.Tab("Library", id="library") as library_tab:
                the_map = build_map_view(app)
                report_box, files = build_library_tab(app, status)
        _wire_map(app, the_map, library_tab, tabs, search, on_search)
        folder = search.folder

        def first_load(request: gr.Request = None):
            """Waits for the start-up job (the page's timer says meanwhile what it is doing), then says what the
            library holds and which channel, if any, is off; Search opens if a channel works. In the public mode a
            load over its address's limit says so and reads nothing."""
            session = session_of(request)
            if app.access.public:
                try:
                    app.visitors.check_load(app.address(request))
                except AudioretError as e:
                    return f"**{e}.**", *(gr.skip() for _ in range(7 + len(search.chips)))
            app.sweep()
            note = app.first_load()
            from .library_tab import listing

            seen = app.library.files(app.scope(session)) if app.access.public else None  # one read for both
            text = app.status(session, seen)
            try:
                tags = app.library.tags(app.scope(session))
            except AudioretError:
                tags = []
            choices = gr.update(choices=[""] + app.folder_names(session))
            tag_list = gr.update(choices=on_search.tag_choices(session, tags=tags))
            chips = _chips(examples, app, len(search.chips), tags)
            files = listing(app, session, files=seen)
            return text, search_button(app), note, files, choices, search_box(app), tag_list, tag_list, *chips

        def tick():
            """The start-up job's progress in the header, each second until it is done."""
            text = app.starting()
            if text is None:
                return gr.skip(), gr.skip(), gr.Timer(active=False)
            return text, search_button(app), gr.skip()

        def leave(request: gr.Request):
            if request is not None and request.session_hash:
                app.end_session(request.session_hash)

        demo.load(
            first_load,
            None,
            [status, search.search_btn, report_box, files, folder, search.query, search.tags, search.no_tags]
            + search.chips,
            api_name=False,
            concurrency_limit=None,
            show_progress="hidden",
        )
        timer.tick(
            tick,
            None,
            [status, search.search_btn, timer],
            api_name=False,
            concurrency_limit=None,
            show_progress="hidden",
        )
        demo.unload(leave)
    return demo


CHIP_KINDS = ("user", "sound")  # tags that read as a query; loudness, tempo, key and language do not


def tag_queries(tags: Sequence[Tag], n: int) -> list[str]:
    """The library's own tags as example queries: up to ``n`` of the user's and the sound labels, the ones on the
    most files first (a user's tags before labels on as many), each name once."""
    kept = sorted((t for t in tags if t.kind in CHIP_KINDS and t.files > 0), key=lambda t: (-t.files, t.kind != "user"))
    names: list[str] = []
    for t in kept:
        if t.name.lower() not in (x.lower() for x in names):
            names.append(t.name)
    return names[:n]


def _chips(examples: Sequence[str] | None, app: App, n: int, tags: Sequence[Tag]) -> list:
    """The chips' updates on a first load: the given examples, or the visitor's library's tags (hidden if none)."""
    texts = list(examples)[:n] if examples is not None else tag_queries(tags, n)
    return [gr.update(value=t, visible=True) for t in texts] + [gr.update(visible=False)] * (n - len(texts))


def search_button(app: App):
    """The Search button: open once a channel works; while starting, or with no channel, closed and saying why."""
    if app.searchable():
        return gr.update(interactive=True, value="Search")
    return gr.update(interactive=False, value="Starting…" if app.starting() else "Search is off")


def search_box(app: App):
    """The query box: closed with a reason when no channel works (the header says which setting fixes it)."""
    if app.searchable() or app.starting():
        return gr.update(interactive=True, placeholder="rain on a tin roof")
    return gr.update(interactive=False, placeholder="No search can run: no model loaded (see the note above)")


def _wire_map(app: App, the_map, library_tab, tabs, search, on_search) -> None:
    """The map redraws when the Library tab opens (ringing the last results); a box or lasso on it scopes the
    searches and, with a query in the box, runs it there and shows the Search tab."""
    area, note, clear, clicked, on = the_map
    library_tab.select(on.show, None, area, api_name=False)
    clear.click(on.clear, None, [note, clear], api_name=False)
    inputs, outputs = on_search.search_inputs(search), on_search.search_outputs(search)

    def run(q, k, clap_w, text_w, folder, exts, min_s, max_s, request: gr.Request):
        if not on.selected(request) or not (q or "").strip():
            return *(gr.skip() for _ in outputs), gr.skip()
        found = on_search.search(q, k, clap_w, text_w, folder, exts, min_s, max_s, request)
        return *found, gr.Tabs(selected="search")

    clicked.then(run, inputs, [*outputs, tabs], api_name=False)


def _upload_folder(app: App) -> None:
    """Where Gradio keeps uploads: in the public mode ``DATA_DIR/gradio-uploads``, otherwise Gradio's default.

    Gradio answers an upload with the path it saved it at, so in the public mode the folder is named relative to the
    working directory, which must hold the data directory: app.py moves into the data directory, and a public page
    built elsewhere moves there too. The app never makes a folder in a working directory it did not choose."""
    data = app.library.config.data_dir.resolve()
    ours = os.environ.get("GRADIO_TEMP_DIR", "")
    if app.access.public:
        data.mkdir(parents=True, exist_ok=True)
        if not data.is_relative_to(Path.cwd().resolve()):
            logger.info("The public mode runs in the data directory: moving there")
            os.chdir(data)
        os.environ["GRADIO_TEMP_DIR"] = os.path.relpath(data / UPLOADS_DIR)
    elif ours and Path(ours).name == UPLOADS_DIR:  # set for an earlier public page of this process
        del os.environ["GRADIO_TEMP_DIR"]


def launch(demo, **kwargs):
    """Launches the page with its media route and the sweep of idle visitors; keyword arguments go to
    ``Blocks.launch`` (``prevent_thread_lock=True`` returns at once, as tests want). Uploads are capped at
    ``max_file_size`` (default :data:`MAX_FILE_SIZE`); in the public mode Gradio's monitoring routes are off and its
    upload route is bounded (:class:`.uploads.UploadRoute`)."""
    app: App = demo.audioret
    block = not kwargs.pop("prevent_thread_lock", False)
    kwargs.setdefault("allowed_paths", app.served_paths)
    kwargs.setdefault("max_file_size", MAX_FILE_SIZE)
    kwargs.setdefault("js", PUSH_TO_TALK)  # hold the space bar to talk (Gradio 6 takes page scripts at launch)
    if app.access.page_auth is not None:
        kwargs.setdefault("auth", app.access.page_auth)
    if app.access.public:
        from gradio.utils import get_upload_folder

        kwargs["enable_monitoring"] = False  # /monitoring/summary would show every visitor's endpoints and timings
        limits = app.access.limits
        app.upload_route = UploadRoute(
            get_upload_folder(), 2 * limits.address_mb * 1e6, limits.all_mb * 1e6, app.access.trust_proxy
        )
        app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
        app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), app.upload_route.middleware()]
        kwargs["app_kwargs"] = app_kwargs
    # a public page believes X-Forwarded-For only from a share link's tunnel
    with believing(app.access.forwarding_hosts) if app.access.public else contextlib.nullcontext():
        demo.launch(prevent_thread_lock=True, **kwargs)
    app.media.attach(demo)
    stop = threading.Event()

    def sweep():
        while not stop.wait(SWEEP_S):
            app.sweep()

    threading.Thread(target=sweep, name="audioret-sweep", daemon=True).start()
    demo.audioret_stop = stop
    if block:
        demo.block_thread()
    return demo
