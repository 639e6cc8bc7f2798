"""``audioret tags`` and ``audioret tag``, and the ``--tag`` filter of ``search`` and ``similar``.

``--tag rain`` keeps the files tagged "rain" (repeat: every one required); ``--tag -music`` leaves out the files
tagged "music". ``audioret tag FILE +rain -music`` adds "rain" to a file's own tags and takes "music" off it
(``--add`` / ``--remove`` say the same, and take a tag that starts with a sign or is one letter long). argparse
reads ``-music`` as an unknown flag, so :func:`argv` writes such words as ``--tag=-music`` and ``--remove=music``
before parsing.
"""

from __future__ import annotations

import argparse
import json
import re

FLAG = "--tag"
TAG_SEP = " · "  # between tags: AudioSet labels hold commas ("canidae, dogs, wolves")
_WORD = re.compile(r"^-[^-\d].+$")  # "-music": a tag to leave out or remove, not a short flag such as -k or -v


def argv(args: list[str]) -> list[str]:
    """The command line with ``--tag -T`` as ``--tag=-T``, and after the ``tag`` command ``-T`` as ``--remove=T``."""
    out: list[str] = []
    command = None
    for i, arg in enumerate(args):
        if out and out[-1] == FLAG and arg.startswith("-") and arg not in ("-h", "--help"):
            out[-1] = f"{FLAG}={arg}"
            continue
        if command == "tag" and _WORD.match(arg) and not (out and out[-1] in ("--add", "--remove")):
            out.append(f"--remove={arg[1:]}")
            continue
        if command is None and arg in ("tag", "tags", "search", "similar", "index", "stats"):
            command = arg
        out.append(arg)
    return out


def add_filter(group) -> None:
    """The ``--tag`` flag, on the results of ``search`` and ``similar``."""
    group.add_argument(
        FLAG,
        action="append",
        default=[],
        metavar="TAG",
        dest="tag",
        help="only files with this tag; -TAG leaves the files with it out (repeat; `audioret tags` lists them)",
    )


def filter_tags(args) -> dict:
    """``Filters`` keywords from ``--tag``: ``tags`` required, ``exclude_tags`` left out (None when not given)."""
    given = getattr(args, "tag", None) or []
    keep = tuple(t for t in given if not t.startswith("-"))
    leave = tuple(t[1:] for t in given if t.startswith("-"))
    return {"tags": keep or None, "exclude_tags": leave or None}


def add_commands(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("tags", parents=[common], help="the tags of the indexed files, with their numbers of files")
    p.add_argument("--folder", help="only files under this folder")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "tag",
        parents=[common],
        help="add (+TAG) or remove (-TAG) your own tags of an indexed file; without either, list its tags",
        description="Your tags are kept in the file's JSON sidecar (NAME.json beside it): a re-index keeps them, and "
        "a search finds them through the file's text. Example: audioret tag rain.wav +rain +night -music",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("changes", nargs="*", metavar="+TAG", help="a tag to add (+TAG); -TAG removes one")
    p.add_argument("--add", action="append", default=[], metavar="TAG", help="a tag to add (repeat for more)")
    p.add_argument("--remove", action="append", default=[], metavar="TAG", help="a tag to remove (repeat for more)")
    p.add_argument("--json", action="store_true")


def _tags(args, lib, parser) -> int:
    from .types import Filters

    found = lib.tags(Filters(folder=args.folder) if args.folder else None)
    if args.json:
        print(json.dumps({"tags": [{"name": t.name, "kind": t.kind, "files": t.files} for t in found]}, indent=2))
    elif not found:
        print("No tags yet: `audioret index FOLDER` tags the files it indexes (unless AUDIORET_TAGS=0).")
    for t in found if not args.json else ():
        print(f"{t.files:>6}  {t.name}  ({t.kind})")
    return 0


def _tag(args, lib, parser) -> int:
    bad = [c for c in args.changes if not c.startswith("+")]
    if bad:
        parser.error(f"expected +TAG to add or -TAG to remove, got {bad[0]!r} (use --add for a tag without a sign)")
    add = [c[1:] for c in args.changes] + args.add
    tags = lib.tag(args.file, add, args.remove)
    if args.json:
        print(json.dumps({"file": args.file, "tags": tags}, indent=2, ensure_ascii=False))
    else:
        print(TAG_SEP.join(f"{name} ({strength:.2f})" for name, strength in tags.items()) or "no tags")
    return 0


COMMANDS = {"tags": _tags, "tag": _tag}
