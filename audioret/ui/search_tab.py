"""The Search tab: a query typed, spoken or played; example chips that search; then the results area
(:mod:`.results`), which scrolls into view, and the same results as a table behind "Show as table".

Each search clears the inputs of the other kinds of query; "New search" clears everything. "Search by this sound" on a
card searches by that segment and says so in the header.
"""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr  # at module level: Gradio reads the handlers' gr.Request / gr.EventData hints here

from ..errors import AudioretError
from ..render import PAGE_HINTS, why_nothing
from ..store.filters import is_under
from ..types import Filters, Hit, Results
from .map_view import event_data
from .results import CSS, SCRIPT, Card, escape, heard_sentence, markdown_bold, results
from .results_actions import Votes, build_export
from .state import App, session_of

EXAMPLE_QUERIES = [
    "rain on a tin roof",
    "the part where they talk about the harvest",
    "a bell ringing",
    "someone leaving a voicemail about a car",
    "waves on a beach",
]
COLUMNS = ["rank", "file", "folder", "from", "to", "score", "why"]
COLUMNS += ["sound (cosine)", "text (cosine)", "matched text", "segment"]  # the table's, in the API's answer too
EMPTY_TABLE = {"headers": COLUMNS, "data": []}
SIMILAR_PREFIX = "sounds like "  # the query box after "Search by this sound": "sounds like bell.flac 0:00.0–0:08.0"

# Push to talk: the space bar held (outside a text box or a button) records into the microphone; let go, it stops
# and the spoken query runs. The recorder starts asynchronously, so a quick release waits for its Stop button.
PUSH_TO_TALK = """
() => {
  let held = false;
  const mic = () => document.querySelector('#mic');
  const busy = (t) => t && t.closest && t.closest('input, textarea, select, button, [contenteditable], audio');
  document.addEventListener('keydown', (e) => {
    if (e.code !== 'Space' || e.repeat || held || busy(e.target)) return;
    const record = mic() && mic().querySelector('button.record-button');
    if (!record) return;
    e.preventDefault(); held = true; record.click();
  });
  document.addEventListener('keyup', (e) => {
    if (e.code !== 'Space' || !held) return;
    e.preventDefault(); held = false; let tries = 0;
    const stop = () => {
      const button = mic() && mic().querySelector('button.stop-button');
      if (button) button.click(); else if (tries++ < 20) setTimeout(stop, 100);
    };
    stop();
  });
}
"""


def table(app: App, hits: list[Hit], session: str) -> list[list]:
    rows = []
    for h in hits:
        name, folder = app.shown(h.path, session)
        rows.append(
            [
                h.rank,
                name,
                folder,
                round(h.start_s, 2),
                round(h.end_s, 2),
                round(h.score, 4),
                h.why,
                round(h.scores["clap"], 4) if "clap" in h.scores else None,
                round(h.scores["text"], 4) if "text" in h.scores else None,
                h.text or "",
                h.segment_id or "",
            ]
        )
    return rows


def answer(app: App, request, search, described: str, query: str | None = None, votes: bool = False, kind: str = ""):
    """Runs a search for a visitor; returns the table and the results HTML, or the error as a message. With
    ``votes`` the cards offer "more/less like this one", and what feedback changed goes into the header; ``kind``
    ("spoken", "typed", "example"; typed when ``votes``) decides whether the best segment plays by itself."""
    session, address = session_of(request), app.address(request)
    if not app.searchable():  # said on the page, not as an error: the header already says why and what fixes it
        why = app.starting() or "No search can run: no model could be loaded; the note at the top says what fixes it."
        return EMPTY_TABLE, f'<p class="results-header" role="status">{markdown_bold(why)}</p>'
    try:
        if app.access.public:
            app.visitors.check_search(session, address)
        hits: Results = search(session)
    except AudioretError as e:
        raise app.user_error(e, session) from e
    cards = []
    for hit in hits:
        name, folder = app.shown(hit.path, session)
        moments = tuple(app.library.timeline(hit.path, query)) if query and hit.duration_s >= 30 else ()
        media = app.media
        cards.append(
            Card(
                hit,
                name,
                folder,
                media.clip(hit.path, hit.start_s, hit.end_s, session, address),
                media.whole(hit.path, session, address),
                media.spectrogram(hit.path, hit.start_s, hit.end_s, session, address),
                moments,
                votes,
            )
        )
    app.last_results[session] = (described, hits)
    if hits.changed:
        described = f"{described}, with your feedback ({hits.changed})"
    note, verdict = (app.scrub(x, session) for x in (hits.note, hits.message if hits.unheld else ""))
    unindexed = app.scrub(hits.unindexed, session)  # a channel's model the index was not made with, said first
    reasons = (hits.filters, PAGE_HINTS, hits.left_out, hits.unheld)  # why nothing came back, when nothing did
    why = "" if hits else unindexed or why_nothing(app.library, query, *reasons)
    area = results(described, cards, hits.no_good_match, kind or "typed" * votes, why, hits.example, note, verdict)
    return table(app, hits, session), area


class SearchHandlers:
    """The tab's event handlers, apart from its layout: each takes the inputs Gradio passes and returns the outputs
    its event names."""

    def __init__(self, app: App):
        self.app = app
        self.votes = Votes(app, answer, self.filters)

    def filters(self, session, folder_name, extensions, lo, hi):
        scope = self.app.scope(session, folder_name or None)
        exts_ = tuple(e.strip() for e in (extensions or "").split(",") if e.strip()) or None
        folders = scope.folders if scope else None
        chosen = self.app.selection.get(session)  # the files chosen on the map, within what the visitor may see
        if chosen is not None:
            folders = tuple(p for p in chosen if folders is None or is_under(p, folders))
        wanted, unwanted = self.app.tag_filter.get(session, ((), ()))
        return Filters(
            tags=tuple(wanted) or None,
            exclude_tags=tuple(unwanted) or None,
            folder=scope.folder if scope else None,
            folders=folders,
            extensions=exts_,
            min_duration_s=float(lo) if lo else None,
            max_duration_s=float(hi) if hi else None,
        )

    @staticmethod
    def search_inputs(ui) -> list:
        return [ui.query, ui.k, ui.clap_w, ui.text_w, ui.folder, ui.exts, ui.min_s, ui.max_s]

    @staticmethod
    def search_outputs(ui) -> list:
        return [ui.grid, ui.area, ui.heard, ui.spoken, ui.example]

    def search(
        self,
        query,
        k,
        clap_weight,
        text_weight,
        folder=None,  # the filters default to None: a script calling the page's API may leave them out
        extensions=None,
        min_seconds=None,
        max_seconds=None,
        request: gr.Request = None,
    ):
        weights = self.app.library.channels.weights({"clap": clap_weight, "text": text_weight})
        query = query or ""
        described = f"“{query.strip()}”" + self.within(session_of(request))
        return (
            *self.votes.search(
                request, query, None, k, weights, (folder, extensions, min_seconds, max_seconds), described
            ),
            "",
            None,
            None,
        )

    def set_tags(self, wanted, unwanted, request: gr.Request):
        """The tag filters of the page, kept for the session (every kind of search applies them)."""
        self.app.tag_filter[session_of(request)] = (tuple(wanted or ()), tuple(unwanted or ()))

    def chip(self, evt: gr.EventData, wanted, q, k_, cw, tw, f, e, lo, hi, request: gr.Request):
        """A tag chip on a card: only files with that tag, and the query again (the filter shows in Filters)."""
        tag = event_data(evt).get("tag")
        session = session_of(request)
        if not isinstance(tag, str) or tag not in {name for _, name in self.tag_choices(session)}:
            return (gr.skip(),) * 7  # a chip names one of the tags this visitor's files have, nothing else
        wanted = list(dict.fromkeys([*(wanted or []), tag]))
        self.app.tag_filter[session] = (tuple(wanted), self.app.tag_filter.get(session, ((), ()))[1])
        shown = gr.update(value=wanted, choices=self.tag_choices(session, wanted))
        if not (q or "").strip() or q.startswith(SIMILAR_PREFIX):  # after a search by sound: set for the next one
            return shown, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.update(open=True)
        found = self.search(q, k_, cw, tw, f, e, lo, hi, request)[:3]
        return shown, *found, gr.skip(), gr.skip(), gr.update(open=True)

    def tag_choices(self, session: str, extra=(), tags=None) -> list[tuple[str, str]]:
        """The tags a visitor may filter on (``tags``, when read already), with their kind and number of files."""
        try:
            tags = self.app.library.tags(self.app.scope(session)) if tags is None else tags
        except AudioretError:
            tags = []
        known = {t.name for t in tags}
        return [(f"{t.name} ({t.kind}, {t.files})", t.name) for t in tags] + [(t, t) for t in extra if t not in known]

    def within(self, session: str) -> str:
        """ " among the 12 files chosen on the map" while the map's selection scopes the searches."""
        chosen = self.app.selection.get(session)
        return "" if chosen is None else f" among the {len(chosen)} files chosen on the map"

    def spoken(
        self,
        recording,
        k,
        clap_weight,
        text_weight,
        folder=None,
        extensions=None,
        min_seconds=None,
        max_seconds=None,
        request: gr.Request = None,
    ):
        if not recording:
            raise gr.Error("Record or upload a spoken query first", print_exception=False)
        recording = self._recording(recording, request)
        weights = self.app.library.channels.weights({"clap": clap_weight, "text": text_weight})
        heard_ = {}

        def run(s):
            transcript, hits = self.app.library.search_spoken(
                recording,
                k=int(k),
                filters=self.filters(s, folder, extensions, min_seconds, max_seconds),
                weights=weights,
            )
            heard_["t"] = transcript
            return hits

        grid_, html = answer(self.app, request, run, "what you said", kind="spoken")
        if "t" not in heard_:  # no search ran (starting, or no channel): the results area says why
            return gr.skip(), grid_, html, "", None
        t = heard_["t"]
        html = html.replace("what you said", f"“{escape(t.english)}”", 1)
        return t.english, grid_, html, heard_sentence(self.app, t, session_of(request)), None

    def example(
        self, recording, k, folder=None, extensions=None, min_seconds=None, max_seconds=None, request: gr.Request = None
    ):
        if not recording:
            raise gr.Error("Upload or record an example sound first", print_exception=False)
        recording = self._recording(recording, request)

        def run(s):
            filters = self.filters(s, folder, extensions, min_seconds, max_seconds)
            return self.app.library.search_audio(recording, k=int(k), filters=filters)

        found = answer(self.app, request, run, "your example sound", kind="example")
        return *found, "Sounds like your example:", "", None

    def _recording(self, rec: str, request) -> str:
        app, session = self.app, session_of(request)
        try:
            return app.recording(session, app.address(request), rec)
        except AudioretError as e:
            raise app.user_error(e, session) from e

    def similar(self, segment, k, request: gr.Request):
        session = session_of(request)
        run = lambda s: self.app.library.similar(segment, k=int(k), filters=self.app.scope(s))  # noqa: E731
        label = self.app.segment_label(segment, session)
        return *answer(self.app, request, run, f"sounds like {label}" if label else "this segment"), ""

    def similar_card(self, segment, k, request: gr.Request):
        """ "Sounds like this" on a card: the search by that segment, and the query box says what was searched."""
        label = self.app.segment_label(segment, session_of(request))
        return *self.similar(segment, k, request), SIMILAR_PREFIX + (label or "this segment")

    def card(self, evt: gr.EventData, k_, request: gr.Request):
        """A click on a card: "Good match" / "Not this" re-rank with the feedback; "Search by this sound" searches by
        the segment."""
        data = event_data(evt)
        if data.get("vote") in ("like", "unlike") and str(data.get("rank", "")).isdigit():
            return *self.votes.vote(data["vote"], int(data["rank"]), request), gr.skip(), gr.skip()
        if isinstance(data.get("tag"), str):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()  # a chip: handled by chip() (it updates the filters)
        segment = data.get("segment")
        if not segment:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return self.similar_card(segment, k_, request)


def _layout(app: App, chips: bool = True) -> SimpleNamespace:
    """The tab's components, top to bottom."""
    config = app.library.config
    ui = SimpleNamespace()
    with gr.Row(equal_height=True):
        ui.query = gr.Textbox(
            label="What do you want to hear?",
            placeholder="rain on a tin roof",
            scale=5,
            elem_id="query",
            lines=1,
            max_lines=1,
        )
        ui.search_btn = gr.Button("Starting…", variant="primary", scale=1, min_width=90, interactive=False)
        ui.reset_btn = gr.Button("New search", scale=1, min_width=90, elem_id="new-search")
    with gr.Row(elem_id="chips"):
        ui.chips = [
            gr.Button(q, size="sm", variant="secondary", elem_classes=["chip"], visible=chips) for q in EXAMPLE_QUERIES
        ]
    with gr.Row(equal_height=True):
        ui.spoken = gr.Audio(
            sources=["microphone", "upload"],
            type="filepath",
            label="…or say it: click Record, or hold the space bar while you speak",
            elem_id="mic",
            scale=3,
        )
        with gr.Column(scale=1, min_width=200):
            gr.Markdown("Play the best match by itself:")
            ui.autoplay_spoken = gr.Checkbox(True, label="after a spoken query", elem_id="autoplay-spoken")
            ui.autoplay_typed = gr.Checkbox(False, label="after a typed query", elem_id="autoplay-typed")
    with gr.Accordion("Play an example sound", open=False):
        ui.example = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Sounds like this")
    with gr.Accordion("Filters and channel weights", open=False) as ui.filters:
        with gr.Row():
            ui.k = gr.Slider(1, 50, value=10, step=1, label="results")
            ui.clap_w = gr.Slider(0, 3, value=config.clap_weight, step=0.1, label="sound (CLAP) weight")
            ui.text_w = gr.Slider(0, 3, value=config.text_weight, step=0.1, label="text weight")
        with gr.Row():
            ui.tags = gr.Dropdown(
                choices=[],
                value=[],
                multiselect=True,
                label="only files tagged (sounds, speech, language, loudness, tempo, key, yours)",
                elem_id="only-tags",
                allow_custom_value=False,
            )
            ui.no_tags = gr.Dropdown(
                choices=[], value=[], multiselect=True, label="leave out files tagged", elem_id="no-tags"
            )
        with gr.Row():
            ui.folder = gr.Dropdown(
                choices=[""] + app.folder_names(""), value="", label="only in folder", allow_custom_value=False
            )
            ui.exts = gr.Textbox(label="only types (wav,flac)")
            ui.min_s = gr.Number(label="min duration (s)", value=None, minimum=0)
            ui.max_s = gr.Number(label="max duration (s)", value=None, minimum=0)
    # the labels name the outputs in the page's API ("Use via API"); the page shows none of them
    ui.heard = gr.Markdown(elem_id="heard", label="what was heard", show_label=False)
    ui.area = gr.HTML(
        "", elem_id="results", css_template=CSS, js_on_load=SCRIPT, padding=False, label="results as HTML"
    )
    build_export(app)
    # the raw numbers for the API (/search returns them); the page shows the table inside the results area
    ui.grid = gr.Dataframe(
        headers=COLUMNS, value=EMPTY_TABLE, interactive=False, visible=False, elem_id="table", label="results"
    )
    return ui


def build_search_tab(app: App, chips: bool = True):
    """The tab's layout and events; call inside ``gr.Blocks`` (``chips``: the example chips show from the start).
    Returns the components other tabs update."""
    ui, on = _layout(app, chips), SearchHandlers(app)
    filter_inputs = [ui.folder, ui.exts, ui.min_s, ui.max_s]
    settings = [ui.k, ui.clap_w, ui.text_w, *filter_inputs]
    outputs = [ui.grid, ui.area, ui.heard]
    search_inputs, search_outputs = on.search_inputs(ui), on.search_outputs(ui)
    ui.query.submit(on.search, search_inputs, search_outputs, api_name="search")
    ui.search_btn.click(on.search, search_inputs, search_outputs, api_name=False)
    for chip in ui.chips:  # a chip searches for what it says (the first load may put the library's tags there)
        chip.click(lambda text: text, chip, ui.query, api_name=False).then(
            on.search, search_inputs, search_outputs, api_name=False
        )
    spoken_outputs = [ui.query, *outputs, ui.example]
    ui.spoken.stop_recording(on.spoken, [ui.spoken, *settings], spoken_outputs, api_name=False)
    ui.spoken.upload(on.spoken, [ui.spoken, *settings], spoken_outputs, api_name="search_spoken")
    example_inputs, example_outputs = [ui.example, ui.k, *filter_inputs], [*outputs, ui.query, ui.spoken]
    ui.example.upload(on.example, example_inputs, example_outputs, api_name="search_example")
    ui.example.stop_recording(on.example, example_inputs, example_outputs, api_name=False)
    segment_box = gr.Textbox(visible=False)
    segment_box.submit(on.similar, [segment_box, ui.k], outputs, api_name="similar")
    ui.area.click(on.card, [ui.k], [*outputs, ui.query], api_name=False)
    ui.area.click(
        on.chip, [ui.tags, *search_inputs], [ui.tags, *outputs, ui.spoken, ui.example, ui.filters], api_name=False
    )
    for box in (ui.tags, ui.no_tags):
        box.change(on.set_tags, [ui.tags, ui.no_tags], None, api_name=False)
    ui.reset_btn.click(
        lambda: ("", None, None, EMPTY_TABLE, "", ""),
        None,
        [ui.query, ui.spoken, ui.example, ui.grid, ui.area, ui.heard],
        api_name=False,
    )
    return ui, on
