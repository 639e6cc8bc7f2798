"""What a library holds: its files (from every channel's store), the counts ``audioret stats`` prints, which file a
segment id names, and the copies among them (duplicates, and setting them aside)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InputError
from .store.filters import accepts, is_under
from .store.records import tags_of
from .types import FileInfo, Filters, Utterance

# The measured properties a file's records carry (audioret.tagging), as FileInfo has them.
PROPERTIES = ("loudness_lufs", "tempo_bpm", "key", "speech_share", "language")


def files(channels, filters: Filters | None = None) -> list[FileInfo]:
    """Every indexed file (within ``filters``' folders), by path, with its duration, the channels that hold it and
    whether it holds speech (as the channel that listens for it heard; None when none did)."""
    held = [(channel, channel.files()[0]) for channel in channels]
    found = []
    for path in sorted(set().union(*(complete for _, complete in held))):
        records = [(channel, complete[path]) for channel, complete in held if path in complete]
        record = max((r for _, r in records), key=lambda r: "tags_sig" in r.metadata)  # tagged, where one is
        if not accepts(filters, record.metadata):
            continue
        speech = next((s for s in (c.heard_speech(r) for c, r in records) if s is not None), None)
        properties = {k: record.metadata.get(k) for k in PROPERTIES}
        found.append(
            FileInfo(
                path,
                record.duration_s,
                tuple(c.name for c, _ in records),
                speech,
                record.size,
                record.mtime_ns,
                tags_of(record.metadata),
                **properties,
            )
        )
    return found


def stats(channels, config, settings: dict) -> dict:
    """Counts for the index: files, each channel's records and model, hours of audio, store location."""
    complete_of, incomplete, by_path = {}, set(), {}
    for channel in channels:
        complete, broken = channel.files()
        complete_of[channel.name] = complete
        incomplete |= broken
        for path, record in complete.items():
            by_path.setdefault(path, record)
    per_channel = {k: v for channel in channels for k, v in channel.stats(complete_of[channel.name]).items()}
    return {
        "files": len(by_path),
        "incomplete_files": len(incomplete),
        **per_channel,
        "hours": sum(r.duration_s for r in by_path.values()) / 3600,
        "store": config.chroma_url or str(config.store_path),
        "index_settings": ", ".join(
            f"{k} {v}" + (" (auto)" if getattr(config, k) == "auto" else "") for k, v in settings.items()
        ),
    }


def engine(report_path: Path) -> str:
    """Which engine built the index ("single process", or the Ray cluster and its actors): that of the last run
    that indexed, updated or removed files, from the last run's report (:func:`built_by`)."""
    import json

    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        return "unknown (no index report)"
    built = built_by(report)
    if built is None:
        return f"{report.get('settings', {}).get('engine', 'single process')} (last run: nothing to do)"
    return f"{built} (last run that indexed files)"


def built_by(report: dict) -> str | None:
    """The engine of the last run that changed the index, from a run's report (as ``IndexReport.to_dict`` writes
    it): the run's own engine when it added, updated or removed files, else the one it carried over from the run
    before (``settings["built_by"]``); None when no run has changed the index."""
    settings = report.get("settings", {})
    if report.get("added") or report.get("updated") or report.get("removed"):
        return settings.get("engine", "single process")
    return settings.get("built_by")


def resolve(channels, item: str) -> str:
    """The indexed file of a segment id (of any channel) or a path; InputError for anything else."""
    path = os.path.abspath(item)
    if os.path.exists(path) and any(channel.store.file_records(path) for channel in channels):
        return path
    for channel in channels:
        ids, _, metadatas = channel.store.get([item])
        if ids:
            return metadatas[0]["path"]
    raise InputError(f"No segment or indexed file {item!r}; take segment ids from search results")


def remove(
    channels, paths: Sequence[str | os.PathLike], forget: Callable[[list[str]], None] = lambda paths: None
) -> list[str]:
    """Removes files (or every file under folders) from every channel, and ``forget``s them (their fingerprints);
    returns the removed paths."""
    known = set()
    for channel in channels:
        complete, incomplete = channel.files()
        known |= set(complete) | incomplete
    roots = [os.path.abspath(os.fspath(p)) for p in paths]
    removed = [path for path in sorted(known) if is_under(path, roots)]
    for path in removed:
        for channel in channels:
            channel.store.delete_file(path)
    forget(removed)
    return removed


def duplicates(
    library, max_bit_error: float | None, filters: Filters | None, on_progress: Callable[[int, int], None] | None
):
    """The library's duplicate groups (:func:`audioret.duplicates.find` over its files, with the fingerprints
    beside the index, which index runs take; fingerprints of files no longer indexed are dropped)."""
    from .duplicates import DEFAULT_MAX_BIT_ERROR, copies, find

    paths = [f.path for f in files(library.channels, filters)]
    cache = copies.known(library).cache
    groups = find(
        paths,
        cache,
        DEFAULT_MAX_BIT_ERROR if max_bit_error is None else max_bit_error,
        library.settings["decode_workers"],
        on_progress,
    )
    if filters is None:
        cache.forget_except(paths)
    return groups


def move_files(
    library, paths: Sequence[str], folder: str | os.PathLike, roots: Sequence[str] | None = None
) -> list[str]:
    """Moves files into ``folder`` (a taken name gets a number) and out of the index; returns the new paths.

    With ``roots`` (a page's library folders) the destination must lie inside one of them: a relative ``folder``
    is taken inside the first root (or inside the root it names first), and ``..`` or a link out is refused, so a
    page never moves a library file where the server would hand it to anyone."""
    target = Path(folder).expanduser().resolve() if roots is None else destination(folder, roots)
    if not paths:  # nothing to move: no folder is made (a page's folders are listed to every visitor)
        return []
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


def destination(folder: str | os.PathLike, roots: Sequence[str]) -> Path:
    """``folder`` resolved inside one of ``roots`` (see :func:`move_files`); InputError naming the roots otherwise."""
    bases = [Path(r).resolve() for r in roots]
    names = ", ".join(str(b) for b in bases) or "none"
    given = Path(str(folder).strip())
    if not bases or not str(folder).strip() or ".." in given.parts:
        raise InputError(
            f"Files can be moved only into a folder inside the library ({names}); got {str(folder)!r}. "
            "Name a folder there, without '..'"
        )
    if not given.is_absolute():
        first = next((b for b in bases if given.parts and given.parts[0] == b.name), None)
        given = first / Path(*given.parts[1:]) if first is not None else bases[0] / given
    target = given.resolve()  # a link is followed: one out of the library lands outside it, and is refused
    if not any(target == b or target.is_relative_to(b) for b in bases):
        raise InputError(
            f"Files can be moved only into a folder inside the library ({names}); {str(folder)!r} lies outside it. "
            "Name a folder inside one of those"
        )
    return target


def said(text_store, path: str) -> list[Utterance]:
    """The speech passages the text channel's store holds for the indexed file ``path``, in order of time."""
    records = [m for m in text_store.file_records(path, documents=True) if m.metadata.get("kind") == "speech"]
    times = sorted((float(m.metadata["start_s"]), float(m.metadata["end_s"]), m.document or "") for m in records)
    return [Utterance(*t) for t in times]
