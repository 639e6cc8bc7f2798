"""Queries that are a number, on the memos set's library (bench/fusion.py): does the file that says the number come
first, and are the files that say another number called matches?

    python bench/number_queries.py [--code DIR] [--out bench/out/fusion] [--audio ../shared/audio]

The library holds 50 FSDD spoken digits (five takes of each digit by one speaker, named ``4_george_0.wav`` ...;
Whisper tiny.en writes "4", "Four." or mishears them), 46 voice memos, 200 ESC-10 clips with numeric names
(``1-100032-A.ogg``) and more (bench/fusion_set.py). Twenty queries, written for this benchmark and in no other
set: each digit as a word ("four") and in digits ("4"); the relevant files are the five takes of that digit. Both
channels as a user has them, with the random CLAP whose answers are noise (regime (a') of bench/fusion.py).

Reported: R@1 and P@5 (the share of the first five that are takes of the digit), the hits in the first ten that
are takes of *another* digit and are called a match (score 0.5 or more), other files called a match, and "no
good match" on right and wrong tops. ``--code DIR`` runs another version of the package (DIR holds its
``audioret``, e.g. ``git worktree add /tmp/before HEAD~1``) on the same index.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIGITS = "zero one two three four five six seven eight nine".split()


def memos_set(doc: str) -> tuple[dict, dict]:
    """The memos set's libraries and queries (bench/fusion.py), opened by the package ``--code DIR`` names (this
    one's by default); ``--out`` and ``--audio`` as bench/fusion.py takes them. Parses the command line."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", help="a folder holding another version's audioret package, run instead")
    parser.add_argument("--out", default=str(HERE / "out" / "fusion"))
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    if args.code:
        sys.path.insert(0, str(Path(args.code).resolve()))
    import audioret
    from bench.fusion import open_libraries

    libraries, queries, _ = open_libraries("memos", Path(args.audio), Path(args.out))
    print(f"audioret from {Path(audioret.__file__).parent}")
    return libraries, queries


def main():
    library = memos_set(__doc__)[0]["spread"]
    paths = [f.path for f in library.files()]
    takes = {d: {p for p in paths if Path(p).name.startswith(f"{d}_")} for d in range(10)}
    rows = []
    totals = {"r1": 0, "p5": 0.0, "other digit": 0, "other file": 0, "flag right": [0, 0], "flag wrong": [0, 0]}
    for d, word in enumerate(DIGITS):
        for query in (word, str(d)):
            hits = library.search(query, k=10)
            mine = takes[d]
            others = set().union(*(takes[o] for o in range(10) if o != d))
            right = bool(hits) and hits[0].path in mine
            totals["r1"] += right
            totals["p5"] += sum(h.path in mine for h in hits[:5]) / 5
            digit = sum(h.score >= 0.5 and h.path in others for h in hits)
            other = sum(h.score >= 0.5 and h.path not in mine and h.path not in others for h in hits)
            totals["other digit"] += digit
            totals["other file"] += other
            totals["flag right" if right else "flag wrong"][0] += hits.no_good_match
            totals["flag right" if right else "flag wrong"][1] += 1
            top = f"{Path(hits[0].path).name} {hits[0].score:.2f}" if hits else "-"
            rows.append(f"| {query} | {top} | {'yes' if right else 'no'} | {digit} | {other} |")
    n = 2 * len(DIGITS)
    print("| query | top (score) | right | other digits called a match | other files called a match |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\nR@1 {totals['r1'] / n:.2f}, P@5 {totals['p5'] / n:.2f}; takes of another digit called a match in the "
        f"first ten: {totals['other digit']} (over {n} queries), other files: {totals['other file']}; "
        f"no good match on right tops {totals['flag right'][0]} of {totals['flag right'][1]}, "
        f"on wrong tops {totals['flag wrong'][0]} of {totals['flag wrong'][1]}"
    )


if __name__ == "__main__":
    main()
