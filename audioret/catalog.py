"""What a library holds: its files (from every channel's store) and the counts ``audioret stats`` prints."""

from __future__ import annotations

from collections import Counter

from .records import accepts
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


def pipelines(records) -> str:
    """Which pipelines built a channel's records: ``"openvino fp32 (120 files)"``, several joined by "; " when
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
        "clap_pipeline": pipelines(complete.values()),
        "text_model": cfg.text_model,
        "text_pipeline": pipelines(text_complete.values()),
        "asr_model": f"{cfg.asr_model} ({cfg.asr_engine})",
        "store": library.store.location,
        "hop_s": cfg.hop_s,
        "index_settings": ", ".join(f"{k} {v}" + (" (auto)" if getattr(cfg, k) == "auto" else "")
                                    for k, v in library.settings.items()),
    }
