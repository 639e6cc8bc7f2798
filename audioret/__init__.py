"""audioret: search your audio library with language.

Index folders of audio with CLAP embeddings in ChromaDB, then search them by text, by voice, by example or "more
like this". Importing the package loads no model and no store: torch, transformers and chromadb are imported
when a model or the index is first used.
"""

from __future__ import annotations

__version__ = "0.2.0"

from .audio import SAMPLE_RATE
from .config import Config
from .errors import AudioDecodeError, AudioretError, IndexBusy, InputError, ModelLoadError, NoSpeechError, StoreError
from .library import Library
from .types import Filters, Hit, IndexReport, Transcript

__all__ = [
    "AudioDecodeError",
    "AudioretError",
    "Config",
    "Filters",
    "Hit",
    "IndexBusy",
    "IndexReport",
    "InputError",
    "Library",
    "ModelLoadError",
    "NoSpeechError",
    "SAMPLE_RATE",
    "StoreError",
    "Transcript",
    "__version__",
]
