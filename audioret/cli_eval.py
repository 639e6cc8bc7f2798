"""``audioret eval``: its flags, and the retrieval quality it prints, on a labelled or captioned set or on the
judgements saved from the app. :mod:`audioret.evaluate` computes the metrics; this module reads the flags and
prints.
"""

from __future__ import annotations

import argparse
import json
import sys

from .cli_index import no_transcribe
from .errors import InputError
from .eval_data import FORMATS, TEMPLATE


def add_eval(p: argparse.ArgumentParser):
    p.add_argument(
        "dataset",
        metavar="DATASET",
        nargs="?",
        help="a folder per class, or a CSV: path,label | Clotho captions | AudioCaps captions",
    )
    p.add_argument(
        "--qrels",
        metavar="FILE",
        nargs="?",
        const="",
        help="score the library as it is against your own 👍 / 👎 instead of a set (default FILE: "
        "judgements.jsonl in the data directory, written by the app and by search --like)",
    )
    p.add_argument("--format", choices=FORMATS, help="default: guessed")
    p.add_argument("--audio-dir", help="where a captions CSV's audio files are (default: next to the CSV)")
    p.add_argument("--template", default=TEMPLATE, help="query for a class (default: %(default)s)")
    p.add_argument("--label-column", default="label", help="the CSV column holding the class (default: label)")
    p.add_argument("--channels", default="clap,text,fused", help="which rankings to score (default: %(default)s)")
    p.add_argument(
        "--keep-names",
        action="store_true",
        help="index under the files' own names (the text channel then sees names and folders)",
    )
    no_transcribe(p)
    p.add_argument("--json", metavar="FILE", help="also write the full result as JSON")
    p.add_argument("--plot", metavar="FILE", help="also draw the R@k curve (PNG/SVG/PDF)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_eval(args, lib, parser) -> int:
    from . import evaluate

    if (args.dataset is None) == (args.qrels is None):
        parser.error("eval takes either a DATASET or --qrels [FILE]")
    if args.qrels is not None:
        return _eval_judgements(args, lib, _channels(args))
    dataset = evaluate.load_dataset(args.dataset, args.format, args.audio_dir, args.template, args.label_column)
    result = evaluate.evaluate(
        lib.config,
        dataset,
        _channels(args),
        template=args.template,
        keep_names=args.keep_names,
        progress=not args.no_progress,
    )
    d = result["dataset"]
    print(
        f"audioret {result['audioret']} eval: {d['name']} ({d['format']}), {d['files']} files, {d['queries']} "
        f"queries, fingerprint {d['fingerprint']}"
    )
    for role, model in result["models"].items():
        print(f"  {role} model: {model['id']} @ {model['revision']}")
    print("  settings: " + ", ".join(f"{k}={v}" for k, v in result["settings"].items() if v not in (None, {})))
    problems = [f"{d['missing_files']} files named by the dataset are missing"] * bool(d["missing_files"])
    for problem in problems + [f"failed: {f}" for f in d["failed_files"]]:
        print(f"  warning: {problem}", file=sys.stderr)
    zero_shot = result["zero_shot_accuracy"]
    note = "" if zero_shot is None else f"\nzero-shot accuracy (CLAP, argmax over the class prompts): {zero_shot:.3f}"
    return _eval_results(args, result, note, f"{d['name']}: {d['queries']} queries")


def _channels(args) -> list[str]:
    from .evaluate import CHANNELS

    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    if unknown := set(channels) - set(CHANNELS):
        raise InputError(f"Unknown channel(s) {', '.join(sorted(unknown))}; expected clap, text or fused")
    return channels


def _eval_judgements(args, lib, channels) -> int:
    from . import evaluate

    path = args.qrels or lib.judgements_path
    result = evaluate.evaluate_judgements(lib, path, channels)
    j = result["judgements"]
    print(
        f"audioret {result['audioret']} eval: your judgements in {j['file']}: {j['queries']} queries, "
        f"{j['relevant']} relevant of {j['judged_files']} judged files"
    )
    if j["relevant_not_indexed"]:
        print(f"  warning: {len(j['relevant_not_indexed'])} relevant files are not in the index", file=sys.stderr)
    return _eval_results(args, result, "", f"your judgements: {j['queries']} queries")


def _eval_results(args, result: dict, note: str, title: str) -> int:
    """The metrics table (and a note under it), then the JSON and the plot when asked for."""
    from .evaluate import metrics_table, plot_recall

    print("\n" + "\n".join(metrics_table(result["metrics"])))
    if note:
        print(note)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2, ensure_ascii=False)
    if args.plot:
        plot_recall(result["recall_curve"], args.plot, title)
    return 0
