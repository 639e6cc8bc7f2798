"""Where models come from: a local directory, the Hugging Face cache, or a download the user can follow.

A machine that cannot reach the hub used to wait minutes per model while the download was retried before
failing with a page of library text (docs/BENCHMARKS.md, "Figures behind the code"). Now each loader asks
:func:`local_only` first: a local path,
``HF_HUB_OFFLINE=1`` or a hub that does not answer a TCP connect within ``PROBE_TIMEOUT_S`` means "load from the
cache or fail at once", and the failure says which setting fixes it (:func:`not_found`).
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from ..errors import ModelLoadError
from ..render import shorten

PROBE_TIMEOUT_S = 3.0  # a hub that does not accept a connection within this is taken as unreachable
PROBE_CACHE_S = 60.0  # the answer is kept this long
_probe: dict[str, tuple[float, bool]] = {}
_lock = threading.Lock()

# Roughly what the first use downloads, for the page's "downloading …" line.
SIZES_MB = {
    "laion/clap-htsat-unfused": 615,
    "laion/larger_clap_general": 776,
    "laion/larger_clap_music_and_speech": 776,
    "sentence-transformers/all-MiniLM-L6-v2": 90,
}


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def reachable(timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the hub accepts a TCP connection (remembered for PROBE_CACHE_S)."""
    url = urlparse(endpoint())
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    with _lock:
        at, ok = _probe.get(f"{host}:{port}", (0.0, False))
        if time.monotonic() - at < PROBE_CACHE_S:
            return ok
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            ok = True
        except OSError:
            ok = False
        _probe[f"{host}:{port}"] = (time.monotonic(), ok)
        return ok


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def local_only(name: str) -> bool:
    """Whether ``name`` must be loaded without the network: a local path, offline mode, or an unreachable hub."""
    return os.path.exists(name) or offline() or not reachable()


def cached(repo_id: str, filename: str = "config.json") -> bool:
    """Whether a hub model's ``filename`` is in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, filename), str)
    except (ImportError, ValueError):
        return False


def prefetch(repo_id: str, on_progress: Callable[[int, int], None] | None = None) -> None:
    """Downloads a hub model into the cache (nothing to do when it is local, cached or the hub is unreachable),
    reporting ``(bytes done, bytes in all)`` as the files arrive."""
    if os.path.exists(repo_id) or offline() or cached(repo_id) or not reachable():
        return
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    class Reporter(tqdm):  # huggingface_hub reports every file's bytes through its tqdm_class
        def update(self, n=1):
            super().update(n)
            if on_progress is not None and self.total:
                on_progress(int(self.n), int(self.total))

    snapshot_download(repo_id, tqdm_class=Reporter)


def not_found(kind: str, name: str, setting: str, error: Exception) -> ModelLoadError:
    """The error for a model that could not be loaded: what was tried and the setting that fixes it, in a line; the
    library's own words in ``details``."""
    raw = " ".join(str(error).split()) or type(error).__name__
    if os.path.isdir(name):
        what = f"Could not load the {kind} model from the directory {name!r}"
    elif os.path.exists(name):
        what = f"Could not load the {kind} model file {name!r}"
    elif looks_local(name):  # a path that is not there: the hub's words on it as a repo id say nothing
        what = f"There is no {kind} model at {name!r}: no such folder or file"
        fix = f"set {setting} to the folder that holds the model, or to a hub id"
        return ModelLoadError(f"{what}. To fix: {fix}.", details=raw)
    elif local_only(name):
        why = "HF_HUB_OFFLINE is set" if offline() else "the Hugging Face hub cannot be reached from this machine"
        what = f"The {kind} model {name!r} is not in the local cache and {why}"
    else:
        what = f"Could not download the {kind} model {name!r} from the Hugging Face hub"
    fix = (
        f"set {setting} to a local model directory, or run once where the hub can be reached (HF_HUB_OFFLINE=1 then "
        "uses the cache)"
    )
    said = shorten(raw, 200)
    said += "" if said.endswith((".", "…")) else "."
    return ModelLoadError(f"{what}: {said} To fix: {fix}.", short=f"{what}. To fix: {fix}.", details=raw)


def looks_local(name: str) -> bool:
    """Whether ``name`` is written as a path (absolute, relative from ``.``, ``..`` or ``~``, or with more than the
    one ``/`` of a hub id ``owner/name``) rather than as a hub id or a model size."""
    return os.path.isabs(name) or name.startswith(("./", "../", "~", ".\\")) or name.count("/") > 1


def model_revision(name: str) -> str:
    """The hub commit of a cached model, or a fingerprint (file names, sizes, first 64 KiB) of a local one."""
    path = Path(name).expanduser()
    if path.exists():
        h = hashlib.sha256()
        for f in sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()):
            h.update(f"{f.relative_to(path) if f != path else f.name}:{f.stat().st_size}".encode())
            with open(f, "rb") as fh:
                h.update(fh.read(1 << 16))
        return f"local:{h.hexdigest()[:16]}"
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a hub id (e.g. a Whisper size name)
        cached = None
    if isinstance(cached, str) and "/snapshots/" in cached:
        return cached.split("/snapshots/")[1].split("/")[0]
    return "unknown (not a local path, not in the hub cache)"
