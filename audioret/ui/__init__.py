"""The web app: ``build_demo(config)`` returns the Gradio Blocks, unlaunched (``app.py`` launches it).

The page is laid out by one short function per tab (:mod:`.search_tab`, :mod:`.library_tab`); :mod:`.state`
holds what the page knows, and :mod:`audioret.render` how results read. Handlers call only the public
:class:`~audioret.library.Library` API.
"""

from __future__ import annotations

from ..config import Config
from .library_tab import build_library_tab, progress_callback
from .search_tab import build_search_tab
from .state import App

__all__ = ["App", "build_demo"]


def build_demo(config: Config | None = None, library_paths: list[str] | None = None,
               allow_server_folders: bool = False):  # fmt: skip
    """The audioret page, unlaunched. ``library_paths`` are indexed on first load and served to the page."""
    import gradio as gr

    app = App(config or Config.from_env(), library_paths, allow_server_folders)
    with gr.Blocks(title="audioret — search your audio with language") as demo:
        demo.audioret = app  # for tests and app.py
        gr.Markdown("# audioret\nSearch your audio library with language: type it, say it, or play an example.")
        status = gr.Markdown(elem_id="status")
        with gr.Tab("Search"):
            build_search_tab(app)
        with gr.Tab("Library"):
            library_status, report_box = build_library_tab(app)

        def first_load(progress=gr.Progress()):
            """Index the library folders (only what changed), so search works at once; if the start-up job is
            already indexing them, show its progress until it is done."""
            note = app.first_load(progress_callback(progress))
            stats = app.stats_markdown()
            return stats, stats, note

        demo.load(first_load, None, [status, library_status, report_box], api_name=False, concurrency_limit=None)
    return demo
