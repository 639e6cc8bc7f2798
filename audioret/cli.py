"""``audioret`` command line: index, search, similar, transcribe, eval, stats, remove, duplicates, tags, tag.

User errors (missing files, unloadable models, bad settings) print one line to stderr and exit with code 2; an
``index`` run in which every file failed exits with code 1. Each command is one short function with its flags
beside it; eval's are in :mod:`audioret.cli_eval`, the tags' in :mod:`audioret.cli_tags`, the duplicates' in
:mod:`audioret.cli_duplicates`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import os
import sys
import threading
import warnings
from pathlib import Path

from . import __version__, cli_tags
from .cli_duplicates import add_duplicates, run_duplicates
from .cli_eval import add_eval, run_eval
from .cli_index import add_index, run_index
from .config import ASR_ENGINES, BACKENDS, PRECISIONS, Config
from .errors import AudioretError, InputError, NoSpeechError, message
from .render import hit_lines, length, time_range
from .types import Filters, Results

EXIT_USAGE = 2


def _settings(default) -> argparse.ArgumentParser:
    """The settings flags, accepted before and after the command. The copy on each command has SUPPRESS defaults
    so that it does not overwrite a flag given before the command."""
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("settings (each also read from AUDIORET_<NAME>)")
    g.add_argument("--data-dir", default=default, help="where the index lives (AUDIORET_DATA_DIR)")
    g.add_argument("--clap-model", default=default, help="CLAP hub id or local directory (AUDIORET_CLAP_MODEL)")
    g.add_argument("--device", default=default, help="auto, cpu, cuda, cuda:N or mps (AUDIORET_DEVICE)")
    g.add_argument(
        "--backend",
        default=default,
        choices=BACKENDS,
        help="what runs the models: auto (torch on a GPU, else openvino or onnxruntime), torch, "
        "onnxruntime, openvino (AUDIORET_BACKEND)",
    )
    g.add_argument(
        "--precision",
        default=default,
        choices=PRECISIONS,
        help="fp32, or int8 (opt-in, approximate; onnxruntime/openvino) (AUDIORET_PRECISION)",
    )
    g.add_argument("--chroma-url", default=default, help="http://host:port of a chroma server (AUDIORET_CHROMA_URL)")
    g.add_argument("--text-model", default=default, help="sentence-transformers model (AUDIORET_TEXT_MODEL)")
    g.add_argument("--asr-model", default=default, help="Whisper size, hub id or directory (AUDIORET_ASR_MODEL)")
    g.add_argument("--asr-engine", default=default, choices=ASR_ENGINES, help="Whisper engine (AUDIORET_ASR_ENGINE)")
    g.add_argument("-v", "--verbose", action="store_true", default=default or False, help="log debug messages")
    return common


def _results(weights: bool = True) -> argparse.ArgumentParser:
    """The results' options; the channels' weights only where a query goes to several channels (an example
    recording goes to the sound channel alone)."""
    results = argparse.ArgumentParser(add_help=False)
    r = results.add_argument_group("results")
    r.add_argument("-k", type=int, default=10, help="number of files to return (default 10)")
    r.add_argument("--json", action="store_true", help="print results as JSON")
    r.add_argument("--folder", help="only files under this folder")
    r.add_argument("--ext", help="only these extensions, comma-separated (wav,flac)")
    r.add_argument("--min-duration", type=float, help="only files at least this many seconds long")
    r.add_argument("--max-duration", type=float, help="only files at most this many seconds long")
    cli_tags.add_filter(r)
    if weights:
        r.add_argument("--clap-weight", type=float, help="weight of the sound channel, 0 = off (AUDIORET_CLAP_WEIGHT)")
        r.add_argument("--text-weight", type=float, help="weight of the text channel, 0 = off (AUDIORET_TEXT_WEIGHT)")
    r.add_argument(
        "--export",
        metavar="FILE",
        help="also write the results to FILE: .m3u8/.m3u playlist, .csv, .json, or .zip of the segments as WAV clips",
    )
    return results


def build_parser() -> argparse.ArgumentParser:
    common, results = _settings(argparse.SUPPRESS), _results()
    parser = argparse.ArgumentParser(
        prog="audioret", description="Search your audio library with language.", parents=[_settings(None)]
    )
    parser.add_argument("--version", action="version", version=f"audioret {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_index(sub.add_parser("index", parents=[common], help="index (or update) folders and files"), _count)

    p = sub.add_parser("search", parents=[common, results], help="search by text, or by a spoken query")
    p.add_argument("query", nargs="?")
    p.add_argument("--spoken", metavar="FILE", help="a recording of the query: transcribe it, then search")
    p.add_argument(
        "--like",
        action="append",
        default=[],
        metavar="ID",
        help="more like this result (a segment id or path from earlier results; repeat for more)",
    )
    p.add_argument(
        "--unlike",
        action="append",
        default=[],
        metavar="ID",
        help="less like this result, and leave it out (repeat for more)",
    )

    p = sub.add_parser("transcribe", parents=[common], help="what is said in a recording, and its language")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--translate", action="store_true", help="also translate non-English speech to English")
    p.add_argument("--indexed", action="store_true", help="what the index holds as said in FILE (an indexed file)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "similar", parents=[common, _results(weights=False)], help="search by example: files that sound like FILE"
    )
    p.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="an example recording; a file of the library, a copy or an excerpt of one",
    )
    p.add_argument("--segment", help='"more like this": a segment id from earlier results, instead of FILE')

    add_eval(sub.add_parser("eval", parents=[common], help="retrieval quality on a labelled or captioned audio set"))

    p = sub.add_parser("stats", parents=[common], help="what is in the index")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", parents=[common], help="remove files or folders from the index")
    p.add_argument("paths", nargs="+", metavar="PATH")

    add_duplicates(sub, common)
    cli_tags.add_commands(sub, common)
    return parser


def _count(raw: str) -> int | str:
    if raw.strip().lower() == "auto":
        return "auto"
    try:
        return int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or auto, got {raw!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = cli_tags.argv(sys.argv[1:] if argv is None else list(argv))
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # "search -rain" reads -rain as an option: say how to search for it
        hint = f" (a query that starts with '-' goes after --: audioret search -- '{unknown[0]} ...')"
        minus = args.command == "search" and unknown[0].startswith("-") and not unknown[0].startswith("--")
        parser.error(f"unrecognized arguments: {' '.join(unknown)}" + hint * minus)
    lines = logging.StreamHandler()
    lines.setFormatter(_Lines())
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, handlers=[lines])
    # a warning is one line, like the errors (not Python's "file:line: UserWarning: ..." pair)
    warnings.showwarning = lambda message, *_, **__: print(f"audioret: warning: {message}", file=sys.stderr)
    try:
        code = _run(args, parser)
        sys.stdout.flush()  # a reader that stopped early (| head) is found here, not at exit
        return code
    except BrokenPipeError:
        return _stopped_reading()
    except NoSpeechError as e:
        print(f"audioret: {e}", file=sys.stderr)
        return 1
    except AudioretError as e:
        print(f"audioret: error: {message(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("audioret: interrupted; the index is consistent and the next run resumes", file=sys.stderr)
        return 130


class _Lines(logging.Formatter):
    """``audioret: WARNING: ...``, and a progress line (logged with ``extra={"progress": True}``) as
    ``audioret: ...``."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        level = "" if getattr(record, "progress", False) else f"{record.levelname}: "
        return f"audioret: {level}{record.message}"


def _stopped_reading() -> int:
    """The reader of stdout closed it (``audioret search rain --json | head``): stop quietly, exit 1. Python's
    recipe: stdout goes to devnull, so that flushing it at exit raises nothing."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1


def _run(args, parser) -> int:
    from .library import Library

    if args.command in ("search", "similar", "stats", "files", "tags"):
        # chromadb takes 1.4 s to import on 2 cores: do it on the other core while the models load
        threading.Thread(target=importlib.import_module, args=("chromadb",), daemon=True).start()
    overrides = {name: getattr(args, name, None) for name in SETTINGS}
    config = Config.from_env(**overrides)
    if args.command in READERS and config.chroma_url is None and not config.store_path.is_dir():
        # a mistyped --data-dir would have been made an empty index, and the reader told only that it is empty
        raise InputError(
            f"There is no index in {config.data_dir}: `audioret index FOLDER` makes one there "
            "(--data-dir or AUDIORET_DATA_DIR names the folder of another)"
        )
    lib = Library(config)
    if args.command == "eval":
        return run_eval(args, lib, parser)
    return COMMANDS[args.command](args, lib, parser)


READERS = ("search", "similar", "stats", "remove", "duplicates", "tags", "tag")  # need an index, make none

SETTINGS = (
    "data_dir",
    "clap_model",
    "device",
    "backend",
    "precision",
    "chroma_url",
    "text_model",
    "asr_model",
    "asr_engine",
    "hop_s",
    "batch_size",
    "decode_workers",
    "transcribe",
    "clap_weight",
    "text_weight",
)


def _stats(args, lib, parser) -> int:
    stats = lib.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for key, value in stats.items():
            if key == "hours":  # 0.02 h reads as nothing: the length in words (--json keeps the hours)
                print(f"{'audio':>17}: {length(value * 3600)}")
            else:
                print(f"{key:>17}: {value:.2f}" if isinstance(value, float) else f"{key:>17}: {value}")
    return 0


def _remove(args, lib, parser) -> int:
    removed = lib.remove(args.paths)
    for path in removed:
        print(f"removed: {path}")
    if not removed:
        print("nothing in the index matched", file=sys.stderr)
    return 0


def _transcribe(args, lib, parser) -> int:
    if args.indexed:  # what a quoted phrase is looked for in
        said = lib.said(args.file)
        if args.json:
            print(json.dumps([dataclasses.asdict(u) for u in said], indent=2, ensure_ascii=False))
        elif said:
            print("\n".join(f"{time_range(u.start_s, u.end_s)}  {u.text}" for u in said))
        if not said:
            print(f"The index holds no speech for {args.file}: Whisper heard none in it", file=sys.stderr)
        return 0 if said else 1
    t = lib.transcribe(args.file, translate=args.translate)
    if args.json:
        print(json.dumps(t.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(f"[{t.language}] {t.text}")
        if args.translate and t.english != t.text:
            print(f"[en] {t.english}")
    return 0


def _folder(folder: str | None) -> str | None:
    """A ``--folder`` as the index names files: absolute (a relative one is taken from where the command runs)."""
    return str(Path(folder).expanduser().resolve()) if folder else None


def _filters(args) -> Filters:
    return Filters(
        folder=_folder(args.folder),
        extensions=tuple(e for e in args.ext.split(",") if e) if args.ext else None,
        min_duration_s=args.min_duration,
        max_duration_s=args.max_duration,
        **cli_tags.filter_tags(args),
    )


def _search(args, lib, parser) -> int:
    if (args.query is None) == (args.spoken is None):
        parser.error("search takes either a QUERY or --spoken FILE")
    if args.query is not None:
        filters = _filters(args)
        hits = lib.search(args.query, k=args.k, filters=filters, like=args.like, unlike=args.unlike)
        _print_hits(hits, args.json, {"query": args.query}, lib, args.export)
        if saved := lib.judge(args.query, args.like, args.unlike):
            print(
                f"saved {saved} judgement{'s' * (saved != 1)} to {lib.judgements_path} "
                "(score them: audioret eval --qrels)",
                file=sys.stderr,
            )
        return 0
    t, hits = lib.search_spoken(args.spoken, k=args.k, filters=_filters(args))
    if not args.json:
        print(f"heard [{t.language}]: {t.text}" + (f"  (searched: {t.english})" if t.english != t.text else ""))
    spoken = {"file": args.spoken, "text": t.text, "language": t.language, "searched": t.english}
    _print_hits(hits, args.json, {"query": t.english, "spoken": spoken}, lib, args.export)
    return 0


def _similar(args, lib, parser) -> int:
    if (args.file is None) == (args.segment is None):
        parser.error("similar takes either FILE or --segment ID")
    if args.segment:
        hits = lib.similar(args.segment, k=args.k, filters=_filters(args))
        seg = lib.segment(args.segment, _filters(args)) or {}  # where "more like this" starts: said first
        start = {"path": seg.get("path"), "start_s": seg.get("start_s"), "end_s": seg.get("end_s")}
        if not args.json and seg:
            print(f"more like {seg['path']} at {time_range(seg['start_s'], seg['end_s'])}:")
        _print_hits(hits, args.json, {"segment": args.segment, "segment_at": start}, lib, args.export)
    else:
        hits = lib.search_audio(args.file, k=args.k, filters=_filters(args))
        _print_hits(hits, args.json, {"example": args.file}, lib, args.export)
    return 0


COMMANDS = {
    "index": run_index,
    "stats": _stats,
    "remove": _remove,
    "transcribe": _transcribe,
    "search": _search,
    "similar": _similar,
    "duplicates": run_duplicates,
    **cli_tags.COMMANDS,
}


def _print_hits(hits: Results, as_json: bool, query: dict, lib=None, export: str | None = None):
    if export:  # written before the list is shown (a folder that cannot be written stops the command), said after it
        from .clips import cut_clip
        from .export import write

        clips = lib.config.data_dir / "clips"
        said = hits.to_dict()  # how the query was read and what feedback changed, as --json says them (the page
        told = {**query, **{key: said[key] for key in ("note", "feedback") if key in said}}  # puts its own, scrubbed)
        written = write(hits, export, told, lambda h: cut_clip(h.path, h.start_s, h.end_s, clips))
    _show_hits(hits, as_json, query)
    if export:
        sys.stdout.flush()  # the list first, then the line on stderr that says where it went
        print(f"exported {len(hits)} result{'s' * (len(hits) != 1)} to {written}", file=sys.stderr)


def _show_hits(hits: Results, as_json: bool, query: dict):
    if as_json:
        print(json.dumps({**query, **hits.to_dict()}, indent=2, ensure_ascii=False))
        return
    if hits.changed:
        print(f"with your feedback: {hits.changed}")
    if hits.note:
        print(hits.note)
    if not hits:
        print(f"No results: {hits.empty or 'nothing in the index passes the query'}")  # as --json's message says
    elif hits.no_good_match:
        print(f"{hits.message}. The closest, all weak:")
    elif hits.message:  # a quoted phrase no file holds: found by its words
        print(f"{hits.message}:")
    for h in hits:
        print("\n".join(hit_lines(h)))


if __name__ == "__main__":
    sys.exit(main())
