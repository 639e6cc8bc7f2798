"""What a visitor does with a results list besides listening: "Good match" / "Not this" (relevance feedback on
their last typed query, kept per session on the server, so no path reaches the page: a card sends its rank; on a
local page also saved as relevance judgements for `audioret eval --qrels`), and export (a download link made
through a media token; no playlist on a public page, whose paths are the server's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gradio as gr  # at module level: Gradio reads the handlers' gr.Request hints here

from ..errors import AudioretError
from ..export import FILE_NAMES
from .state import App, session_of

logger = logging.getLogger("audioret")


class Votes:
    """Each visitor's last typed query (and its settings), its hits' paths and their feedback.

    Args:
        app: the page's state.
        answer: runs a search for a visitor and renders it (search_tab.answer).
        filters: a visitor's filters from the page's filter inputs.
    """

    def __init__(self, app: App, answer: Callable, filters: Callable):
        self.app, self.answer, self.filters = app, answer, filters
        self.sessions: dict[str, dict] = {}
        app.on_end.append(lambda session: self.sessions.pop(session, None))

    def search(self, request, q: str, text_query: str | None, k, weights: dict, scope_args: tuple, described: str):
        """A text search with the session's feedback for this query (a new query starts without any)."""
        session = session_of(request)
        state = self.sessions.setdefault(session, {})
        key = (q, text_query, k, tuple(weights.items()), scope_args)
        if state.get("query") != key:
            state.clear()
            state.update(query=key, like=[], unlike=[], paths=[])

        def run(s):
            hits = self.app.library.search(
                q,
                k=int(k),
                filters=self.filters(s, *scope_args),
                weights=weights,
                text_query=text_query,
                like=state["like"],
                unlike=state["unlike"],
            )
            state["paths"] = [h.path for h in hits]
            return hits

        return self.answer(self.app, request, run, described, q.strip(), votes=True)

    def vote(self, kind: str, rank: int, request):
        """ "Good match" ("like") or "Not this" ("unlike") on the card at ``rank`` of the visitor's last results;
        searches again."""
        session = session_of(request)
        state = self.sessions.get(session)
        if not state or not 1 <= rank <= len(state["paths"]):
            raise gr.Error('Search first, then mark results "Good match" or "Not this"', print_exception=False)
        path = state["paths"][rank - 1]
        for marked in ("like", "unlike"):
            if path in state[marked]:
                state[marked].remove(path)
        state[kind].append(path)
        q, text_query, k, weights, scope_args = state["query"]
        if not self.app.access.public:  # the owner's judgements, for `audioret eval --qrels`; never a visitor's
            try:
                self.app.library.judge(q, **{kind: [path]})
            except AudioretError as e:  # the file left the index meanwhile: the search below says so
                logger.warning("The vote was not saved: %s", e)
        return self.search(request, q, text_query, k, dict(weights), scope_args, f"“{q.strip()}”")


def build_export(app: App) -> None:
    """The export row under the results, and its events."""
    with gr.Row(elem_id="export"):
        gr.Markdown("Export these results:")
        formats = [("Playlist (M3U8)", "playlist")] * (not app.access.public) + [
            ("CSV", "csv"),
            ("JSON", "json"),
            ("Segments as WAV (zip)", "clips"),
        ]
        buttons = [(gr.Button(label, size="sm", variant="secondary"), kind) for label, kind in formats]
        link = gr.HTML(elem_id="export-link")

    def exporter(kind: str):
        def handler(request: gr.Request):
            session = session_of(request)
            try:
                url = app.export(session, kind, app.address(request))
            except AudioretError as e:
                raise app.user_error(e, session) from e
            file = FILE_NAMES[kind]
            return f'<a class="download" href="{url}" download="{file}">Download {file}</a>'

        return handler

    for button, kind in buttons:
        button.click(exporter(kind), None, link, api_name=False)
