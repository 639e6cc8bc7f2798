"""CLAP's text tower on ONNX Runtime with audioret's session options and with others, one process per way.

    python bench/tower_options.py EXPORT [--rounds 2] [--repeats 10]

EXPORT is an export folder of a CLAP model (under the cache's ``exports/``, made by any ``audioret`` run with that
model: it holds ``text.onnx`` and ``clap-tokenizer/``). The ways: ``audioret`` (two intra-op threads, no
spinning: ``models/backends.py`` ``Session``), ``default`` (ONNX Runtime's defaults, as clapback runs it) and
``spin`` (two threads that spin after a run). Each way runs in a process of its own, in alternating rounds, six
queries ``--repeats`` times, a short pause between queries as a user's (``--pause 0``: back to back, as
bench/peer.py's warm loop runs them); prints p50 and p95 (ms) of each process.
docs/BENCHMARKS.md, "Side by side with clapback".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

QUERIES = (
    "a dog barking",
    "rain on a tin roof",
    "someone typing on a keyboard",
    "church bells",
    "waves on a beach at night",
    "a helicopter flying over",
)
WAYS = ("audioret", "default", "spin")


def one(export: Path, way: str, repeats: int, pause: float) -> str:
    import numpy as np
    import onnxruntime as ort

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from audioret.models.backends import Tokens

    tokens = Tokens(export / "clap-tokenizer" / "tokenizer.json", 77)
    options = ort.SessionOptions()
    if way != "default":
        options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
        if way == "audioret":
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(export / "text.onnx"), options, providers=["CPUExecutionProvider"])
    times = []
    for _ in range(repeats):
        for q in QUERIES:
            feed = tokens([q])
            t = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - t)
            time.sleep(pause)
    ms = np.array(times[len(QUERIES) :]) * 1000  # the first round warms up
    return f"{way}: p50 {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between queries (0: back to back)")
    parser.add_argument("--way", choices=WAYS, help=argparse.SUPPRESS)  # one process's way
    args = parser.parse_args()
    if args.way:
        print(one(args.export, args.way, args.repeats, args.pause), flush=True)
        return
    for r in range(args.rounds):
        for way in WAYS if r % 2 == 0 else WAYS[::-1]:
            cmd = [sys.executable, __file__, str(args.export), "--way", way, "--repeats", str(args.repeats)]
            cmd += ["--pause", str(args.pause)]
            print(f"round {r + 1}, " + subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip())


if __name__ == "__main__":
    main()
