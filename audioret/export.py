"""Taking results elsewhere: a playlist (M3U8), a table (CSV), JSON, or the matching segments as one zip of WAV clips.

A playlist names files by absolute path, so it is written only where paths may be shown (the command line, a local
app). ``name`` turns a path into what the reader may see (the public app passes its library-relative names); the
other formats use it for every path they hold. Each entry of a playlist also starts where the hit matched
(``#EXTVLCOPT:start-time``, which VLC and mpv read; other players play the whole file).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InputError
from .types import Hit

FORMATS = {".m3u8": "playlist", ".m3u": "playlist", ".csv": "csv", ".json": "json", ".zip": "clips"}
FILE_NAMES = {"playlist": "results.m3u8", "csv": "results.csv", "json": "results.json", "clips": "results.zip"}
# "match": yes where the hit is a match, no where it is only the closest of weak ones (all "no": the results said
# "no good match"), so that a table of weak hits does not read as one of matches
COLUMNS = ["rank", "score", "match", "file", "start_s", "end_s", "duration_s", "why", "text", "tags"]


def playlist(hits: Sequence[Hit]) -> str:
    """An extended M3U playlist of the hits' files, best first, each starting where it matched."""
    lines = ["#EXTM3U"]
    for h in hits:
        lines.append(f"#EXTINF:{round(h.duration_s)},{Path(h.path).stem} (score {h.score:.2f})")
        if h.start_s > 0:
            lines.append(f"#EXTVLCOPT:start-time={h.start_s:.1f}")
        lines.append(h.path)
    return "\n".join(lines) + "\n"


def table(hits: Sequence[Hit], name: Callable[[str], str] = str) -> str:
    """The hits as CSV, one row per file, each saying whether it is a match."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for h in hits:
        writer.writerow(
            [
                h.rank,
                round(h.score, 4),
                "yes" if h.is_match else "no",
                name(h.path),
                round(h.start_s, 2),
                round(h.end_s, 2),
                round(h.duration_s, 2),
                h.why,
                h.text or "",
                tag_text(h.tags),
            ]
        )
    return out.getvalue()


def tag_text(tags: dict[str, float]) -> str:
    """A hit's tags in one cell: ``rain (0.83); music (0.61)``, strongest first."""
    return "; ".join(f"{name} ({strength:.2f})" for name, strength in tags.items())


def as_json(hits: Sequence[Hit], query: dict, name: Callable[[str], str] = str) -> str:
    """The query, whether none of the hits is a good match (and the message that says so, as ``--json``'s), and
    the hits, files named by ``name``: an export of weak hits must not read as one of matches."""
    rows = [{**h.to_dict(), "path": name(h.path)} for h in hits]
    weak = bool(getattr(hits, "no_good_match", False))  # a Results; the message is then one of its fixed two
    verdict = {"no_good_match": weak, **({"message": hits.message} if weak else {})}
    return json.dumps({**query, **verdict, "hits": rows}, indent=2, ensure_ascii=False)


def clip_name(hit: Hit, name: Callable[[str], str] = str) -> str:
    """``01 rain-on-roof 0m12s-0m22s.wav``: rank, the file's name and the segment in whole seconds that hold it (the
    start rounded down, the end up from the tenth of a second the results show: a clip ending at 5.001 s is 0m05s),
    safe in any file system."""
    stem = "".join(c if c.isalnum() or c in " -_." else "_" for c in Path(name(hit.path)).stem)[:80]
    return f"{hit.rank:02d} {stem} {_t(hit.start_s)}-{_t(math.ceil(round(hit.end_s, 1)))}.wav"


def clips(
    hits: Sequence[Hit], cut: Callable[[Hit], str | os.PathLike], out: Path, name: Callable[[str], str] = str
) -> Path:
    """One zip of the hits' segments as WAV clips (``cut`` makes a hit's clip), and a CSV of what they are."""
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:  # WAV hardly compresses
        for h in hits:
            z.write(cut(h), clip_name(h, name))
        z.writestr("results.csv", table(hits, name))
    os.replace(tmp, out)
    return out


def write(
    hits: Sequence[Hit],
    out: str | os.PathLike,
    query: dict,
    cut: Callable[[Hit], str | os.PathLike],
    name: Callable[[str], str] = str,
) -> Path:
    """Writes the hits to ``out`` in the format its extension names (FORMATS), files named by ``name``."""
    out = Path(out)
    kind = FORMATS.get(out.suffix.lower())
    if kind is None:
        raise InputError(f"Cannot export to {out.name!r}: use one of {', '.join(FORMATS)}")
    if not out.parent.is_dir():
        raise InputError(f"Cannot export to {out}: there is no folder {out.parent}; make it first, or name another")
    if kind == "clips":
        return clips(hits, cut, out, name)
    text = playlist(hits) if kind == "playlist" else table(hits, name) if kind == "csv" else as_json(hits, query, name)
    out.write_text(text, encoding="utf-8")
    return out


def _t(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s"
