"""Bringing uploaded files into a library folder: audio files, their descriptions, and zip archives of them.

Only audio files and their ``NAME.txt``/``NAME.json`` descriptions are kept, inside one folder.

An archive from a stranger may hold entries named ``../../etc/cron.d/x`` or ``/home/u/.bashrc``, symlinks, a
million tiny files or a few kilobytes that inflate to terabytes. Every entry is checked before a byte is written,
and the bytes written are counted as they are inflated (the sizes in a zip's directory can lie).

An upload with an allowance (a public page's visitor, :func:`import_files`) is measured by its content before
anything is written: every audio file, an archive's entries counted one by one with their uncompressed sizes; one
over what is left is refused whole, with the figures, and extraction stops at the bytes left whatever the zip
declared.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .audio import is_audio_path
from .errors import InputError

MAX_UPLOAD_FILES = 1000  # files in one upload (a zip counts as one)
MAX_ARCHIVE_FILES = 5000  # audio files and sidecars extracted from one archive
MAX_ARCHIVE_BYTES = 4 * 1024**3  # bytes extracted from one archive, in all
SIDECAR_SUFFIXES = (".txt", ".json")
MAX_ENTRY_NAME = 1024  # characters of an entry's path...
MAX_ENTRY_DEPTH = 64  # ...and folders in it
CHUNK_BYTES = 1 << 20


@dataclass
class Extracted:
    files: list[str] = field(default_factory=list)  # audio files written, absolute paths
    skipped: list[str] = field(default_factory=list)  # "entry: reason", one per entry left out
    bytes: int = 0  # bytes written (audio files and descriptions)


def extract_audio(
    archive: str | os.PathLike,
    dest: str | os.PathLike,
    max_files: int = MAX_ARCHIVE_FILES,
    max_bytes: int = MAX_ARCHIVE_BYTES,
) -> Extracted:
    """Extracts the audio files (and ``NAME.txt``/``NAME.json`` descriptions) of a zip archive under ``dest``.

    Args:
        archive: the zip file.
        dest: the folder to extract into; entries keep their folders below it.
        max_files: more entries to extract than this and the archive is refused.
        max_bytes: more bytes than this, declared or inflated, and the archive is refused (nothing is kept).

    Returns:
        The audio files written, and each entry left out with the reason (unsafe name, link, not audio).

    Raises:
        InputError: the file is not a zip archive, or it is over the limits; the message says which.
    """
    name = Path(archive).name
    dest = Path(dest).resolve()
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{name}: not a readable zip archive ({e})") from e
    out = Extracted()
    with zf:
        wanted = _wanted(zf, dest, out.skipped)
        if len(wanted) > max_files:
            raise InputError(
                f"{name}: {len(wanted)} files to extract, more than the limit of {max_files}; split the archive"
            )
        declared = sum(i.file_size for i in wanted)
        if declared > max_bytes:
            raise InputError(
                f"{name}: {declared / 1e9:.1f} GB to extract, more than the limit of "
                f"{max_bytes / 1e9:.1f} GB; split the archive"
            )
        out.files = _extract(zf, wanted, dest, name, max_bytes)
    out.bytes = sum(os.path.getsize(p) for p in out.files) + sum(
        (dest / PurePosixPath(i.filename)).stat().st_size for i in wanted if not is_audio_path(i.filename)
    )
    return out


def _wanted(zf: zipfile.ZipFile, dest: Path, skipped: list[str]) -> list[zipfile.ZipInfo]:
    """The entries to extract: safe audio files and their descriptions; the others go to ``skipped`` with why."""
    audio_stems = {_stem(n) for n in zf.namelist() if is_audio_path(n)}
    wanted = []
    for info in zf.infolist():
        if info.is_dir():
            continue
        reason = _unsafe(info, dest)
        sidecar = Path(info.filename).suffix.lower() in SIDECAR_SUFFIXES and _stem(info.filename) in audio_stems
        if reason is None and not (is_audio_path(info.filename) or sidecar):
            reason = "not an audio file type audioret indexes"
        if reason:
            shown = info.filename if len(info.filename) <= 120 else info.filename[:120] + "…"
            skipped.append(f"{shown}: {reason}")
        else:
            wanted.append(info)
    return wanted


def _extract(zf: zipfile.ZipFile, wanted: list[zipfile.ZipInfo], dest: Path, name: str, max_bytes: int) -> list[str]:
    """Writes the entries, counting the bytes as they inflate; a refused archive leaves nothing behind."""
    written: list[Path] = []
    total = 0
    try:
        for info in wanted:
            target = dest.joinpath(*PurePosixPath(info.filename).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            written.append(target)
            with zf.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(CHUNK_BYTES):
                    total += len(chunk)
                    if total > max_bytes:
                        raise InputError(f"{name}: inflates to more than the limit of {max_bytes / 1e9:.1f} GB")
                    dst.write(chunk)
    except (InputError, zipfile.BadZipFile, OSError, EOFError) as e:
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(e, InputError):
            raise
        raise InputError(f"{name}: the archive is damaged ({e})") from e
    return [str(p) for p in written if is_audio_path(p.name)]


def measure(files: list[str]) -> tuple[int, int, list[str]]:
    """What an upload would add, by its content: ``(audio files, bytes, one line per archive)``. An archive counts
    each audio entry and the uncompressed size of every entry that would be extracted (audio and descriptions);
    archives that cannot be read count nothing (they are refused when extracted)."""
    audio_stems = {Path(f).stem for f in files if is_audio_path(f)}
    count = size = 0
    archives = []
    for f in files:
        name = Path(f).name
        if name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(f) as zf:
                    entries = len(zf.infolist())
                    if entries > MAX_ARCHIVE_FILES:  # counted as files, unread: each entry's path costs a check
                        count += entries
                        archives.append(f"{name}: {entries:,} entries")
                        continue
                    wanted = _wanted(zf, Path("/nonexistent-destination"), [])
            except (zipfile.BadZipFile, OSError):
                continue
            n = sum(is_audio_path(i.filename) for i in wanted)
            unpacked = sum(i.file_size for i in wanted)
            count, size = count + n, size + unpacked
            archives.append(f"{name}: {n:,} audio files, {unpacked / 1e6:,.1f} MB unpacked")
        elif is_audio_path(name) or (Path(name).suffix.lower() in SIDECAR_SUFFIXES and Path(name).stem in audio_stems):
            count += is_audio_path(name)
            size += os.path.getsize(f)
    return count, size, archives


def import_files(
    files: list[str],
    dest: str | os.PathLike,
    max_files: int = MAX_UPLOAD_FILES,
    allowance: tuple[int, int] | None = None,
) -> Extracted:
    """Copies audio files (and ``NAME.txt``/``.json`` descriptions uploaded with them) into ``dest`` and extracts
    zip archives into ``dest/<archive name>/``; returns the audio files written and what was left out, and why.

    Args:
        allowance: ``(audio files, bytes)`` the uploader may still add. The upload is measured by its content first
            (:func:`measure`) and refused whole when it holds more; archives are inflated up to the bytes left.

    Raises:
        InputError: no files, more than ``max_files``, or more than the allowance (the message gives the figures).
    """
    if not files:
        raise InputError("Choose audio files or a zip archive to add")
    if len(files) > max_files:
        raise InputError(
            f"{len(files)} files in one upload, more than the limit of {max_files}; "
            "add them in parts, or as a zip archive"
        )
    for f in files:
        if os.path.isdir(f):
            raise InputError(f"{Path(f).name} is a folder; add the audio files in it, or a zip archive of it")
    bytes_left = MAX_ARCHIVE_BYTES
    if allowance is not None:
        files_left, bytes_left = allowance
        count, size, archives = measure(files)
        if count > files_left or size > bytes_left:
            within = f" ({'; '.join(archives)})" if archives else ""
            raise InputError(
                f"This upload holds {count:,} audio files and {size / 1e6:,.1f} MB{within}; you may add "
                f"{files_left:,} more files and {bytes_left / 1e6:,.1f} MB. Nothing was added; "
                "add fewer files"
            )
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    audio_stems = {Path(f).stem for f in files if is_audio_path(f)}
    out = Extracted()
    for f in files:
        name = Path(f).name
        if name.lower().endswith(".zip"):
            try:
                extracted = extract_audio(
                    f, dest / Path(name).stem, max_bytes=min(MAX_ARCHIVE_BYTES, bytes_left - out.bytes)
                )
            except InputError as e:
                out.skipped.append(str(e))
                continue
            out.files += extracted.files
            out.bytes += extracted.bytes
            out.skipped += [f"{name}: {s}" for s in extracted.skipped]
        elif is_audio_path(name) or (Path(name).suffix.lower() in SIDECAR_SUFFIXES and Path(name).stem in audio_stems):
            shutil.copyfile(f, dest / name)
            out.bytes += os.path.getsize(dest / name)
            out.files += [str(dest / name)] if is_audio_path(name) else []
        else:
            out.skipped.append(f"{name}: not an audio file type audioret indexes")
    return out


def discard(imported: Extracted, dest: str | os.PathLike) -> None:
    """Deletes what :func:`import_files` wrote into ``dest`` (audio files, their descriptions, and the archives'
    folders left empty): an upload refused after it was imported leaves nothing behind."""
    for f in map(Path, imported.files):
        for written in (f, *(f.with_suffix(s) for s in SIDECAR_SUFFIXES)):
            written.unlink(missing_ok=True)
        folder = f.parent
        while folder != Path(dest) and folder.is_relative_to(dest) and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _unsafe(info: zipfile.ZipInfo, dest: Path) -> str | None:
    """Why an entry must not be extracted, or None."""
    name = info.filename
    if len(name) > MAX_ENTRY_NAME or name.count("/") + name.count("\\") > MAX_ENTRY_DEPTH:
        return "a path too long or too deep, not extracted"  # each folder is resolved: 16,000 of them took seconds
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link, not extracted"
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts or "\0" in name:
        return "an unsafe path (absolute or with ..), not extracted"
    target = dest.joinpath(*parts).resolve()
    if not target.is_relative_to(dest):
        return "an unsafe path (outside the upload folder), not extracted"
    return None


def _stem(filename: str) -> str:
    return str(PurePosixPath(filename).with_suffix(""))
