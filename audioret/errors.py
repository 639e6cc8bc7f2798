"""Every error audioret raises on purpose derives from :class:`AudioretError`, so a caller catches one class.

The message always names what was wrong and what to do about it. The kinds also derive from the builtin
that fits them (``ValueError``, ``FileNotFoundError``, ``RuntimeError``), so code written against the builtins
keeps working. Anything else that escapes is a bug.
"""

from __future__ import annotations

import os


class AudioretError(Exception):
    """Base class: a user-facing error whose message says what to do."""


class InputError(AudioretError, ValueError):
    """A bad argument or setting: an empty query, an unknown segment id, a negative weight."""


class PathNotFound(AudioretError, FileNotFoundError):
    """A file or folder given to audioret does not exist."""

    def __init__(self, path: str | os.PathLike, what: str | None = None):
        self.path = os.fspath(path)
        super().__init__(f"{self.path}: {what}" if what else f"No such file or folder: {self.path}")

    def __str__(self) -> str:  # FileNotFoundError's own str() would print "None"
        return self.args[0]


class AudioDecodeError(AudioretError):
    """A file could not be decoded. ``str()`` names the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelLoadError(AudioretError, RuntimeError):
    """A model could not be loaded; the message says what was tried and how to fix it.

    ``short`` is the same without the library's own words, which are in ``details`` (the page shows them behind a
    toggle).
    """

    def __init__(self, message: str, short: str | None = None, details: str | None = None):
        super().__init__(message)
        self.short = short or message
        self.details = details or ""


class StoreError(AudioretError, RuntimeError):
    """The vector store refused or failed an operation; the message says what to do."""


class IndexBusy(AudioretError):
    """Another indexing job (in this process, or another process on an embedded index) is writing the index."""


NO_SPEECH_MESSAGE = (
    "No speech heard in the recording (silence or noise only); speak closer to the microphone or type the query"
)


class NoSpeechError(AudioretError, ValueError):
    """The recording holds no speech that Whisper could transcribe."""

    def __init__(self, message: str = NO_SPEECH_MESSAGE, speech_s: float = 0.0):
        super().__init__(message)
        self.speech_s = speech_s  # seconds the VAD passed to Whisper before it found nothing to keep

    def __reduce__(self):  # pickled with its speech_s (a cluster's actor hands it back to the driver)
        return type(self), (str(self), self.speech_s)


def message(error: BaseException) -> str:
    """An error's message on one line (what the CLI prints and the page shows)."""
    return " ".join(str(error).split())
