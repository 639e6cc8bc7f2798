"""Your own tags, kept in the file's JSON sidecar (``NAME.json`` beside it), where the text channel reads them.

The sidecar is the format :mod:`audioret.channels.passages` already reads: its ``"tags"`` (a list, or a string of
tags split at commas and semicolons, as other tools write them) are a passage of the file, so your tags count in
search through the text channel, other tools see them, and a re-index keeps them. A tag you remove that the file
was given automatically (a sound label, say) is kept out under ``"removed_tags"``, which the text channel does not
read. The rest of the sidecar is left as it was.
"""

from __future__ import annotations

import json
import os
import re
import tempfile

from ..errors import InputError
from ..types import normal_tag
from .passages import MAX_SIDECAR_BYTES, sidecar_paths

MAX_TAG_CHARS = 64
MAX_TAGS = 64  # your own tags per file
REMOVED = "removed_tags"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check(tag: str) -> str:
    """A tag as kept (:func:`~audioret.types.normal_tag`); InputError for an empty, overlong or unprintable one."""
    name = normal_tag(tag)
    if not name or len(name) > MAX_TAG_CHARS or _CONTROL.search(str(tag)):
        raise InputError(
            f"Expected a tag of 1 to {MAX_TAG_CHARS} printable characters, got {str(tag)[:80]!r}; e.g. 'rain' or "
            "'field recording'"
        )
    return name


def _listed(value) -> list[str]:
    """The tags a sidecar field holds, as kept; those no tag could be (overlong, unprintable) are left out, and
    at most ``MAX_TAGS`` (a sidecar is the uploader's to write)."""
    if isinstance(value, str):
        value = re.split(r"[,;]", value)
    if not isinstance(value, list):
        return []
    names = (normal_tag(v) for v in value if isinstance(v, (str, int, float)) and not _CONTROL.search(str(v)))
    return list(dict.fromkeys(t for t in names if 0 < len(t) <= MAX_TAG_CHARS))[:MAX_TAGS]


def _load(path: str) -> dict | None:
    """The sidecar's JSON object, or None when there is none; InputError when it is not an object."""
    js = sidecar_paths(path)[1]
    if not os.path.isfile(js):
        return None
    with open(js, "rb") as f:
        raw = f.read(MAX_SIDECAR_BYTES + 1)
    try:
        data = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_SIDECAR_BYTES else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InputError(
            f"The sidecar {js} is not a JSON object of at most {MAX_SIDECAR_BYTES // 1024} KB, so your tags cannot "
            'be added to it; make it one (e.g. {"tags": ["rain"]}) or move it aside'
        )
    return data


def read(path: str) -> tuple[list[str], list[str]]:
    """``(your tags, the automatic tags you removed)`` of an audio file, from its JSON sidecar; empty lists where
    it has none (or one that is not a JSON object: the text channel reads that as it is)."""
    try:
        data = _load(path) or {}
    except (InputError, OSError):
        return [], []
    return _listed(data.get("tags")), _listed(data.get(REMOVED))


def write(path: str, add=(), remove=(), automatic=()) -> tuple[list[str], list[str]]:
    """Adds and removes your tags of an audio file in its JSON sidecar (made when there is none), and returns
    ``(your tags, removed automatic tags)``. A removed tag in ``automatic`` (the file's tags from its sound,
    speech and measurements) is kept out under ``removed_tags``; adding it again takes it back."""
    add, remove = [check(t) for t in add], [check(t) for t in remove]
    if both := set(add) & set(remove):
        raise InputError(f"Tag {sorted(both)[0]!r} is both added and removed; give it once")
    data = _load(path) or {}
    tags, removed = _listed(data.get("tags")), _listed(data.get(REMOVED))
    tags = [t for t in tags if t not in remove] + [t for t in add if t not in tags]
    removed = [t for t in removed if t not in add] + [t for t in remove if t in automatic and t not in removed]
    data["tags"] = tags
    if removed:
        data[REMOVED] = removed
    else:
        data.pop(REMOVED, None)
    js = sidecar_paths(path)[1]
    fd, tmp = tempfile.mkstemp(prefix=".tags-", suffix=".json", dir=os.path.dirname(js))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
        os.replace(tmp, js)
    except BaseException:
        os.unlink(tmp)
        raise
    return tags, removed
