"""Indexing on a Ray cluster (``audioret index --cluster ADDRESS``): the plan on the driver, the work on the cluster.

Built on Ray Data (the optional extra ``audioret[cluster]``), which schedules, retries and back-pressures, rather
than on workers of our own:

- **The driver** makes the plan of a single-process run (:mod:`audioret.indexing.plan`), prunes, loads the
  channels' models (for their settings and provenance) and writes through the pipeline's coalescing writer, so a
  file counts once its first and last records are in (:mod:`audioret.indexing.pipeline`).
- **Decode tasks** (CPU) hash each file and decode it once for every channel that needs its audio, with the
  channels' own cutters (:meth:`~audioret.channels.base.Channel.cutting`) and the decode threads' own code
  (:func:`pipeline.decode`). Each piece is a row whose samples travel as an array column (pickle protocol 5, out of
  band), not inside a pickle.
- **An actor pool per channel that needs audio** loads the channel's model once per actor (a share of a GPU each
  where the cluster has GPUs, CPUs elsewhere) and runs its model step (:meth:`~audioret.channels.base.Channel.embed`)
  on a few of its fixed-size batches per call, so a window gets the bits of a single-process run on the same device.
  Whisper and its speech gate run in the pool of the channel that transcribes, only on the audio the gate passes.
- **Back on the driver**, a file's embedded pieces are handed to its channels in their order once all have come
  (rows arrive in any order; a retried task's repeats are dropped), then the file's end: :func:`pipeline.dispatch`,
  as in a single-process run, so the records are the same.

Ray retries a decode task that dies, and restarts a model actor that dies and retries its batch. A run interrupted
anywhere leaves at worst incomplete files, which the next run redoes. Memory stays bounded by Ray Data's
back-pressure on the object store. Figures: docs/BENCHMARKS.md ("Cluster"); how to run one: docs/SCALING.md.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from . import pipeline
from .pipeline import Failed, Piece
from .plan import Job

logger = logging.getLogger("audioret")

INSTALL = 'pip install "audioret[cluster]"'
LOCAL = "local"
LOCAL_OBJECT_STORE_BYTES = 512 * 2**20  # Ray's shared memory for a --cluster local run (it spills beyond)
BATCHES_PER_CALL = 4  # a model actor's call holds this many of its channel's batches (rows of other channels pass)
DECODE_MEMORY = 256 * 2**20  # what a decode task claims: one file's blocks and a few rows of pieces
ROWS_PER_YIELD = 8  # a decode task hands on its rows in groups of this many pieces
EMPTY = np.zeros(0, np.uint8)


def require_ray():
    """The ``ray`` module with Ray Data; InputError naming the extra to install when it is missing."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise InputError(f"Indexing on a cluster needs Ray, which is not installed: {INSTALL}") from None
    return ray


def check(address: str, chroma_url: str | None) -> None:
    """Fails before planning: no Ray, no address, or a remote cluster without a Chroma server to write to."""
    if not address or not address.strip():
        raise InputError("--cluster takes local, auto or a Ray address such as ray://HOST:10001; got nothing")
    if address != LOCAL and not chroma_url:
        raise InputError(
            f"Indexing on the Ray cluster at {address} writes to a Chroma server that every machine reaches; set "
            "AUDIORET_CHROMA_URL=http://HOST:PORT (or --chroma-url), or index on this machine with --cluster local"
        )
    require_ray()


@dataclass(frozen=True)
class Layout:
    """How a run spreads over the cluster."""

    actors: int  # model actors in each channel's pool
    actor_cpus: float  # CPUs each claims
    actor_gpus: float  # GPUs each claims (0 on a cluster without)
    threads: int | None  # the model's threads in each actor (None: Ray's, one per CPU claimed)
    decode_slots: int  # decode tasks that can run at once
    batch_size: int  # the sound model's batch


def layout(
    cpus: float, gpus: float, pools: int, actors: int | None, batch_size: int | str, cores: int | None = None
) -> Layout:
    """The layout of a run (pure). ``pools``: channels that need audio; ``cores``: this machine's, for a local run.

    With GPUs, each pool has one actor per GPU (unless ``actors`` says otherwise), each claiming a 1/``pools`` share
    of one, and "auto" batches are GPU-sized. Without, an eighth of the CPUs (at least one) is kept for decoding and
    the rest is shared by the actors, one per four CPUs by default. On a local run each actor's model uses this
    machine's cores divided among the actors of a pool, as a single-process run's model uses them all.
    """
    from ..config import auto_settings

    pools = max(1, pools)
    batch = batch_size if isinstance(batch_size, int) else auto_settings(gpus >= 1, int(cpus))["batch_size"]
    if gpus >= 1:
        n = actors or int(gpus)
        claimed = n * pools
        slots = max(1, int(cpus - claimed))
        return Layout(n, 1.0, min(1.0, gpus / n) / pools, None, slots, batch)
    reserve = max(1, int(cpus) // 8)
    n = actors or max(1, int(cpus - reserve) // 4)
    each = max(cpus - reserve, 0.5) / (n * pools)
    threads = max(1, cores // n) if cores else None
    return Layout(n, each, 0.0, threads, max(1, int(cpus - each * n * pools)), batch)


@contextmanager
def connected(address: str):
    """A connection to the cluster for one run: a session the caller started (a notebook, a test) is used as it
    is; otherwise Ray is started on this machine (``local``) or joined (``auto``, ``ray://HOST:PORT``), and left
    after the run."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    options = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    if address == LOCAL:
        ray.init(object_store_memory=LOCAL_OBJECT_STORE_BYTES, **options)
    else:
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise InputError(
                f"Cannot reach the Ray cluster at {address} ({' '.join(str(e).split())[:200]}); start it with "
                "`ray start --head` (docs/SCALING.md), or index on this machine with --cluster local"
            ) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def engine(address: str, library: Callable, actors: int | None = None, bar=None) -> Callable:
    """:func:`pipeline.run`'s ``engine`` on a Ray cluster. ``library`` is a picklable function returning a
    library of the run's settings (``functools.partial(Library, config, factories)``), whose channels the model
    actors load."""

    def run_jobs(jobs: list[Job], channels: dict, writer: pipeline.Writer, workers: int, queue_size: int):
        with connected(address) as ray:
            _run(ray, address, jobs, channels, writer, library, actors, bar)

    return run_jobs


def _run(ray, address: str, jobs: list[Job], channels: dict, writer, library: Callable, actors, bar):
    from ray.data import ActorPoolStrategy, DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    hearing = [n for n, c in channels.items() if c.needs_audio and any(n in j.stored for j in jobs)]
    resources = ray.cluster_resources()
    cfg = library.args[0] if hasattr(library, "args") else library().config
    lay = layout(
        resources.get("CPU", 1.0),
        resources.get("GPU", 0.0),
        len(hearing),
        actors,
        cfg.batch_size,
        os.cpu_count() if address == LOCAL else None,
    )
    writer.report.settings.update(engine=describe(address, lay, len(hearing)), batch_size=lay.batch_size)
    library = _with_batch(library, lay.batch_size)
    cutting = {n: channels[n].cutting() for n in hearing}
    specs = [{"job": i, "spec": pickle.dumps((job, reusable(job, channels)))} for i, job in enumerate(jobs)]
    ds = ray.data.from_items(specs, override_num_blocks=min(len(jobs), 16 * lay.decode_slots))
    # a decode task's memory claim also keeps it a task of its own (Ray Data fuses maps of equal claims)
    ds = ds.map_batches(decode_rows, fn_kwargs={"cutting": cutting}, batch_size=1, num_cpus=1, memory=DECODE_MEMORY)
    for name in hearing:
        rows = BATCHES_PER_CALL * (lay.batch_size if hasattr(channels[name], "batch_size") else 1)
        ds = ds.map_batches(
            ModelActor,
            fn_constructor_kwargs={"library": library, "name": name, "threads": lay.threads},
            batch_size=rows,
            compute=ActorPoolStrategy(size=lay.actors),
            num_cpus=lay.actor_cpus,
            num_gpus=lay.actor_gpus or None,
            # set before the process starts: Ray sets one thread per CPU claimed, and OpenMP reads it once
            runtime_env={"env_vars": {"OMP_NUM_THREADS": str(lay.threads)}} if lay.threads else None,
        )
    _consume(ds, jobs, channels, writer, hearing, lay, bar)


def _with_batch(library: Callable, batch_size: int) -> Callable:
    """The library function with the run's batch size in its settings (the actors embed at it)."""
    import functools

    if isinstance(library, functools.partial) and library.args:
        cfg = dataclasses.replace(library.args[0], batch_size=batch_size)
        return functools.partial(library.func, cfg, *library.args[1:], **library.keywords)
    return library


def describe(address: str, lay: Layout, pools: int) -> str:
    """What ran, for the report and ``audioret stats``: "ray (local): 1 CPU model actor per channel, ..."."""
    kind = "GPU" if lay.actor_gpus else "CPU"
    per = " per channel" if pools > 1 else ""
    return (
        f"ray ({address}): {lay.actors} {kind} model actor{'s' * (lay.actors != 1)}{per}, "
        f"{lay.decode_slots} decode slot{'s' * (lay.decode_slots != 1)}, batch {lay.batch_size}"
    )


def reusable(job: Job, channels: dict) -> set[str]:
    """The channels whose stored record of the job is kept if the file's hash is unchanged (``same_content``)."""
    return {n for n, r in job.stored.items() if r is not None and r.hash and channels[n].same_content(r, r.hash)}


@dataclass(frozen=True)
class _Hearing:
    """What a decode task knows of a channel: whether it needs the audio, its cutter, and whether the stored
    record is kept when the hash is unchanged."""

    needs_audio: bool
    cutting: Callable | None
    reusable: bool
    made: list = field(default_factory=list)  # the cutter it made: what it measured goes with the file's end

    def same_content(self, record, digest: str) -> bool:
        return self.reusable and record is not None and record.hash == digest

    def cutter(self, job, sr_in: int):
        cutter = self.cutting(job, sr_in)
        self.made.append(cutter)
        return cutter


def decode_rows(batch: dict, cutting: dict) -> Iterator[dict]:
    """A decode task: each file of the batch hashed and decoded once, as rows of pieces (its end on its last row)."""
    for i, spec in zip(batch["job"], batch["spec"]):
        job, keep = pickle.loads(spec)
        stand_ins = {n: _Hearing(n in cutting, cutting.get(n), n in keep) for n in job.stored}
        yield from _file_rows(int(i), job, stand_ins)


def _file_rows(i: int, job: Job, channels: dict) -> Iterator[dict]:
    events: queue.Queue = queue.Queue(maxsize=2 * ROWS_PER_YIELD)
    stop, blocked, started = threading.Event(), [0.0], time.perf_counter()

    def put(event):
        t = time.perf_counter()
        events.put(event)
        blocked[0] += time.perf_counter() - t

    def work():
        try:
            pipeline.decode(job, channels, put, stop)
        finally:
            events.put(None)

    threading.Thread(target=work, daemon=True, name="audioret-decode").start()
    rows, held, seq = [], None, 0
    while (event := events.get()) is not None:
        if isinstance(event, Piece):
            if held is not None:
                rows.append(held)
            held, seq = _piece_row(i, seq, event), seq + 1
            if len(rows) >= ROWS_PER_YIELD:
                yield _columns(rows)
                rows = []
            continue
        end = dataclasses.replace(event, job=None)
        held = held or {"job": i, "seq": seq, "channel": "", "piece": b"", "audio": EMPTY}
        measured = {n: getattr(c.made[-1], "measured", None) for n, c in channels.items() if c.made}  # loudness
        ended = (end, job.digest, seq, {n: m for n, m in measured.items() if m is not None})
        held.update(end=pickle.dumps(ended), decode_s=time.perf_counter() - started - blocked[0])
    stop.set()
    if held is not None:
        rows.append(held)
    if rows:
        yield _columns(rows)


def _piece_row(i: int, seq: int, event: Piece) -> dict:
    """A piece as a row: its samples out of band, as an array column, when it holds one array."""
    buffers: list = []
    data = pickle.dumps(event.item, protocol=5, buffer_callback=buffers.append)
    if len(buffers) > 1:
        data, buffers = pickle.dumps(event.item, protocol=5), []
    audio = np.frombuffer(buffers[0].raw(), np.uint8) if buffers else EMPTY
    return {"job": i, "seq": seq, "channel": event.channel, "piece": data, "audio": audio}


def _columns(rows: list[dict]) -> dict:
    def objects(values):
        out = np.empty(len(values), dtype=object)
        for k, v in enumerate(values):
            out[k] = v
        return out

    return {
        "job": np.array([r["job"] for r in rows], np.int64),
        "seq": np.array([r["seq"] for r in rows], np.int64),
        "channel": np.array([r["channel"] for r in rows], dtype=object),
        "piece": objects([r["piece"] for r in rows]),
        "audio": objects([r["audio"] for r in rows]),
        "end": objects([r.get("end", b"") for r in rows]),
        "decode_s": np.array([r.get("decode_s", 0.0) for r in rows], np.float64),
        "model_s": np.zeros(len(rows), np.float64),
    }


class ModelActor:
    """A model actor of one channel: the model loaded once, its model step run on the channel's rows of each batch
    (the other rows pass through)."""

    def __init__(self, library: Callable, name: str, threads: int | None):
        self.name = name
        self.channel = library().channels[name]
        self.channel.load()
        torch = sys.modules.get("torch")
        if threads and torch is not None:
            torch.set_num_threads(threads)

    def __call__(self, batch: dict) -> dict:
        mine = [k for k, (c, p) in enumerate(zip(batch["channel"], batch["piece"])) if c == self.name and len(p)]
        if not mine:
            return batch
        started = time.perf_counter()
        pieces = [pickle.loads(batch["piece"][k], buffers=_buffers(batch["audio"][k])) for k in mine]
        embedded = self.channel.embed(pieces)
        took = (time.perf_counter() - started) / len(mine)
        piece, audio, model_s = batch["piece"].copy(), _objects(batch["audio"]), batch["model_s"].copy()
        for k, e in zip(mine, embedded):
            piece[k], audio[k] = pickle.dumps(e, protocol=5), EMPTY
            model_s[k] += took
        return {**batch, "piece": piece, "audio": audio, "model_s": model_s}


def _buffers(audio) -> list:
    return [np.ascontiguousarray(audio)] if len(audio) else []


def _objects(column) -> np.ndarray:
    out = np.empty(len(column), dtype=object)
    for k, v in enumerate(column):
        out[k] = v
    return out


def _consume(ds, jobs: list[Job], channels: dict, writer, pools: list[str], lay: Layout, bar) -> None:
    """The driver: each file's pieces handed to its channels in order once all have come, then its end."""
    report, timed = writer.report, pipeline.timer(writer.report.stages)
    pieces: dict[int, dict[int, Piece]] = {}
    ends: dict[int, tuple] = {}
    done: set[int] = set()
    busy = {"decode": 0.0, **{name: 0.0 for name in pools}}
    started = shown = time.perf_counter()
    received = 0  # pieces embedded on the cluster and come back (the writes come in a few large groups)
    batches = iter(ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=2))
    while (batch := timed("waiting for audio", lambda: next(batches, None))) is not None:
        for k in range(len(batch["job"])):
            i = int(batch["job"][k])
            if i in done:
                continue  # a retried task's repeat
            busy["decode"] += float(batch["decode_s"][k])
            if len(batch["piece"][k]):
                channel = str(batch["channel"][k])
                busy[channel] += float(batch["model_s"][k])
                received += 1
                pieces.setdefault(i, {})[int(batch["seq"][k])] = Piece(
                    jobs[i], channel, pickle.loads(batch["piece"][k])
                )
            if len(batch["end"][k]):
                ends[i] = pickle.loads(batch["end"][k])
            if i in ends and len(pieces.get(i, {})) == ends[i][2]:
                _dispatch(jobs[i], pieces.pop(i, {}), ends.pop(i), channels, writer, timed)
                done.add(i)
        report.stages["decode (cluster)"] = busy["decode"] / lay.decode_slots
        for name in pools:
            report.stages[f"{name} model (cluster)"] = busy[name] / lay.actors
        if bar is not None and time.perf_counter() - shown >= 1.0:
            shown = time.perf_counter()
            bar.set_description(f"indexing, {received / (shown - started):.1f} windows/s", refresh=False)
    for i in sorted(set(range(len(jobs))) - done):  # never seen whole: Ray gave up on it
        pipeline.dispatch(Failed(jobs[i], "lost on the cluster; the next run indexes it"), channels, writer, timed)
    pipeline.flush(channels, writer, timed)


def _dispatch(job: Job, pieces: dict[int, Piece], end: tuple, channels: dict, writer, timed) -> None:
    event, digest, _, measured = end
    job.digest = digest
    for seq in sorted(pieces):
        pipeline.dispatch(pieces[seq], channels, writer, timed)
    for name, found in measured.items():  # measured in the decode task: the file is not read again here
        channels[name].measured(job, found)
    pipeline.dispatch(dataclasses.replace(event, job=job), channels, writer, timed)
