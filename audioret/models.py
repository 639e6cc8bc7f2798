"""Loading the embedding models on the chosen backend: torch, or an export run by ONNX Runtime or OpenVINO.

``load_clap`` and ``load_text_encoder`` return objects with one interface whatever runs them (``embed_audio``,
``embed_text``; ``encode``). ``backend="auto"`` takes torch on a GPU and, on a CPU, the fastest export runtime
installed (:func:`audioret.backends.resolve`). The first use of a model on an export backend loads it in torch,
exports it and checks the export against torch (:mod:`audioret.backends`); a refused export is remembered and
torch is used, with a warning. Later uses load the export without importing torch or transformers: a cold CLI
search then starts in well under the time torch takes to import (docs/BENCHMARKS.md, "Backends").

The collapsed-text-tower check runs here for every backend, so a broken checkpoint is refused however it runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import backends, hub
from .backends import PRECISIONS, Session, Tokens, unit
from .errors import InputError, ModelLoadError

logger = logging.getLogger("audioret")

KNOWN_CLAP_MODELS = ("laion/clap-htsat-unfused", "laion/larger_clap_general", "laion/larger_clap_music_and_speech")
# Contrasting prompts embedded at load. A checkpoint whose text tower maps them to nearly one vector would return
# the same list for every query (laion/larger_clap_music is reported to give cosine 0.999 between "jazz standard"
# and "heavy metal"); a working CLAP keeps unrelated prompts far apart (a random one: 0.995 here).
SANITY_PROMPTS = ("jazz standard", "heavy metal", "a dog barking", "rain on a roof", "a man speaking",
                  "birds singing at dawn", "a car engine starting", "silence")  # fmt: skip
COLLAPSED_COSINE = 0.97  # mean cosine between the sanity prompts above which a text tower counts as collapsed


def mean_cosine(vectors: np.ndarray) -> float:
    """Mean cosine between distinct rows of unit vectors, shape (n, dim), n >= 2."""
    n = len(vectors)
    gram = vectors @ vectors.T
    return float((gram.sum() - np.trace(gram)) / (n * n - n))


def remembered(model, texts: Sequence[str], embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """``embed(texts)``, kept beside an exported model (whose vectors are the same on every run) so that a cold
    start does not compute them again: the sanity prompts and the fusion's reference queries, 0.7 and 1.7 s of a
    cold CLI search on 2 cores (docs/BENCHMARKS.md, "Backends"). A torch model computes them each time."""
    folder = getattr(model, "folder", None)
    if folder is None:
        return embed(list(texts))
    path = folder / f"texts-{hashlib.sha1(chr(10).join(texts).encode()).hexdigest()[:16]}.npy"
    try:
        return np.load(path)
    except (OSError, ValueError):
        pass
    vectors = embed(list(texts))
    try:  # a read-only cache only costs the time
        tmp = path.with_name(f"{path.stem}.tmp-{os.getpid()}.npy")
        np.save(tmp, vectors)
        os.replace(tmp, path)
    except OSError:
        pass
    return vectors


def check_text_tower(name: str, embed_text: Callable[[list[str]], np.ndarray], model=None) -> None:
    """Refuses a CLAP checkpoint whose text embeddings collapse (see SANITY_PROMPTS)."""
    cosine = mean_cosine(remembered(model, SANITY_PROMPTS, embed_text))
    if cosine > COLLAPSED_COSINE:
        raise ModelLoadError(
            f"The CLAP model {name!r} gives nearly the same text embedding for every query (mean cosine "
            f"{cosine:.3f} between {len(SANITY_PROMPTS)} unrelated prompts such as 'jazz standard' and 'heavy "
            f"metal'), so every search would return the same list. Set AUDIORET_CLAP_MODEL (or --clap-model) "
            f"to another checkpoint, e.g. {KNOWN_CLAP_MODELS[0]}"
        )


class ExportedClap:
    """CLAP's audio and text towers as exported graphs: the interface of :class:`audioret.clap.ClapEmbedder`."""

    def __init__(self, name: str, folder: Path, backend: str, precision: str):
        self.name, self.backend, self.precision, self.folder = name, backend, precision, folder
        manifest = backends.read_manifest(folder) or {}
        settings = manifest["settings"]
        self.sample_rate: int = settings["sample_rate"]
        self.window: int = settings["window"]
        self.dim: int = settings["dim"]
        self._n_fft, self._hop = settings["n_fft"], settings["hop"]
        self._mel_filters = np.load(folder / "mel_filters.npy")
        self._audio = Session(folder / manifest["files"]["audio"], backend)
        self._text = Session(folder / manifest["files"]["text"], backends.runtime(backend, "text"))
        self._tokens = Tokens(folder / "clap-tokenizer" / "tokenizer.json", settings["max_tokens"])

    @property
    def window_s(self) -> float:
        return self.window / self.sample_rate

    def features(self, windows: np.ndarray) -> np.ndarray:
        x = np.asarray(windows, np.float32)
        if x.ndim != 2 or x.shape[1] != self.window:
            raise ValueError(f"Expected windows of shape (batch, {self.window}), got {tuple(x.shape)}")
        return backends.log_mel(x, self._mel_filters, self._n_fft, self._hop)

    def embed_audio(self, windows: np.ndarray, pad_to: int | None = None) -> np.ndarray:
        """As :meth:`audioret.clap.ClapEmbedder.embed_audio`: padded to ``pad_to`` rows, so that a window embeds
        to the same bits whatever shares its batch."""
        if len(windows) == 0:
            return np.zeros((0, self.dim), np.float32)
        n = len(windows)
        windows = np.asarray(windows, np.float32)
        if pad_to is not None and n < pad_to:
            windows = np.concatenate([windows, np.zeros((pad_to - n, self.window), np.float32)])
        return unit(self._audio.run(input_features=self.features(windows))[:n])

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed_text takes a list of strings; wrap a single query in a list")
        if len(texts) == 0:
            return np.zeros((0, self.dim), np.float32)
        return unit(self._text.run(**self._tokens(texts)))


class ExportedTextEncoder:
    """A sentence-transformers model (transformer, mean pooling, normalisation) as an exported graph: the
    interface of :class:`audioret.text.TextEncoder`."""

    def __init__(self, name: str, folder: Path, backend: str, precision: str):
        self.name, self.backend, self.precision, self.folder = name, backend, precision, folder
        manifest = backends.read_manifest(folder) or {}
        self.dim: int = manifest["settings"]["dim"]
        self._session = Session(folder / manifest["files"]["text"], backends.runtime(backend, "text"))
        self._tokens = Tokens(folder / "tokenizer" / "tokenizer.json", manifest["settings"]["max_tokens"])

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """L2-normalised embeddings, float32, shape (len(texts), dim). Texts are batched by length, as
        sentence-transformers does, so that short texts are not padded to a long one."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dim), np.float32)
        for i in range(0, len(texts), batch_size):
            rows = order[i : i + batch_size]
            out[rows] = unit(self._session.run(**self._tokens([texts[j] for j in rows])))
        return out


def load_clap(name: str = KNOWN_CLAP_MODELS[0], device: str = "auto", backend: str = "auto",
              precision: str = "fp32"):  # fmt: skip
    """A CLAP checkpoint (hub id or local directory) on ``backend``; raises ModelLoadError with the fix."""

    def torch_model():
        from .clap import ClapEmbedder

        return ClapEmbedder(name, device=device)

    def export(model, folder: Path):
        from .clap import export

        return export(model, folder)

    model = _load("clap", name, device, backend, precision, torch_model, export, ExportedClap)
    if isinstance(model, ExportedClap):  # a torch ClapEmbedder checks itself when it loads
        check_text_tower(name, model.embed_text, model)
    return model


def load_text_encoder(name: str = "sentence-transformers/all-MiniLM-L6-v2", device: str = "auto",
                      backend: str = "auto", precision: str = "fp32"):  # fmt: skip
    """A sentence-transformers model (hub id or local directory) on ``backend``."""

    def torch_model():
        from .text import torch_text_encoder

        return torch_text_encoder(name, device)

    def export(model, folder: Path):
        from .text import export

        return export(model, folder)

    return _load("text", name, device, backend, precision, torch_model, export, ExportedTextEncoder)


def pipeline(kind: str, name: str, device: str = "auto", backend: str = "auto", precision: str = "fp32") -> dict:
    """What a model loaded with these settings records with its vectors: its revision, and the precision it will
    really run at (an int8 export that was refused runs at fp32). Reads the export cache; loads no model."""
    effective = precision
    chosen = backends.resolve(backend, device)
    if chosen != "torch" and precision != "fp32":
        manifest = backends.read_manifest(backends.export_dir(kind, name, chosen, precision))
        if manifest is not None and manifest.get("refused"):
            effective = "fp32"
    return {"model_revision": hub.model_revision(name), "precision": effective}


def _load(kind: str, name: str, device: str, backend: str, precision: str, torch_model: Callable,
          export: Callable, exported: Callable):  # fmt: skip
    if precision not in PRECISIONS:
        raise InputError(f"Unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    chosen = backends.resolve(backend, device)
    if chosen == "torch":
        if precision != "fp32":
            raise InputError(f"precision {precision!r} needs the onnxruntime or openvino backend (--backend)")
        model = torch_model()
        model.backend, model.precision = "torch", "fp32"
        return model
    folder = backends.export_dir(kind, name, chosen, precision)
    manifest = backends.read_manifest(folder)
    if manifest is None:
        manifest = _export(kind, name, chosen, precision, folder, torch_model, export)
    if manifest.get("refused"):
        warnings.warn(f"{manifest['refused']} (remembered in {folder}; delete it to try again)", stacklevel=3)
        if precision != "fp32":  # the fp32 export on the same backend is the next best
            return _load(kind, name, device, chosen, "fp32", torch_model, export, exported)
        model = torch_model()
        model.backend, model.precision = "torch", "fp32"
        return model
    try:
        return exported(name, folder, chosen, precision)
    except Exception as e:  # a damaged cache: export again next time
        shutil.rmtree(folder, ignore_errors=True)
        raise ModelLoadError(f"The {chosen} export of {name!r} in {folder} could not be loaded ({e}); it was "
                             f"removed and is made again on the next start") from e  # fmt: skip


def _export(kind, name, backend, precision, folder: Path, torch_model, export) -> dict:
    """Exports ``name`` into ``folder`` (through a temporary folder, so a crash leaves nothing half-written),
    checks it against torch and writes the manifest: the export's files and settings, or why it was refused."""
    logger.warning("Preparing the %s model %s for %s %s (once; it is cached in %s)", kind, name, backend, precision,
                   folder)  # fmt: skip
    model = torch_model()
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with warnings.catch_warnings():  # the tracer's notes on shapes and the exporter's deprecation notice
            warnings.simplefilter("ignore")
            manifest = export(model, tmp)
        if precision == "int8":
            for role, file in manifest["files"].items():
                backends.quantize(tmp / file, tmp / f"{role}-int8.onnx")
                (tmp / file).unlink()
                manifest["files"][role] = f"{role}-int8.onnx"
        for file in manifest["files"].values():
            backends.external_weights(tmp / file)
        manifest.update(model=name, revision=hub.model_revision(name), backend=backend, precision=precision,
                        exporter=backends.EXPORTER)  # fmt: skip
        backends.write_manifest(tmp, manifest)
        loaded = (ExportedClap if kind == "clap" else ExportedTextEncoder)(name, tmp, backend, precision)
        manifest["cosine"] = _agreement(kind, name, model, loaded, precision)
    except ModelLoadError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        manifest = {"refused": str(e), "model": name, "backend": backend, "precision": precision}
    except Exception as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelLoadError(f"Could not export the {kind} model {name!r} for {backend}: {e}. Use --backend torch "
                             f"(AUDIORET_BACKEND=torch) to run it without an export") from e  # fmt: skip
    backends.write_manifest(tmp, manifest)
    if folder.exists():  # another process finished first: keep its export
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, folder)
    logger.info("Export of %s: %s", name, json.dumps({k: manifest.get(k) for k in ("cosine", "refused")}))
    return backends.read_manifest(folder) or manifest


def _agreement(kind: str, name: str, reference, exported, precision: str) -> dict[str, float]:
    """The lowest cosine between the export's vectors and torch's on fixed inputs; refuses an export below the
    floor (:func:`audioret.backends.check`)."""
    if kind == "text":
        return {"text": backends.check(kind, name, reference.encode(list(backends.CHECK_TEXTS)),
                                       exported.encode(list(backends.CHECK_TEXTS)), precision)}  # fmt: skip
    windows = backends.check_windows(reference.sample_rate, reference.window)
    return {
        "audio": backends.check(kind, name, reference.embed_audio(windows), exported.embed_audio(windows), precision),
        "text": backends.check(kind, name, reference.embed_text(list(backends.CHECK_TEXTS)),
                               exported.embed_text(list(backends.CHECK_TEXTS)), precision),
    }  # fmt: skip
