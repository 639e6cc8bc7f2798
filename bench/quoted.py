"""Quoted phrases on the memos set's library (bench/fusion.py): each exact 3-4-word quote of a memo, typed in double
quotes, as a user asks for words they remember. Whisper tiny.en wrote 35 of the 46 otherwise than they were said, so
no file holds them word for word; what comes back for those?

    python bench/quoted.py [--code DIR] [--out bench/out/fusion] [--audio ../shared/audio]

Reported for the random CLAP whose answers are noise (regime (a') of bench/fusion.py: the text channel answers)
and the stand-in CLAP (regime (c)), the quotes in the transcript and those not: R@1 and MRR of the memo said, how
many came back empty, the right tops under "no good match", the wrong tops (and how many of those are under it),
and how many say "No exact match". ``--code DIR`` runs another version of the package (DIR holds its ``audioret``,
e.g. ``git worktree add /tmp/before HEAD~1``) on the same index.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.number_queries import memos_set  # noqa: E402


def main():
    libraries, queries = memos_set(__doc__)
    from bench.fusion import heard

    print()
    print(
        "| CLAP | quotes | n | R@1 | MRR | empty | right top, no good match | wrong (no good match) | No exact match |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("spread", "stand-in"):
        library = libraries[name]
        rows: dict[str, list] = {"in the transcript": [], "not in it": []}
        for query, (kind, relevant) in queries.items():
            if kind != "quote":
                continue
            said = " ".join(re.findall(r"[\w']+", query.lower())) in heard(library, next(iter(relevant)))
            hits = library.search(f'"{query}"', k=10)
            rank = next((i for i, h in enumerate(hits, 1) if h.path in relevant), None)
            exact = hits.message.startswith("No exact match")
            rows["in the transcript" if said else "not in it"].append((rank, bool(hits), hits.no_good_match, exact))
        for which, found in rows.items():
            n = len(found)
            wrong = [r for r in found if r[1] and r[0] != 1]
            print(
                f"| {name} | {which} | {n} | {sum(r[0] == 1 for r in found) / n:.2f} "
                f"| {sum(1 / r[0] for r in found if r[0]) / n:.2f} | {sum(not r[1] for r in found)} "
                f"| {sum(r[0] == 1 and r[2] for r in found)} | {len(wrong)} ({sum(r[2] for r in wrong)}) "
                f"| {sum(r[3] for r in found)} |"
            )


if __name__ == "__main__":
    main()
