"""Near-duplicate detection (audioret/duplicates.py): pairwise precision and recall, run time, cost per file.

    python bench/duplicates.py [--audio ../shared/audio] [--thresholds 0.05 0.1 0.15 0.2]

The set is made here, under bench/out/duplicates (once): every ESC-10 clip, Sonic Pi sample and librosa-data
recording, and 600 FSDD digits, as originals; each original is re-encoded 2-4 ways, chosen in turn from: mp3 at
128 and 320 kb/s, Ogg Vorbis q3, FLAC, WAV at 22.05 kHz, mono, -6 dB, and 0.5 s trimmed from the start (not for
originals under 2 s). Copies of one original are duplicates; everything else is not, and the set is full of
near misses: ESC-10 has 40 clips of each class (two dog barks are different recordings), FSDD has each speaker
say each digit 50 times (different takes). Reported per threshold: pairwise precision and recall over the files
Chromaprint compares (3 s and longer, 8 words or more), per source too; the pairs it finds between different
originals, with the cross-correlation of those originals' waveforms (near 1: the source set holds one recording
twice); the same for the shorter files, compared by their spectrum, per required correlation; the whole set at the
defaults; the run time with an empty fingerprint cache and with a full one, and the cost of adding one file.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

VARIANTS = ("mp3-128", "mp3-320", "ogg-q3", "flac", "wav-22k", "mono", "minus-6db", "trim-0.5s")


def originals(root: Path) -> list[Path]:
    import csv

    files = sorted((root / "esc10" / "audio").glob("*.ogg"))
    files += sorted(p for p in (root / "sonicpi_samples").rglob("*") if p.suffix.lower() in (".flac", ".wav", ".ogg"))
    # librosa-data holds each recording twice (name.ogg and name.hq.ogg): the first only
    files += sorted(p for p in (root / "librosa-data").glob("*.ogg") if not p.name.endswith(".hq.ogg"))
    rows = list(csv.DictReader(open(root / "fsdd" / "labels.csv")))
    files += [root / "fsdd" / r["path"] for r in rows[::5]]
    return [f for f in files if f.exists()]


def make_variant(src: Path, kind: str, out: Path) -> Path | None:
    """A copy of ``src`` made the ``kind`` way, named ``<stem>.<kind>.<ext>`` under ``out`` (the kind in the name, so
    that no copy can take another's or its original's name); None for a trim of a file under 2 s."""
    x, sr = sf.read(str(src), dtype="float32", always_2d=True)
    if kind == "trim-0.5s" and len(x) < 2 * sr:
        return None
    ext = {"mp3-128": ".mp3", "mp3-320": ".mp3", "ogg-q3": ".ogg", "flac": ".flac"}.get(kind, ".wav")
    target = out / f"{src.stem}.{kind}{ext}"
    if kind in ("mp3-128", "mp3-320", "ogg-q3"):
        wav = out / f"{src.stem}.{kind}.in.wav"
        sf.write(wav, x, sr)
        quality = {"mp3-128": "128", "mp3-320": "320", "ogg-q3": "3"}[kind]
        subprocess.run(["sox", str(wav), "-C", quality, str(target)], check=True, capture_output=True)
        wav.unlink()
    elif kind == "wav-22k":
        import soxr

        sf.write(target, soxr.resample(x, sr, 22050), 22050)
    elif kind == "mono":
        sf.write(target, x.mean(axis=1), sr)
    elif kind == "minus-6db":
        sf.write(target, x * 0.5, sr)
    elif kind == "trim-0.5s":
        sf.write(target, x[int(0.5 * sr) :], sr)
    else:
        sf.write(target, x, sr)
    return target


COPY_NAME = re.compile(rf"^\d{{4}}-.+\.({'|'.join(re.escape(v) for v in VARIANTS)})\.[a-z0-9]+$")


def variant(path: str) -> str | None:
    """How a file of the set was made from its original (one of VARIANTS), or None for the original itself."""
    m = COPY_NAME.match(Path(path).name)
    return m.group(1) if m else None


def build(root: Path, out: Path) -> dict[str, int]:
    """The set on disk and the original of every file: {path: original number}. Each original is copied as
    ``NNNN-<name>`` and each copy named ``NNNN-<stem>.<kind>.<ext>`` (:func:`variant` reads the kind back)."""
    truth_file = out / "truth-named.tsv"  # truth.tsv: a set from before copies were named by their kind
    if truth_file.exists():
        return {p: int(n) for n, p in (line.split("\t", 1) for line in truth_file.read_text().splitlines())}
    if shutil.which("sox") is None:
        raise SystemExit("sox is needed to make the mp3 and ogg copies (apt-get install sox libsox-fmt-mp3)")
    truth, made_count = {}, 0
    cycle = itertools.cycle(VARIANTS)
    for n, src in enumerate(originals(root)):
        folder = out / f"{n // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        copy = folder / f"{n:04d}-{src.name}"
        shutil.copy(src, copy)
        truth[str(copy)] = n
        made_count += 1
        for _ in range(2 + n % 3):  # 2, 3 or 4 copies
            made = make_variant(src, next(cycle), folder)
            if made is not None:
                final = made.with_name(f"{n:04d}-{made.name}")
                made.rename(final)
                truth[str(final)] = n
                made_count += 1
    if len(truth) != made_count:
        raise SystemExit(f"{made_count} files were made but {len(truth)} names are distinct: a copy took a name")
    truth_file.write_text("".join(f"{n}\t{p}\n" for p, n in truth.items()))
    return truth


def score(groups, truth: dict[str, int]) -> dict:
    predicted = {tuple(sorted((a.path, b.path))) for g in groups for a, b in itertools.combinations(g, 2)}
    by_original: dict[int, list[str]] = {}
    for p, n in truth.items():
        by_original.setdefault(n, []).append(p)
    actual = {tuple(sorted(pair)) for files in by_original.values() for pair in itertools.combinations(files, 2)}
    hits = len(predicted & actual)
    return {
        "precision": hits / len(predicted) if predicted else 1.0,
        "recall": hits / len(actual),
        "hits": hits,
        "predicted_pairs": len(predicted),
        "true_pairs": len(actual),
        "false": sorted(predicted - actual),
        "true_found": sorted(predicted & actual),
        "actual": sorted(actual),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--out", default=str(HERE / "out" / "duplicates"))
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2])
    parser.add_argument(
        "--correlations",
        type=float,
        nargs="+",
        default=[0.9, 0.93, 0.95, 0.97],
        help="for files under 3 s (or with too few words): the spectral correlation a pair needs",
    )
    args = parser.parse_args()
    from audioret.duplicates import DEFAULT_MAX_BIT_ERROR, FingerprintCache, find, group

    t0 = time.perf_counter()
    truth = build(Path(args.audio), Path(args.out))
    paths = sorted(truth)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(set(truth.values()))} originals, "
        f"{len(paths)} files (set made or read in {time.perf_counter() - t0:.0f} s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        cache = FingerprintCache(Path(tmp) / "fingerprints.sqlite3")
        t0 = time.perf_counter()
        groups = find(paths, cache)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = find(paths, cache)
        warm = time.perf_counter() - t0
        assert [[m.path for m in g] for g in groups] == [[m.path for m in g] for g in again]
        extra = Path(tmp) / "added.wav"
        x, sr = sf.read(paths[0], dtype="float32")
        sf.write(extra, np.asarray(x)[::-1], sr)  # a new recording (the first one reversed)
        t0 = time.perf_counter()
        find([*paths, str(extra)], cache)
        added = time.perf_counter() - t0
        prints = {p: cache.get(p, os.stat(p)) for p in paths}
    print(
        f"\nfind, empty cache: {cold:.1f} s ({cold / len(paths) * 1000:.1f} ms per file); full cache: {warm:.1f} s; "
        f"one file added to the full cache: {added:.1f} s (the grouping of all files included)"
    )
    from audioret.duplicates import Member, by_chromaprint

    kept = [p for p in paths if prints[p] is not None and by_chromaprint(prints[p])]
    short = [p for p in paths if prints[p] is not None and not by_chromaprint(prints[p])]
    sources = source_names(Path(args.audio), truth)
    by_source = _count(sources[truth[p]] for p in short)
    print(
        f"\nby Chromaprint: {len(kept)} files of 3 s and longer (8 words or more); the {len(short)} others are "
        f"compared by their spectrum, below ({', '.join(f'{k} {v}' for k, v in sorted(by_source.items()))})"
    )
    kept_truth = {p: truth[p] for p in kept}
    print(
        "\n| max bit error | precision | recall | precision, source duplicates counted | predicted pairs | "
        "true pairs | recall by source |"
    )
    print("|---|---|---|---|---|---|---|")
    same_source = {}
    for threshold in sorted(set(args.thresholds) | {DEFAULT_MAX_BIT_ERROR}):
        found = [
            [Member(kept[i], "", 0, 0, 0.0, 0, e) for i, e in g]
            for g in group([prints[p].words for p in kept], threshold)
        ]
        s = score(found, kept_truth)
        counted = source_duplicates(s["false"], truth, same_source)
        by_source = _count(sources[truth[a]] for a, b in s["true_found"])
        totals = _count(sources[truth[a]] for a, b in s["actual"])
        recall = ", ".join(f"{k} {by_source.get(k, 0) / v:.2f}" for k, v in sorted(totals.items()))
        mark = " (default)" if threshold == DEFAULT_MAX_BIT_ERROR else ""
        print(
            f"| {threshold}{mark} | {s['precision']:.4f} | {s['recall']:.4f} | "
            f"{(s['hits'] + counted) / max(s['predicted_pairs'], 1):.4f} | {s['predicted_pairs']} | "
            f"{s['true_pairs']} | {recall} |"
        )
    print("\npairs of different originals found at some threshold, and their originals' waveform cross-correlation:")
    for (a, b), c in sorted(same_source.items(), key=lambda kv: -kv[1]):
        print(f"- {Path(originals_of(truth)[a]).name} ~ {Path(originals_of(truth)[b]).name}: {c:.3f}")
    short_files(args, truth, prints, sources)
    whole = score(groups, {p: truth[p] for p in paths if prints[p] is not None})
    counted = source_duplicates(whole["false"], truth, same_source)
    print(
        f"\nthe whole set at the defaults (both methods, {len(groups.too_short)} files under the shortest compared): "
        f"precision {whole['precision']:.4f}, recall {whole['recall']:.4f} ({whole['hits']} of {whole['true_pairs']} "
        f"pairs, {whole['predicted_pairs']} predicted); precision with source duplicates counted "
        f"{(whole['hits'] + counted) / max(whole['predicted_pairs'], 1):.4f}"
    )


def short_files(args, truth: dict[str, int], prints: dict, sources: dict[int, str]) -> None:
    """Precision and recall over the pairs with a file under 3 s (or too few words for Chromaprint), by the
    spectral correlation a pair needs."""
    from audioret.duplicates import by_chromaprint, connected, short_pairs
    from audioret.duplicates.spectrum import MIN_CORRELATION

    profiled = [
        p for p in sorted(prints) if prints[p] is not None and prints[p].profile is not None and len(prints[p].profile)
    ]
    short = [not by_chromaprint(prints[p]) for p in profiled]
    actual = {
        (a, b)
        for (i, a), (j, b) in itertools.combinations(enumerate(profiled), 2)
        if truth[a] == truth[b] and (short[i] or short[j])
    }
    print(
        f"\nfiles under 3 s (or too few words), by their spectrum: {sum(short)} short files, {len(profiled)} with a "
        f"spectrum; {len(actual)} true pairs with a short file"
    )
    print(
        "\n| min correlation | precision | recall | precision, source duplicates counted | predicted pairs | "
        "recall by source | time |"
    )
    print("|---|---|---|---|---|---|---|")
    same_source: dict[tuple[int, int], float] = {}
    for c in sorted(set(args.correlations) | {MIN_CORRELATION}):
        t0 = time.perf_counter()
        pairs = short_pairs([prints[p].profile for p in profiled], short, c)
        took = time.perf_counter() - t0
        predicted = {
            tuple(sorted((profiled[a], profiled[b])))
            for ids in connected(len(profiled), pairs)
            for a, b in itertools.combinations(ids, 2)
            if short[a] or short[b]
        }
        hits = predicted & actual
        counted = source_duplicates(predicted - actual, truth, same_source)
        by_source = _count(sources[truth[a]] for a, _ in hits)
        totals = _count(sources[truth[a]] for a, _ in actual)
        recall = ", ".join(f"{k} {by_source.get(k, 0) / v:.2f}" for k, v in sorted(totals.items()))
        mark = " (default)" if c == MIN_CORRELATION else ""
        print(
            f"| {c}{mark} | {len(hits) / max(len(predicted), 1):.4f} | {len(hits) / max(len(actual), 1):.4f} | "
            f"{(len(hits) + counted) / max(len(predicted), 1):.4f} | {len(predicted)} | {recall} | {took:.1f} s |"
        )
        if c == MIN_CORRELATION:
            false = sorted(predicted - actual)
            print(
                "  false pairs at the default: " + "; ".join(f"{Path(a).name} ~ {Path(b).name}" for a, b in false[:12])
            )
    print("\npairs of different originals found at some correlation, and their originals' waveform cross-correlation:")
    for (a, b), c in sorted(same_source.items(), key=lambda kv: -kv[1]):
        print(f"- {Path(originals_of(truth)[a]).name} ~ {Path(originals_of(truth)[b]).name}: {c:.3f}")


def _count(items) -> dict:
    out: dict = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def originals_of(truth: dict[str, int]) -> dict[int, str]:
    """Each original's untouched copy, by its number."""
    return {n: p for p, n in truth.items() if variant(p) is None}


def source_names(root: Path, truth: dict[str, int]) -> dict[int, str]:
    """Which collection each original came from."""
    names = {}
    for n, p in originals_of(truth).items():
        stem = Path(p).name.split("-", 1)[1]
        names[n] = (
            "FSDD"
            if stem[:1].isdigit() and "_" in stem
            else "ESC-10"
            if stem[:1].isdigit()
            else "librosa-data"
            if (root / "librosa-data" / stem).exists()
            else "Sonic Pi"
        )
    return names


SAME_SOURCE = 0.9  # two originals whose waveforms correlate this well are one recording in their collection


def source_duplicates(false_pairs, truth: dict[str, int], seen: dict[tuple[int, int], float]) -> int:
    """How many of the false pairs join files whose originals are themselves one recording (a sample pack's stroke
    cut twice): the originals' :func:`waveform_match` to SAME_SOURCE, each pair of originals measured once into
    ``seen``."""
    counted = 0
    for a, b in false_pairs:
        key = tuple(sorted((truth[a], truth[b])))
        if key not in seen:
            seen[key] = waveform_match(originals_of(truth)[key[0]], originals_of(truth)[key[1]])
        counted += seen[key] >= SAME_SOURCE
    return counted


def waveform_match(a: str, b: str) -> float:
    """The highest normalised cross-correlation of two recordings' waveforms at 11,025 Hz, over every lag."""
    from audioret import audio

    x, y = audio.load(a, sr=11025)[: 60 * 11025], audio.load(b, sr=11025)[: 60 * 11025]
    n = len(x) + len(y)
    c = np.fft.irfft(np.fft.rfft(x - x.mean(), n) * np.conj(np.fft.rfft(y - y.mean(), n)), n)
    return float(c.max() / (np.linalg.norm(x - x.mean()) * np.linalg.norm(y - y.mean()) + 1e-12))


if __name__ == "__main__":
    main()
