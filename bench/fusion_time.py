"""How long the evidence and the fusion take for one warm query at 100k segments: both channels' calibration
(the store's background sample of 1,024 records, 48 reference queries, 50 candidate files each) and the fusion
of their files into hits. The stores' searches and the encoders are not in it (docs/BENCHMARKS.md, "Scale").

    python bench/fusion_time.py [--segments 100000] [--rounds 2000]

Vectors are synthetic (unit length, 512-d for the sound channel, 384-d for the text channel); only the sizes
matter here. Reported: the median and 95th percentile over the rounds, after the background is kept (the first
query after a store writes computes it once; that time is reported too), and, in alternating rounds of the same
process, an exact scan of 100k 512-d vectors (one matrix-vector product and argpartition, bench/scale.py's
"exact" column): on a busy machine the ratio of the two holds better than either time, and the minimum (the
work when it gets a core) better than the median. The small products of the calibration run on numpy's BLAS,
whose threads wait for a core on a busy machine: ``OPENBLAS_NUM_THREADS=1`` shows the work without that wait.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from audioret.ranking.calibration import Background, calibrate  # noqa: E402
from audioret.ranking.fusion import Found, fuse  # noqa: E402
from audioret.ranking.null import ALIKE  # noqa: E402
from audioret.store.records import SegmentMatch  # noqa: E402


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    channels = {}
    for name, dim, debias in (("clap", 512, True), ("text", 384, False)):
        sample, reference = _unit(rng.standard_normal((1024, dim))), _unit(rng.standard_normal((48, dim)))
        t0 = time.perf_counter()
        background = Background.remembered(sample, args.segments, reference, debias, None if debias else ALIKE)
        first = time.perf_counter() - t0
        candidates = _unit(rng.standard_normal((50, dim)))
        meta = [
            {"path": f"/lib/{i:05d}.wav", "start_s": 0.0, "end_s": 10.0, "duration_s": 10.0, "kind": "speech"}
            for i in rng.choice(100, 50, replace=False)
        ]
        channels[name] = (sample, reference, debias, candidates, meta, first)
    times, scans = [], []
    corpus = _unit(rng.standard_normal((args.segments, 512)))
    for _ in range(args.rounds):
        q = _unit(rng.standard_normal(512))
        t0 = time.perf_counter()
        np.argpartition(-(corpus @ q), 10)[:10]
        scans.append(time.perf_counter() - t0)
        queries = {name: _unit(rng.standard_normal((1, c[0].shape[1]))) for name, c in channels.items()}
        t0 = time.perf_counter()
        found = {}
        for name, (sample, reference, debias, candidates, meta, _) in channels.items():
            query = queries[name]  # the encoders' output; not timed
            background = Background.remembered(sample, args.segments, reference, debias, None if debias else ALIKE)
            scores = candidates @ query[0]
            e = calibrate(scores, candidates if debias else candidates[:0], query, background)
            found[name] = [
                Found(
                    SegmentMatch(f"{m['path']}#{name}", float(s), m, "words"),
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
        fuse(found, {"clap": 1.0, "text": 1.0}, 10)
        times.append(time.perf_counter() - t0)
    ms, scan = np.array(times) * 1000, np.array(scans) * 1000
    print(
        f"{args.segments} segments: evidence and fusion of one warm query p50 {np.median(ms):.2f} ms, "
        f"p95 {np.percentile(ms, 95):.2f} ms, min {ms.min():.2f} ms over {args.rounds} rounds; the exact scan in the "
        f"same rounds p50 {np.median(scan):.2f} ms, min {scan.min():.2f} ms (ratio of the medians "
        f"{np.median(ms) / np.median(scan):.2f}, of the minima {ms.min() / scan.min():.2f}); the background, once per "
        "store write: " + ", ".join(f"{n} {c[5] * 1000:.1f} ms" for n, c in channels.items())
    )


if __name__ == "__main__":
    main()
