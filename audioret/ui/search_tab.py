"""The Search tab: a query typed, spoken or played, the results table (what the API returns) and one card per hit.

The hits of the last search are kept in a ``gr.State`` as plain dicts, from which ``@gr.render`` draws the cards:
a player of the matching segment, a spectrogram picture and a "More like this" button.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import AudioretError
from ..media import spectrogram_image
from ..render import channel_scores, matched_text, time_range
from ..types import Hit
from .state import App, user_error

EXAMPLE_QUERIES = ["rain on a tin roof", "the part where they talk about the harvest", "a bell ringing",
                   "someone leaving a voicemail about a car", "waves on a beach"]  # fmt: skip
COLUMNS = ["rank", "file", "start_s", "end_s", "score", "clap", "text", "matched words", "why", "segment_id"]


def table(hits: list[Hit]) -> list[list]:
    return [
        [h.rank, h.path, round(h.start_s, 2), round(h.end_s, 2), round(h.score, 4),
         round(h.scores["clap"], 4) if "clap" in h.scores else None,
         round(h.scores["text"], 4) if "text" in h.scores else None, h.text or "", h.why, h.segment_id or ""]
        for h in hits
    ]  # fmt: skip


def answer(fn, note: str = ""):
    """Runs a search; the table, the hits for the cards and a note, or the error as a message on the page."""
    try:
        hits = fn()
    except AudioretError as e:
        raise user_error(e) from e
    if getattr(hits, "no_good_match", False) and hits:
        note = f"{note} **{hits.message}.** The closest, all weak:".strip()
    return table(hits), [h.to_dict() for h in hits], note


def build_search_tab(app: App):
    """The tab's layout and events; call inside ``gr.Blocks``."""
    import gradio as gr

    config = app.library.config
    hits_state = gr.State([])
    with gr.Row():
        query = gr.Textbox(label="What do you want to hear?", placeholder="rain on a tin roof", scale=4, elem_id="query")
        search_btn = gr.Button("Search", variant="primary", scale=1)
    with gr.Row():
        spoken = gr.Audio(sources=["microphone", "upload"], type="filepath", label="…or say it")
        example = gr.Audio(sources=["upload", "microphone"], type="filepath", label="…or play an example")
    heard = gr.Markdown()
    with gr.Accordion("Advanced", open=False):
        with gr.Row():
            k = gr.Slider(1, 50, value=10, step=1, label="results")
            clap_w = gr.Slider(0, 3, value=config.clap_weight, step=0.1, label="sound (CLAP) weight")
            text_w = gr.Slider(0, 3, value=config.text_weight, step=0.1, label="text weight")
        with gr.Row():
            folder = gr.Textbox(label="only under folder")
            exts = gr.Textbox(label="only types (wav,flac)")
            min_s = gr.Number(label="min duration (s)", value=None)
            max_s = gr.Number(label="max duration (s)", value=None)
    gr.Examples(EXAMPLE_QUERIES, inputs=[query], label="Try")
    results = gr.Dataframe(headers=COLUMNS, label="Results", interactive=False, wrap=True)
    outputs = [results, hits_state, heard]
    _cards(app, hits_state, k, outputs)

    filter_inputs = [folder, exts, min_s, max_s]
    search_inputs = [query, k, clap_w, text_w, *filter_inputs]

    def do_search(q, k_, cw, tw, f, e, lo, hi):
        return answer(lambda: app.search(q, k_, cw, tw, f, e, lo, hi))

    def do_spoken(rec, k_, cw, tw, f, e, lo, hi):
        try:
            text, note, hits = app.spoken(rec, k_, cw, tw, f, e, lo, hi)
        except AudioretError as err:
            raise user_error(err) from err
        return text, *answer(lambda: hits, note)

    def do_example(rec, k_, f, e, lo, hi):
        return answer(lambda: app.example(rec, k_, f, e, lo, hi), "Sounds like your example:")

    query.submit(do_search, search_inputs, outputs, api_name="search")
    search_btn.click(do_search, search_inputs, outputs, api_name=False)
    spoken.stop_recording(do_spoken, [spoken, *search_inputs[1:]], [query, *outputs], api_name=False)
    spoken.upload(do_spoken, [spoken, *search_inputs[1:]], [query, *outputs], api_name="search_spoken")
    example.upload(do_example, [example, k, *filter_inputs], outputs, api_name="search_example")
    example.stop_recording(do_example, [example, k, *filter_inputs], outputs, api_name=False)


def _cards(app: App, hits_state, k, outputs):
    import gradio as gr

    @gr.render(inputs=[hits_state])
    def cards(hits):
        for hit in map(lambda d: Hit(**d), hits):  # the state holds plain dicts (gradio hashes state)
            with gr.Group(key=f"card-{hit.rank}-{hit.path}"):
                why = hit.why or matched_text(hit, limit=200, quote=("“", "”"), dash="–")
                gr.Markdown(
                    f"**{hit.rank}. {Path(hit.path).name}** · {time_range(hit.start_s, hit.end_s, '–')} · "
                    f"score {hit.score:.3f} ({channel_scores(hit, ' · ')}){f'{chr(10) * 2}{why}' if why else ''}",
                    elem_classes=["hit"],
                )
                clip = str(app.library.clip(hit))
                with gr.Row():
                    gr.Audio(clip, label=time_range(hit.start_s, hit.end_s, "–"), key=f"audio-{hit.rank}",
                             interactive=False, elem_classes=["hit-audio"])  # fmt: skip
                    gr.Image(spectrogram_image(clip), show_label=False, height=120, key=f"spec-{hit.rank}")
                if hit.segment_id:
                    more = gr.Button("More like this", size="sm", key=f"more-{hit.rank}")
                    more.click(lambda k_, sid=hit.segment_id: answer(lambda: app.similar(sid, k_)),
                               inputs=[k], outputs=outputs)  # fmt: skip
