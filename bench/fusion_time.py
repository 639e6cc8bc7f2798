"""How long the evidence and the fusion take for one warm query at 100k segments: both channels' calibration
(the store's background sample of 1,024 records, 48 reference queries, 50 candidate files each) and the fusion
of their files into hits. The stores' searches and the encoders are not in it (docs/BENCHMARKS.md, "Scale").

    python bench/fusion_time.py [--segments 100000] [--rounds 2000] [--against DIR]

Vectors are synthetic (unit length, 512-d for the sound channel, 384-d for the text channel); only the sizes
matter here. Reported: the median and 95th percentile over the rounds, after the background is kept (the first
query after a store writes computes it once; that time is reported too), and, in alternating rounds of the same
process, an exact scan of 100k 512-d vectors (one matrix-vector product and argpartition, bench/scale.py's
"exact" column): on a busy machine the ratio of the two holds better than either time, and the minimum (the
work when it gets a core) better than the median. The small products of the calibration run on numpy's BLAS,
whose threads wait for a core on a busy machine: ``OPENBLAS_NUM_THREADS=1`` shows the work without that wait.

``--against DIR`` times another version of the code side by side in the same process (DIR holds its ``audioret``
package, e.g. ``git worktree add /tmp/before HEAD~1``): both ways answer the same queries in alternating order
after the same scan, and their hits and scores must agree (unless ``--rule-changed``: a change that scores
differently on purpose); the ratio of their medians is what to read on a busy machine.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _modules(package: str):
    """The calibration, fusion, null and records modules of ``package``."""
    return tuple(
        importlib.import_module(f"{package}.{name}")
        for name in ("ranking.calibration", "ranking.fusion", "ranking.null", "store.records")
    )


def _against(folder: str) -> str:
    """Another version's ``audioret`` package under ``folder``, importable as ``audioret_against``."""
    scratch = Path(tempfile.mkdtemp(prefix="fusion-time-"))
    shutil.copytree(Path(folder) / "audioret", scratch / "audioret_against")
    sys.path.insert(0, str(scratch))
    return "audioret_against"


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--against", help="a folder holding another version's audioret package, timed alongside")
    parser.add_argument(
        "--rule-changed", action="store_true", help="the other version scores differently: do not compare the hits"
    )
    args = parser.parse_args()
    ways = {"this": _modules("audioret")}
    if args.against:
        ways["against"] = _modules(_against(args.against))
    rng = np.random.default_rng(0)
    channels, first = {}, {}
    for name, dim, debias in (("clap", 512, True), ("text", 384, False)):
        sample, reference = _unit(rng.standard_normal((1024, dim))), _unit(rng.standard_normal((48, dim)))
        for way, (calibration, _, null, _) in ways.items():
            t0 = time.perf_counter()
            calibration.Background.remembered(sample, args.segments, reference, debias, None if debias else null.ALIKE)
            first.setdefault(way, {})[name] = time.perf_counter() - t0
        candidates = _unit(rng.standard_normal((50, dim)))
        meta = [
            {"path": f"/lib/{i:05d}.wav", "start_s": 0.0, "end_s": 10.0, "duration_s": 10.0, "kind": "speech"}
            for i in rng.choice(100, 50, replace=False)
        ]
        channels[name] = (sample, reference, debias, candidates, meta)
    times, scans = {way: [] for way in ways}, []
    corpus = _unit(rng.standard_normal((args.segments, 512)))
    for r in range(args.rounds):
        queries = {name: _unit(rng.standard_normal((1, c[0].shape[1]))) for name, c in channels.items()}
        hits = {}
        for way in list(ways)[:: 1 if r % 2 else -1]:
            q = _unit(rng.standard_normal(512))
            t0 = time.perf_counter()
            np.argpartition(-(corpus @ q), 10)[:10]
            scans.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hits[way] = _query(ways[way], channels, queries, args.segments)
            times[way].append(time.perf_counter() - t0)
        if (
            len(hits) == 2
            and not args.rule_changed
            and [(h.path, round(h.score, 5)) for h in hits["this"]]
            != [(h.path, round(h.score, 5)) for h in hits["against"]]
        ):
            raise SystemExit(f"round {r}: the two versions' hits differ")
    scan = np.array(scans) * 1000
    for way, spent in times.items():
        ms = np.array(spent) * 1000
        print(
            f"{args.segments} segments ({way}): evidence and fusion of one warm query p50 {np.median(ms):.2f} ms, "
            f"p95 {np.percentile(ms, 95):.2f} ms, min {ms.min():.2f} ms over {args.rounds} rounds; the exact scan "
            f"in the same rounds p50 {np.median(scan):.2f} ms, min {scan.min():.2f} ms (ratio of the medians "
            f"{np.median(ms) / np.median(scan):.2f}, of the minima {ms.min() / scan.min():.2f}); the background, "
            "once per store write: " + ", ".join(f"{n} {t * 1000:.1f} ms" for n, t in first[way].items())
        )
    if len(times) == 2:
        print(f"this / against, ratio of the medians: {np.median(times['this']) / np.median(times['against']):.3f}")


def _query(modules, channels, queries, segments):
    """One warm query's evidence and fusion over both channels (the encoders' output given)."""
    calibration, fusion, null, records = modules
    found = {}
    for name, (sample, reference, debias, candidates, meta) in channels.items():
        query = queries[name]
        background = calibration.Background.remembered(
            sample, segments, reference, debias, None if debias else null.ALIKE
        )
        scores = candidates @ query[0]
        e = calibration.calibrate(scores, candidates if debias else candidates[:0], query, background)
        found[name] = [
            fusion.Found(
                records.SegmentMatch(f"{m['path']}#{name}", float(s), m, "words"),
                float(x),
                "sound" if name == "clap" else "meaning",
                float(s),
                (0.0, 10.0),
                None,
                "sounds like" if name == "clap" else "said at 0:00-0:10",
                "",
            )
            for m, s, x in zip(meta, scores, e)
        ]
    return fusion.fuse(found, {"clap": 1.0, "text": 1.0}, 10)


if __name__ == "__main__":
    main()
