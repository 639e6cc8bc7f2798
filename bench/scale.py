"""Scale: query latency, recall, build time, disk and memory of the segment store from 10k to 1M vectors.

    python bench/scale.py [--sizes 10000 100000 1000000] [--queries 300] [--ef-search 100 200 400]
    python bench/scale.py --e2e 100000      # end-to-end text query latency over 100k segments
    python bench/scale.py --sizes 1000000 --filters 100   # also filtered queries (extension, duration, folder)

One store grows through the sizes (the build time of a size is the time to add its vectors to the smaller one).
At each size a fresh process opens the store the way the app does and measures, side by side:

- store: ``Store.query`` top-10, one query at a time (HNSW, audioret's collection settings);
- exact: a brute-force numpy scan (one matrix-vector product and argpartition) over the same vectors;
- recall@10 of the store against the exact top 10, at chroma's default ef_search and the values of --ef-search;
- the process's resident memory after opening the store and querying (before the numpy copy is loaded), and the
  store's size on disk.

The vectors are synthetic but shaped like audio embeddings, not uniform noise: 512-d, unit length, drawn around
2,000 cluster centres from a power-law spectrum (a few directions carry most of the variance, as in CLAP's
embedding space). Queries are fresh draws from the same distribution, so they are near, not in, the library.
Each record carries the metadata the indexer writes. Results go to bench/out/scale/ (JSON, and a plot of latency
and memory against size with --plot); docs/BENCHMARKS.md has the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

DIM = 512
CLUSTERS = 2000
MODEL = "bench/scale-synthetic"  # names the collection


def spectrum(dim: int) -> np.ndarray:
    return (np.arange(1, dim + 1) ** -0.8).astype(np.float32)


def draw(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    """Unit vectors around cluster centres, with a power-law spread; deterministic for (n, seed)."""
    centres = np.random.default_rng(0).standard_normal((CLUSTERS, dim)).astype(np.float32) * spectrum(dim)
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, CLUSTERS, n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32) * spectrum(dim)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


EXTS = ("flac", "mp3", "wav", "ogg")


def metadata(i: int) -> dict:
    """What the indexer writes for a segment (file i // 6, segment i % 6). Files spread over 10 top folders of 50
    each, four formats (a quarter each) and durations of 30-79 s, so that filters select realistic shares."""
    f, s = divmod(i, 6)
    ext = EXTS[f % 4]
    path = f"/music/library/genre-{f % 10}/folder-{f % 500:03d}/recording-{f:07d}.{ext}"
    return {
        "path": path,
        "folder": os.path.dirname(path),
        "name": os.path.basename(path),
        "ext": ext,
        "hash": f"{f:032x}",
        "size": 4_000_000,
        "mtime_ns": 1_700_000_000_000_000_000,
        "duration_s": 30.0 + (f * 7) % 50,
        "sample_rate": 44100,
        "channels": 2,
        "format": "FLAC/PCM_16",
        "n_segments": 6,
        "hop_s": 7.5,
        "seg_index": s,
        "start_s": s * 7.5,
        "end_s": min(s * 7.5 + 10, 45.0),
        "is_last": s == 5,
    }


def seg_id(i: int) -> str:
    return f"seg-{i}"


def real_id(i: int) -> str:
    """The id the indexer gives segment i % 6 of file i // 6 (search reads the file from it)."""
    from audioret.store.records import segment_id

    return segment_id(metadata(i)["path"], i % 6)


def build(store, vectors_file: Path, start: int, stop: int, chunk: int = 20_000, ids=None) -> float:
    """Adds vectors [start, stop) to the store and to the flat file; returns the seconds spent in the store."""
    seconds = 0.0
    with open(vectors_file, "ab") as f:
        for lo in range(start, stop, chunk):
            hi = min(lo + chunk, stop)
            x = draw(hi - lo, seed=1 + lo // chunk)
            f.write(x.tobytes())
            t0 = time.perf_counter()
            store.add([(ids or seg_id)(i) for i in range(lo, hi)], x, [metadata(i) for i in range(lo, hi)])
            seconds += time.perf_counter() - t0
    return seconds


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentiles(ms: list[float]) -> dict:
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3)}


def measure(args) -> dict:
    """In a fresh process: open the store, time queries, then the exact scan, and compare."""
    from audioret.store.chroma import Store

    store = Store(MODEL, DIM, path=args.data)
    n = store.count()
    queries = draw(args.queries, seed=10_000)
    store.query(queries[:5], 10)  # load the index
    if args.filters:
        return {"n": n, "filters": filtered(store, queries[: args.filters])}
    latency, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        matches = store.query(q[None], 10)[0]
        latency.append((time.perf_counter() - t0) * 1000)
        found.append({int(m.id.split("-")[1]) for m in matches})
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    x = np.fromfile(args.data / "vectors.f32", np.float32, count=n * DIM).reshape(n, DIM)
    exact_ms, recall = [], []
    for q, f in zip(queries, found):
        t0 = time.perf_counter()
        scores = x @ q
        top = np.argpartition(-scores, 10)[:10]
        top = top[np.argsort(-scores[top])]
        exact_ms.append((time.perf_counter() - t0) * 1000)
        recall.append(len(f & set(top.tolist())) / 10)
    hnsw = store.collection.configuration_json["hnsw"]
    return {
        "n": n,
        "hnsw": {k: hnsw[k] for k in ("max_neighbors", "ef_construction", "ef_search")},
        "store": percentiles(latency),
        "exact": percentiles(exact_ms),
        "rss_mb": round(rss_mb),
        "recall@10": round(float(np.mean(recall)), 4),
    }


FILTERS = {
    "extension (mp3: 25 % of files)": {"extensions": ("mp3",)},
    "duration 30-40 s (20 %)": {"min_duration_s": 30, "max_duration_s": 39.5},
    "folder (genre-3: 10 %)": {"folder": "/music/library/genre-3"},
    "extension and duration (5 %)": {"extensions": ("wav",), "min_duration_s": 60},
    "rare extension (none: aiff)": {"extensions": ("aiff",)},
}


def filtered(store, queries: np.ndarray) -> dict:
    """ranking.nearest.best_files (10 files) under each filter, checked on the candidates as audioret does, against the
    same
    filter given to Chroma as a ``where`` clause (a single top-40 query; the old way)."""
    from audioret.ranking.nearest import best_files
    from audioret.store.filters import where
    from audioret.types import Filters, Scope

    out = {}
    for name, kwargs in FILTERS.items():
        filters = Filters(**kwargs)
        ours, chroma = [], []
        for q in queries:
            t0 = time.perf_counter()
            found = best_files(store, q, 10, Scope(filters))
            ours.append((time.perf_counter() - t0) * 1000)
            assert all(m.metadata["ext"] in (filters.extensions or EXTS) for m in found)
        for q in queries[:10]:
            if where(filters) is None:
                break
            t0 = time.perf_counter()
            store.query(q[None], 40, where(filters))
            chroma.append((time.perf_counter() - t0) * 1000)
        out[name] = {
            "audioret": percentiles(ours),
            "files": len(found),
            "chroma where": percentiles(chroma) if chroma else None,
        }
    return out


def end_to_end(args) -> dict:
    """Library.search over n CLAP segments and n/2 text passages, with the real CLAP architecture and MiniLM."""
    from audioret import Config, Library
    from audioret.store.chroma import Store
    from bench.index_throughput import build_full_size_model

    model = str(build_full_size_model(HERE / "out" / "clap-htsat-random-textspread", text_only=True))
    text_model = os.environ.get("AUDIORET_TEXT_MODEL", "sentence-transformers/all-MiniLM-L6-v2")
    data = args.data / "e2e"
    config = Config(data_dir=data, clap_model=model, text_model=text_model, device="cpu", backend=args.backend)
    store = Store(model, DIM, path=data / "chroma")
    have = store.count()
    build_s = build(store, data / "vectors.f32", have, args.e2e, ids=real_id) if have < args.e2e else None
    text_store = Store(text_model, 384, path=data / "chroma", channel="text", words=True)
    if text_store.count() < args.e2e // 2:
        for lo in range(text_store.count(), args.e2e // 2, 20_000):
            hi = min(lo + 20_000, args.e2e // 2)
            x = draw(hi - lo, seed=50_000 + lo, dim=384)
            text_store.add(
                [real_id(i) for i in range(lo, hi)],
                x,
                [{**metadata(i), "kind": "name"} for i in range(lo, hi)],
                [f"recording {i}" for i in range(lo, hi)],
            )
    text_store.sync_words()  # the word index of a store built before it existed (as `audioret index` would)
    lib = Library(config)
    queries = [
        "rain on a tin roof",
        "a dog barking in the distance",
        "the part where they talk about the harvest",
        "church bells",
        "someone typing on a keyboard",
        "waves on a beach at night",
    ]
    for q in queries:
        lib.search(q, k=10)  # load the models and the indexes
    result = {
        "segments": store.count(),
        "passages": text_store.count(),
        "build_s": build_s,
        "queries": len(queries) * args.repeat,
    }
    torch_model = hasattr(lib.embedder, "processor")  # else an export (backends.py), with its own tokenizer
    byte_tokenizer = lib.embedder.processor.tokenizer if torch_model else lib.embedder._tokens
    result["backend"] = getattr(lib.embedder, "backend", "torch")
    # Our offline CLAP copy has a byte-level tokenizer: "rain on a tin roof" is 20 tokens, where roberta's BPE
    # (the real checkpoint's) makes 7, one per common word plus <s> and </s>. The second pass feeds sequences of
    # that length (the model's cost depends on the length, not on which tokens).
    words = _word_tokenizer if torch_model else lambda texts: {k: v.numpy() for k, v in _word_tokenizer(texts).items()}
    for tokens, tokenizer in (("byte-level tokens", byte_tokenizer), ("roberta-length tokens", words)):
        if torch_model:
            lib.embedder.processor.tokenizer = tokenizer
        else:
            lib.embedder._tokens = tokenizer
        parts = {"clap text encode": [], "text channel encode": [], "search (both channels, fused)": []}
        for _ in range(args.repeat):
            for q in queries:
                t0 = time.perf_counter()
                lib.embedder.embed_text([q])
                t1 = time.perf_counter()
                lib.text_encoder.encode([q])
                t2 = time.perf_counter()
                lib.search(q, k=10)
                t3 = time.perf_counter()
                for name, ms in zip(parts, ((t1 - t0), (t2 - t1), (t3 - t2))):
                    parts[name].append(ms * 1000)
        result[tokens] = {k: percentiles(v) for k, v in parts.items()}
    return result


def _word_tokenizer(texts, **_):
    """Token ids with the length roberta's BPE gives common English words: <s>, one per word, </s>."""
    import torch

    longest = max(len(t.split()) for t in texts) + 2
    ids = torch.ones((len(texts), longest), dtype=torch.long)  # <pad> = 1
    mask = torch.zeros_like(ids)
    for row, t in enumerate(texts):
        n = len(t.split())
        ids[row, : n + 2] = torch.tensor([0] + [100 + (hash(w) % 1000) for w in t.split()] + [2])
        mask[row, : n + 2] = 1
    return {"input_ids": ids, "attention_mask": mask}


def plot(path: Path, rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["n"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, label in (("store", "store top-10 (HNSW)"), ("exact", "exact numpy scan")):
        left.plot(n, [r[name]["p50_ms"] for r in rows], "o-", label=f"{label}, p50")
        left.plot(n, [r[name]["p95_ms"] for r in rows], "o--", label=f"{label}, p95", alpha=0.6)
    left.set(xscale="log", yscale="log", xlabel="segment vectors", ylabel="ms per query", title="Query latency")
    right.plot(n, [r["rss_mb"] for r in rows], "o-", label="resident memory of a process serving the store")
    right.plot(n, [r["disk_mb"] for r in rows], "s-", label="store on disk")
    right.set(xscale="log", xlabel="segment vectors", ylabel="MiB", title="Memory and disk")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--ef-search", type=int, nargs="+", default=[100, 200, 400], help="the first is the one reported")
    p.add_argument("--hnsw", type=json.loads, help="settings of a new store, JSON (default: audioret's store.HNSW)")
    p.add_argument("--data", type=Path, default=HERE / "out" / "scale" / "store")
    p.add_argument("--e2e", type=int, help="measure end-to-end text queries over this many segments instead")
    p.add_argument("--tag", default="", help="added to the result file names (scale<TAG>-<size>.json)")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--backend", default="auto", help="with --e2e: what runs the models (audioret's --backend)")
    p.add_argument("--fresh", action="store_true", help="delete the store first")
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--filters", type=int, default=0, help="also time filtered queries, with this many queries")
    p.add_argument("--plot", type=Path, help="draw latency and memory against size from the JSON results")
    args = p.parse_args()
    out = HERE / "out" / "scale"
    out.mkdir(parents=True, exist_ok=True)
    if args.measure:
        print(json.dumps(measure(args)))
        return
    if args.plot:
        files = [
            f
            for f in out.glob(f"scale{args.tag}-*.json")
            if f.stem.rsplit("-", 1)[1].isdigit() and f.stem.rsplit("-", 1)[0] == f"scale{args.tag}"
        ]
        rows = sorted((json.loads(f.read_text()) for f in files), key=lambda r: r["n"])
        plot(args.plot, rows)
        return
    if args.e2e:
        result = end_to_end(args)
        print(json.dumps(result, indent=2))
        (out / f"e2e-{args.e2e}-{result['backend']}.json").write_text(json.dumps(result, indent=2))
        return
    if args.fresh and args.data.exists():
        shutil.rmtree(args.data)
    from audioret.store.chroma import Store

    args.data.mkdir(parents=True, exist_ok=True)
    store = Store(MODEL, DIM, path=args.data, hnsw=args.hnsw)
    for size in sorted(args.sizes):
        have = store.count()
        if have > size:
            raise SystemExit(f"the store already holds {have} vectors; use --fresh")
        build_s = build(store, args.data / "vectors.f32", have, size, ids=real_id if args.filters else None)
        previous = out / f"scale{args.tag}-{size}.json"
        if have == size and previous.exists():  # measuring an existing store again: keep how long it took to build
            build_s, have = (
                json.loads(previous.read_text())["build_s"],
                size - json.loads(previous.read_text())["added"],
            )
        cmd = [sys.executable, __file__, "--measure", "--data", str(args.data), "--queries", str(args.queries)]
        row = {
            "added": size - have,
            "build_s": round(build_s, 1),
            "disk_mb": round((disk_bytes(args.data) - (args.data / "vectors.f32").stat().st_size) / 2**20),
        }
        for ef in (
            [] if args.filters else args.ef_search
        ):  # ef_search is read when a process opens the collection: one process per value
            store.collection.modify(configuration={"hnsw": {"ef_search": ef}})
            run = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            row = {**run, **row} if "store" not in row else row
            row.setdefault("by_ef_search", {})[ef] = {"recall@10": run["recall@10"], **run["store"]}
        store.collection.modify(configuration={"hnsw": {"ef_search": args.ef_search[0]}})
        if args.filters:  # a store built with the indexer's ids (file and segment), filters timed
            run = subprocess.run([*cmd, "--filters", str(args.filters)], check=True, capture_output=True, text=True)
            row = {**row, **json.loads(run.stdout)}
            print(json.dumps(row), flush=True)
            (out / f"scale{args.tag}-{size}.json").write_text(json.dumps(row, indent=2))
            continue
        print(json.dumps(row), flush=True)
        (out / f"scale{args.tag}-{size}.json").write_text(json.dumps(row, indent=2))
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
