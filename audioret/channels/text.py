"""The text channel: what is said in a file and what is written about it, embedded with sentence-transformers.

Each file becomes passages (:func:`audioret.channels.passages.file_passages`): its name, tags, sidecar description and,
where Whisper heard speech, one passage per sentence with its time range. Speech is transcribed only where Silero VAD
hears it: a file without speech costs the VAD (hundreds of times faster than real time) and never reaches Whisper. Long
files are transcribed in 10-minute pieces (:mod:`audioret.channels.speech_cutter`). The passages of many files are
embedded in one call. A file whose audio is unchanged keeps its stored transcript and only re-embeds the text (a new
sidecar or text model; a run without Whisper, ``--no-transcribe``, which adds no speech and takes none away).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..errors import ModelLoadError, NoSpeechError
from ..models.asr import ASR_SAMPLE_RATE
from ..query import Query, minus
from ..ranking.calibration import Background, judge
from ..ranking.fusion import Found
from ..ranking.nearest import best_files
from ..ranking.null import ALIKE, REFERENCE_PROMPTS, UNRELATED_PROMPTS
from ..store.filters import accepts
from ..store.numbers import numbers_joined
from ..store.records import file_fields, records
from ..store.word_index import phrase_pattern, word_pattern
from ..types import IndexReport, Moment, Scope, Transcript, Utterance
from .base import Channel, Embedded, Output, Recent, provenances, scaled
from .feedback import moved
from .passages import described, file_passages, numbers_disagree, passage_found, sidecar_signature
from .speech_cutter import cut_speech, transcribe_pieces
from .words import across_passages, lexical

logger = logging.getLogger("audioret")

# Pieces up to SHORT_CLIP_S wait for others, to be transcribed together (Transcriber.transcribe_many: a short
# encoder context, in batches) once SHORT_BUFFER_S of them are waiting or the oldest has waited SHORT_WAIT_S
# (docs/BENCHMARKS.md, "Speech").
SHORT_CLIP_S = 30
SHORT_BUFFER_S = 240.0
SHORT_WAIT_S = 10.0
ENCODE_BATCH = 256  # passages embedded in one call (or fewer, once the oldest has waited ENCODE_WAIT_S)...
ENCODE_WAIT_S = 2.0  # ...so few calls, one upsert for many files, and an interrupted run loses little


class TextChannel(Channel):
    """Passages in their own collection.

    Args:
        encoder: a function returning the loaded :class:`~audioret.models.text_encoder.TextEncoder`.
        store: the channel's store (or a function returning it).
        transcriber: a function returning the loaded :class:`~audioret.models.asr.Transcriber`, or None to index names,
            tags and sidecars without transcribing speech.
        reference: a function returning the text model's embeddings of the fusion's reference prompts.
        unrelated: the same for requests a library seldom holds (null.UNRELATED_PROMPTS).
        provenance: a function returning what this run's model records with its vectors.
        weight: the channel's weight when a search gives none.
        model_name, asr_name: the text and speech models' names, for ``audioret stats``.
    """

    name = "text"
    title = "the text channel (what is said, names, descriptions)"
    reads_words = True
    debias = False  # measured: taking passages' bias out lost R@1 (0.775 -> 0.735 on the fusion benchmark)
    alike = ALIKE  # near-copy passages (a numbered series of file names) count once in the background
    against_reference = True  # measured against the query's own spread, text alone lost R@1 and (b) lost 0.45

    def __init__(
        self,
        encoder: Callable,
        store,
        transcriber: Callable | None = None,
        reference: Callable[[], np.ndarray] | None = None,
        provenance: Callable[[], dict] | None = None,
        weight: float = 1.0,
        model_name: str = "",
        asr_name: str = "",
        unrelated: Callable[[], np.ndarray] | None = None,
    ):
        self._encoder, self._store, self._transcriber, self.provenance = encoder, store, transcriber, provenance
        self._reference = reference or (lambda: self.encoder.encode(list(REFERENCE_PROMPTS)))
        self._unrelated = unrelated or (lambda: self.encoder.encode(list(UNRELATED_PROMPTS)))
        self._reference_vectors: np.ndarray | None = None
        self._unrelated_vectors: np.ndarray | None = None
        self._queries = Recent()
        self.weight, self.model_name, self.asr_name = weight, model_name, asr_name
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.transcribe = self._transcriber is not None
        self.report = IndexReport(roots=[])
        self._speech: dict = {}  # job -> utterances heard so far
        self._language: dict = {}  # job -> the language Whisper heard (ISO 639-1)
        self._told: dict = {}  # job -> its tags and sidecar, read in a decode thread (prepare)
        self._transcribed_before: set = set()  # jobs whose stored transcript is kept (reuse)
        self._clips: list[tuple] = []  # (job, offset_s, samples): short pieces waiting to be packed for Whisper
        self._clips_s = self._since_clip = 0.0
        self._waiting: dict = {}  # job -> duration_s: decoded, with clips still to transcribe
        self._pending: list[tuple] = []  # (job, passages, duration_s)
        self._since = 0.0  # when the oldest pending file arrived

    @property
    def store(self):
        return self._store() if callable(self._store) else self._store

    @property
    def encoder(self):
        return self._encoder()

    # -- indexing ------------------------------------------------------------------------------------------------

    def begin(self, report: IndexReport) -> None:
        self.report = report
        self.store.sync_words()  # a run with nothing to write still repairs a word index a crash left behind

    def current(self, record, st: os.stat_result, path: str) -> bool:
        m = record.metadata
        return (
            super().current(record, st, path)
            and m.get("sidecar") == sidecar_signature(path)
            and self._transcript_holds(m)
        )

    def same_content(self, record, digest: str) -> bool:
        """Same audio, transcribed as this run would, or before: its transcript is kept. Its passages are encoded
        again (:meth:`reuse`), so a new text model or precision needs no new transcription."""
        return record is not None and record.hash == digest and self._transcript_holds(record.metadata)

    def _transcript_holds(self, metadata: dict) -> bool:
        return bool(metadata.get("transcribed")) or not self.transcribe  # a run without Whisper takes no speech away

    def load(self) -> None:
        self.encoder
        if self.transcribe:  # without Whisper, index names, tags and sidecars, and say why in the report
            try:
                self._transcriber()
            except ModelLoadError as e:
                logger.warning("Speech is not transcribed: %s", e)
                self.report.skipped_channels["speech"] = str(e)
                self.transcribe = False

    @property
    def needs_audio(self) -> bool:
        return self.transcribe

    def cutting(self) -> Callable:
        return cut_speech

    def prepare(self, job) -> None:
        """Reads the file's tags and sidecar in the decode thread: on the model thread, mutagen's parsing was half
        that thread's work per window, measured with instant models (docs/BENCHMARKS.md, "On a GPU")."""
        self._told[job] = described(job.path)

    def take(self, job, piece: tuple[float, np.ndarray] | Embedded) -> None:
        """Short pieces wait to be transcribed together (Transcriber.transcribe_many); long ones are transcribed at
        once; a piece a cluster's actor transcribed (``Embedded``) is taken as it is."""
        self._speech.setdefault(job, [])
        if isinstance(piece, Embedded):
            self.report.checked_s += piece.at[1]
            return self._heard(job, piece.at[0], piece.result)
        offset_s, samples = piece
        self.report.checked_s += len(samples) / ASR_SAMPLE_RATE
        if len(samples) <= SHORT_CLIP_S * ASR_SAMPLE_RATE:
            if not self._clips:
                self._since_clip = time.monotonic()
            self._clips.append((job, offset_s, samples))
            self._clips_s += len(samples) / ASR_SAMPLE_RATE
            if self._clips_s >= SHORT_BUFFER_S:
                self._transcribe_clips()
            return
        self._heard(job, offset_s, transcribe_pieces(self._transcriber(), [samples], SHORT_CLIP_S)[0])

    def embed(self, pieces: list[tuple[float, np.ndarray]]) -> list[Embedded]:
        results = transcribe_pieces(self._transcriber(), [samples for _, samples in pieces], SHORT_CLIP_S)
        return [Embedded((o, len(s) / ASR_SAMPLE_RATE), r) for (o, s), r in zip(pieces, results)]

    def _heard(self, job, offset_s: float, t: Transcript | NoSpeechError) -> None:
        self.report.speech_s += t.speech_s
        if not isinstance(t, NoSpeechError):
            self._language[job] = t.language
            self._speech[job].extend(Utterance(offset_s + u.start_s, offset_s + u.end_s, u.text) for u in t.utterances)

    def _transcribe_clips(self) -> None:
        clips, self._clips, self._clips_s = self._clips, [], 0.0
        if not clips:
            return
        results = self._transcriber().transcribe_many([samples for _, _, samples in clips], beam_size=1)
        for (job, offset_s, _), result in zip(clips, results):
            self._heard(job, offset_s, result)
        for job in [j for j in self._waiting if j not in {c[0] for c in self._clips}]:
            self._finish(job, self._waiting.pop(job))

    def finish(self, job, info, duration_s: float) -> None:
        if any(c[0] is job for c in self._clips):  # finished once its clips are transcribed
            self._waiting[job] = duration_s
        else:
            self._finish(job, duration_s)

    def _finish(self, job, duration_s: float) -> None:
        heard = self._speech.pop(job, [])
        if heard:
            self.report.transcribed += 1
        self._queue(job, file_passages(job.path, duration_s, heard, self._told.pop(job, None)), duration_s)

    def reuse(self, job) -> None:
        """Same audio: keep the stored transcript, read the name, tags and sidecar again."""
        stored = self.store.file_records(job.path, documents=True)
        duration_s = job.stored[self.name].duration_s
        self._language[job] = job.stored[self.name].metadata.get("language", "")
        self._transcribed_before.update([job] if job.stored[self.name].metadata.get("transcribed") else [])
        heard = [
            Utterance(m.metadata["start_s"], m.metadata["end_s"], m.document)
            for m in stored
            if m.metadata.get("kind") == "speech"
        ]
        self._queue(job, file_passages(job.path, duration_s, heard, self._told.pop(job, None)), duration_s)

    def drop(self, job) -> None:
        self._speech.pop(job, None)
        self._told.pop(job, None)
        self._waiting.pop(job, None)
        self._clips = [c for c in self._clips if c[0] is not job]
        self._clips_s = sum(len(c[2]) for c in self._clips) / ASR_SAMPLE_RATE
        self._pending = [p for p in self._pending if p[0] is not job]

    def _queue(self, job, passages, duration_s: float) -> None:
        if not self._pending:
            self._since = time.monotonic()
        self._pending.append((job, passages, duration_s))

    def ready(self) -> list[Output]:
        if self._clips and time.monotonic() - self._since_clip >= SHORT_WAIT_S:
            self._transcribe_clips()
        if not self._pending:
            return []
        full = sum(len(p) for _, p, _ in self._pending) >= ENCODE_BATCH
        return self.drain() if full or time.monotonic() - self._since >= ENCODE_WAIT_S else []

    def drain(self) -> list[Output]:
        self._transcribe_clips()
        if not self._pending:
            return []
        vectors = self.encoder.encode([p.text for _, passages, _ in self._pending for p in passages])
        out, at = [], 0
        for job, passages, duration_s in self._pending:
            common = file_fields(job.path, job.stat, job.digest, duration_s, len(passages))
            common.update(
                sidecar=sidecar_signature(job.path),
                transcribed=self.transcribe or job in self._transcribed_before,
                speech_passages=sum(p.kind == "speech" for p in passages),
                language=self._language.pop(job, "") if any(p.kind == "speech" for p in passages) else "",
                **self.provenance_fields(self.encoder),
            )
            ids, metadatas = records(common, [(p.start_s, p.end_s, {"kind": p.kind}) for p in passages], self.store.key)
            out.append(
                Output(job, self.name, ids, metadatas, vectors[at : at + len(passages)], [p.text for p in passages])
            )
            at += len(passages)
        self._pending = []
        return out

    def written(self, out: Output, report) -> None:
        report.text_files += 1
        report.passages += len(out.ids)

    # -- searching -----------------------------------------------------------------------------------------------

    @property
    def model(self):
        return self.encoder

    found = staticmethod(passage_found)

    def reference(self) -> np.ndarray:
        """The text model's embeddings of the fusion's reference queries (computed once; kept beside an export)."""
        if self._reference_vectors is None:
            self._reference_vectors = self._reference()
        return self._reference_vectors

    def unrelated(self) -> np.ndarray:
        """Its embeddings of requests a library seldom holds (null.UNRELATED_PROMPTS), as :meth:`reference`."""
        if self._unrelated_vectors is None:
            self._unrelated_vectors = self._unrelated()
        return self._unrelated_vectors

    def rank(self, request, n_files: int) -> list[Found]:
        """Each file's best passage for a query, best first, by the stronger of two legs: its meaning
        (sentence-transformers; with feedback, moved towards the files liked, Rocchio) and its words (the
        store's full-text search: rare words, phrases). A spoken query's own words (``request.words``) are what
        this channel reads."""
        query, scope = request.words, request.scope
        if not self.store.has_records() or not query.text:
            return []
        vector = self.encoder.encode([query.text])
        if request.feedback:
            vector = moved(vector[0], self.store, request.feedback, self.name)[None]
        matches = best_files(self.store, vector, n_files, scope, vectors=self.debias, documents=True)  # vectors: debias
        sample, count = self.store.background()
        background = Background.remembered(sample, count, self.reference(), self.debias, self.alike, self.unrelated())
        stacked = bool(matches) and self.debias
        candidates = np.stack([m.vector for m in matches]) if stacked else np.zeros((0, vector.shape[1]), np.float32)
        e, beyond = judge([m.score for m in matches], candidates, vector, background, self.against_reference)
        # a passage that says other numbers answers nothing by meaning; one that is a number alone, no query for none
        off = [numbers_disagree(query.words, m.document or "") for m in matches]
        e, beyond = np.where(off, 0.0, e), np.where(off, 0.0, beyond)
        chance = background.informative()  # what its chance tops count for in fusion's match line
        found = {m.path: self.found(m, float(x), beyond=float(b), chance=chance) for m, x, b in zip(matches, e, beyond)}
        quoted = [re.compile(phrase_pattern(numbers_joined(p))) for p in query.phrases]
        for f in self.lexical(query, count, scope):  # the words found are evidence in both senses
            held = found.get(f.match.path)
            # a passage that holds the quoted phrases is the one shown, at the file's stronger evidence
            shows = bool(quoted) and all(q.search(f.match.document or "") for q in quoted)
            if held is None or f.evidence > held.evidence or shows:
                b = max(f.evidence, held.against_unrelated) if held else None
                e = max(f.evidence, held.evidence) if held else f.evidence
                found[f.match.path] = self.found(
                    f.match, e, "words", f.words, held.match.score if held else None, b, chance
                )
            elif f.evidence > held.against_unrelated:
                found[f.match.path] = replace(held, beyond=f.evidence)
        return sorted(found.values(), key=lambda f: (-f.evidence, f.match.path))[:n_files]

    def lexical(self, query: Query, count: int, scope: Scope = Scope()) -> list[Found]:
        """Each file's best passage by the query's words (:func:`audioret.channels.words.lexical`)."""
        return lexical(self.store, query, count, scope, self.found)

    def paths_with(self, words: Sequence[str], filters=None) -> set[str]:
        """The files (within ``filters``) whose text holds ``words`` (one word, or a phrase in this order, in one
        passage or across two of speech: :func:`across_passages`; a number of two words as one:
        :func:`numbers_joined`)."""
        words = numbers_joined(words)
        check = re.compile(word_pattern(words[0]) if len(words) == 1 else phrase_pattern(words))
        found = self.store.phrase_matches(words, limit=None)
        held = {m.path for m in found if check.search(m.document or "") and accepts(filters, m.metadata)}
        return held | across_passages(self.store, words, filters) if len(words) >= 2 else held

    def narrow(self, query: Query, scope: Scope) -> Scope:
        """Only the files whose text holds each required phrase, and none whose text has an excluded word or
        phrase; the scope's ``left_out`` counts the files each exclusion left out (within the filters). A phrase no
        file in the library holds requires nothing: its words are searched as any others, and the scope's ``unheld``
        names it (a transcript can hold the words otherwise: Whisper wrote "Stellisman" for "Lisbon")."""
        if not (query.phrases or query.exclusions) or not self.holds_records():
            return scope
        only, unheld = None, []
        for phrase in query.phrases:
            holding = self.paths_with(phrase)
            if not holding:
                unheld.append(phrase)
                continue
            only = holding if only is None else only & holding
        scope = replace(scope.narrowed(only), unheld=scope.unheld + tuple(unheld))
        return scope.leaving_out({minus(w): self.paths_with(w, scope.filters) for w in query.exclusions})

    def moments(self, path: str, text: str) -> list[Moment]:
        passages = self.store.file_records(path) if self.holds_records() else []
        speech = [i for i, m in enumerate(passages) if m.metadata.get("kind") == "speech"]
        if not speech:
            return []
        vectors = self.store.file_vectors(path)[speech]
        return scaled([passages[i] for i in speech], vectors @ self.embed_query(text), self.name)

    def embed_query(self, text: str) -> np.ndarray:
        """A text query's embedding, shape (dim,); the last few are kept."""
        return self._queries.get(text, lambda: self.encoder.encode([text])[0])

    def heard_speech(self, record) -> bool | None:
        speech = record.metadata.get("speech_passages")  # None for files indexed before it was kept
        return None if speech is None else speech > 0

    def stats(self, complete: dict) -> dict:
        return {
            "passages": self.store.count(),
            "speech_passages": self.store.count_where({"kind": "speech"}),
            "text_model": self.model_name,
            "text_pipeline": provenances(complete.values(), role="text"),
            "asr_model": self.asr_name,
        }
