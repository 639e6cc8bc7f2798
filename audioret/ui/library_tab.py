"""The Library tab: what is indexed (a list to filter, with its duration, channels and whether it holds speech),
files to add (or a zip of them), and removing one file after a confirmation: a visitor's own uploads, or anything
for the admin. In the public mode an admin login turns the management controls on for that browser session.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr  # at module level: Gradio reads the handlers' gr.Request / gr.EventData hints here

from ..errors import AudioretError, InputError
from ..render import duration, report_markdown
from .duplicates_view import build_duplicates_view
from .state import App, session_of

LIST_COLUMNS = ["file", "folder", "duration", "channels", "speech"]
PUBLIC_COLUMNS = [*LIST_COLUMNS, "yours"]  # the public mode marks a visitor's own uploads
ADD_CONCURRENCY = 16  # add_files requests handled at once: each copies its files, then waits for its indexing turn


def progress_callback(progress):
    """An ``on_progress`` for the library that moves a ``gr.Progress`` bar."""

    def update(p):
        progress(p.files_done / max(p.files_total, 1), desc=f"indexing: {p.files_done}/{p.files_total} files")

    return update


def listing(app: App, session: str, pattern: str = "", files=None) -> list[list]:
    """The list of indexed files a visitor may see (``files``, when read already), filtered by a piece of their name
    or folder."""
    rows = []
    for f in app.library.files(app.scope(session)) if files is None else files:
        name, folder = app.shown(f.path, session)
        if pattern and pattern.lower() not in f"{folder}/{name}".lower():
            continue
        speech = {True: "yes", False: "no", None: "?"}[f.speech]
        row = [name, folder, duration(f.duration_s), " + ".join(f.channels).replace("clap", "sound"), speech]
        if app.access.public:
            row.append("yes" if app.owns(session, f.path) and not app.can_manage(session) else "")
        rows.append(row)
    return rows


def describe(app: App, path: str) -> str:
    """A file's tags (strongest first) and measured properties, in a line each."""
    try:
        info = app.library.file_properties(path)
    except AudioretError as e:
        return app.scrub(str(e))
    tags = info.get("tags") or {}
    line = "tags: " + (", ".join(sorted(tags, key=lambda t: -tags[t])) if tags else "none yet")
    shown = {"loudness_lufs": "{:.1f} LUFS", "tempo_bpm": "{:.0f} BPM", "key": "key {}", "language": "language {}"}
    props = [fmt.format(info[k]) for k, fmt in shown.items() if info.get(k) is not None]
    if info.get("speech_share") is not None:
        props.append(f"speech {info['speech_share']:.0%} of the time")
    return line + ("\n\n" + " · ".join(props) if props else "")


def find(app: App, session: str, shown: str) -> str:
    """The server path of a file the visitor may see, from its ``folder/name`` as listed."""
    for f in app.library.files(app.scope(session)):
        name, folder = app.shown(f.path, session)
        if shown.strip() in (f"{folder}/{name}", name):
            return f.path
    # on a public page the name alone: a guessed server path, echoed, is scrubbed differently when it is right
    name = Path(shown.strip()).name if app.access.public else shown
    name = name if len(name) <= 120 else name[:120] + "…"
    if app.access.public:
        raise InputError(f"No file named {name!r} in the library; name it as the list does")
    raise InputError(f"No file {name!r} in the library")


def _layout(app: App) -> SimpleNamespace:
    """The tab's components, top to bottom."""
    ui = SimpleNamespace()
    with gr.Row():
        ui.pattern = gr.Textbox(label="Find in the library", placeholder="part of a name or folder", scale=4)
        ui.refresh = gr.Button("Refresh", scale=1, min_width=80)
    columns = PUBLIC_COLUMNS if app.access.public else LIST_COLUMNS
    ui.files = gr.Dataframe(
        headers=columns, interactive=False, wrap=True, elem_id="files", max_height=420, label="files", show_label=False
    )
    ui.chosen = gr.Textbox(visible=False, elem_id="chosen")
    with gr.Row(visible=False, elem_id="chosen-file") as ui.file_row:
        ui.file_text = gr.Markdown(elem_id="chosen-text")
        with gr.Column(scale=0, min_width=260, visible=app.access.open_management) as ui.tag_column:
            ui.tag_box = gr.Textbox(label="your tag", placeholder="e.g. field recording", elem_id="my-tag")
            with gr.Row():
                ui.tag_add = gr.Button("Add my tag", size="sm", min_width=100)
                ui.tag_remove = gr.Button("Remove this tag", size="sm", min_width=120)
        ui.ask_btn = gr.Button("Remove from the index…", scale=0, min_width=190, size="sm")
    with gr.Row(visible=False) as ui.confirm_row:
        ui.confirm_text = gr.Markdown()
        ui.confirm_btn = gr.Button("Yes, remove it", variant="stop", scale=0, min_width=140)
        ui.cancel_btn = gr.Button("Cancel", scale=0, min_width=90)
    ui.uploads = gr.File(
        label="Add audio files (or a zip of them)", file_count="multiple", type="filepath", elem_id="uploads"
    )
    ui.add_btn = gr.Button("Add and index", variant="primary")
    ui.report = gr.Markdown(elem_id="report", label="report", show_label=False)
    with gr.Accordion("Admin", open=False, visible=app.access.public and app.access.admin is not None):
        with gr.Row():
            ui.user = gr.Textbox(label="user", scale=1)
            ui.password = gr.Textbox(label="password", type="password", scale=1)
            ui.sign_in = gr.Button("Sign in", scale=0, min_width=90)
        ui.admin_note = gr.Markdown()
    with gr.Row(visible=app.allow_server_folders):
        ui.server_folder = gr.Textbox(label="Index a folder on the server")
        ui.server_btn = gr.Button("Index folder")
    build_duplicates_view(app)
    return ui


class LibraryHandlers:
    """The tab's event handlers, apart from its layout."""

    def __init__(self, app: App):
        self.app = app

    def list(self, p, request: gr.Request):
        return listing(self.app, session_of(request), p or "")

    def add(self, uploaded, p, progress=gr.Progress(), request: gr.Request = None):
        """Adds the visitor's uploads; while other uploads take their turn, the progress bar says how many."""
        app, session = self.app, session_of(request)
        try:
            report, skipped = app.add(
                session,
                app.address(request),
                list(uploaded or []),
                progress_callback(progress),
                lambda text, fraction: progress(fraction, desc=text),
            )
        except AudioretError as e:
            raise app.user_error(e, session) from e
        note = app.scrub(  # a failure's or a skipped channel's reason may hold a server path
            report_markdown(report, skipped, name=lambda p: app.shown_path(p, session)), session
        )
        return note, app.status(session), listing(app, session, p or ""), None

    def choose(self, evt: gr.SelectData, table, request: gr.Request):
        """A row click chooses the file: it is named, with what may be done to it (no question asked yet)."""
        app, session = self.app, session_of(request)
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) and evt.index else evt.index
        rows = table.values.tolist() if hasattr(table, "values") else table["data"]
        if not isinstance(row, int) or not 0 <= row < len(rows) or len(rows[row]) < 2:
            return (gr.skip(),) * 6  # a crafted call's index names no row: nothing to choose
        name, folder = rows[row][0], rows[row][1]
        shown = f"{folder}/{name}"
        path = find(app, session, shown)
        owned = app.owns(session, path)
        text = f"**{name}** ({folder})" + ("" if owned else " · only the admin may remove files of the shared library")
        text += "\n\n" + describe(app, path)
        manage = gr.update(visible=app.can_manage(session))
        return shown, gr.update(visible=True), text, gr.update(visible=owned), gr.update(visible=False), manage

    def add_tag(self, shown, tag, request: gr.Request):
        return self.retag(shown, tag, True, request)

    def remove_tag(self, shown, tag, request: gr.Request):
        return self.retag(shown, tag, False, request)

    def retag(self, shown, tag, add: bool, request: gr.Request):
        """Adds or removes one of your own tags on the chosen file (this machine, or the admin of a public page)."""
        app, session = self.app, session_of(request)
        try:
            if not app.can_manage(session):
                raise InputError("Only the admin may tag files; sign in on the Admin panel")
            if not (tag or "").strip():
                raise InputError("Type a tag first (a word or a few, such as 'field recording')")
            path = find(app, session, shown or "")
            app.library.tag(path, add=[tag] if add else [], remove=[] if add else [tag])
        except AudioretError as e:
            raise app.user_error(e, session) from e
        return f"**{shown.rpartition('/')[2]}** ({shown.rpartition('/')[0]})\n\n" + describe(app, path), ""

    def ask(self, shown, request: gr.Request):
        """ "Remove from the index…": the question, for a file the visitor may remove."""
        app, session = self.app, session_of(request)
        if not shown or not app.owns(session, find(app, session, shown)):
            return gr.update(visible=False), "Only the admin may remove files of the shared library."
        return gr.update(visible=True), f"Remove **{shown}** from the index? The file stays on disk."

    def remove(self, file, pattern, request: gr.Request):
        app, session = self.app, session_of(request)
        try:
            path = find(app, session, file or "")
            if not app.owns(session, path):
                raise InputError("Only the admin may remove files of the shared library; sign in on the Admin panel")
            removed = app.library.remove([path])
        except AudioretError as e:
            raise app.user_error(e, session) from e
        note = (
            "\n".join(f"- removed `{app.shown_path(r, session)}`" for r in removed) or "Nothing in the index matched."
        )
        hidden = gr.update(visible=False)
        return note, app.status(session), listing(app, session, pattern or ""), hidden, "", hidden

    def sign_in(self, u, pw, request: gr.Request):
        """Checks the admin login; after a few wrong tries on the account a try too soon is refused with the time
        left."""
        app, session = self.app, session_of(request)
        try:
            ok = app.visitors.sign_in(session, u or "", pw or "", app.access.admin, app.address(request))
        except AudioretError as e:
            raise app.user_error(e, session) from e
        return ("Signed in: you may remove any file." if ok else "Wrong user or password."), ""

    def index_folder(self, path, request: gr.Request, progress=gr.Progress()):
        app, session = self.app, session_of(request)
        if not app.allow_server_folders:
            raise gr.Error(
                "Indexing server folders is off; start the app with --allow-server-folders", print_exception=False
            )
        try:
            report = app.index([path], progress_callback(progress))
        except AudioretError as e:
            raise app.user_error(e, session) from e
        app.roots.append(str(Path(path).resolve()))
        return app.scrub(report_markdown(report), session), app.status(session), listing(app, session)


def build_library_tab(app: App, status):
    """The tab's layout and events; ``status`` is the page's header, which what changes the library updates.
    Returns its report box and file list (the page load fills them)."""
    ui, on = _layout(app), LibraryHandlers(app)
    ui.status = status
    ui.pattern.submit(on.list, [ui.pattern], ui.files, api_name="list_files")
    ui.refresh.click(on.list, [ui.pattern], ui.files, api_name=False)
    # uploads wait their turn in the app's own queue (fair between visitors), not in Gradio's
    ui.add_btn.click(
        on.add,
        [ui.uploads, ui.pattern],
        [ui.report, ui.status, ui.files, ui.uploads],
        api_name="add_files",
        concurrency_limit=ADD_CONCURRENCY,
    )
    ui.files.select(
        on.choose,
        [ui.files],
        [ui.chosen, ui.file_row, ui.file_text, ui.ask_btn, ui.confirm_row, ui.tag_column],
        api_name=False,
    )
    ui.tag_add.click(on.add_tag, [ui.chosen, ui.tag_box], [ui.file_text, ui.tag_box], api_name=False)
    ui.tag_remove.click(on.remove_tag, [ui.chosen, ui.tag_box], [ui.file_text, ui.tag_box], api_name=False)
    ui.ask_btn.click(on.ask, [ui.chosen], [ui.confirm_row, ui.confirm_text], api_name=False)
    removed = [ui.report, ui.status, ui.files, ui.confirm_row, ui.chosen, ui.file_row]
    ui.confirm_btn.click(on.remove, [ui.chosen, ui.pattern], removed, api_name=False)
    ui.cancel_btn.click(lambda: (gr.update(visible=False), ""), None, [ui.confirm_row, ui.chosen], api_name=False)
    remove_api = gr.Textbox(visible=False)
    remove_api.submit(on.remove, [remove_api, ui.pattern], removed, api_name="remove")
    ui.sign_in.click(on.sign_in, [ui.user, ui.password], [ui.admin_note, ui.password], api_name="sign_in")
    ui.server_btn.click(on.index_folder, [ui.server_folder], [ui.report, ui.status, ui.files], api_name=False)
    return ui.report, ui.files
