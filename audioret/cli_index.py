"""``audioret index``: its flags and what it prints (a single-process run, or one on a Ray cluster with
``--cluster``: :mod:`audioret.indexing.cluster`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable


def add_index(p: argparse.ArgumentParser, count: Callable):
    """The flags of ``audioret index`` (``count`` parses a whole number or auto)."""
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--hop", type=float, dest="hop_s", help="seconds between window starts (AUDIORET_HOP_S)")
    p.add_argument("--batch-size", type=count, help="windows per model call, or auto (AUDIORET_BATCH_SIZE)")
    p.add_argument(
        "--workers", type=count, dest="decode_workers", help="decoding threads, or auto (AUDIORET_DECODE_WORKERS)"
    )
    p.add_argument("--no-prune", action="store_true", help="keep index entries of files that no longer exist")
    p.add_argument("--report", metavar="FILE", help="also write the JSON report here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    no_transcribe(p)
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run on Ray: local (this machine's cores and GPUs), auto, or ray://HOST:10001 "
        '(pip install "audioret[cluster]")',
    )
    p.add_argument(
        "--actors", type=int, metavar="N", help="with --cluster: model actors per channel (default: by the cluster)"
    )


def run_index(args, lib, parser) -> int:
    """``audioret index``: the run, its one-line summary, what limited it, and each failure."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm():  # a log line (a model being prepared) above the bar, not through it
        report = lib.index(
            args.paths, prune=not args.no_prune, progress=not args.no_progress, cluster=args.cluster, actors=args.actors
        )
    if args.report:
        report.write_json(args.report)
    print(report.summary())
    from .indexing.pipeline import bottleneck

    indexed = len(report.added) + len(report.updated) + report.unchanged
    embedded = report.segments + report.passages  # with nothing embedded there is no limit to name
    if embedded and (limit := bottleneck(report.stages)):
        engine = report.settings.get("engine", "")
        how = f"batch {report.settings.get('batch_size')}, {report.settings.get('decode_workers')} decode threads"
        print(f"{limit} ({engine if engine.startswith('ray') else how})", file=sys.stderr)
    for channel, reason in report.skipped_channels.items():
        print(f"warning: the {channel} channel was not indexed: {reason}", file=sys.stderr)
    for failure in report.failed:
        print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    if report.failed:
        print(f"The failures are listed in {args.report or lib.report_path}", file=sys.stderr)
    if not report.found and not report.removed:  # an empty folder, or one of other files
        from .audio import AUDIO_EXTENSIONS

        kinds = " ".join(sorted(AUDIO_EXTENSIONS))
        where = ", ".join(args.paths)
        print(f"audioret: error: no audio file was found in {where} (the kinds read: {kinds})", file=sys.stderr)
        return 1  # no file could be indexed (README): a script that named the wrong folder is told
    if report.failed and not indexed:
        n, named = len(report.failed), "; ".join(f"{os.path.basename(f.path)}: {f.reason}" for f in report.failed[:3])
        more = f"; and {n - 3} more" if n > 3 else ""
        print(f"audioret: error: no file could be indexed: all {n} failed ({named}{more})", file=sys.stderr)
        return 1
    return 0


def no_transcribe(p: argparse.ArgumentParser) -> None:
    """``--no-transcribe``, as ``index`` and ``eval`` take it: None when not given (the config decides)."""
    p.add_argument(
        "--no-transcribe",
        dest="transcribe",
        action="store_false",
        default=None,
        help="transcribe no speech in new or changed files; transcripts made before stay (AUDIORET_TRANSCRIBE=0)",
    )
