"""The single-process indexer against ``--cluster local`` (Ray) with 1 and 2 CPU model actors, in one run.

    python bench/cluster.py --audio ../shared/audio/esc10/audio --files 64 --rounds 2

Each way runs ``Library.index`` (what ``audioret index`` calls) in a process of its own on a fresh data directory,
in alternating order, round after round. The cost per file: for the single process, the steady state from the end
of the first group of files written to the last (each file's write is timed); for a cluster run, which writes in
a few large groups, its busiest stage's busy seconds per slot (decode tasks, model actors, the driver's writes)
per file. The start-up is the wall time less the files' cost (imports, Ray's start, the models' load). Each way's
rate is set against the single process's in the same round. The model is a CLAP with laion/clap-htsat-unfused's
architecture and random weights (its cost per window is the real model's), at the default settings, without
transcription (the text channel still indexes names). Prints a Markdown table and writes JSON lines to
bench/out/cluster.jsonl.
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


GROUP_S = 0.5  # files written less than this apart are one group
RUN = """
import json, sys, time
t0 = time.perf_counter()
from audioret import Config, Library
data, model, folder, cluster, actors = sys.argv[1:6]
lib = Library(Config.from_env(data_dir=data, clap_model=model, transcribe=False))
done = []
report = lib.index([folder], progress=False, on_progress=lambda p: done.append(time.perf_counter() - t0),
                   cluster=cluster or None, actors=int(actors) if actors else None)
print(json.dumps({"report": report.to_dict(), "done_s": done, "wall_s": time.perf_counter() - t0}))
"""


def run_once(way: str, folder: Path, model: str, root: Path) -> dict:
    """One run in a process of its own: ``Library.index`` as ``audioret index`` calls it, with the time each file
    was written, so that the cost per file in the steady state is measured apart from the start-up."""
    data = Path(tempfile.mkdtemp(dir=root, prefix="data-"))
    flags = WAYS[way]
    cluster, actors = (flags[1], flags[3]) if flags else ("", "")
    load = os.getloadavg()[0]
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(data), model, str(folder), cluster, actors],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    )
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{way} failed:\n{done.stderr[-3000:]}")
    got = json.loads(done.stdout.strip().splitlines()[-1])
    report, times = got["report"], got["done_s"]
    shutil.rmtree(data, ignore_errors=True)
    # files are written in groups (a model call's, a coalesced write's): the steady state runs from the end of the
    # first group to the last file
    first = sum(t <= times[0] + GROUP_S for t in times)
    per_file = (times[-1] - times[first - 1]) / (len(times) - first) if len(times) > first else float("nan")
    # a cluster run writes in few groups (a model call's worth of files at a time): there the cost per file is its
    # busiest stage's busy seconds per slot (decode tasks, model actors, the driver), per file
    busy = [v for k, v in report["stages"].items() if k.endswith("(cluster)")] + [report["stages"].get("writing", 0)]
    if flags:
        per_file = max(busy) / max(1, len(report["added"]))
    return {
        "way": way,
        "files": len(report["added"]),
        "segments": report["segments"],
        "wall_s": wall,
        "first_file_s": times[0] if times else float("nan"),  # the fixed start-up, and the first group's files
        "startup_s": wall - per_file * len(report["added"]),  # the run's wall time less its files' cost
        "per_file_s": per_file,  # from the first file written to the last: the steady state
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
    parser.add_argument("--files", type=int, default=48)
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
    ways = [w.strip() for w in args.ways.split(",")]
    root = Path(tempfile.mkdtemp(prefix="audioret-cluster-bench-"))
    folder = library_of(files_of(args.audio, args.files), args.files, root)
    results = []
    with open(out / "cluster.jsonl", "a") as log:
        for r in range(args.rounds):
            for way in ways[r % len(ways) :] + ways[: r % len(ways)]:  # alternating: each way goes first in turn
                result = {**run_once(way, folder, model, root), "round": r}
                results.append(result)
                log.write(json.dumps(result) + "\n")
                log.flush()
                print(json.dumps(result), file=sys.stderr, flush=True)
    shutil.rmtree(root, ignore_errors=True)
    print(table(results, ways))


def table(results: list[dict], ways: list[str]) -> str:
    """Per way: the start-up (the wall time less the files' cost), the cost per file and its rate against the single
    process in the same round, and the driver's own seconds per window."""
    rows = [
        "| way | start-up, s | s per file | files/s | rate vs single process | driver s per window | load average |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = {x["round"]: x["per_file_s"] for x in results if x["way"] == ways[0]}
    for way in ways:
        mine = [x for x in results if x["way"] == way]
        ratios = [base[x["round"]] / x["per_file_s"] for x in mine if x["round"] in base]
        rows.append(
            f"| {way} | {_range([x['startup_s'] for x in mine])} | {_range([x['per_file_s'] for x in mine], 2)} "
            f"| {_range([1 / x['per_file_s'] for x in mine], 2)} | {_range(ratios, 2)} "
            f"| {_range([x['driver_s'] / x['segments'] for x in mine], 3)} "
            f"| {_range([x['load_before'] for x in mine])} |"
        )
    return "\n".join(rows)


def _range(values: list[float], digits: int = 1) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


if __name__ == "__main__":
    main()
