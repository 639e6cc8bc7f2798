"""What a library holds: its files (from every channel's store), the counts ``audioret stats`` prints, which file a
segment id names, and the copies among them (duplicates, and setting them aside)."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InputError
from .store.filters import accepts
from .types import FileInfo, Filters


def files(library, filters: Filters | None = None) -> list[FileInfo]:
    """Every indexed file (within ``filters``' folders), by path, with its duration, channels and whether it holds
    speech (from the text channel's records; None for files indexed before that was kept)."""
    sound, _ = library.store.files()
    text, _ = library.text_store.files()
    found = []
    for path in sorted(set(sound) | set(text)):
        record = sound.get(path) or text[path]
        if not accepts(filters, record.metadata):
            continue
        speech = text[path].metadata.get("speech_passages") if path in text else None
        channels = tuple(c for c, held in (("clap", sound), ("text", text)) if path in held)
        found.append(FileInfo(path, record.duration_s, channels, None if speech is None else speech > 0,
                              record.size, record.mtime_ns))  # fmt: skip
    return found


def provenances(records) -> str:
    """Which model provenances (backend and precision) built a channel's records: ``"openvino fp32 (120 files)"``, several joined by "; " when
    the index holds vectors of more than one (files indexed before the pipeline was kept say "unrecorded")."""
    counts = Counter()
    for r in records:
        m = r.metadata
        counts[f"{m['backend']} {m.get('precision', 'fp32')}" if "backend" in m else "unrecorded"] += 1
    return "; ".join(f"{name} ({n} file{'s' * (n != 1)})" for name, n in counts.most_common()) or "none"


def stats(library) -> dict:
    """Counts for the index: files, segments, hours of audio, model, store location."""
    cfg = library.config
    complete, incomplete = library.store.files()
    text_complete, _ = library.text_store.files()
    return {
        "files": len(set(complete) | set(text_complete)),
        "incomplete_files": len(incomplete),
        "segments": library.store.count(),
        "passages": library.text_store.count(),
        "speech_passages": library.text_store.count_where({"kind": "speech"}),
        "hours": sum(r.duration_s for r in {**text_complete, **complete}.values()) / 3600,
        "clap_model": cfg.clap_model,
        "clap_pipeline": provenances(complete.values()),
        "text_model": cfg.text_model,
        "text_pipeline": provenances(text_complete.values()),
        "asr_model": f"{cfg.asr_model} ({cfg.asr_engine})",
        "store": library.store.location,
        "hop_s": cfg.hop_s,
        "index_settings": ", ".join(f"{k} {v}" + (" (auto)" if getattr(cfg, k) == "auto" else "")
                                    for k, v in library.settings.items()),
    }


def resolve(library, item: str) -> str:
    """The indexed file of a segment id (of either channel) or a path; InputError for anything else."""
    path = os.path.abspath(item)
    if os.path.exists(path) and (library.store.file_records(path) or library.text_store.file_records(path)):
        return path
    for store in (library.store, library.text_store):
        ids, _, metadatas = store.get([item])
        if ids:
            return metadatas[0]["path"]
    raise InputError(f"No segment or indexed file {item!r}; take segment ids from search results")


def duplicates(library, max_bit_error: float | None, filters: Filters | None,
               on_progress: Callable[[int, int], None] | None):  # fmt: skip
    """The library's duplicate groups (:func:`audioret.duplicates.find` over its files, with the fingerprint
    cache beside the index; fingerprints of files no longer indexed are dropped)."""
    from .duplicates import DEFAULT_MAX_BIT_ERROR, FingerprintCache, find

    paths = [f.path for f in files(library, filters)]
    cache = FingerprintCache(library.config.data_dir / "fingerprints.sqlite3")
    groups = find(paths, cache, DEFAULT_MAX_BIT_ERROR if max_bit_error is None else max_bit_error,
                  library.settings["decode_workers"], on_progress)  # fmt: skip
    if filters is None:
        cache.forget_except(paths)
    return groups


def move_files(library, paths: Sequence[str], folder: str | os.PathLike) -> list[str]:
    """Moves files into ``folder`` (a taken name gets a number) and out of the index; returns the new paths."""
    target = Path(folder).expanduser().resolve()
    target.mkdir(parents=True, exist_ok=True)
    moved = []
    for path in paths:
        src = Path(path)
        dest, n = target / src.name, 1
        while dest.exists():
            dest = target / f"{src.stem} ({n}){src.suffix}"
            n += 1
        shutil.move(str(src), str(dest))
        library.remove([str(src)])
        moved.append(str(dest))
    return moved
