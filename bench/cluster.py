"""The single-process indexer against ``--cluster local`` (Ray) with 1 and 2 CPU model actors, in one run.

    python bench/cluster.py --audio ../shared/audio/esc10/audio --sizes 24,96 --rounds 2

Each way runs as its own ``python -m audioret index`` process on a fresh data directory, in alternating order,
round after round, at two library sizes; the wall time of the whole command is measured (imports, Ray's start,
the models' load, the run). From the two sizes: the cost per file (the slope) and the fixed start-up cost (the
intercept), and the rate of each way against the single process. The model is a CLAP with laion/clap-htsat-unfused's
architecture and random weights (its cost per window is the real model's), at the default settings, without
transcription (``--no-transcribe``: the text channel still indexes names). Prints a Markdown table and writes JSON
lines to bench/out/cluster.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

WAYS = {  # name -> the flags of `audioret index`
    "single": [],
    "local-1": ["--cluster", "local", "--actors", "1"],  # Ray on this machine, 1 CPU model actor
    "local-2": ["--cluster", "local", "--actors", "2"],  # 2 CPU model actors
}


def library_of(files: list[str], n: int, root: Path) -> Path:
    """A folder of links to the first ``n`` files."""
    folder = root / f"lib-{n}"
    if not folder.exists():
        folder.mkdir(parents=True)
        for f in files[:n]:
            os.symlink(f, folder / Path(f).name)
    return folder


def run_once(way: str, folder: Path, model: str, root: Path) -> dict:
    data = Path(tempfile.mkdtemp(dir=root, prefix="data-"))
    cmd = [sys.executable, "-m", "audioret", "--data-dir", str(data), "--clap-model", model, "index", str(folder)]
    cmd += ["--no-progress", "--no-transcribe", "--report", str(data / "report.json"), *WAYS[way]]
    load = os.getloadavg()[0]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{way} failed:\n{done.stderr[-3000:]}")
    report = json.loads((data / "report.json").read_text())
    shutil.rmtree(data, ignore_errors=True)
    return {
        "way": way,
        "files": len(report["added"]),
        "segments": report["segments"],
        "wall_s": wall,
        "run_s": report["elapsed_s"],
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "engine": report["settings"].get("engine"),
        # the driver's own seconds (handing pieces to the channels, encoding names, writing): its ceiling on N nodes
        "driver_s": report["stages"].get("model", 0.0) + report["stages"].get("writing", 0.0),
        "stages": report["stages"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio" / "esc10" / "audio"))
    parser.add_argument("--model", help="a CLAP checkpoint (default: the full-size random one, built once)")
    parser.add_argument("--sizes", default="24,96", help="two library sizes, in files")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ways", default=",".join(WAYS), help="comma-separated, of: " + ", ".join(WAYS))
    args = parser.parse_args()

    from bench.index_throughput import build_full_size_model, files_of
    from tests.conftest import TEXT_MODEL

    if TEXT_MODEL:  # the packaged all-MiniLM-L6-v2 (requirements-dev.txt): no download
        os.environ.setdefault("AUDIORET_TEXT_MODEL", TEXT_MODEL)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = HERE / "out"
    model = args.model or str(build_full_size_model(out / "clap-htsat-random-spread"))
    small, large = (int(s) for s in args.sizes.split(","))
    ways = [w.strip() for w in args.ways.split(",")]
    files = files_of(args.audio, large)
    root = Path(tempfile.mkdtemp(prefix="audioret-cluster-bench-"))
    folders = {n: library_of(files, n, root) for n in (small, large)}
    run_once(ways[0], folders[small], model, root)  # warm: the model's export and the file cache
    results = []
    with open(out / "cluster.jsonl", "a") as log:
        for r in range(args.rounds):
            order = ways[r % len(ways) :] + ways[: r % len(ways)]  # alternating: each way goes first in turn
            for n in (small, large):
                for way in order:
                    result = {**run_once(way, folders[n], model, root), "round": r}
                    results.append(result)
                    log.write(json.dumps(result) + "\n")
                    print(json.dumps(result), file=sys.stderr, flush=True)
    shutil.rmtree(root, ignore_errors=True)
    print(table(results, ways, small, large))


def table(results: list[dict], ways: list[str], small: int, large: int) -> str:
    """Per way: the cost per file (slope between the two sizes, per round) and the fixed cost (intercept)."""
    rows = [
        "| way | fixed start-up, s | s per file | files/s | rate vs single process | load average |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    slope_of = {}
    for way in ways:
        per_round = {}
        for r in sorted({x["round"] for x in results}):
            walls = {x["files"]: x["wall_s"] for x in results if x["way"] == way and x["round"] == r}
            if small in walls and large in walls:
                slope = (walls[large] - walls[small]) / (large - small)
                per_round[r] = (slope, walls[small] - slope * small)
        slope_of[way] = [s for s, _ in per_round.values()]
        fixed = [f for _, f in per_round.values()]
        loads = [x["load_before"] for x in results if x["way"] == way]
        rows.append(
            f"| {way} | {_range(fixed)} | {_range(slope_of[way], 3)} | {_range([1 / s for s in slope_of[way]], 2)} "
            f"| {{ratio:{way}}} | {min(loads):.1f}–{max(loads):.1f} |"
        )
    base = slope_of[ways[0]]
    text = "\n".join(rows)
    for way in ways:
        ratios = [b / s for b, s in zip(base, slope_of[way])]  # same round: the rates side by side
        text = text.replace(f"{{ratio:{way}}}", _range(ratios, 2))
    return text


def _range(values: list[float], digits: int = 1) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


if __name__ == "__main__":
    main()
