"""Tags: what each file is, in words a user filters on, judged from what indexing already computed.

- **Sound labels** (kind "sound"): each label of the vocabulary (:mod:`audioret.vocabulary`: AudioSet's 527
  classes, or your own list) is asked of the hearing channel's text side once, and judged in each window of a
  file against what that label's prompt scores over the library's background sample, as a search judges a query
  (:mod:`audioret.ranking.labels`). A label is given where it stands out, per window (``window_tags``) and per file
  (the best window's strength). The vectors are the stored ones: a changed vocabulary re-tags without
  re-embedding.
- **Speech** and **language** (kinds "speech", "language"): the share of the file's time covered by the passages
  Whisper heard, and the language it heard.
- **Loudness** (measured while decoding, :mod:`audioret.measures`), and for music (a file with a music label) its
  **tempo** and **key**.
- **Your own** (kind "user"): from the file's JSON sidecar (:mod:`audioret.channels.user_tags`); a tag you removed
  stays off.

Tags are judged after an indexing run has written its records, against the library's background as it then is,
and written onto every record of the file in every channel (:func:`audioret.store.records.tag_fields`), so that a
filter on them is a filter on the records like any other (:mod:`audioret.store.filters`). A file's first record is
updated last, and carries the signature of what its tags were judged with (``tags_sig``): a run killed half way,
or a changed vocabulary, leaves files whose first record has another signature, and the next run re-tags them.
What it costs is in docs/BENCHMARKS.md ("Tags").
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import measures, vocabulary
from .catalog import PROPERTIES
from .channels import user_tags
from .errors import AudioretError, InputError, ModelLoadError
from .ranking import labels as judging
from .ranking.calibration import Background
from .ranking.null import REFERENCE_PROMPTS
from .ranking.threads import one_blas_thread
from .store.filters import accepts
from .store.records import tag_fields, tag_kinds_of, tags_of
from .types import Filters, Tag

logger = logging.getLogger("audioret")

RULES = "2"  # the rules below, in the signature: a change of them re-tags the library (2: labels gated)
# Sound labels count as much as a search counts the hearing channel here (null.informative): none from a channel
# whose answers to text prompts are noise in this library (a random CLAP tagged a voice memo "growling · rowboat ·
# harpsichord"). False: every label as its laws alone judge it (the tests' random CLAP, for the mechanics).
GATED = True
QUIET_LUFS, LOUD_LUFS = -30.0, -14.0  # below: "quiet"; at or above: "loud"; between: "medium loudness"
SLOW_BPM, FAST_BPM = 90.0, 130.0  # below: "slow tempo"; at or above: "fast tempo"; between: "medium tempo"
MIN_SPEECH_SHARE = 0.1  # a file with words in less of its time is not tagged "speech"
CHUNK = 256  # files read and written per store call
WRITTEN = PROPERTIES + ("music_measured",)  # the file-level fields a tagging writes (None: removed)


def signature(vocab: vocabulary.Vocabulary, sound: bool = True) -> str:
    """What a file's tags are judged with: these rules and the vocabulary (``-partial``: without sound labels)."""
    return f"{RULES}-{vocab.signature}" + ("" if sound else "-partial")


def loudness_tag(lufs: float) -> str:
    return "quiet" if lufs < QUIET_LUFS else "loud" if lufs >= LOUD_LUFS else "medium loudness"


def tempo_tag(bpm: float) -> str:
    return "slow tempo" if bpm < SLOW_BPM else "fast tempo" if bpm >= FAST_BPM else "medium tempo"


def speech_share(spans: Collection[tuple[float, float]], duration_s: float) -> float:
    """The share of ``duration_s`` that the union of ``spans`` (start, end) covers, 0-1 (pure)."""
    if duration_s <= 0:
        return 0.0
    covered, end = 0.0, 0.0
    for start, stop in sorted(spans):
        start, stop = max(start, end), min(stop, duration_s)
        if stop > start:
            covered += stop - start
            end = stop
    return min(covered / duration_s, 1.0)


@dataclass(frozen=True)
class Judge:
    """What judging sound labels needs: the hearing channel, the labels' vectors and its background."""

    channel: object
    vectors: np.ndarray  # (labels, dim)
    background: Background
    against_reference: bool
    null: tuple[np.ndarray, np.ndarray]  # each label's median and spread over the background (labels.null)
    weight: float = 1.0  # how much the channel's labels count here (null.informative; 1 without GATED)


def judge(channels, vocab: vocabulary.Vocabulary, cache: Path | None = None) -> Judge | None:
    """The hearing channel's judge of ``vocab``; None when no channel hears, holds nothing, or its model fails.
    The labels' vectors and the reference queries' are kept beside an export, or else in ``cache`` (the data
    directory), so that they are computed once per model and vocabulary, not on every run."""
    try:
        channel = channels.hearing()
        if not channel.holds_records() or not channels.available(channel.name):
            return None
        vectors = label_vectors(channel, vocab, cache)
        reference = prompt_vectors(channel, REFERENCE_PROMPTS, "reference", _digest(REFERENCE_PROMPTS), cache)
        sample, count = channel.store.background()
        background = Background.remembered(sample, count, reference, getattr(channel, "debias", False))
    except (InputError, ModelLoadError) as e:
        logger.warning("Sound labels are not given: %s", e)
        return None
    vectors = np.asarray(vectors, np.float32)
    against = getattr(channel, "against_reference", True)
    weight = background.informative() if GATED else 1.0
    if weight == 0:
        logger.info("Sound labels are not given: the %s channel's answers to text are noise here", channel.name)
    return Judge(channel, vectors, background, against, judging.null(vectors, background), weight)


def label_vectors(channel, vocab: vocabulary.Vocabulary, cache: Path | None) -> np.ndarray:
    """The hearing channel's text vectors of the vocabulary's prompts (:func:`prompt_vectors`)."""
    return prompt_vectors(channel, vocab.prompts, "labels", vocab.signature, cache)


def _digest(prompts: Sequence[str]) -> str:
    return hashlib.sha1("\n".join(prompts).encode()).hexdigest()[:12]


def prompt_vectors(channel, prompts: Sequence[str], kind: str, key: str, cache: Path | None) -> np.ndarray:
    """The hearing channel's text vectors of ``prompts``: kept beside an exported model
    (:func:`~audioret.models.checks.remembered`), else in ``cache`` as ``KIND-MODEL-KEY.npy`` (the model, its
    runtime and precision hashed; ``key`` names the prompts), as a torch model would otherwise compute them on
    every run."""
    from .models.checks import kept, remembered

    model = channel.model
    if getattr(model, "folder", None) is not None or cache is None:
        return remembered(model, list(prompts), model.embed_text)
    which = f"{channel.store.collection.name}|{getattr(model, 'backend', '')}|{getattr(model, 'precision', '')}"
    path = cache / f"{kind}-{hashlib.sha1(which.encode()).hexdigest()[:12]}-{key}.npy"
    return kept(path, lambda: np.asarray(model.embed_text(list(prompts)), np.float32))


def update(library, report=None, only: Collection[str] | None = None) -> int:
    """Judges the tags of every file whose tags are missing or were judged with another vocabulary or rules (or,
    with ``only``, of those files), and writes them onto its records; returns how many files. Nothing when the
    library's ``config.tags`` is off."""
    if not library.config.tags:
        return 0
    t0 = time.perf_counter()
    channels, vocab = library.channels, vocabulary.load(library.config.tags_file)
    expected = signature(vocab)
    held = [(c, c.files()[0]) for c in channels]
    stale = sorted(
        {
            p
            for _, complete in held
            for p, r in complete.items()
            if (p in only if only is not None else r.metadata.get("tags_sig") != expected)
        }
    )
    if not stale:
        return 0
    found = judge(channels, vocab, library.config.data_dir / "tags")
    sig = signature(vocab, found is not None)
    for lo in range(0, len(stale), CHUNK):
        chunk = stale[lo : lo + CHUNK]
        hearing = found.channel if found is not None else None
        records = {c.name: _by_path(c.store.records_of(chunk, c is hearing)) for c in channels}
        writes: dict[str, tuple[list, list]] = {c.name: ([], []) for c in channels}  # (rest, firsts) of (id, meta)
        for path in chunk:
            of_file = {name: by_path.get(path, []) for name, by_path in records.items()}
            with one_blas_thread():  # small products: BLAS's threads would spin for them (as for a query)
                tags, properties, windows = file_tags(path, of_file, found, vocab)
            fields = {**tag_fields(tags, sig), **{k: properties.get(k) for k in WRITTEN}}
            for name, recs in of_file.items():
                is_hearing = hearing is not None and name == hearing.name
                for i, r in enumerate(recs):
                    extra = {"window_tags": json.dumps(windows[i]) if windows[i] else None} if is_hearing else {}
                    writes[name][r.metadata["seg_index"] == 0].append((r.id, {**r.metadata, **fields, **extra}))
        for channel in channels:
            pairs = writes[channel.name][0] + writes[channel.name][1]  # each file's first record last
            if pairs:
                channel.store.update_metadata([i for i, _ in pairs], [m for _, m in pairs])
    if report is not None:
        report.tagged += len(stale)
        report.tagging_s += time.perf_counter() - t0
        report.elapsed_s += time.perf_counter() - t0
    return len(stale)


def _by_path(found) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in found:
        out.setdefault(r.metadata["path"], []).append(r)
    return {p: sorted(rs, key=lambda r: r.metadata["seg_index"]) for p, rs in out.items()}


def file_tags(path: str, of_file: dict[str, list], found: Judge | None, vocab: vocabulary.Vocabulary):
    """One file's tags (name -> (kind, strength)), properties, and each hearing record's labels, from its records
    in each channel (in record order)."""
    tags: dict[str, tuple[str, float]] = {}
    metas = [r.metadata for recs in of_file.values() for r in recs]
    windows: list[dict] = []
    if found is not None and found.weight > 0 and of_file.get(found.channel.name):  # no labels: nothing to judge
        recs = of_file[found.channel.name]
        vectors = np.stack([r.vector for r in recs])
        e = found.weight * judging.evidence(
            vectors, found.vectors, found.background, found.against_reference, found.null
        )
        best, per_window = judging.per_file(e)
        tags.update({vocab.labels[i]: ("sound", s) for i, s in best.items()})
        windows = [{vocab.labels[i]: s for i, s in w.items()} for w in per_window]
    properties: dict = {}
    loudness = next((m["loudness_lufs"] for m in metas if m.get("loudness_lufs") is not None), None)
    if loudness is not None:
        properties["loudness_lufs"] = float(loudness)
        tags[loudness_tag(float(loudness))] = ("loudness", 1.0)
    if any(t in vocab.music for t in tags):
        properties.update(_music(path, metas), music_measured=True)
        if "tempo_bpm" in properties:
            tags[tempo_tag(properties["tempo_bpm"])] = ("tempo", 1.0)
        if "key" in properties:
            tags[properties["key"]] = ("key", 1.0)
    duration = max((float(m.get("duration_s", 0.0)) for m in metas), default=0.0)
    spans = [(float(m["start_s"]), float(m["end_s"])) for m in metas if m.get("kind") == "speech"]
    if any(m.get("transcribed") for m in metas):  # a channel listened for speech
        share = properties["speech_share"] = round(speech_share(spans, duration), 4)
        language = next((m["language"] for m in metas if m.get("language")), None)
        if share >= MIN_SPEECH_SHARE:
            tags["speech"] = ("speech", max(share, tags.get("speech", ("", 0.0))[1]))
        if language and spans:
            properties["language"] = language
            tags[f"language:{language}"] = ("language", 1.0)
    mine, removed = user_tags.read(path)
    tags.update({t: ("user", 1.0) for t in mine})
    for t in removed:
        tags.pop(t, None)
    return tags, properties, windows or [{}] * len(of_file.get(found.channel.name, []) if found else [])


def _music(path: str, metas: list[dict]) -> dict:
    """Tempo and key of a music file: kept from its records when they were measured, else measured now."""
    if any(m.get("music_measured") for m in metas):
        return {k: m[k] for m in metas for k in ("tempo_bpm", "key") if m.get(k) is not None}
    try:
        return measures.music(path)
    except (AudioretError, OSError, ValueError) as e:
        logger.warning("Could not measure the tempo and key of %s: %s", path, e)
        return {}


def counts(channels, filters: Filters | None = None) -> list[Tag]:
    """Each tag of the indexed files (within ``filters``) with its kind and number of files, most files first."""
    per_file: dict[str, dict] = {}
    for channel in channels:
        for path, record in channel.files()[0].items():
            if "tags_sig" in record.metadata or path not in per_file:
                per_file[path] = record.metadata
    number: dict[str, int] = {}
    kind: dict[str, str] = {}
    for metadata in per_file.values():
        if not accepts(filters, metadata):
            continue
        for name, k in tag_kinds_of(metadata).items():
            number[name] = number.get(name, 0) + 1
            kind.setdefault(name, k)
    return [Tag(n, kind[n], c) for n, c in sorted(number.items(), key=lambda nc: (-nc[1], nc[0]))]


def tag(library, path: str, add=(), remove=()) -> dict[str, float]:
    """Adds and removes your tags of an indexed file (in its JSON sidecar), re-indexes it (its text passages then
    hold them) and returns its tags after; with nothing to add or remove, its tags as they are."""
    from .errors import IndexBusy

    try:
        path = library.resolve(path)
    except InputError:
        full = os.path.abspath(path)
        if not os.path.exists(full):
            raise InputError(f"{full!r} does not exist; give the path of an audio file") from None
        raise InputError(f"{full!r} is not in the index, so it has no tags; index it first (audioret index FOLDER)")
    if not add and not remove:
        return properties(library, path)["tags"]
    if library.indexing:
        raise IndexBusy("An indexing job is running; tag the file once it has finished")
    info = properties(library, path)
    automatic = [t for t, k in info["kinds"].items() if k != "user"]
    user_tags.write(path, add, remove, automatic)
    library.index([path], prune=False, progress=False)
    update(library, only={path})
    return properties(library, path)["tags"]


def properties(library, path: str) -> dict:
    """An indexed file's tags (name -> strength), their kinds, its measured properties that are known, and each
    window's sound labels (``windows``: start_s, end_s, tags)."""
    path = os.path.abspath(path)
    metas = [c.store.file_records(path) for c in library.channels]
    firsts = [recs[0].metadata for recs in metas if recs]
    if not firsts:
        raise InputError(f"No indexed file {path!r}; index it first (audioret index FOLDER)")
    first = max(firsts, key=lambda m: "tags_sig" in m)
    windows = [
        {"start_s": r.metadata["start_s"], "end_s": r.metadata["end_s"], "tags": json.loads(r.metadata["window_tags"])}
        for recs in metas
        for r in recs
        if r.metadata.get("window_tags")
    ]
    known = {k: first[k] for k in PROPERTIES if first.get(k) is not None}
    return {"tags": tags_of(first), "kinds": tag_kinds_of(first), **known, "windows": windows}
