"""Running an indexing plan: decode each file once for every channel, embed in batches, write in few calls.

- **Decode threads** (``workers``) hash each file once, then, if some channel needs its audio, decode it once at
  its own rate and hand the blocks to every such channel's cutter (48-kHz CLAP windows, 16-kHz speech).
  libsndfile, soxr and hashlib release the GIL. The pieces go into one bounded queue, so memory stays bounded
  whatever the file lengths, and the decoders wait when the model falls behind.
- **The model thread** (the caller's) takes the pieces in order, lets each channel batch and embed them, and
  hands finished files to the writer.
- **The writer** coalesces finished files into few store calls (a Chroma call has a fixed cost however few
  records it carries) and writes each file's records first to last, so a file interrupted mid-write is seen as
  incomplete and redone on the next run.

The events between the threads are typed (:class:`Piece`, :class:`Decoded`, :class:`Failed`). A tap (the
library's fingerprints, :class:`audioret.duplicates.copies.Known`) gets the decoded blocks of each file beside the
channels' cutters, in the decode threads (``tap.start(job, info)``: a cutter whose ``push`` returns nothing, or None),
and forgets the files pruned (``tap.forget(paths)``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from .. import audio
from ..channels.base import Channel, Output
from ..errors import AudioDecodeError, ModelLoadError
from ..models.memory import map_large_blocks, release_memory
from ..types import IndexProgress, IndexReport
from .plan import Job, Plan, file_hash

logger = logging.getLogger("audioret")

WRITE_BATCH = 256  # records per channel buffered before a store call...
WRITE_EVERY_S = 2.0  # ...or this long since the last one, so an interrupted run loses at most a few seconds
TRIM_EVERY_S = 1.0  # how often the model thread hands freed heap memory back to the system (glibc)


@dataclass(frozen=True)
class Piece:
    job: Job
    channel: str
    item: object  # a CLAP window, a chunk of speech


@dataclass(frozen=True)
class Decoded:
    job: Job
    info: audio.AudioInfo
    duration_s: float
    fresh: tuple[str, ...]  # channels that got new content
    reused: tuple[str, ...]  # channels whose stored content is this file's (only metadata changed)


@dataclass(frozen=True)
class Failed:
    job: Job
    reason: str


class Writer:
    """Buffers the channels' outputs and writes them in few calls, stale records deleted first."""

    def __init__(self, channels: dict[str, Channel], report: IndexReport, on_written: Callable[[Job, str], None]):
        self.channels, self.report, self.on_written = channels, report, on_written
        self.buffers: dict[str, list[Output]] = {name: [] for name in channels}
        self.since = time.monotonic()

    def put(self, outputs: Sequence[Output], force: bool = False):
        for out in outputs:
            self.buffers[out.channel].append(out)
        due = force or time.monotonic() - self.since >= WRITE_EVERY_S
        for name, buffered in self.buffers.items():
            if buffered and (due or sum(len(o.ids) for o in buffered) >= WRITE_BATCH):
                self._write(name, buffered)
                self.buffers[name] = []
        if due:
            self.since = time.monotonic()

    def _write(self, name: str, outputs: list[Output]):
        store = self.channels[name].store
        for out in outputs:
            if out.update_only:
                store.update_metadata(out.ids, out.metadatas)
            elif name in out.job.stale:
                store.delete_file(out.job.path)
        fresh = [o for o in outputs if not o.update_only]
        if fresh:
            import numpy as np

            documents = [d for o in fresh for d in o.documents] if fresh[0].documents is not None else None
            store.add(
                [i for o in fresh for i in o.ids],
                np.concatenate([o.vectors for o in fresh]),
                [m for o in fresh for m in o.metadatas],
                documents,
            )
        for out in outputs:
            self._count(name, out)
            self.on_written(out.job, name)

    def _count(self, name: str, out: Output):
        if not out.update_only:
            self.channels[name].written(out, self.report)


def run(
    plan: Plan,
    channels: Sequence[Channel],
    report: IndexReport,
    workers: int = 2,
    queue_size: int = 32,
    on_progress: Callable[[IndexProgress], None] | None = None,
    bar=None,
    failures: dict | None = None,
    engine: Callable | None = None,
    taps: Sequence = (),
) -> IndexReport:
    """Indexes the plan's jobs with ``channels`` (prunes first), adding what happened to ``report``; a channel whose
    model does not load is named in ``report.skipped_channels`` (and its error put in ``failures``).

    ``engine(jobs, channels, writer, workers, queue_size)`` runs the jobs once the models are loaded: decode threads
    here by default, a Ray cluster with :mod:`audioret.indexing.cluster`. ``taps`` get each decoded file's blocks
    (decode threads only: a cluster's decode tasks do not call them) and forget the pruned files."""
    t0 = time.perf_counter()
    by_name = {c.name: c for c in channels}
    for name, paths in plan.prune.items():
        for path in paths:
            by_name[name].store.delete_file(path)
            if path not in report.removed:
                report.removed.append(path)
    for tap in taps:
        tap.forget(sorted({p for paths in plan.prune.values() for p in paths}))
    jobs = _load(plan.jobs, by_name, report, {} if failures is None else failures)
    if bar is not None:  # the clock starts once the models are ready: the estimate is of the files alone
        bar.reset()
    done = 0

    def written(job: Job, channel: str):
        nonlocal done
        job.pending.discard(channel)
        if job.pending:
            return
        done += 1
        if not job.failed or job.fresh:
            if job.fresh:
                (report.updated if any(r is not None for r in job.stored.values()) else report.added).append(job.path)
            else:
                report.unchanged += 1
        if bar is not None:
            bar.set_postfix_str(bottleneck(report.stages).split(" (")[0], refresh=False)
            bar.update(1)
        if on_progress is not None:
            on_progress(IndexProgress(done, len(jobs), report.segments, report.passages))

    writer = Writer(by_name, report, written)
    if jobs:
        map_large_blocks()
        (engine or partial(_decode_and_embed, taps=taps))(jobs, by_name, writer, workers, queue_size)
        for name in {name for job in jobs for name in job.stored}:  # the channels whose models ran: they rest
            by_name[name].rest()
        release_memory()  # before what follows the run (tagging) allocates its own
    report.elapsed_s += time.perf_counter() - t0
    return report


def _load(jobs: list[Job], channels: dict[str, Channel], report: IndexReport, failures: dict) -> list[Job]:
    """Loads the model of every channel some job needs; a channel whose model fails is left out of the run."""
    for name, channel in channels.items():
        channel.begin(report)
        if not any(name in job.stored for job in jobs):
            continue
        try:
            channel.load()
        except ModelLoadError as e:
            report.skipped_channels[name] = str(e)
            failures[name] = e
            for job in jobs:
                job.stored.pop(name, None)
                job.pending.discard(name)
    # an error only where no channel can index at all: a file whose other channels are complete stays searchable
    # by them, and the run says which channel was left out (report.skipped_channels)
    if jobs and not any(job.stored for job in jobs) and all(name in report.skipped_channels for name in channels):
        raise ModelLoadError("No channel could index: " + " | ".join(report.skipped_channels.values()))
    return [job for job in jobs if job.stored]


def _decode_and_embed(
    jobs: list[Job], channels: dict[str, Channel], writer: Writer, workers: int, size: int, taps: Sequence = ()
):
    items: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(event):
        while not stop.is_set():
            try:
                return items.put(event, timeout=0.1)
            except queue.Full:
                continue

    ended = 0
    timed = timer(writer.report.stages)
    with ThreadPoolExecutor(workers, thread_name_prefix="audioret-decode") as pool:
        try:
            for job in jobs:
                pool.submit(decode, job, channels, put, stop, taps)
            trimmed = time.perf_counter()
            while ended < len(jobs):
                ended += dispatch(timed("waiting for audio", items.get), channels, writer, timed)
                if time.perf_counter() - trimmed >= TRIM_EVERY_S:
                    timed("model", release_memory)
                    trimmed = time.perf_counter()
            flush(channels, writer, timed)
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)


def timer(stages: dict[str, float]) -> Callable:
    """``timed(stage, call)``: calls ``call()`` and adds the seconds it took to ``stages[stage]``."""
    clock = time.perf_counter

    def timed(stage: str, call):
        t = clock()
        try:
            return call()
        finally:
            stages[stage] = stages.get(stage, 0.0) + clock() - t

    return timed


def decode(job: Job, channels: dict, put: Callable, stop: threading.Event, taps: Sequence = ()) -> None:
    """Decodes one file for the channels (objects with ``needs_audio``, ``same_content`` and ``cutter``) and the
    ``taps``, putting its events; a file that cannot be read ends in a :class:`Failed` event, never in an exception."""
    try:
        _decode(job, channels, put, stop, taps)
    except AudioDecodeError as e:
        put(Failed(job, e.reason))
    except OSError as e:
        put(Failed(job, e.strerror or str(e)))
    except Exception as e:  # a bug or an exotic codec failure must not stop the other files
        logger.exception("Unexpected error while decoding %s", job.path)
        put(Failed(job, f"{type(e).__name__}: {e}"))


def dispatch(event, channels: dict[str, Channel], writer: Writer, timed: Callable) -> bool:
    """Hands one event to the channels, in the model thread, and what they finish to the writer; True when the event
    ends its file (:class:`Decoded` or :class:`Failed`)."""
    if isinstance(event, Piece):
        timed(
            "model",
            lambda: _guarded(event.job, event.channel, channels, writer, lambda c: c.take(event.job, event.item)),
        )
        return False
    if isinstance(event, Failed):
        _fail(event.job, event.reason, channels, writer)
    else:
        timed("model", lambda: _finish(event, channels, writer))
    ready = timed("model", lambda: [out for c in channels.values() for out in c.ready()])
    timed("writing", lambda: writer.put(ready))
    return True


def flush(channels: dict[str, Channel], writer: Writer, timed: Callable) -> None:
    """The end of a run: every channel's last batch embedded and everything written."""
    drained = timed("model", lambda: [out for c in channels.values() for out in c.drain()])
    timed("writing", lambda: writer.put(drained, force=True))


def bottleneck(stages: dict[str, float]) -> str:
    """What limited a run, from the seconds its model thread spent per stage (pure): "decode-bound: the model
    waited for audio 62 % of the time" names the setting to change. A cluster run's stages are its slots' busy
    seconds (keys ending in " (cluster)"): the busiest stage limited it."""
    busy = {k.removesuffix(" (cluster)"): v for k, v in stages.items() if k.endswith(" (cluster)")}
    if busy:  # a cluster run (indexing.cluster): each stage's busy seconds per slot, and the driver's writing
        busy["writing"] = stages.get("writing", 0.0)
        stage = max(busy, key=busy.get)
        each = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(busy.items(), key=lambda kv: -kv[1]))
        return f"{stage.split()[0]}-bound: {stage} was the busiest stage (busy seconds per slot: {each})"
    total = sum(stages.values())
    if total <= 0:
        return ""
    share = {k: v / total for k, v in stages.items()}
    waiting, writing = share.get("waiting for audio", 0.0), share.get("writing", 0.0)
    if waiting >= 0.5:
        return f"decode-bound: the model waited for audio {waiting * 100:.0f} % of the time (more --workers may help)"
    if writing >= 0.3:
        return f"write-bound: {writing * 100:.0f} % of the time went to the store"
    return f"model-bound: the model was busy {share.get('model', 0.0) * 100:.0f} % of the time"


def _decode(job: Job, channels: dict[str, Channel], put, stop: threading.Event, taps: Sequence = ()):
    """In a decode thread: hash, then decode once for every channel that needs the audio."""
    job.digest = file_hash(job.path)
    reused = tuple(n for n in job.stored if channels[n].same_content(job.stored[n], job.digest))
    fresh = tuple(n for n in job.stored if n not in reused)
    hearing = [n for n in fresh if channels[n].needs_audio]
    for name in job.stored:  # what needs no model, here rather than on the model thread
        try:
            channels[name].prepare(job)
        except Exception:  # the channel does it at the file's end then, where a failure fails it there alone
            logger.debug("Preparing %s for the %s channel failed", job.path, name, exc_info=True)
    if not hearing:  # e.g. only names and sidecars to (re)read: the header is enough
        info = audio.probe(job.path) if fresh else None
        put(Decoded(job, info, info.duration_s if info else 0.0, fresh, reused))
        return
    info, blocks = audio.open_audio(job.path)
    cutters = {n: channels[n].cutter(job, info.sample_rate) for n in hearing}
    tapped = [c for c in (tap.start(job, info) for tap in taps) if c is not None]
    samples = 0
    for block, last in audio.with_last(blocks):
        samples += len(block)
        for cutter in tapped:
            cutter.push(block, last)
        for name, cutter in cutters.items():
            for item in cutter.push(block, last):
                if stop.is_set():
                    return
                put(Piece(job, name, item))
    if samples == 0:
        raise AudioDecodeError(job.path, "contains no audio samples")
    put(Decoded(job, info, samples / info.sample_rate, fresh, reused))


def _finish(event: Decoded, channels: dict[str, Channel], writer: Writer):
    job = event.job
    for name in event.reused:
        _guarded(job, name, channels, writer, lambda c: c.reuse(job))
    for name in event.fresh:
        if name in job.pending and _guarded(
            job, name, channels, writer, lambda c: c.finish(job, event.info, event.duration_s)
        ):
            job.fresh.add(name)


def _guarded(job: Job, name: str, channels: dict[str, Channel], writer: Writer, call) -> bool:
    """Runs a channel's step for one file; a failure there fails that file in that channel, not the run."""
    if name not in job.pending:
        return False  # the channel already gave up on this file
    try:
        call(channels[name])
        return True
    except ModelLoadError:
        raise
    except Exception as e:
        logger.exception("The %s channel failed on %s", name, job.path)
        writer.report.fail(job.path, f"{name} channel: {type(e).__name__}: {e}")
        channels[name].drop(job)
        writer.on_written(job, name)
        return False


def _fail(job: Job, reason: str, channels: dict[str, Channel], writer: Writer):
    logger.warning("Skipped %s: %s", job.path, reason)
    writer.report.fail(job.path, reason)
    job.failed = True
    for name in list(job.pending):
        channels[name].drop(job)
        writer.on_written(job, name)
