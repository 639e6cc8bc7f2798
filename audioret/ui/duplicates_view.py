"""The Duplicates panel of the Library tab: groups of files that are the same recording, each copy with what tells
it apart (format, sample rate, channels, duration, bitrate, size) and a player; the copies to set aside are marked
(all but the suggested one, at first) and the list downloads as CSV. Moving the marked copies into a folder, after
a confirmation, is for whoever may manage the library (locally, or the admin in the public mode). Nothing is
deleted. A visitor sees names relative to the library and only the files they may see.
"""

from __future__ import annotations

import html

import gradio as gr

from ..errors import AudioretError, InputError
from ..render import closeness, duration, size_text
from .state import App, session_of


def table_html(app: App, groups, session: str, address: str = "") -> str:
    """The groups as an HTML table with a player per copy (media tokens: no server path reaches the page)."""
    from ..duplicates import MIN_WAVE_S

    short, steady = getattr(groups, "too_short", []), getattr(groups, "steady", [])
    note = (
        f"<p>{len(short)} files under {MIN_WAVE_S * 1000:.0f} ms are too short to tell apart by their sound: only "
        "exact copies of them count.</p>"
        if short
        else ""
    )
    if steady:
        note += f"<p>{len(steady)} files hold one steady sound (a tone, a hum): only exact copies of them count.</p>"
    if not groups:
        return "<p>No duplicates: every file in the library is its own recording.</p>" + note
    rows = []
    for n, group in enumerate(groups, 1):
        for i, m in enumerate(group):
            name = html.escape(app.shown_path(m.path, session))
            player = f'<audio controls preload="none" src="{app.media.whole(m.path, session, address)}"></audio>'
            channels = "mono" if m.channels == 1 else f"{m.channels} ch"
            note = "keep (suggested)" if i == 0 else closeness(m)
            rows.append(
                f"<tr><td>{n}</td><td>{name}</td><td>{html.escape(m.format)}</td>"
                f"<td>{m.sample_rate / 1000:g} kHz</td><td>{channels}</td><td>{duration(m.duration_s)}</td>"
                f"<td>{m.kbps:.0f} kb/s</td><td>{size_text(m.size)}</td><td>{note}</td><td>{player}</td></tr>"
            )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("group", "file", "format", "rate", "channels", "duration", "bitrate", "size", "", "listen")
    )
    total = sum(len(g) for g in groups)
    return (
        f"<p>{len(groups)} group{'s' * (len(groups) != 1)} of copies, {total} files.</p>{note}"
        f'<table class="duplicates"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


class DuplicatesHandlers:
    """The panel's event handlers; each browser session keeps the groups it last found."""

    def __init__(self, app: App):
        self.app = app
        self.found: dict[str, list] = {}  # session -> its last groups
        app.on_end.append(lambda session: self.found.pop(session, None))

    def find(self, request: gr.Request, progress=gr.Progress()):
        app, session = self.app, session_of(request)
        try:
            groups = app.library.duplicates(
                filters=app.scope(session), on_progress=lambda d, n: progress(d / max(n, 1), desc=f"{d}/{n} files")
            )
            csv = _csv(app, groups, session, app.address(request)) if groups else None
        except AudioretError as e:
            raise app.user_error(e, session) from e
        self.found[session] = groups
        names = [app.shown_path(m.path, session) for g in groups for m in g]
        extras = [app.shown_path(m.path, session) for g in groups for m in g[1:]]
        link = ""
        if csv:
            href = app.media.download(csv, session, app.address(request))
            link = f'<a class="download" href="{href}" download="duplicates.csv">Download the list (CSV)</a>'
        return table_html(app, groups, session, app.address(request)), gr.update(choices=names, value=extras), link

    def chosen_paths(self, session: str, names: list[str]) -> list[str]:
        by_name = {self.app.shown_path(m.path, session): m.path for g in self.found.get(session, []) for m in g}
        return [by_name[n] for n in names or [] if n in by_name]

    def ask(self, names, folder, request: gr.Request):
        session = session_of(request)
        if not self.app.can_manage(session):
            return gr.update(visible=False), "", "Only the admin may move files; sign in on the Admin panel."
        paths = self.chosen_paths(session, names)
        if not paths or not (folder or "").strip():
            return gr.update(visible=False), "", "Mark some copies and name a folder first."
        return gr.update(visible=True), f"Move **{len(paths)}** files into `{folder.strip()}`? Nothing is deleted.", ""

    def move(self, names, folder, request: gr.Request):
        app, session = self.app, session_of(request)
        try:
            if not app.can_manage(session):
                raise InputError("Only the admin may move files; sign in on the Admin panel")
            roots = [*app.roots] + [str(app.uploads)] * (not app.access.public)  # never gradio-uploads, say
            moved = app.library.move_files(self.chosen_paths(session, names), folder.strip(), roots)
        except AudioretError as e:
            raise app.user_error(e, session) from e
        except OSError as e:
            raise gr.Error(f"Could not move the files: {e.strerror or e}", print_exception=False) from e
        self.found.pop(session, None)
        return (
            gr.update(visible=False),
            f"Moved {len(moved)} files into `{folder.strip()}`.",
            "",
            gr.update(choices=[], value=[]),
        )


def build_duplicates_view(app: App):
    on = DuplicatesHandlers(app)
    with gr.Accordion("Duplicates", open=False, elem_id="duplicates"):
        find_btn = gr.Button("Find duplicates")
        table = gr.HTML()
        marked = gr.CheckboxGroup(label="Marked copies (to set aside)", choices=[], elem_id="marked")
        download = gr.HTML()
        with gr.Row():
            target = gr.Textbox(label="Move the marked copies into this folder", scale=4)
            move_btn = gr.Button("Move…", scale=1, min_width=90)
        with gr.Row(visible=False) as confirm_row:
            confirm_text = gr.Markdown()
            confirm_btn = gr.Button("Yes, move them", variant="stop", scale=0, min_width=140)
            cancel_btn = gr.Button("Cancel", scale=0, min_width=90)
        note = gr.Markdown()
    find_btn.click(on.find, None, [table, marked, download], api_name=False)
    move_btn.click(on.ask, [marked, target], [confirm_row, confirm_text, note], api_name=False)
    confirm_btn.click(on.move, [marked, target], [confirm_row, note, table, marked], api_name=False)
    cancel_btn.click(lambda: gr.update(visible=False), None, confirm_row, api_name=False)


def _csv(app: App, groups, session: str, address: str = "") -> str:
    """The list as CSV: server paths on a local app, names as shown in the public mode."""
    from ..duplicates import write_csv

    path = app.export_folder("duplicates-", session, address) / "duplicates.csv"
    write_csv(groups, path, (lambda p: app.shown_path(p, session)) if app.access.public else str)
    return str(path)
