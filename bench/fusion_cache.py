"""Every model output bench/fusion.py's rules need, written once, so a rule is re-scored over every query of a set in
seconds (bench/fusion_rules.py) instead of a run through the models and the store.

    python bench/fusion_cache.py --set memos|talks|growth [--audio ../shared/audio] [--out bench/out/fusion]

Writes ``cache.npz`` and ``cache.json`` beside the set's library (bench/out/fusion or bench/out/talks), from the
libraries bench/fusion.py builds (reused when they are there). ``--set growth`` writes two, from bench/growth.py's
libraries (the talks set, and the same with ten times as many unrelated files; the spread random CLAP and the
stand-in): under bench/out/growth/base and bench/out/growth/grown. Per library (the random CLAP collapsed and spread,
the stand-in) and for the text channel: every record's vector and file, the background sample and count, the
vectors of every query, of the reference prompts and of decoy prompts (their letters scrambled), and the text
channel's of the unrelated requests (null.UNRELATED_PROMPTS);
per query, the text channel's lexical leg (files and evidence) and, to check a re-scoring against, each channel's
own evidence for every file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from audioret.ranking.null import REFERENCE_PROMPTS  # noqa: E402
from audioret.search import Request  # noqa: E402
from bench.fusion import heard, open_libraries  # noqa: E402

DECOYS_PER_PROMPT = 4  # the cache holds this many decoys of each reference prompt; a rule may use fewer


def decoy_prompts(prompts, per_prompt: int = 1, seed: int = 0) -> list[str]:
    """Prompts that mean nothing, with the reference prompts' letters and lengths: each word's letters shuffled
    (``"a dog barking"`` -> ``"a gdo krinbag"``), ``per_prompt`` variants of each, the same every time."""
    rng = np.random.default_rng(seed)

    def scrambled(word: str) -> str:
        for _ in range(10):  # a word whose letters allow another order gets one
            new = "".join(rng.permutation(list(word)))
            if new != word:
                return new
        return word

    return [" ".join(scrambled(w) if len(w) > 2 else w for w in p.split()) for _ in range(per_prompt) for p in prompts]


def records(store) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """Every record's vector, path, kind and text."""
    got = store.collection.get(include=["embeddings", "metadatas", "documents"])
    documents = got.get("documents") or [""] * len(got["ids"])
    return (
        np.asarray(got["embeddings"], np.float32),
        [m["path"] for m in got["metadatas"]],
        [m.get("kind", "") for m in got["metadatas"]],
        [d or "" for d in documents],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("memos", "talks", "growth"), default="memos")
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.set == "growth":
        from bench.growth import open_grown

        out = Path(args.out or HERE / "out" / "growth")
        for name, (libraries, queries, _) in open_grown(Path(args.audio), out).items():
            (out / name).mkdir(parents=True, exist_ok=True)
            write(libraries, queries, libraries["stand-in"].stats()["files"], out / name, args.set)
        return
    out = Path(args.out or HERE / "out" / ("fusion" if args.set == "memos" else "talks"))
    libraries, queries, n = open_libraries(args.set, Path(args.audio), out)
    write(libraries, queries, n, out, args.set)


def write(libraries: dict, queries: dict, n: int, out: Path, set_name: str) -> None:
    """``cache.npz`` and ``cache.json`` under ``out``, from the libraries (by name; the text channel is the
    stand-in library's) and the queries ({query: (kind, relevant paths)})."""
    decoys = decoy_prompts(REFERENCE_PROMPTS, DECOYS_PER_PROMPT)
    text_lib = libraries["stand-in"]
    text = text_lib.channels["text"]
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {"set": set_name, "decoys": decoys, "libraries": list(libraries)}
    vecs, paths, kinds, docs = records(text.store)
    files = sorted(set(paths) | {p for lib in libraries.values() for p in records(lib.channels["clap"].store)[1]})
    index = {p: i for i, p in enumerate(files)}
    meta["files"] = files
    rows = []
    for query, (kind, relevant) in queries.items():
        if kind == "quote":
            said = " ".join(re.findall(r"[\w']+", query.lower()))
            kind = kind if said in heard(text_lib, next(iter(relevant))) else "quote, not in the transcript"
        rows.append({"query": query, "kind": kind, "relevant": sorted(index[p] for p in relevant)})
    meta["queries"] = rows
    requests = [Request.parse(r["query"]) for r in rows]
    sample, count = text.store.background()
    arrays |= {
        "text/records": vecs,
        "text/file": np.array([index[p] for p in paths]),
        "text/sample": sample,
        "text/reference": text.reference(),
        "text/unrelated": text.unrelated(),
        "text/decoys": text.encoder.encode(decoys),
        "text/queries": text.encoder.encode([r.words.text for r in requests]),
    }
    meta["text"] = {"count": count, "kinds": kinds, "documents": docs}
    lexical, shipped_text = [], []
    for r in requests:
        lexical.append([[index[f.match.path], float(f.evidence)] for f in text.lexical(r.words, count, r.scope)])
        shipped_text.append({index[f.match.path]: [float(f.evidence), f.leg] for f in text.rank(r, n)})
    meta["text"]["lexical"], meta["text"]["shipped"] = lexical, shipped_text
    for name, library in libraries.items():
        clap = library.channels["clap"]
        vecs, paths, _, _ = records(clap.store)
        sample, count = clap.store.background()
        arrays |= {
            f"{name}/records": vecs,
            f"{name}/file": np.array([index[p] for p in paths]),
            f"{name}/sample": sample,
            f"{name}/reference": clap.reference(),
            f"{name}/decoys": clap.embedder.embed_text(decoys),
            f"{name}/queries": np.concatenate([clap.embedder.embed_text([r.query.text]) for r in requests]),
        }
        meta[name] = {
            "count": count,
            "shipped": [{index[f.match.path]: float(f.evidence) for f in clap.rank(r, n)} for r in requests],
        }
        print(f"{name}: {len(vecs)} records, {len(sample)} in the sample", file=sys.stderr)
    np.savez_compressed(out / "cache.npz", **arrays)
    (out / "cache.json").write_text(json.dumps(meta))
    print(f"{out / 'cache.npz'}: {len(files)} files, {len(rows)} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
