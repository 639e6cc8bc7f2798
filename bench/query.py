"""Warm text query: the whole query beside the two models it needs, timed side by side in one process.

    python bench/query.py                          # a small library (ESC-10 clips) and 100k segments
    python bench/query.py --sizes small --rounds 5 # the small library only
    python bench/query.py --sizes small --profile  # and where a query's time goes beyond the models (cProfile)
    python bench/query.py --sizes 100000 --ways    # the query path's ways side by side (``WAYS``)
    python bench/query.py --sizes 100000 --stores  # the stores' queries alone: the floor under the own work

A warm text query embeds the query twice (CLAP's text tower, the text channel's encoder) and then asks the stores
and fuses; the target is that the whole ``Library.search`` costs at most the two models + 5 ms. Each round runs
every query five ways, one after the other in the same process: the CLAP text tower alone (``embed_text``), the
text encoder alone (``encode``), ``Library.search(q, k=10)`` at the default weights, and the same search with the
two models' answers for the query already computed (the query path's own work alone; its results are checked to
be the same), and that once more for a query with a word added, whose records the stores have not kept yet. The report
gives p50 and p95 of each over all rounds, and of search minus the two models measured
just before it.

The libraries:

- small: ``--files`` ESC-10 clips from ../shared/audio/esc10 (or ``--audio``), indexed with both channels (names
  and tags in the text channel; no transcription), which makes a few hundred windows;
- 100k: 100,000 CLAP segments and 50,000 text passages with the indexer's metadata (``bench/scale.py``'s
  synthetic vectors), built once under bench/out/query/.

The models: laion/clap-htsat-unfused's architecture with random weights (``bench/index_throughput.py``) and the
packaged all-MiniLM-L6-v2, on the default backend. Results go to bench/out/query/ as JSON; docs/BENCHMARKS.md has
the table ("Warm query").
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

QUERIES = (
    "rain on a tin roof",
    "a dog barking in the distance",
    "the part where they talk about the harvest",
    "church bells",
    "someone typing on a keyboard",
    "waves on a beach at night",
    "a baby crying",
    "a clock ticking",
    "a helicopter flying over",
    "fire crackling",
)


def percentiles(values: list[float]) -> dict:
    v = np.asarray(values)
    return {"p50_ms": round(float(np.percentile(v, 50)), 2), "p95_ms": round(float(np.percentile(v, 95)), 2)}


def models(out: Path) -> tuple[str, str]:
    from bench.index_throughput import build_full_size_model
    from tests.conftest import TEXT_MODEL

    clap = str(build_full_size_model(out / "clap-htsat-random-textspread", text_only=True))
    return clap, os.environ.get("AUDIORET_TEXT_MODEL") or TEXT_MODEL


def small_library(args, clap: str, text: str):
    from audioret import Config, Library

    audio = Path(args.audio)
    if not audio.is_dir():
        sys.exit(f"No ESC-10 clips in {audio}; give --audio FOLDER")
    lib = Library(
        Config(
            data_dir=args.out / "small",
            clap_model=clap,
            text_model=text,
            device="cpu",
            transcribe=False,
            backend=args.backend,
        )
    )
    clips = sorted(audio.rglob("*.ogg"))[: args.files]
    folder = args.out / "small-files"
    folder.mkdir(parents=True, exist_ok=True)
    for clip in clips:  # links, so that the library holds exactly these
        link = folder / clip.name
        if not link.exists():
            link.symlink_to(clip)
    lib.index([folder], progress=False)
    return lib


def large_library(args, clap: str, text: str, n: int):
    from audioret import Config, Library
    from audioret.store.chroma import Store
    from bench.scale import DIM, build, draw, metadata, real_id

    data = args.out / f"{n // 1000}k"
    store = Store(clap, DIM, path=data / "chroma")
    if store.count() < n:
        build(store, data / "vectors.f32", store.count(), n, ids=real_id)
    text_store = Store(text, 384, path=data / "chroma", channel="text", words=True)
    for lo in range(text_store.count(), n // 2, 20_000):
        hi = min(lo + 20_000, n // 2)
        text_store.add(
            [real_id(i) for i in range(lo, hi)],
            draw(hi - lo, seed=50_000 + lo, dim=384),
            [{**metadata(i), "kind": "name"} for i in range(lo, hi)],
            [f"recording {i}" for i in range(lo, hi)],
        )
    text_store.sync_words()
    return Library(Config(data_dir=data, clap_model=clap, text_model=text, device="cpu", backend=args.backend))


class Remembered:
    """A model whose answers for the benchmark's queries are already computed: a search through it costs only what
    is not the models (the query path's own work)."""

    def __init__(self, model):
        self.model, self.known = model, {}
        for name in ("embed_text", "encode"):
            if hasattr(model, name):
                setattr(self, name, self._remember(getattr(model, name)))

    def _remember(self, embed):
        def remembered(texts, *args, **kwargs):
            key = (embed.__name__, tuple(texts))
            if key not in self.known:
                self.known[key] = embed(list(texts), *args, **kwargs)
            return self.known[key].copy()

        return remembered

    def __getattr__(self, name):
        return getattr(self.model, name)


def measure(lib, rounds: int) -> dict:
    """Each query, each round: the CLAP text tower, the text encoder, the whole search, and the search again with
    the models' answers remembered (its own work alone)."""
    for q in QUERIES:
        lib.search(q, k=10)  # warm: the models, their reference prompts, the backgrounds, the word index
    clap, encoder = lib.embedder, lib.text_encoder
    remembered = Remembered(clap), Remembered(encoder)
    parts: dict[str, list[float]] = {
        "clap text tower": [],
        "text encoder": [],
        "search": [],
        "search, models remembered": [],
        "search, models remembered, new words": [],
        "search - models": [],
    }
    for _ in range(rounds):
        for q in QUERIES:
            t0 = time.perf_counter()
            clap.embed_text([q])
            t1 = time.perf_counter()
            encoder.encode([q])
            t2 = time.perf_counter()
            same = lib.search(q, k=10)
            t3 = time.perf_counter()
            lib.embedder, lib.text_encoder = remembered
            try:
                t4 = time.perf_counter()
                again = lib.search(q, k=10)
                t5 = time.perf_counter()
            finally:
                lib.embedder, lib.text_encoder = clap, encoder
            assert [(h.path, h.score) for h in again] == [(h.path, h.score) for h in same]
            fresh = f"{q} {len(parts['search'])}"  # words no query had: records the stores have not kept
            remembered[0].embed_text([fresh]), remembered[1].encode([fresh])
            lib.embedder, lib.text_encoder = remembered
            try:
                t6 = time.perf_counter()
                lib.search(fresh, k=10)
                t7 = time.perf_counter()
            finally:
                lib.embedder, lib.text_encoder = clap, encoder
            ms = [(t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000, (t5 - t4) * 1000, (t7 - t6) * 1000]
            for name, v in zip(parts, ms + [ms[2] - ms[0] - ms[1]]):
                parts[name].append(v)
    return {
        "records": {c.name: c.store.count() for c in lib.channels},
        "queries": len(QUERIES) * rounds,
        **{k: percentiles(v) for k, v in parts.items()},
    }


WAYS = {  # (channels side by side, calibration on one BLAS thread, each hit's window at its time range)
    "now": (True, True, True),
    "one after the other": (False, True, True),
    "BLAS threads": (True, False, True),
    "before (one after the other, BLAS threads)": (False, False, True),
    "hits' windows as the sound channel gave them": (True, True, False),
}


def compare(lib, rounds: int) -> dict:
    """The ways of ``WAYS`` alternating query by query in this process (each round in the other order): for each,
    the whole search, the search minus the two models measured just before it, and the process's CPU time for the
    search (all threads: a load-proof count of the work, spinning included). The ways must rank the same files in
    the same order."""
    from audioret import search
    from audioret.ranking import threads

    shown = search.windows_shown
    for q in QUERIES:
        lib.search(q, k=10)
    clap, encoder = lib.embedder, lib.text_encoder
    times = {w: {"search": [], "search - models": [], "cpu": []} for w in WAYS}
    hits: dict[str, list] = {}
    for r in range(rounds):
        for q in QUERIES:
            for way in list(WAYS) if r % 2 == 0 else list(WAYS)[::-1]:
                search.SIDE_BY_SIDE, threads.ONE_BLAS_THREAD, placed = WAYS[way]
                search.windows_shown = shown if placed else lambda channels, hits: None
                t0 = time.perf_counter()
                clap.embed_text([q])
                t1 = time.perf_counter()
                encoder.encode([q])
                t2, c2 = time.perf_counter(), time.process_time()
                got = lib.search(q, k=10)
                t3, c3 = time.perf_counter(), time.process_time()
                times[way]["search"].append((t3 - t2) * 1000)
                times[way]["search - models"].append((t3 - t2 - (t1 - t0) - (t2 - t1)) * 1000)
                times[way]["cpu"].append((c3 - c2) * 1000)
                hits.setdefault(q, []).append([(h.path, h.score) for h in got])
    search.SIDE_BY_SIDE, threads.ONE_BLAS_THREAD, _ = WAYS["now"]
    search.windows_shown = shown
    for q, runs in hits.items():  # the same files in the same order; BLAS's threads move scores by ~1e-6
        assert all([p for p, _ in run] == [p for p, _ in runs[0]] for run in runs), f"the ways ranked {q!r} apart"
    worst = max(abs(a[1] - b[1]) for runs in hits.values() for run in runs for a, b in zip(run, runs[0]))
    return {
        "queries": len(QUERIES) * rounds,
        "largest score difference between the ways": worst,
        "load": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else None,
        **{w: {k: percentiles(v) for k, v in d.items()} for w, d in times.items()},
    }


def stores(lib, rounds: int) -> dict:
    """The floor under a warm query's own work: each channel's store query alone, as ``best_files`` asks it (ids
    and scores of ``4 * search.DEPTH`` records, for the query's own vector), then both side by side in two threads
    (as a search runs them) and one after the other; the ways alternate query by query, each round in the other
    order. Nothing of the query path is in it but the stores' calls."""
    from concurrent.futures import ThreadPoolExecutor

    from audioret.search import DEPTH

    n = 4 * DEPTH
    vectors = {"clap": lib.embedder.embed_text, "text": lib.text_encoder.encode}
    asked = {c.name: (c.store, {q: vectors[c.name]([q]) for q in QUERIES}) for c in lib.channels if c.name in vectors}
    pool = ThreadPoolExecutor(2)

    def side_by_side(q):
        futures = [pool.submit(store.query_ids, v[q], n) for store, v in asked.values()]
        [f.result() for f in futures]

    ways = {name: (lambda q, s=s, v=v: s.query_ids(v[q], n)) for name, (s, v) in asked.items()}
    ways["side by side"] = side_by_side
    ways["one after the other"] = lambda q: [store.query_ids(v[q], n) for store, v in asked.values()]
    times: dict[str, list[float]] = {w: [] for w in ways}
    for q in QUERIES:
        for way in ways.values():
            way(q)
    for r in range(rounds * 5):
        for q in QUERIES:
            for name in list(ways) if r % 2 == 0 else list(ways)[::-1]:
                t0 = time.perf_counter()
                ways[name](q)
                times[name].append((time.perf_counter() - t0) * 1000)
    pool.shutdown()
    return {
        "records asked a query": n,
        "queries": len(times["side by side"]),
        "load": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else None,
        **{w: percentiles(v) for w, v in times.items()},
    }


def profile(lib, rounds: int) -> str:
    """Where a warm search's own work goes (the models' answers remembered), by cumulative time."""
    clap, encoder = lib.embedder, lib.text_encoder
    lib.embedder, lib.text_encoder = Remembered(clap), Remembered(encoder)
    try:
        for q in QUERIES:
            lib.search(q, k=10)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(rounds):
            for q in QUERIES:
                lib.search(q, k=10)
        profiler.disable()
    finally:
        lib.embedder, lib.text_encoder = clap, encoder
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(60)
    return text.getvalue()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", default=["small", "100000"], help='"small" and/or numbers of segments')
    p.add_argument("--files", type=int, default=200, help="ESC-10 clips in the small library")
    p.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio" / "esc10"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--backend", default="auto")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--ways", action="store_true", help="compare the ways of WAYS, alternating, instead")
    p.add_argument("--stores", action="store_true", help="time the stores' queries alone, instead")
    p.add_argument("--out", type=Path, default=HERE / "out" / "query")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clap, text = models(args.out)
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "backend": args.backend, "sizes": {}}
    for size in args.sizes:
        lib = small_library(args, clap, text) if size == "small" else large_library(args, clap, text, int(size))
        got = (
            stores(lib, args.rounds)
            if args.stores
            else compare(lib, args.rounds)
            if args.ways
            else measure(lib, args.rounds)
        )
        got["backend"] = getattr(lib.channels["clap"].model, "backend", "torch")
        result["sizes"][size] = got
        print(json.dumps({size: got}, indent=1), flush=True)
        if args.profile:
            print(profile(lib, max(1, args.rounds // 2)))
    (args.out / "query.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
