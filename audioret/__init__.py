"""audioret: search your audio library with language.

Index folders of audio with CLAP embeddings in ChromaDB, then search them by text, by example or "more like this".
"""

from __future__ import annotations

__version__ = "0.1.0"

from .audio import AudioDecodeError, SAMPLE_RATE
from .config import Config
from .indexer import IndexReport
from .library import Library
from .search import Filters, Hit

__all__ = ["AudioDecodeError", "Config", "Filters", "Hit", "IndexReport", "Library", "SAMPLE_RATE", "__version__"]
