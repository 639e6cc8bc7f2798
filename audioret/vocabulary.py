"""The sound labels a file is tagged with: the AudioSet ontology's 527 class names, or your own list.

AudioSet's class names (audioret/data/audioset_labels.csv: where they come from and their licence, CC BY-SA 4.0,
are in audioret/data/README.md) are the label set audio taggers are trained on and CLAP was evaluated against.
Your own list (``AUDIORET_TAGS_FILE``, one label a line, ``#`` starts a comment) replaces it. Each label is asked of
CLAP's text tower as a prompt (``PROMPT``), and the vocabulary's :attr:`Vocabulary.signature` is kept with every
file's tags, so a changed list re-tags the library from the stored vectors (:mod:`audioret.tagging`).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .types import normal_tag

AUDIOSET = Path(__file__).parent / "data" / "audioset_labels.csv"
PROMPT = "the sound of {label}"
MAX_LABELS = 5000  # a longer list is a mistake (a data file given by error), not a vocabulary
# A label of your own list counts as music (tempo and key are measured) when it is one of AudioSet's music labels
# or names music.
MUSIC_WORDS = re.compile(r"\b(music|song|songs|melody|band|orchestra|jazz|rock|pop|techno|beat|beats)\b")


@dataclass(frozen=True)
class Vocabulary:
    """Labels (lower case, as tags are kept), which of them say music, and where they come from."""

    labels: tuple[str, ...]
    music: frozenset[str]
    source: str  # "AudioSet ontology (527 classes, CC BY-SA 4.0)" or the file's path

    @property
    def prompts(self) -> list[str]:
        return [PROMPT.format(label=label) for label in self.labels]

    @property
    def signature(self) -> str:
        """Changes when a label, their order or the prompt changes: 12 hex characters."""
        return hashlib.sha1("\n".join([PROMPT, *self.labels]).encode()).hexdigest()[:12]


def audioset() -> Vocabulary:
    with open(AUDIOSET, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    labels = tuple(normal_tag(r["display_name"]) for r in rows)
    music = frozenset(normal_tag(r["display_name"]) for r in rows if r["music"] == "1")
    return Vocabulary(labels, music, f"AudioSet ontology ({len(labels)} classes, CC BY-SA 4.0)")


def load(tags_file: str | os.PathLike | None = None) -> Vocabulary:
    """AudioSet's labels, or the labels in ``tags_file`` (one a line; blank lines and ``#`` comments skipped)."""
    if not tags_file:
        return audioset()
    path = Path(tags_file).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(
            f"Cannot read the tags file {str(path)!r} (AUDIORET_TAGS_FILE): {e}; expected a UTF-8 text file with "
            "one label a line, or unset AUDIORET_TAGS_FILE to use AudioSet's labels"
        ) from None
    labels = tuple(dict.fromkeys(t for t in (normal_tag(line.split("#", 1)[0]) for line in text.splitlines()) if t))
    if not labels or len(labels) > MAX_LABELS:
        raise InputError(
            f"The tags file {str(path)!r} holds {len(labels)} labels; expected 1 to {MAX_LABELS}, one a line "
            '(e.g. "rain", "dog barking")'
        )
    known = audioset().music
    return Vocabulary(labels, frozenset(t for t in labels if t in known or MUSIC_WORDS.search(t)), str(path))
