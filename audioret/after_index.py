"""What an index run does once its records are written: each new, changed or stale file's tags
(:func:`audioret.tagging.update`), then the library's map laid out again where the kept one is missing or stale
(:func:`audioret.library_map.refresh`), both in the run's time, so that neither a search nor the page waits for
them later."""

from __future__ import annotations

from . import library_map, tagging


def finish(library, report) -> None:
    """Tags, then the map, of ``library`` after a run that wrote ``report``."""
    tagging.update(library, report)
    library_map.refresh(library, report)
