"""The web app: ``build_demo(config)`` returns the Gradio Blocks, unlaunched (``app.py`` launches it).

Handlers call only the public :class:`Library` API. Each search returns a table (what the API returns) and a
list of hits kept in a ``gr.State``, from which ``@gr.render`` draws one card per hit with a player of the matching
segment, a mel-spectrogram picture and a "more like this" button.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np

from .archive import SIDECAR_SUFFIXES, extract_audio
from .asr import NoSpeechError
from .audio import AudioDecodeError, is_audio_path
from .clap import ModelLoadError
from .config import Config
from .library import Library
from .search import Filters, Hit, clock
from .store import StoreError

logger = logging.getLogger("audioret")

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_QUERIES = ["rain on a tin roof", "the part where they talk about the harvest", "a bell ringing",
                   "someone leaving a voicemail about a car", "waves on a beach"]  # fmt: skip
# A few stops of the magma colour map (RGB), interpolated for spectrogram pictures.
MAGMA_AT = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
MAGMA = np.array([[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], np.float64)
MAX_UPLOAD_FILES = 1000  # files in one upload (a zip counts as one; see audioret.archive for its limits)
COLUMNS = ["rank", "file", "start_s", "end_s", "score", "clap", "text", "matched words", "segment_id"]
USER_ERRORS = (ValueError, KeyError, FileNotFoundError, AudioDecodeError, ModelLoadError, NoSpeechError, StoreError)


class App:
    """The state behind the page: one :class:`Library`, its upload folder, and one indexing job at a time."""

    def __init__(self, config: Config, library_paths: list[str] | None = None, allow_server_folders: bool = False):
        self.library = Library(config)
        self.uploads = config.data_dir / "uploads"
        self.clips = config.data_dir / "clips"
        self.roots = [str(Path(p).resolve()) for p in (library_paths or [])] or [str(EXAMPLES_DIR)]
        self.allow_server_folders = allow_server_folders
        self.index_lock = threading.Lock()
        self.progress = None  # the running indexing job's last IndexProgress

    @property
    def served_paths(self) -> list[str]:
        """The only folders the server may send files from: the library, uploads and cut clips."""
        return [*self.roots, str(self.uploads), str(self.clips)]

    # -- search ------------------------------------------------------------------------------------------------

    def search(self, query, k, clap_weight, text_weight, folder, extensions, min_s, max_s):
        return self.library.search(
            query or "", k=int(k), filters=_filters(folder, extensions, min_s, max_s),
            weights={"clap": float(clap_weight), "text": float(text_weight)},
        )  # fmt: skip

    def spoken(self, recording, k, clap_weight, text_weight, folder, extensions, min_s, max_s):
        if not recording:
            raise ValueError("Record or upload a spoken query first")
        transcript, hits = self.library.search_spoken(
            recording, k=int(k), filters=_filters(folder, extensions, min_s, max_s),
            weights={"clap": float(clap_weight), "text": float(text_weight)},
        )  # fmt: skip
        note = f"Heard ({transcript.language}): “{transcript.text}”"
        if transcript.english != transcript.text:
            note += f" — searched in English: “{transcript.english}”"
        return transcript.english, note, hits

    def example(self, recording, k, folder, extensions, min_s, max_s):
        if not recording:
            raise ValueError("Upload or record an example sound first")
        return self.library.search_audio(recording, k=int(k), filters=_filters(folder, extensions, min_s, max_s))

    def similar(self, segment_id: str, k):
        return self.library.similar(segment_id, k=int(k))

    def clip(self, hit: Hit) -> str:
        """A wav of the hit's matching time range, cut once and cached under data_dir/clips."""
        import soundfile as sf

        from . import audio

        key = hashlib.sha1(f"{hit.path}:{hit.start_s}:{hit.end_s}:{os.path.getmtime(hit.path)}".encode()).hexdigest()
        out = self.clips / f"{key[:20]}.wav"
        if not out.exists():
            self.clips.mkdir(parents=True, exist_ok=True)
            samples = audio.load(hit.path, start_s=hit.start_s, end_s=hit.end_s)
            tmp = out.with_suffix(".tmp.wav")
            sf.write(tmp, samples, audio.SAMPLE_RATE, subtype="PCM_16")
            os.replace(tmp, out)
        return str(out)

    def spectrogram(self, clip_path: str) -> np.ndarray:
        """A mel-spectrogram picture of a clip (RGB, uint8), by librosa."""
        import librosa

        y, sr = librosa.load(clip_path, sr=22050, mono=True)
        mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=64), ref=np.max, top_db=80)
        level = (mel[::-1] + 80) / 80  # 0 (quiet) .. 1 (loudest), low frequencies at the bottom
        image = np.stack([np.interp(level, MAGMA_AT, MAGMA[:, c]) for c in range(3)], axis=-1)
        return np.repeat(image, 2, axis=0).astype(np.uint8)

    # -- library -----------------------------------------------------------------------------------------------

    def index_in_background(self) -> threading.Thread:
        """Index the library folders (only what changed) without holding up the page or the API."""
        def run():
            try:
                self.index(self.roots)
            except (ValueError, ModelLoadError, StoreError) as e:
                logger.warning("Indexing %s at start-up: %s", self.roots, e)

        thread = threading.Thread(target=run, name="audioret-index", daemon=True)
        thread.start()
        return thread

    def index(self, paths: list[str], on_progress=None):
        if not self.index_lock.acquire(blocking=False):
            raise ValueError("An indexing job is already running; wait for it to finish")

        def track(p):
            self.progress = p
            if on_progress:
                on_progress(p)

        try:
            return self.library.index(paths, prune=False, progress=False, on_progress=track)
        finally:
            self.progress = None
            self.index_lock.release()

    def wait_for_index(self, on_progress=None, poll_s: float = 0.5) -> None:
        """Blocks while an indexing job runs (the start-up one), passing its progress on."""
        while self.index_lock.locked():
            if on_progress and self.progress is not None:
                on_progress(self.progress)
            time.sleep(poll_s)

    def add_uploads(self, files: list[str], on_progress=None):
        """Copies uploaded audio files (and NAME.txt/.json descriptions uploaded with them) into the upload
        folder, extracts zip archives safely (see :mod:`audioret.archive`), and indexes what was added."""
        if not files:
            raise ValueError("Choose audio files or a zip archive to add")
        if len(files) > MAX_UPLOAD_FILES:
            raise ValueError(f"{len(files)} files in one upload, more than the limit of {MAX_UPLOAD_FILES}; "
                             "add them in parts, or as a zip archive")  # fmt: skip
        self.uploads.mkdir(parents=True, exist_ok=True)
        audio_stems = {Path(f).stem for f in files if is_audio_path(f)}
        added, skipped = [], []
        for f in files:
            name = Path(f).name
            if name.lower().endswith(".zip"):
                try:
                    extracted = extract_audio(f, self.uploads / Path(name).stem)
                except ValueError as e:
                    skipped.append(str(e))
                    continue
                added += extracted.files
                skipped += [f"{name}: {s}" for s in extracted.skipped]
            elif is_audio_path(name) or (Path(name).suffix.lower() in SIDECAR_SUFFIXES
                                         and Path(name).stem in audio_stems):  # a description uploaded with its audio
                shutil.copyfile(f, self.uploads / name)
                added += [str(self.uploads / name)] if is_audio_path(name) else []
            else:
                skipped.append(f"{name}: not an audio file type audioret indexes")
        report = self.index(added, on_progress=on_progress) if added else None
        return report, skipped

    def stats_markdown(self) -> str:
        s = self.library.stats()
        device = _device_name(self.library.config.device)
        names = {"clap": "The sound (CLAP) channel", "text": "The text channel"}
        off = "".join(
            f"\n\n**{names[c]} is off**, searches use the other one. {e}" for c, e in self.library.channel_errors.items()
        )
        return (
            f"**{s['files']} files**, {s['segments']} sound segments, {s['passages']} text passages "
            f"({s['speech_passages']} spoken), {s['hours']:.2f} h of audio · device: {device}\n\n"
            f"Models: CLAP `{s['clap_model']}` · text `{s['text_model']}` · Whisper `{s['asr_model']}`{off}"
        )


def _filters(folder, extensions, min_s, max_s) -> Filters:
    exts = tuple(e.strip() for e in (extensions or "").split(",") if e.strip()) or None
    return Filters(
        folder=folder or None, extensions=exts,
        min_duration_s=float(min_s) if min_s else None, max_duration_s=float(max_s) if max_s else None,
    )  # fmt: skip


def _device_name(device: str) -> str:
    from .devices import resolve_device

    resolved = resolve_device(device)
    if resolved.type == "cuda":
        import torch

        return f"GPU ({torch.cuda.get_device_name(resolved)})"
    return resolved.type.upper()


def table(hits: list[Hit]) -> list[list]:
    return [
        [h.rank, h.path, round(h.start_s, 2), round(h.end_s, 2), round(h.score, 4),
         round(h.scores["clap"], 4) if "clap" in h.scores else None,
         round(h.scores["text"], 4) if "text" in h.scores else None, h.text or "", h.segment_id or ""]
        for h in hits
    ]  # fmt: skip


def build_demo(
    config: Config | None = None, library_paths: list[str] | None = None, allow_server_folders: bool = False
):
    """The audioret page, unlaunched. ``library_paths`` are indexed on first load (default: ``examples/``)."""
    import gradio as gr

    app = App(config or Config.from_env(), library_paths, allow_server_folders)

    def user_error(e: Exception):
        return gr.Error(" ".join(str(e.args[0] if isinstance(e, KeyError) else e).split()))

    with gr.Blocks(title="audioret — search your audio with language") as demo:
        demo.audioret = app  # for tests and app.py
        hits_state = gr.State([])
        gr.Markdown("# audioret\nSearch your audio library with language: type it, say it, or play an example.")
        status = gr.Markdown(elem_id="status")
        with gr.Tab("Search"):
            with gr.Row():
                query = gr.Textbox(label="What do you want to hear?", placeholder="rain on a tin roof", scale=4,
                                   elem_id="query")  # fmt: skip
                search_btn = gr.Button("Search", variant="primary", scale=1)
            with gr.Row():
                spoken = gr.Audio(sources=["microphone", "upload"], type="filepath", label="…or say it")
                example = gr.Audio(sources=["upload", "microphone"], type="filepath", label="…or play an example")
            heard = gr.Markdown()
            with gr.Accordion("Advanced", open=False):
                with gr.Row():
                    k = gr.Slider(1, 50, value=10, step=1, label="results")
                    clap_w = gr.Slider(0, 3, value=app.library.config.clap_weight, step=0.1, label="sound (CLAP) weight")
                    text_w = gr.Slider(0, 3, value=app.library.config.text_weight, step=0.1, label="text weight")
                with gr.Row():
                    folder = gr.Textbox(label="only under folder")
                    exts = gr.Textbox(label="only types (wav,flac)")
                    min_s = gr.Number(label="min duration (s)", value=None)
                    max_s = gr.Number(label="max duration (s)", value=None)
            gr.Examples(EXAMPLE_QUERIES, inputs=[query], label="Try")
            results = gr.Dataframe(headers=COLUMNS, label="Results", interactive=False, wrap=True)

            @gr.render(inputs=[hits_state])
            def cards(hits):
                for hit in map(lambda d: Hit(**d), hits):  # the state holds plain dicts (gradio hashes state)
                    with gr.Group(key=f"card-{hit.rank}-{hit.path}"):
                        scores = " · ".join(f"{c} {v:.3f}" for c, v in hit.scores.items())
                        words = ""
                        if hit.text and hit.text_kind == "speech":
                            words = f"\n\nsaid at {clock(hit.text_start_s)}–{clock(hit.text_end_s)}: “{hit.text}”"
                        elif hit.text:
                            words = f"\n\n{hit.text_kind}: {hit.text[:200]}"
                        gr.Markdown(
                            f"**{hit.rank}. {Path(hit.path).name}** · {clock(hit.start_s)}–{clock(hit.end_s)} · "
                            f"score {hit.score:.3f} ({scores}){words}",
                            elem_classes=["hit"],
                        )
                        clip = app.clip(hit)
                        with gr.Row():
                            gr.Audio(clip, label=f"{clock(hit.start_s)}–{clock(hit.end_s)}", key=f"audio-{hit.rank}",
                                     interactive=False, elem_classes=["hit-audio"])  # fmt: skip
                            gr.Image(app.spectrogram(clip), show_label=False, height=120, key=f"spec-{hit.rank}")
                        if hit.segment_id:
                            more = gr.Button("More like this", size="sm", key=f"more-{hit.rank}")
                            more.click(
                                lambda k_, sid=hit.segment_id: _run(lambda: app.similar(sid, k_)),
                                inputs=[k], outputs=[results, hits_state, heard],
                            )  # fmt: skip

        def _run(fn, note=""):
            try:
                hits = fn()
            except USER_ERRORS as e:
                raise user_error(e) from e
            return table(hits), [h.to_dict() for h in hits], note

        filter_inputs = [folder, exts, min_s, max_s]
        search_inputs = [query, k, clap_w, text_w, *filter_inputs]

        def do_search(q, k_, cw, tw, f, e, lo, hi):
            return _run(lambda: app.search(q, k_, cw, tw, f, e, lo, hi))

        def do_spoken(rec, k_, cw, tw, f, e, lo, hi):
            try:
                text, note, hits = app.spoken(rec, k_, cw, tw, f, e, lo, hi)
            except USER_ERRORS as err:
                raise user_error(err) from err
            return text, table(hits), [h.to_dict() for h in hits], note

        def do_example(rec, k_, f, e, lo, hi):
            return _run(lambda: app.example(rec, k_, f, e, lo, hi), "Sounds like your example:")

        outputs = [results, hits_state, heard]
        query.submit(do_search, search_inputs, outputs, api_name="search")
        search_btn.click(do_search, search_inputs, outputs, api_name=False)
        spoken.stop_recording(do_spoken, [spoken, *search_inputs[1:]], [query, *outputs], api_name=False)
        spoken.upload(do_spoken, [spoken, *search_inputs[1:]], [query, *outputs], api_name="search_spoken")
        example.upload(do_example, [example, k, *filter_inputs], outputs, api_name="search_example")
        example.stop_recording(do_example, [example, k, *filter_inputs], outputs, api_name=False)

        with gr.Tab("Library"):
            library_status = gr.Markdown()
            uploads = gr.File(label="Add audio files (or a zip of them)", file_count="multiple", type="filepath",
                              elem_id="uploads")  # fmt: skip
            add_btn = gr.Button("Add and index", variant="primary")
            report_box = gr.Markdown(elem_id="report")
            with gr.Row(visible=allow_server_folders):
                server_folder = gr.Textbox(label="Index a folder on the server")
                server_btn = gr.Button("Index folder")
            with gr.Row():
                remove_path = gr.Textbox(label="Remove a file or folder from the index (its path)")
                remove_btn = gr.Button("Remove")

        def report_markdown(report, skipped=()) -> str:
            lines = [f"**{report.summary()}**"] if report else []
            lines += [f"- failed: `{f.path}`: {f.reason}" for f in (report.failed if report else [])]
            lines += [f"- {c} channel skipped: {r}" for c, r in (report.skipped_channels.items() if report else [])]
            lines += [f"- skipped: {s}" for s in skipped]
            return "\n".join(lines)

        def progress_callback(progress):
            def update(p):
                progress(p.files_done / max(p.files_total, 1), desc=f"{p.stage}: {p.files_done}/{p.files_total} files")

            return update

        def do_add(files, progress=gr.Progress()):
            try:
                report, skipped = app.add_uploads(files or [], progress_callback(progress))
            except USER_ERRORS as e:
                raise user_error(e) from e
            return report_markdown(report, skipped), app.stats_markdown()

        def do_index_folder(path, progress=gr.Progress()):
            if not app.allow_server_folders:
                raise gr.Error("Indexing server folders is off; start the app with --allow-server-folders")
            try:
                report = app.index([path], progress_callback(progress))
            except USER_ERRORS as e:
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

        def first_load(progress=gr.Progress()):
            """Index the library folders (only what changed), so search works at once; if the start-up job is
            already indexing them, show its progress until it is done."""
            note = ""
            try:
                report = app.index(app.roots, progress_callback(progress))
                note = report_markdown(report) if report.added or report.failed or report.skipped_channels else ""
            except ValueError:
                app.wait_for_index(progress_callback(progress))
            except ModelLoadError as e:
                note = f"**No channel could start:** {e}"
            except StoreError as e:  # e.g. another process is writing to this index
                note = f"**The library was not updated:** {e}"
            stats = app.stats_markdown()
            return stats, stats, note

        demo.load(first_load, None, [status, library_status, report_box], api_name=False, concurrency_limit=None)
    return demo
