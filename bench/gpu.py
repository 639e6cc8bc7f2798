"""Indexing on a CUDA GPU, in one run: the model's ceiling, the decode rate with the cores, and ``audioret index`` at
its ``auto`` defaults, so the report can say which of the two limits binds and how close the indexer comes to it.

    python bench/gpu.py --clips DIR --out DIR [--files 2000] [--long 30]

It runs on a CPU too (small sizes, to check the script before it goes to a GPU machine); the figures that matter
are from a GPU, written to docs/BENCHMARKS.md "GPU" with the machine.

- **The model**: laion/clap-htsat-unfused's architecture, the audio tower at full size, with random weights (the
  speed of a forward pass does not depend on the weights; a machine without the hub can still build it).
- **The library**: made from the real clips in ``--clips`` (ESC-10's Ogg Vorbis, 44.1 kHz mono, 5 s). Each file
  mixes two of them at random gains and offsets and is written as they are, so every file has its own bytes and
  decodes at a real codec's cost; long files (3 min, FLAC, 44.1 kHz stereo) join such mixes end to end.

Steps, each in its own process, so the GPU's memory is freed between them; each appends one JSON line to
``OUT/gpu.jsonl``:

- ``ceiling``: ``ClapEmbedder`` (fp16 on CUDA) on batches of real windows: the whole ``embed_audio`` as the indexer
  calls it, and its parts: the copy to the device from pageable and from pinned memory, the log-mel front end on the
  device, the model; the front end with the STFT in fp16 and the mel product in TF32, against today's (cosine of
  the embeddings);
- ``decode``: bench/pipeline.py's pure decode way (hash, decode, resample, cut) at the ``auto`` thread count and
  at every core;
- ``instant``: the real indexer with instant models at the ``auto`` thread count: the host's own ceiling;
- ``index``: ``audioret index --no-transcribe`` at its defaults with the report, nvidia-smi sampling the GPU's
  utilisation every 100 ms; then the same command again on the unchanged library, and a cold ``audioret search``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

LONG_S = 180.0
RATE = 44_100


def _mix(args) -> str:
    """One library file (a worker's task): two real clips mixed, or, for a long file, such mixes end to end."""
    import numpy as np
    import soundfile as sf

    clips, out, seed, long = args
    rng = np.random.default_rng(seed)

    def one() -> np.ndarray:
        a, b = (sf.read(clips[i], dtype="float32", always_2d=True)[0][:, 0] for i in rng.choice(len(clips), 2))
        n = min(len(a), len(b))
        y = rng.uniform(0.3, 1.0) * a[:n] + rng.uniform(0.1, 0.7) * np.roll(b[:n], int(rng.integers(n)))
        return y / max(1.0, float(np.abs(y).max()))

    if not long:
        sf.write(out, one(), RATE, format="OGG", subtype="VORBIS")
        return out
    channels = []
    for _ in range(2):
        parts, total = [], 0
        while total < LONG_S * RATE:
            parts.append(one())
            total += len(parts[-1])
        channels.append(np.concatenate(parts)[: int(LONG_S * RATE)])
    sf.write(out, np.stack(channels, axis=1), RATE, format="FLAC", subtype="PCM_16")
    return out


def step_library(args) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    from audioret.indexing.plan import scan

    clips = scan([args.clips])
    lib = Path(args.out) / "library"
    shutil.rmtree(lib, ignore_errors=True)
    (lib / "clips").mkdir(parents=True)
    (lib / "long").mkdir()
    tasks = [(clips, str(lib / "clips" / f"mix{i:05d}.ogg"), i, False) for i in range(args.files)]
    tasks += [(clips, str(lib / "long" / f"long{i:03d}.flac"), 10**6 + i, True) for i in range(args.long)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(_mix, tasks, chunksize=8))
    return {"files": args.files, "long": args.long, "clips_from": len(clips), "seconds": time.perf_counter() - t0}


def _model(args) -> str:
    from tests.conftest import make_tiny_clap

    folder = Path(args.out) / "clap-full"
    if not (folder / "config.json").exists():
        # ClapAudioConfig's defaults are laion/clap-htsat-unfused's audio tower; the text tower stays tiny
        make_tiny_clap(
            folder,
            patch_embeds_hidden_size=96,
            depths=[2, 2, 6, 2],
            num_attention_heads=[4, 8, 16, 32],
            hidden_size=768,
        )
    return str(folder)


def _text_model(args) -> str:
    """The text channel's model: all-MiniLM-L6-v2's files (``--text-files``, without its weights) with random
    weights of the same shape, so the text channel costs what it costs with the real model."""
    folder = Path(args.out) / "text-random"
    if not (folder / "model.safetensors").exists():
        import torch
        from transformers import BertConfig, BertModel

        shutil.copytree(args.text_files, folder, dirs_exist_ok=True)
        torch.manual_seed(0)
        BertModel(BertConfig.from_pretrained(folder)).save_pretrained(folder)
    return str(folder)


def _timed(fn, sync, reps: int) -> float:
    """The median seconds of ``reps`` calls, after two warm-up calls."""
    for _ in range(2):
        fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def step_ceiling(args) -> dict:
    import numpy as np
    import torch

    from audioret import audio
    from audioret.indexing.plan import scan
    from audioret.models.clap import ClapEmbedder

    device = "cuda" if torch.cuda.is_available() else "cpu"
    emb = ClapEmbedder(_model(args), device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    biggest = max(args.batches)
    windows = []
    for path in scan([Path(args.out) / "library"]):
        _, blocks = audio.stream(path)
        windows += [w.samples for w in audio.windows(blocks, emb.window, emb.window * 3 // 4)]
        if len(windows) >= biggest:
            break
    windows = np.stack(windows[:biggest]).astype(np.float32)
    out = {"device": device, "dtype": str(emb.dtype), "gpu": torch.cuda.get_device_name() if device == "cuda" else ""}
    reps = args.reps
    for b in args.batches:
        x = np.ascontiguousarray(windows[:b])
        row = {"whole": _timed(lambda: emb.embed_audio(x, pad_to=b), sync, reps)}
        row["copy pageable"] = _timed(lambda: torch.as_tensor(x).to(device), sync, reps)
        pinned = torch.empty(x.shape, dtype=torch.float32, pin_memory=device == "cuda")
        row["into pinned (host)"] = _timed(lambda: pinned.numpy().__setitem__(slice(None), x), sync, reps)
        row["copy pinned"] = _timed(lambda: pinned.to(device, non_blocking=True), sync, reps)
        on = torch.as_tensor(x).to(device)
        with torch.inference_mode():
            row["front end"] = _timed(lambda: emb.features(on), sync, reps)
            feats = emb.features(on).to(emb.dtype)
            longer = torch.zeros(b, 1, dtype=torch.bool, device=device)
            row["model"] = _timed(
                lambda: emb.model.get_audio_features(input_features=feats, is_longer=longer), sync, reps
            )
        row = {k: v * 1000 for k, v in row.items()}
        row["windows/s"] = b / (row["whole"] / 1000)
        row["model windows/s"] = b / (row["model"] / 1000)
        out[f"batch {b}"] = row
    out["front end variants"] = _front_end_variants(emb, windows[: min(64, biggest)], sync, reps)
    return out


def _front_end_variants(emb, windows, sync, reps) -> dict:
    """Today's fp32 front end against the STFT in fp16 (power and mel in fp32), and the mel product in TF32."""
    import torch

    x = torch.as_tensor(windows).to(emb.device)
    longer = torch.zeros(len(x), 1, dtype=torch.bool, device=emb.device)

    def mel_of(power):
        mel = torch.einsum("fm,bft->btm", emb._mel_filters, power)
        return (10.0 * torch.log10(mel.clamp(min=1e-10)))[:, None]

    def fp16_stft():
        spec = torch.stft(
            x.half(),
            emb._n_fft,
            emb._hop,
            window=emb._stft_window.half(),
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )
        spec = torch.view_as_real(spec).float()
        return mel_of(spec[..., 0].square() + spec[..., 1].square())

    def tf32():
        torch.backends.cuda.matmul.allow_tf32 = True
        try:
            return emb.features(x)
        finally:
            torch.backends.cuda.matmul.allow_tf32 = False

    def embed(feats):
        out = emb.model.get_audio_features(input_features=feats.to(emb.dtype), is_longer=longer).pooler_output
        return torch.nn.functional.normalize(out.float(), dim=-1)

    result = {}
    with torch.inference_mode():
        reference = embed(emb.features(x))
        result["fp32 ms"] = _timed(lambda: emb.features(x), sync, reps) * 1000
        for name, fn in (("fp16 stft", fp16_stft), ("tf32 mel", tf32)):
            try:
                feats = fn()
                cos = (embed(feats) * reference).sum(-1)
                result[name] = {
                    "ms": _timed(fn, sync, reps) * 1000,
                    "min cosine": float(cos.min()),
                    "finite": bool(torch.isfinite(feats).all()),
                }
            except Exception as e:  # a variant this device cannot run is reported, not fatal
                result[name] = {"error": f"{type(e).__name__}: {e}"[:300]}
    return result


def step_decode(args) -> dict:
    from audioret.config import auto_settings
    from audioret.indexing.plan import scan

    sys.path.insert(0, str(HERE))
    import pipeline

    files = scan([Path(args.out) / "library"])
    cores = os.cpu_count() or 1
    auto = auto_settings(True, cores)["decode_workers"]
    out = {"cores": cores}
    for workers in sorted({auto, cores}):
        r = pipeline.way_decode(files, workers)
        out[f"{workers} threads"] = {**r, "windows/s": r["windows"] / r["seconds"]}
    return out


def step_instant(args) -> dict:
    from audioret.config import auto_settings
    from audioret.indexing.plan import scan

    sys.path.insert(0, str(HERE))
    import pipeline

    files = scan([Path(args.out) / "library"])
    workers = auto_settings(True, os.cpu_count() or 1)["decode_workers"]
    r = pipeline.way_instant(files, workers)
    return {"workers": workers, **r, "windows/s": r["windows"] / r["seconds"]}


def _utilisation(path: Path):
    if shutil.which("nvidia-smi") is None:
        return None
    return subprocess.Popen(
        ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-lms", "100"],
        stdout=path.open("w"),
        stderr=subprocess.DEVNULL,
    )


def _index_once(args, env, cwd: Path, data: Path) -> dict:
    """One ``audioret index`` run into ``data`` (a fresh folder), run from ``cwd`` (whose ``audioret`` it imports),
    with the GPU's utilisation sampled."""
    out_dir = Path(args.out)
    report = data.with_suffix(".json")
    command = [
        sys.executable,
        "-m",
        "audioret",
        "index",
        str(out_dir / "library"),
        "--no-transcribe",
        "--report",
        str(report),
    ]
    util_file = data.with_suffix(".util")
    sampler = _utilisation(util_file)
    t0 = time.perf_counter()
    run = subprocess.run(command, env={**env, "AUDIORET_DATA_DIR": str(data)}, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if sampler is not None:
        sampler.terminate()
        sampler.wait()
    (out_dir / f"{data.name}-stderr.txt").write_text(run.stderr[-20000:])
    result = {"rc": run.returncode, "wall_s": wall}
    if run.returncode == 0:
        rep = json.loads(report.read_text())
        result.update({k: v for k, v in rep.items() if k in ("segments", "stages", "settings") or k.endswith("_s")})
        result["windows/s (wall)"] = rep["segments"] / wall
        result["windows/s (index)"] = rep["segments"] / rep["elapsed_s"]
        result["limit"] = [line for line in run.stderr.splitlines() if "-bound" in line][-1:]
    if sampler is not None:
        values = [int(v) for v in util_file.read_text().split() if v.strip().isdigit()]
        busy = [v for v in values if v > 0]
        result["gpu utilisation"] = {
            "samples": len(values),
            "mean %": statistics.mean(values) if values else None,
            "mean % while busy": statistics.mean(busy) if busy else None,
        }
    return result


def step_index(args) -> dict:
    """``audioret index`` at its defaults: today's code, and, with ``--base``, an earlier one side by side (a folder
    holding its ``audioret`` package); then the unchanged library again, and a cold search."""
    scratch = Path(tempfile.mkdtemp(prefix="gpu-index-"))
    env = {**os.environ, "AUDIORET_CLAP_MODEL": _model(args), "HF_HUB_OFFLINE": "1"}
    if args.text_files:
        env["AUDIORET_TEXT_MODEL"] = _text_model(args)
    ways = [("main", ROOT)] + ([("base", Path(args.base).resolve())] if args.base else [])
    result = {}
    for r in range(args.rounds):
        for name, cwd in ways if r % 2 == 0 else ways[::-1]:
            result[f"{name} {r}"] = _index_once(args, env, cwd, scratch / f"{name}-{r}")
    data = scratch / "main-0"
    command = [sys.executable, "-m", "audioret", "index", str(Path(args.out) / "library"), "--no-transcribe"]
    t0 = time.perf_counter()
    again = subprocess.run(
        command, env={**env, "AUDIORET_DATA_DIR": str(data)}, cwd=ROOT, capture_output=True, text=True
    )
    result["unchanged re-index"] = {
        "wall_s": time.perf_counter() - t0,
        "rc": again.returncode,
        "tail": again.stderr[-300:],
    }
    t0 = time.perf_counter()
    search = subprocess.run(
        [sys.executable, "-m", "audioret", "search", "a dog barking", "-k", "3"],
        env={**env, "AUDIORET_DATA_DIR": str(data)},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    result["cold search"] = {
        "wall_s": time.perf_counter() - t0,
        "rc": search.returncode,
        "tail": (search.stdout + search.stderr)[-300:],
    }
    shutil.rmtree(scratch, ignore_errors=True)
    return result


STEPS = {
    "library": step_library,
    "ceiling": step_ceiling,
    "decode": step_decode,
    "instant": step_instant,
    "index": step_index,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", default=str(ROOT.parent / "shared" / "audio" / "esc10" / "audio"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--text-files", help="all-MiniLM-L6-v2's folder without its weights (random ones are made)")
    parser.add_argument("--base", help="a folder holding an earlier audioret package, indexed side by side")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds of the index runs")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--long", type=int, default=30)
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 128, 256])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--timeout", type=int, default=240, help="seconds each step may take")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.step:
        print(json.dumps(STEPS[args.step](args)))
        return
    log = Path(args.out) / "gpu.jsonl"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores", file=sys.stderr)
    for step in args.steps.split(","):
        t0 = time.perf_counter()
        argv = [
            "--clips",
            args.clips,
            "--out",
            args.out,
            "--files",
            str(args.files),
            "--long",
            str(args.long),
            "--reps",
            str(args.reps),
            *(["--text-files", args.text_files] if args.text_files else []),
            *(["--base", args.base] if args.base else []),
            "--rounds",
            str(args.rounds),
            "--batches",
            *map(str, args.batches),
        ]
        try:
            run = subprocess.run(
                [sys.executable, __file__, *argv, "--step", step], capture_output=True, text=True, timeout=args.timeout
            )
            line = run.stdout.strip().splitlines()[-1] if run.returncode == 0 and run.stdout.strip() else None
            result = json.loads(line) if line else {"error": run.stderr[-3000:]}
        except subprocess.TimeoutExpired:
            result = {"error": f"timed out after {args.timeout} s"}
        result = {"step": step, "step_s": round(time.perf_counter() - t0, 1), **result}
        with log.open("a") as f:
            f.write(json.dumps(result) + "\n")
        print(json.dumps(result), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
