"""The Library tab: add files (or a zip of them) with a progress bar, index a server folder, remove from the index."""

from __future__ import annotations

from pathlib import Path

from ..errors import AudioretError
from ..render import report_markdown
from .state import App, user_error


def progress_callback(progress):
    """An ``on_progress`` for the library that moves a ``gr.Progress`` bar."""

    def update(p):
        progress(p.files_done / max(p.files_total, 1), desc=f"indexing: {p.files_done}/{p.files_total} files")

    return update


def build_library_tab(app: App):
    """The tab's layout and events; returns its status Markdown (the page load fills it). Call in ``gr.Blocks``."""
    import gradio as gr

    library_status = gr.Markdown()
    uploads = gr.File(label="Add audio files (or a zip of them)", file_count="multiple", type="filepath",
                      elem_id="uploads")  # fmt: skip
    add_btn = gr.Button("Add and index", variant="primary")
    report_box = gr.Markdown(elem_id="report")
    with gr.Row(visible=app.allow_server_folders):
        server_folder = gr.Textbox(label="Index a folder on the server")
        server_btn = gr.Button("Index folder")
    with gr.Row():
        remove_path = gr.Textbox(label="Remove a file or folder from the index (its path)")
        remove_btn = gr.Button("Remove")

    def do_add(files, progress=gr.Progress()):
        try:
            report, skipped = app.library.add_files(files or [], app.uploads, progress_callback(progress))
        except AudioretError as e:
            raise user_error(e) from e
        return report_markdown(report, skipped), app.stats_markdown()

    def do_index_folder(path, progress=gr.Progress()):
        if not app.allow_server_folders:
            raise gr.Error("Indexing server folders is off; start the app with --allow-server-folders")
        try:
            report = app.index([path], progress_callback(progress))
        except AudioretError as e:
            raise user_error(e) from e
        app.roots.append(str(Path(path).resolve()))
        return report_markdown(report), app.stats_markdown()

    def do_remove(path):
        removed = app.library.remove([path]) if path else []
        note = "\n".join(f"- removed `{p}`" for p in removed) or "Nothing in the index matched."
        return note, app.stats_markdown()

    add_btn.click(do_add, [uploads], [report_box, library_status], api_name="add_files")
    server_btn.click(do_index_folder, [server_folder], [report_box, library_status], api_name=False)
    remove_btn.click(do_remove, [remove_path], [report_box, library_status], api_name="remove")
    return library_status, report_box
