"""An index run of a library, from its paths to its report: what :meth:`audioret.library.Library.index` does.

The library's channels are reset and planned together (:mod:`.plan`); the plan runs in this process
(:mod:`.pipeline`) or on a Ray cluster (:mod:`.cluster`) under a progress bar; then the tags of new, changed and
stale files are judged from the stored records (:mod:`audioret.tagging`), the library's map is laid out again
where the kept one is missing or stale (:mod:`audioret.library_map`), and the report is written beside the
index. One run at a time per library: the library's lock says whether one is running.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import partial

from .. import catalog, library_map, tagging
from ..duplicates import copies
from ..errors import IndexBusy
from ..types import IndexProgress, IndexReport

logger = logging.getLogger("audioret")


def run(
    library,
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    lock: threading.Lock,
    rebuild: Callable,
    prune: bool = True,
    progress: bool = True,
    on_progress: Callable[[IndexProgress], None] | None = None,
    cluster: str | None = None,
    actors: int | None = None,
) -> IndexReport:
    """Indexes ``paths`` in every channel of ``library`` (the arguments are :meth:`Library.index`'s).

    Args:
        lock: held while the run lasts; IndexBusy when another run holds it.
        rebuild: a picklable function returning a library of the same settings, whose channels a cluster's model
            actors load (``functools.partial(Library, config, factories)``).
    """
    from tqdm.auto import tqdm

    from . import cluster as on_ray
    from . import pipeline
    from .plan import make_plan

    if cluster is not None:
        on_ray.check(cluster, library.config.chroma_url)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not lock.acquire(blocking=False):
        raise IndexBusy("An indexing job is already running; wait for it to finish")
    try:
        report = IndexReport(roots=[os.path.abspath(os.fspath(p)) for p in paths])
        cfg, settings = library.config, library.settings
        report.settings = {**settings, "backend": cfg.backend, "precision": cfg.precision, "engine": "single process"}
        channels = list(library.channels)
        for channel in channels:
            channel.reset()
        plan = make_plan(paths, channels, report, prune=prune)

        quiet = not progress or not plan.jobs  # nothing to index: no bar of "0file"
        with tqdm(total=len(plan.jobs), unit="file", desc="indexing", disable=quiet, dynamic_ncols=True) as bar:
            workers, batch = settings["decode_workers"], settings["batch_size"]
            engine = cluster and on_ray.engine(cluster, rebuild, actors, bar)
            track = partial(_track, library, on_progress)
            taps = [copies.known(library)]  # each file's fingerprint, from the audio its decode already holds
            pipeline.run(plan, channels, report, workers, 2 * batch, track, bar, library.failures, engine, taps)
        model = library.__dict__.get("embedder")  # the backend that really ran (an export may have been refused)
        report.settings["backend"] = getattr(model, "backend", report.settings["backend"])
        if getattr(model, "dtype", None) is not None:  # torch: what the tower ran in (fp16 on CUDA, fp32 elsewhere)
            report.settings["dtype"] = str(model.dtype).removeprefix("torch.")
        tagging.update(library, report)  # the tags of new, changed and stale files, from the stored records
        library_map.refresh(library, report)  # the map laid out again where the kept one is missing or stale
    finally:
        library.progress = None
        lock.release()
    library.channels.skipped(report.skipped_channels)
    _carry_engine(report, library.report_path)
    try:  # next to the index, or in the local data directory when the index is on a server
        report.write_json(library.report_path)
    except OSError as e:
        logger.warning("Could not write the index report to %s: %s", library.report_path, e)
    return report


def _carry_engine(report: IndexReport, path) -> None:
    """A run that changed nothing keeps, in its report, the engine of the last run that did (what ``audioret
    stats`` shows: :func:`audioret.catalog.engine`)."""
    if report.added or report.updated or report.removed:
        return
    try:
        before = catalog.built_by(json.loads(path.read_text()))
    except (OSError, ValueError):
        return
    if before is not None:
        report.settings["built_by"] = before


def _track(library, on_progress: Callable[[IndexProgress], None] | None, p: IndexProgress) -> None:
    library.progress = p
    if on_progress is not None:
        on_progress(p)
