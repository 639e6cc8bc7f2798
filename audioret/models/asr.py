"""Speech to text with Whisper, for spoken queries and for the speech in the library.

Two engines share one interface: faster-whisper (the default: CTranslate2, int8 on CPU, float16 on CUDA) and
openai-whisper (the reference implementation, PyTorch). Both run only where Silero VAD (shipped with
faster-whisper) hears speech: Whisper invents words on silence and noise ("Thank you.", "You"), so audio
without speech never reaches the decoder, and decoding does not condition on earlier text, which stops a
hallucination from repeating. A recording with no speech raises :class:`NoSpeechError`.

Index-time transcription of many short clips (``transcribe_many``) shares the gate and the speech rules with
``transcribe``, which keeps both here; what counts as speech in Whisper's output is :mod:`.speech_rules`. On CUDA, a
recording with more than BATCHED_SPEECH_S of
speech goes through faster-whisper's batched pipeline: its speech regions, in pieces of up to 30 s, decoded
BATCH_SIZE at a time. Not on a CPU, where it was no faster than the sequential decoder and made more word errors
(docs/BENCHMARKS.md, "Speech").
"""

from __future__ import annotations

import logging
import os

import numpy as np

from ..config import ASR_ENGINES as ENGINES
from ..errors import InputError, ModelLoadError, NoSpeechError
from ..types import Transcript, Utterance
from . import hub
from .speech_gate import ASR_SAMPLE_RATE, clip_pieces, speech_regions
from .speech_rules import (
    LOG_PROB_THRESHOLD,
    NO_SPEECH_THRESHOLD,
    collapse_repeats,
    cut_short,
    is_speech,
    repeats_a_phrase,
    split_at_gaps,
)

__all__ = ["ASR_SAMPLE_RATE", "NoSpeechError", "Transcriber", "Transcript", "Utterance", "load_asr", "speech_regions"]

logger = logging.getLogger("audioret")

MIN_SPEECH_S = 0.25  # less speech than this (after VAD) counts as none
# Whisper's own per-window guard (the values of its reference implementation): a window whose no-speech
# probability is high and whose text is improbable is dropped, as is text that compresses too well (loops).
BATCHED_SPEECH_S = 60.0
BATCH_SIZE = 8
MAX_WORD_GAP_S = 2.0  # words further apart than this are in different utterances (index time)
COMPRESSION_RATIO_THRESHOLD = 2.4
# Short clips (a spoken digit, a voice note, a sample) are decoded with a short encoder context: Whisper's encoder
# reads 30 s (3,000 frames) whatever the clip, and that pass is 90 % of a short clip's cost (284 of 315 ms for
# tiny.en on 2 cores). CTranslate2 accepts fewer frames (whisper.cpp calls it audio_ctx): a clip whose speech fits
# in SHORT_CONTEXTS_S (with SHORT_MARGIN_S to spare) is encoded at that length (36 ms), SHORT_BATCH clips a batch.
# Two other ways were measured and left: packing several clips into one 30-s window lost words (Whisper merged
# "zero, zero, zero" into two and gave words to the wrong clip; R@1 of the spoken-digits test fell to 0.7, below
# its 0.9), and 3- or 5-s contexts made Whisper loop and mishear ("rain on a team") where 10 s matched the full
# decode. Figures: docs/BENCHMARKS.md, "Speech". A clip whose short decode loops or whose language is uncertain is
# decoded again the full way.
SHORT_CONTEXTS_S = (10.0,)
SHORT_MARGIN_S = 1.0
SHORT_BATCH = 8
SHORT_LANGUAGE_PROB = 0.8
MEL_FRAMES_PER_S = 100
TOKENS_PER_S = 8  # the most tokens a short decode may write per second of speech (stops loops early)
RETRY_BEAM = 5  # the beam of a second decode where a greedy one left speech unread (speech_rules.cut_short)


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
        self.batched = engine == "faster-whisper" and device.startswith("cuda")  # long speech in batches (above)
        self._pipeline = None  # faster-whisper's BatchedInferencePipeline over the same model, made on first use

    def transcribe(
        self,
        samples: np.ndarray,
        translate: bool = False,
        language: str | None = None,
        beam_size: int = 5,
        word_times: bool = False,
    ) -> Transcript:
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

    def transcribe_many(self, clips: list[np.ndarray], beam_size: int = 1) -> list[Transcript | NoSpeechError]:
        """Transcribe many short clips (mono float32 at 16 kHz) for the index: each gets its own Transcript (one
        utterance over its speech), or the NoSpeechError it would have raised alone. Clips with little speech are
        decoded in batches with a short encoder context (SHORT_CONTEXTS_S); the rest one by one, as ``transcribe``."""
        results: list = [None] * len(clips)
        tiers: dict[int, list] = {}
        for i, samples in enumerate(clips):
            samples = np.asarray(samples, np.float32)
            regions = speech_regions(samples) if len(samples) else []
            speech_s = sum(e - s for s, e in regions) / ASR_SAMPLE_RATE
            if speech_s < MIN_SPEECH_S:
                results[i] = NoSpeechError()
                continue
            context = next((c for c in SHORT_CONTEXTS_S if speech_s + SHORT_MARGIN_S <= c), None)
            if context is None or self.engine != "faster-whisper":
                results[i] = self._alone(samples, beam_size)
                continue
            tiers.setdefault(int(context * MEL_FRAMES_PER_S), []).append((i, samples, regions, speech_s))
        for frames, tier in tiers.items():
            for at in range(0, len(tier), SHORT_BATCH):
                batch = tier[at : at + SHORT_BATCH]
                for (i, samples, regions, speech_s), heard in zip(batch, self._short(batch, frames, beam_size)):
                    if heard is None:
                        results[i] = self._alone(samples, beam_size)
                    elif not heard:
                        results[i] = NoSpeechError(speech_s=speech_s)
                    else:
                        duration_s = len(samples) / ASR_SAMPLE_RATE
                        utterance = Utterance(
                            regions[0][0] / ASR_SAMPLE_RATE, min(regions[-1][1] / ASR_SAMPLE_RATE, duration_s), heard[0]
                        )
                        results[i] = Transcript(
                            heard[0], heard[1], heard[2], heard[0], (utterance,), speech_s, duration_s
                        )
        return results

    def _alone(self, samples: np.ndarray, beam_size: int) -> Transcript | NoSpeechError:
        try:
            return self.transcribe(samples, beam_size=beam_size, word_times=True)
        except NoSpeechError as e:
            return e

    def _short(self, batch, frames: int, beam_size: int) -> list[tuple[str, str, float | None] | None]:
        """One batch of clips' speech, encoded at ``frames`` mel frames and decoded without timestamps: per clip
        ``(text, language, probability)``, ``()`` when the speech rules drop it, or None to decode it again the full
        way (it looped, or its language is uncertain)."""
        import ctranslate2
        from faster_whisper.vad import collect_chunks

        model = self.model
        features = np.zeros((len(batch), model.model.n_mels, frames), np.float32)
        for row, (_, samples, regions, _) in enumerate(batch):
            speech = np.concatenate(
                collect_chunks(samples, [{"start": s, "end": e} for s, e in regions], ASR_SAMPLE_RATE)[0]
            )
            # zeros after the speech, not the clip's own silence (Whisper's padding): with that, tiny.en heard 14
            # fewer of 300 digits and wrote on 11 more of 400 sound clips (docs/BENCHMARKS.md, "Speech")
            mel = model.feature_extractor(speech)[:, :frames]
            features[row, :, : mel.shape[1]] = mel
        encoded = model.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=False)
        languages = [("en", None)] * len(batch)
        if self.multilingual:
            languages = [(found[0][0][2:-2], found[0][1]) for found in model.model.detect_language(encoded)]
        prompts = [model.get_prompt(self._tokenizer(lang), [], without_timestamps=True) for lang, _ in languages]
        longest = max(speech_s for *_, speech_s in batch)
        found = model.model.generate(
            encoded,
            prompts,
            beam_size=beam_size,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
            max_length=len(prompts[0]) + 4 + int(TOKENS_PER_S * longest),
        )
        out = []
        for (lang, probability), result, (*_, speech_s) in zip(languages, found, batch):
            tokens = result.sequences_ids[0]
            text = collapse_repeats(self._tokenizer(lang).decode(tokens).strip())
            looped = len(tokens) > 3 + TOKENS_PER_S * speech_s and text == self._tokenizer(lang).decode(tokens).strip()
            looped = looped or repeats_a_phrase(text)  # a loop that does not start over (collapse_repeats)
            unsure = self.multilingual and probability < SHORT_LANGUAGE_PROB
            avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
            if looped or unsure:
                out.append(None)
            else:  # a short context makes Whisper less sure of speech (no-speech probability 0.7-0.9 on some
                # clear digits), so the rules drop a little more: decoded again the full way, 2 of 19 such FSDD
                # clips came back right, at 0.5 s each, so what they drop stays dropped
                keep = is_speech(text, result.no_speech_prob, avg_logprob)
                out.append((text, lang, probability) if keep else ())
        return out

    def _tokenizer(self, language: str):
        from faster_whisper.tokenizer import Tokenizer

        cache = self.__dict__.setdefault("_tokenizers", {})
        if language not in cache:
            cache[language] = Tokenizer(
                self.model.hf_tokenizer, self.multilingual, task="transcribe", language=language
            )
        return cache[language]

    def _decode(self, samples, regions, task, language, beam_size, word_times) -> tuple[list[Utterance], str, float]:
        """Decode only the speech: concatenated (as faster-whisper's ``vad_filter`` does), with times mapped back,
        or, when there is much of it, region by region in batches."""
        from faster_whisper.vad import SpeechTimestampsMap, collect_chunks

        duration_s = len(samples) / ASR_SAMPLE_RATE
        if self.batched and sum(e - s for s, e in regions) / ASR_SAMPLE_RATE > BATCHED_SPEECH_S:
            found, language, probability = self._run_batched(samples, regions, task, language, beam_size, word_times)
            times = None  # times are the recording's own
        else:
            chunks = [{"start": s, "end": e} for s, e in regions]
            speech = np.concatenate(collect_chunks(samples, chunks, ASR_SAMPLE_RATE)[0])
            found, language, probability = self._run(speech, task, language, beam_size, word_times)
            if beam_size < RETRY_BEAM and cut_short([(a, b) for a, b, *_ in found], len(speech) / ASR_SAMPLE_RATE):
                found, language, probability = self._run(speech, task, language, RETRY_BEAM, word_times)
            times = SpeechTimestampsMap(chunks, ASR_SAMPLE_RATE)
        utterances = []
        for start, end, text, no_speech_prob, avg_logprob, words in found:
            if not is_speech(text, no_speech_prob, avg_logprob):
                continue
            if not words:
                utterances.append(Utterance(*_span(times, duration_s, start, end), text.strip()))
                continue
            timed = [(*_span(times, duration_s, ws, we), w) for ws, we, w in words]
            utterances += [
                Utterance(piece[0][0], piece[-1][1], "".join(w for _, _, w in piece).strip())
                for piece in split_at_gaps(timed, MAX_WORD_GAP_S)
            ]
        return utterances, language, probability

    def _run_batched(self, samples, regions, task, language, beam_size, word_times):
        """faster-whisper's batched pipeline over the speech regions (joined, or cut, into pieces of up to 30 s);
        returns what :meth:`_run` does, with times in the recording."""
        from faster_whisper import BatchedInferencePipeline

        if self._pipeline is None:
            self._pipeline = BatchedInferencePipeline(self.model)
        if not self.multilingual:
            language, task = "en", "transcribe"
        segments, info = self._pipeline.transcribe(
            samples,
            language=language,
            task=task,
            beam_size=beam_size,
            batch_size=BATCH_SIZE,
            vad_filter=False,
            clip_timestamps=clip_pieces(regions),
            condition_on_previous_text=False,
            word_timestamps=word_times,
            no_speech_threshold=NO_SPEECH_THRESHOLD,
            compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
            log_prob_threshold=LOG_PROB_THRESHOLD,
            without_timestamps=False,
        )
        found = [
            (s.start, s.end, s.text, s.no_speech_prob, s.avg_logprob, [(w.start, w.end, w.word) for w in s.words or ()])
            for s in segments
        ]
        return found, info.language, float(info.language_probability)

    def _run(self, speech: np.ndarray, task: str, language: str | None, beam_size: int, word_times: bool):
        """Whisper on 16-kHz speech: ``[(start, end, text, no_speech_prob, avg_logprob, [(start, end, word)])]``,
        the language and its probability (None for openai-whisper)."""
        if not self.multilingual:
            language, task = "en", "transcribe"
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
            found = [
                (
                    s.start,
                    s.end,
                    s.text,
                    s.no_speech_prob,
                    s.avg_logprob,
                    [(w.start, w.end, w.word) for w in s.words or ()],
                )
                for s in segments
            ]
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
            found = [
                (
                    s["start"],
                    s["end"],
                    s["text"],
                    s["no_speech_prob"],
                    s["avg_logprob"],
                    [(w["start"], w["end"], w["word"]) for w in s.get("words", ())],
                )
                for s in result["segments"]
            ]
            language, probability = result.get("language") or language or "en", None
        return found, language, probability


def _span(times, duration_s: float, start: float, end: float) -> tuple[float, float]:
    """A time range in concatenated speech, mapped back to the original audio (``times`` None: already in it),
    never past its end."""
    if times is not None:
        start, end = times.get_original_time(start), times.get_original_time(end, is_end=True)
    return min(start, duration_s), min(max(end, start), duration_s)


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
        try:
            import whisper
        except ImportError as e:  # an extra (it brings triton, ~1 GB), not in the default install
            raise ModelLoadError(
                'The openai-whisper engine is not installed: pip install "audioret[openai-whisper]" '
                "(or use the default, AUDIORET_ASR_ENGINE=faster-whisper)"
            ) from e

        model = whisper.load_model(name, device=resolved)
        return Transcriber(name, engine, model, model.is_multilingual, str(resolved))
    except ImportError as e:
        raise ModelLoadError(f"The {engine} engine is not installed ({e}); pip install {engine}") from e
    except (OSError, RuntimeError, ValueError) as e:
        raise hub.not_found(f"Whisper ({engine})", name, "AUDIORET_ASR_MODEL", e) from e
