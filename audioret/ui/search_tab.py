"""The Search tab: a query typed, spoken or played; example chips that search; then the results area
(:mod:`.results`), which scrolls into view, and the same results as a table behind "Show as table".

Each search clears the inputs of the other kinds of query; "New search" clears everything. "More like this" on a
card searches by that segment and says so in the header.
"""

from __future__ import annotations

import gradio as gr  # at module level: Gradio reads the handlers' gr.Request / gr.EventData hints here

from ..errors import AudioretError
from ..types import Hit, Results
from .results import CSS, SCRIPT, Card, results
from .results_actions import Votes, build_export
from .state import App

EXAMPLE_QUERIES = ["rain on a tin roof", "the part where they talk about the harvest", "a bell ringing",
                   "someone leaving a voicemail about a car", "waves on a beach"]  # fmt: skip
COLUMNS = ["rank", "file", "folder", "from", "to", "score", "why", "sound (cosine)", "text (cosine)", "matched words",
           "segment"]  # fmt: skip
EMPTY_TABLE = {"headers": COLUMNS, "data": []}


def table(app: App, hits: list[Hit], session: str) -> list[list]:
    rows = []
    for h in hits:
        name, folder = app.shown(h.path, session)
        rows.append([h.rank, name, folder, round(h.start_s, 2), round(h.end_s, 2), round(h.score, 4), h.why,
                     round(h.scores["clap"], 4) if "clap" in h.scores else None,
                     round(h.scores["text"], 4) if "text" in h.scores else None, h.text or "", h.segment_id or ""])  # fmt: skip
    return rows


def answer(app: App, request, search, described: str, query: str | None = None, votes: bool = False):
    """Runs a search for a visitor; returns the table and the results HTML, or the error as a message. With
    ``votes`` the cards offer 👍 / 👎, and what feedback changed goes into the header."""
    session = request.session_hash if request is not None else ""
    try:
        if app.access.public:
            app.visitors.check_search(session)
        hits: Results = search(session)
    except AudioretError as e:
        raise app.user_error(e, session) from e
    cards = []
    for hit in hits:
        name, folder = app.shown(hit.path, session)
        moments = tuple(app.library.timeline(hit.path, query)) if query and hit.duration_s >= 30 else ()
        cards.append(Card(hit, name, folder, app.media.clip(hit.path, hit.start_s, hit.end_s, session),
                          app.media.whole(hit.path, session), app.media.spectrogram(hit.path, hit.start_s, hit.end_s, session),
                          moments, votes))  # fmt: skip
    app.last_results[session] = (described, hits)
    if hits.changed:
        described = f"{described}, with your feedback ({hits.changed})"
    return table(app, hits, session), results(described, cards, hits.no_good_match)


def build_search_tab(app: App):
    """The tab's layout and events; call inside ``gr.Blocks``. Returns the components other tabs update."""
    config = app.library.config
    with gr.Row(equal_height=True):
        query = gr.Textbox(label="What do you want to hear?", placeholder="rain on a tin roof", scale=5,
                           elem_id="query", lines=1, max_lines=1)  # fmt: skip
        search_btn = gr.Button("Search", variant="primary", scale=1, min_width=90)
        reset_btn = gr.Button("New search", scale=1, min_width=90, elem_id="new-search")
    with gr.Row(elem_id="chips"):
        chips = [gr.Button(q, size="sm", variant="secondary", elem_classes=["chip"]) for q in EXAMPLE_QUERIES]
    with gr.Accordion("Say it, or play an example sound", open=False):
        with gr.Row():
            spoken = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Say what you want to hear")
            example = gr.Audio(sources=["upload", "microphone"], type="filepath", label="…or play an example")
    with gr.Accordion("Filters and channel weights", open=False):
        with gr.Row():
            k = gr.Slider(1, 50, value=10, step=1, label="results")
            clap_w = gr.Slider(0, 3, value=config.clap_weight, step=0.1, label="sound (CLAP) weight")
            text_w = gr.Slider(0, 3, value=config.text_weight, step=0.1, label="text weight")
        with gr.Row():
            folder = gr.Dropdown(choices=[""] + app.folder_names(""), value="", label="only in folder",
                                 allow_custom_value=False)  # fmt: skip
            exts = gr.Textbox(label="only types (wav,flac)")
            min_s = gr.Number(label="min duration (s)", value=None, minimum=0)
            max_s = gr.Number(label="max duration (s)", value=None, minimum=0)
    heard = gr.Markdown(elem_id="heard")
    area = gr.HTML("", elem_id="results", css_template=CSS, js_on_load=SCRIPT, padding=False)
    build_export(app)
    with gr.Accordion("Show as table", open=False):
        grid = gr.Dataframe(headers=COLUMNS, value=EMPTY_TABLE, interactive=False, wrap=True, elem_id="table")

    filter_inputs = [folder, exts, min_s, max_s]
    settings = [k, clap_w, text_w, *filter_inputs]
    outputs = [grid, area, heard]

    def filters(session, folder_name, extensions, lo, hi):
        from ..types import Filters

        scope = app.scope(session, folder_name or None)
        exts_ = tuple(e.strip() for e in (extensions or "").split(",") if e.strip()) or None
        return Filters(folder=scope.folder if scope else None, folders=scope.folders if scope else None,
                       extensions=exts_, min_duration_s=float(lo) if lo else None,
                       max_duration_s=float(hi) if hi else None)  # fmt: skip

    votes = Votes(app, answer, filters)

    def do_search(q, k_, cw, tw, f, e, lo, hi, request: gr.Request):
        weights = {"clap": float(cw), "text": float(tw)}
        q = q or ""
        return *votes.search(request, q, None, k_, weights, (f, e, lo, hi), f"“{q.strip()}”"), "", None, None

    def do_spoken(rec, k_, cw, tw, f, e, lo, hi, request: gr.Request):
        if not rec:
            raise gr.Error("Record or upload a spoken query first", print_exception=False)
        weights = {"clap": float(cw), "text": float(tw)}
        heard_ = {}

        def run(s):
            transcript, hits = app.library.search_spoken(rec, k=int(k_), filters=filters(s, f, e, lo, hi), weights=weights)
            heard_["t"] = transcript
            return hits

        grid_, html = answer(app, request, run, "what you said")
        t = heard_["t"]
        note = f"Heard ({t.language}): “{t.text}”" + (f" — searched in English: “{t.english}”" if t.english != t.text else "")
        return t.english, grid_, html.replace("what you said", f"“{_escape(t.english)}”", 1), note, None

    def do_example(rec, k_, f, e, lo, hi, request: gr.Request):
        if not rec:
            raise gr.Error("Upload or record an example sound first", print_exception=False)
        run = lambda s: app.library.search_audio(rec, k=int(k_), filters=filters(s, f, e, lo, hi))  # noqa: E731
        return *answer(app, request, run, "your example sound"), "Sounds like your example:", "", None

    def do_similar(segment, k_, request: gr.Request):
        session = request.session_hash if request is not None else ""
        run = lambda s: app.library.similar(segment, k=int(k_), filters=app.scope(s))  # noqa: E731
        label = app.segment_label(segment, session)
        return *answer(app, request, run, f"sounds like {label}" if label else "this segment"), ""

    def on_card(evt: gr.EventData, k_, request: gr.Request):
        data = getattr(evt, "_data", None) or {}
        if data.get("vote") in ("like", "unlike") and str(data.get("rank", "")).isdigit():
            return *votes.vote(data["vote"], int(data["rank"]), request), gr.skip()
        segment = data.get("segment")
        if not segment:
            return gr.skip(), gr.skip(), gr.skip()
        return do_similar(segment, k_, request)

    search_inputs = [query, *settings]
    query.submit(do_search, search_inputs, [*outputs, spoken, example], api_name="search")
    search_btn.click(do_search, search_inputs, [*outputs, spoken, example], api_name=False)
    for chip, text in zip(chips, EXAMPLE_QUERIES):
        chip.click(lambda t=text: t, None, query, api_name=False).then(
            do_search, search_inputs, [*outputs, spoken, example], api_name=False)  # fmt: skip
    spoken_outputs = [query, *outputs, example]
    spoken.stop_recording(do_spoken, [spoken, *settings], spoken_outputs, api_name=False)
    spoken.upload(do_spoken, [spoken, *settings], spoken_outputs, api_name="search_spoken")
    example_inputs = [example, k, *filter_inputs]
    example.upload(do_example, example_inputs, [*outputs, query, spoken], api_name="search_example")
    example.stop_recording(do_example, example_inputs, [*outputs, query, spoken], api_name=False)
    segment_box = gr.Textbox(visible=False)
    segment_box.submit(do_similar, [segment_box, k], outputs, api_name="similar")
    area.click(on_card, [k], outputs, api_name=False)
    reset_btn.click(lambda: ("", None, None, EMPTY_TABLE, "", ""), None, [query, spoken, example, grid, area, heard],
                    api_name=False)  # fmt: skip
    return folder


def _escape(text: str) -> str:
    import html

    return html.escape(text)
