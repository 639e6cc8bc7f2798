"""Speech to text with Whisper, for spoken queries and for the speech in the library.

Two engines share one interface: faster-whisper (the default: CTranslate2, int8 on CPU, float16 on CUDA) and
openai-whisper (the reference implementation, PyTorch). Both run only where Silero VAD (shipped with
faster-whisper) hears speech: Whisper invents words on silence and noise ("Thank you.", "You"), so audio
without speech never reaches the decoder, and decoding does not condition on earlier text, which stops a
hallucination from repeating. A recording with no speech raises :class:`NoSpeechError`.
"""

from __future__ import annotations

import logging
import os
import re

import numpy as np

from . import hub
from .config import ASR_ENGINES as ENGINES
from .errors import InputError, ModelLoadError, NoSpeechError
from .types import Transcript, Utterance

__all__ = ["ASR_SAMPLE_RATE", "NoSpeechError", "Transcriber", "Transcript", "Utterance", "load_asr", "speech_regions"]

logger = logging.getLogger("audioret")

ASR_SAMPLE_RATE = 16000  # Hz, Whisper's input rate
MIN_SPEECH_S = 0.25  # less speech than this (after VAD) counts as none
# Silero VAD settings: 0.5 is its tested threshold; short pauses stay inside one region so Whisper sees whole
# sentences, and regions are padded so first and last syllables are kept.
VAD_THRESHOLD = 0.5
VAD_MIN_SILENCE_MS = 500
VAD_SPEECH_PAD_MS = 200
# Whisper's own per-window guard (the values of its reference implementation): a window whose no-speech
# probability is high and whose text is improbable is dropped, as is text that compresses too well (loops).
MAX_WORD_GAP_S = 2.0  # words further apart than this are in different utterances (index time)
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4
# On the short non-speech sounds that pass the VAD (a baby's cry, a sneeze), tiny/base still write a line with a
# no-speech probability of 0.5-0.9: "Thank you." most of all. Real speech measured 0.01-0.2 (read speech) and
# 0.3-0.7 (single spoken digits). So an utterance is also dropped when its no-speech probability is above 0.5 and
# it is either improbable or one of Whisper's well-known stock phrases.
SUSPECT_NO_SPEECH = 0.5
# Measured on 400 ESC-10 clips and 300 FSDD digits with tiny.en (docs/BENCHMARKS.md, "Speech"): on a sneeze or a
# bark, Whisper writes an exclamation or a stock phrase with a no-speech probability of 0.33-0.64, and real single
# spoken words share those probabilities (and their log-probabilities), so what is said decides: above 0.3, an
# utterance of nothing but fillers is dropped.
FILLER_NO_SPEECH = 0.3
FILLER_WORDS = frozenset(
    "ah aah ahh oh ooh ow ouch whoa wow yeah yes yep no nope hmm hm mm mmm uh um huh hey ha haha heh yay oops eh shh "
    "aw aww ugh yikes achoo bless you and but so okay ok here there well the a".split()
)
STOCK_PHRASES = frozenset(
    ["thank you", "thanks", "thank you very much", "thanks for watching", "you", "bye", "so", "okay", "oh", "ah",
     "please subscribe", "subtitles by the amara org community", "music", "applause"]
)  # fmt: skip

def speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """Where Silero VAD hears speech in mono float32 audio at 16 kHz: ``[(start, end), ...]`` in samples."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=VAD_THRESHOLD, min_silence_duration_ms=VAD_MIN_SILENCE_MS, speech_pad_ms=VAD_SPEECH_PAD_MS
    )
    return [(r["start"], r["end"]) for r in get_speech_timestamps(samples, options, ASR_SAMPLE_RATE)]


class Transcriber:
    """Whisper behind the speech gate. Build with :func:`load_asr`.

    Args:
        engine: "faster-whisper" or "openai-whisper".
        model: the loaded engine model.
        multilingual: whether the model can detect languages and translate (``.en`` models cannot).
    """

    def __init__(self, name: str, engine: str, model, multilingual: bool, device: str):
        self.name = name
        self.engine = engine
        self.model = model
        self.multilingual = multilingual
        self.device = device

    def transcribe(self, samples: np.ndarray, translate: bool = False, language: str | None = None,
                   beam_size: int = 5, word_times: bool = False) -> Transcript:  # fmt: skip
        """Transcribe mono float32 audio at 16 kHz.

        Args:
            samples: float32, shape (n,), at 16 kHz.
            translate: also translate non-English speech to English (``Transcript.english``).
            language: skip language detection and assume this one.
            beam_size: 5 for queries; 1 (greedy) is faster for bulk transcription.
            word_times: time each word, and cut an utterance where its words are more than MAX_WORD_GAP_S apart
                (a line of a song can otherwise span the minutes of music between its words).

        Raises:
            NoSpeechError: the VAD heard no speech, or Whisper dropped everything it heard as noise.
        """
        samples = np.asarray(samples, np.float32)
        if samples.ndim != 1:
            raise ValueError(f"Expected mono samples of shape (n,), got shape {samples.shape}")
        regions = speech_regions(samples) if len(samples) else []
        speech_s = sum(e - s for s, e in regions) / ASR_SAMPLE_RATE
        if speech_s < MIN_SPEECH_S:
            raise NoSpeechError()
        utterances, lang, prob = self._decode(samples, regions, "transcribe", language, beam_size, word_times)
        text = _join(utterances)
        if not text:
            raise NoSpeechError(speech_s=speech_s)
        english = text
        if translate and lang != "en" and self.multilingual:
            translated, _, _ = self._decode(samples, regions, "translate", lang, beam_size, False)
            english = _join(translated) or text
        return Transcript(text, lang, prob, english, tuple(utterances), speech_s, len(samples) / ASR_SAMPLE_RATE)

    def _decode(self, samples, regions, task, language, beam_size, word_times) -> tuple[list[Utterance], str, float]:
        """Decode only the speech, concatenated (as faster-whisper's ``vad_filter`` does), with times mapped back."""
        from faster_whisper.vad import SpeechTimestampsMap, collect_chunks

        if not self.multilingual:
            language, task = "en", "transcribe"
        chunks = [{"start": s, "end": e} for s, e in regions]
        speech = np.concatenate(collect_chunks(samples, chunks, ASR_SAMPLE_RATE)[0])
        options = dict(
            language=language,
            task=task,
            condition_on_previous_text=False,
            no_speech_threshold=NO_SPEECH_THRESHOLD,
            compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
            word_timestamps=word_times,
        )
        if self.engine == "faster-whisper":
            segments, info = self.model.transcribe(
                speech, beam_size=beam_size, log_prob_threshold=LOG_PROB_THRESHOLD, vad_filter=False, **options
            )
            found = [(s.start, s.end, s.text, s.no_speech_prob, s.avg_logprob,
                      [(w.start, w.end, w.word) for w in s.words or ()]) for s in segments]  # fmt: skip
            language, probability = info.language, float(info.language_probability)
        else:
            result = self.model.transcribe(
                speech,
                beam_size=beam_size if beam_size > 1 else None,
                logprob_threshold=LOG_PROB_THRESHOLD,
                fp16=self.device.startswith("cuda"),
                verbose=None,
                **options,
            )
            found = [(s["start"], s["end"], s["text"], s["no_speech_prob"], s["avg_logprob"],
                      [(w["start"], w["end"], w["word"]) for w in s.get("words", ())]) for s in result["segments"]]  # fmt: skip
            language, probability = result.get("language") or language or "en", None
        times = SpeechTimestampsMap(chunks, ASR_SAMPLE_RATE)
        duration_s = len(samples) / ASR_SAMPLE_RATE

        def span(start: float, end: float) -> tuple[float, float]:  # in the original audio, never past its end
            s, e = times.get_original_time(start), times.get_original_time(end, is_end=True)
            return min(s, duration_s), min(max(e, s), duration_s)

        utterances = []
        for start, end, text, no_speech_prob, avg_logprob, words in found:
            if not _is_speech(text, no_speech_prob, avg_logprob):
                continue
            if not words:
                utterances.append(Utterance(*span(start, end), text.strip()))
                continue
            timed = [(*span(ws, we), w) for ws, we, w in words]
            utterances += [Utterance(piece[0][0], piece[-1][1], "".join(w for _, _, w in piece).strip())
                           for piece in split_at_gaps(timed, MAX_WORD_GAP_S)]  # fmt: skip
        return utterances, language, probability


def split_at_gaps(words: list[tuple[float, float, str]], gap_s: float) -> list[list[tuple[float, float, str]]]:
    """Timed words ``(start_s, end_s, word)`` in runs, cut wherever one ends more than ``gap_s`` before the next."""
    runs: list[list] = []
    for word in words:
        if runs and word[0] - runs[-1][-1][1] <= gap_s:
            runs[-1].append(word)
        else:
            runs.append([word])
    return [run for run in runs if "".join(w for _, _, w in run).strip()]


def _is_speech(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    if not text.strip():
        return False
    if no_speech_prob > NO_SPEECH_THRESHOLD and avg_logprob < LOG_PROB_THRESHOLD:  # Whisper's own rule
        return False
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    if no_speech_prob > FILLER_NO_SPEECH and is_filler(words):
        return False
    if no_speech_prob > SUSPECT_NO_SPEECH:
        return avg_logprob >= LOG_PROB_THRESHOLD and " ".join(words) not in STOCK_PHRASES
    return True


def is_filler(words: list[str]) -> bool:
    """Only exclamations, stock words and one word or phrase said over and over: what Whisper writes for a sneeze,
    a bark or a baby's cry ("Ah!", "Thank you.", "Oh, oh, oh.", "But this year, but this year.")."""
    if not words:
        return True
    if all(w in FILLER_WORDS for w in words) or " ".join(words) in STOCK_PHRASES:
        return True
    for n in range(1, len(words) // 2 + 1):  # a phrase of n words repeated to the end
        if len(words) % n == 0 and words == words[:n] * (len(words) // n):
            return True
    return False


def _join(utterances: list[Utterance]) -> str:
    return " ".join(u.text for u in utterances if u.text).strip()


def load_asr(name: str = "base", engine: str = "faster-whisper", device: str = "auto") -> Transcriber:
    """Load a Whisper model.

    Args:
        name: a model size ("tiny", "base", "small", "large-v3" ...), a hub id, or a local directory
            (a CTranslate2 conversion for faster-whisper) or ``.pt`` checkpoint (openai-whisper).
        engine: "faster-whisper" (default) or "openai-whisper".
        device: "auto", "cpu", "cuda" or "cuda:N".
    """
    from .devices import resolve_device

    if engine not in ENGINES:
        raise InputError(f"Unknown ASR engine {engine!r}; expected one of {list(ENGINES)}")
    resolved = resolve_device(device)
    try:
        if engine == "faster-whisper":
            from faster_whisper import WhisperModel

            kind = "cuda" if resolved.type == "cuda" else "cpu"  # CTranslate2 has no MPS backend
            model = WhisperModel(
                name,
                device=kind,
                device_index=resolved.index or 0,
                compute_type="float16" if kind == "cuda" else "int8",
                cpu_threads=min(os.cpu_count() or 1, 8),
                local_files_only=hub.local_only(name),
            )
            return Transcriber(name, engine, model, model.model.is_multilingual, kind)
        import whisper

        model = whisper.load_model(name, device=resolved)
        return Transcriber(name, engine, model, model.is_multilingual, str(resolved))
    except ImportError as e:
        raise ModelLoadError(f"The {engine} engine is not installed ({e}); pip install {engine}") from e
    except (OSError, RuntimeError, ValueError) as e:
        raise hub.not_found(f"Whisper ({engine})", name, "AUDIORET_ASR_MODEL", e) from e
