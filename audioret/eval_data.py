"""Evaluation sets in the layouts people download them in, read into one :class:`Dataset`.

- a folder per class (ESC-50 style): ``DIR/<label>/*.wav``;
- a CSV of ``path,label`` (paths relative to the CSV; other columns ignored, ``label_column`` picks another);
- Clotho captions: ``file_name,caption_1..caption_5`` with the audio in ``audio_dir``;
- AudioCaps captions: ``audiocap_id,youtube_id,start_time,caption``, each row mapped to a local file named after
  its ids (see ``AUDIOCAPS_NAMES``); rows whose clip is missing are counted and left out.

A class set gives one query per class (``template``, "the sound of a {label}"), relevant = every file of the
class; a caption set gives one query per caption, relevant = its file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .audio import is_audio_path
from .errors import InputError, PathNotFound

TEMPLATE = "the sound of a {label}"
AUDIOCAPS_NAMES = ("{youtube_id}_{start_time}", "{youtube_id}", "Y{youtube_id}", "{audiocap_id}")
FORMATS = ("folders", "labels", "clotho", "audiocaps")


@dataclass
class Dataset:
    name: str
    kind: str  # one of FORMATS
    files: dict[str, str]  # doc id (path relative to the dataset) -> absolute path
    queries: dict[str, str]  # query id -> text
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: 1}
    labels: dict[str, str] = field(default_factory=dict)  # doc id -> class (class sets only)
    missing: list[str] = field(default_factory=list)  # files named by the dataset and not found

    def fingerprint(self) -> str:
        """A hash of what is evaluated: files, queries and relevance; equal fingerprints, comparable numbers."""
        payload = json.dumps([sorted(self.files), self.queries, self.qrels], sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:16]


def load_dataset(
    source: str | os.PathLike,
    format: str | None = None,
    audio_dir: str | os.PathLike | None = None,
    template: str = TEMPLATE,
    label_column: str = "label",
) -> Dataset:
    """Reads a class or caption set (see the module docstring); ``format`` is guessed from the layout."""
    source = Path(source).expanduser().resolve()
    if not source.exists():
        raise PathNotFound(source, "no such folder or CSV file")
    if source.is_dir():
        if format not in (None, "folders"):
            raise InputError(f"{source} is a folder; the {format!r} format is a CSV file")
        labelled = {
            p.relative_to(source).as_posix(): p.parent.name for p in sorted(source.glob("*/*")) if is_audio_path(p)
        }
        return _class_set(source.name, "folders", source, labelled, template, [])
    with open(source, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        rows, columns = list(reader), set(reader.fieldnames or ())
    format = format or _guess_format(columns, label_column)
    base = Path(audio_dir).expanduser().resolve() if audio_dir else source.parent
    if format == "labels":
        if not {"path", label_column} <= columns:
            raise InputError(f"{source}: expected the columns path,{label_column}; found {','.join(sorted(columns))}")
        labelled = {r["path"]: r[label_column] for r in rows}
        missing = [p for p in labelled if not (base / p).is_file()]
        labelled = {p: lab for p, lab in labelled.items() if p not in missing}
        return _class_set(source.stem, "labels", base, labelled, template, missing)
    if format == "clotho":
        captions = {r["file_name"]: [r[c] for c in sorted(r) if c.startswith("caption") and r[c].strip()] for r in rows}
        return _caption_set(source.stem, "clotho", base, {f: (f, caps) for f, caps in captions.items()})
    if format == "audiocaps":
        found: dict[str, tuple[str, list[str]]] = {}
        for r in rows:
            path = _audiocaps_file(base, r)
            key = path.relative_to(base).as_posix() if path else f"{r['youtube_id']}_{r['start_time']} (missing)"
            found.setdefault(key, (key, []))[1].append(r["caption"])
        return _caption_set(source.stem, "audiocaps", base, found)
    raise InputError(f"Unknown evaluation format {format!r}; expected one of {', '.join(FORMATS)}")


def prompt(template: str, label: str) -> str:
    return template.format(label=label.replace("_", " "))


def _guess_format(columns: set[str], label_column: str) -> str:
    if "file_name" in columns and any(c.startswith("caption") for c in columns):
        return "clotho"
    if {"youtube_id", "caption"} <= columns:
        return "audiocaps"
    if {"path", label_column} <= columns:
        return "labels"
    raise InputError(
        f"Cannot tell the CSV's format from its columns ({', '.join(sorted(columns)) or 'none'}); expected "
        "path,label (classes), file_name,caption_1.. (Clotho) or audiocap_id,youtube_id,start_time,caption (AudioCaps)"
    )


def _class_set(name, kind, base: Path, labelled: dict[str, str], template: str, missing) -> Dataset:
    if not labelled:
        raise InputError(f"{name}: no audio files with labels found under {base}")
    classes = sorted(set(labelled.values()))
    queries = {f"class:{c}": prompt(template, c) for c in classes}
    qrels = {f"class:{c}": {p: 1 for p, lab in labelled.items() if lab == c} for c in classes}
    files = {p: str(base / p) for p in labelled}
    return Dataset(name, kind, files, queries, qrels, dict(labelled), list(missing))


def _caption_set(name, kind, base: Path, captions: dict[str, tuple[str, list[str]]]) -> Dataset:
    files, queries, qrels, missing = {}, {}, {}, []
    for doc, (_, caps) in sorted(captions.items()):
        if not (base / doc).is_file():
            missing.append(doc)
            continue
        files[doc] = str(base / doc)
        for i, caption in enumerate(caps, 1):
            queries[f"{doc}#{i}"] = caption
            qrels[f"{doc}#{i}"] = {doc: 1}
    if not files:
        raise InputError(f"{name}: none of its {len(captions)} audio files is under {base}; pass --audio-dir")
    return Dataset(name, kind, files, queries, qrels, missing=missing)


def _audiocaps_file(base: Path, row: dict) -> Path | None:
    for pattern in AUDIOCAPS_NAMES:
        stem = pattern.format(**row)
        for path in sorted(base.glob(f"{stem}.*")):
            if is_audio_path(path):
                return path
    return None
