"""``audioret duplicates``: its flags, and what it prints (the groups, what could only be checked by its bytes, and
why nothing came back); the finding is :mod:`audioret.duplicates`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .errors import InputError
from .types import Filters


def add_duplicates(sub, common) -> None:
    p = sub.add_parser(
        "duplicates", parents=[common], help="groups of indexed files that are the same recording (nothing is deleted)"
    )
    p.add_argument(
        "--threshold",
        type=float,
        help="the share of bits two copies may differ in, over 0 and under 0.5 (default 0.1; at 0.2 different "
        "recordings of one kind of sound begin to join)",
    )
    p.add_argument("--folder", help="only files under this folder")
    p.add_argument("--json", action="store_true", help="print the groups as JSON")
    p.add_argument("--csv", metavar="FILE", help="also write the groups as CSV (one row per file)")
    p.add_argument(
        "--move-extras-to",
        metavar="FOLDER",
        help="move every copy but the first of each group into FOLDER (asks first; see --yes)",
    )
    p.add_argument("--yes", action="store_true", help="move without asking")


def _some(paths: list[str], n: int = 5) -> str:
    """The first ``n`` of ``paths``, and how many more."""
    return ", ".join(paths[:n]) + (f" and {len(paths) - n} more" if len(paths) > n else "")


def run_duplicates(args, lib, parser) -> int:
    if args.csv and not Path(args.csv).expanduser().parent.is_dir():  # before the work, as export does
        raise InputError(f"Cannot write {args.csv}: there is no folder {Path(args.csv).parent}; make it first")
    groups = lib.duplicates(
        args.threshold, Filters(folder=str(Path(args.folder).expanduser().resolve())) if args.folder else None
    )
    from .render import CLI_HINTS

    # "No duplicates found" alone would say nothing was wrong where nothing was looked at (as search says it)
    empty = "" if groups.files else CLI_HINTS[2].format(folder=args.folder) if args.folder else CLI_HINTS[1]
    message = f"No duplicates: {empty}" if empty else "" if groups else "No duplicates found."
    if args.csv:
        from .duplicates import write_csv

        write_csv(groups, args.csv)
    if args.json:
        print(
            json.dumps(
                {
                    "groups": [[{**m.as_dict(), "keep": i == 0} for i, m in enumerate(g)] for g in groups],
                    "too_short": groups.too_short,
                    "steady": groups.steady,
                    **({"message": message} if message else {}),
                },
                indent=2,
            )
        )
    else:
        from .duplicates import MIN_WAVE_S
        from .render import duplicate_lines

        print("\n".join(duplicate_lines(groups)) if groups else message)
        if groups.too_short:
            print(
                f"{len(groups.too_short)} files under {MIN_WAVE_S * 1000:.0f} ms are too short to tell apart by their "
                f"sound: only exact copies of them count ({_some(groups.too_short)})"
            )
        if groups.steady:
            print(
                f"{len(groups.steady)} files hold one steady sound (a tone, a hum): only exact copies of them count "
                f"({_some(groups.steady)})"
            )
    if args.move_extras_to and groups:
        extras = [m.path for g in groups for m in g[1:]]
        if not args.yes:
            if not sys.stdin.isatty():
                raise InputError("--move-extras-to asks before moving; add --yes to move without asking")
            answer = input(f"Move {len(extras)} files into {args.move_extras_to}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing moved.")
                return 0
        for path in lib.move_files(extras, args.move_extras_to):
            print(f"moved: {path}")
    return 0
