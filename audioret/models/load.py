"""Loading the embedding models on the chosen backend: torch, or an export run by ONNX Runtime or OpenVINO.

``load_clap`` and ``load_text_encoder`` return objects with one interface whatever runs them (``embed_audio``,
``embed_text``; ``encode``). ``backend="auto"`` takes torch on a GPU and, on a CPU, the fastest export runtime
installed (:func:`audioret.models.backends.resolve`). The first use of a model on an export backend loads it in torch,
exports it and checks the export against torch (:mod:`audioret.models.backends`); a refused export is remembered and
torch is used, with a warning. Later uses load the export without importing torch or transformers: a cold CLI
search then starts in well under the time torch takes to import (docs/BENCHMARKS.md, "Backends").

The collapsed-text-tower check runs here for every backend, so a broken checkpoint is refused however it runs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

from ..config import KNOWN_CLAP_MODELS, PRECISIONS
from ..errors import InputError, ModelLoadError
from . import backends, hub
from .checks import check_text_tower
from .exported import ExportedClap, ExportedTextEncoder

logger = logging.getLogger("audioret")


def load_clap(name: str = KNOWN_CLAP_MODELS[0], device: str = "auto", backend: str = "auto", precision: str = "fp32"):
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


def load_text_encoder(
    name: str = "sentence-transformers/all-MiniLM-L6-v2",
    device: str = "auto",
    backend: str = "auto",
    precision: str = "fp32",
):
    """A sentence-transformers model (hub id or local directory) on ``backend``."""

    def torch_model():
        from .text_encoder import torch_text_encoder

        return torch_text_encoder(name, device)

    def export(model, folder: Path):
        from .text_encoder import export

        return export(model, folder)

    return _load("text", name, device, backend, precision, torch_model, export, ExportedTextEncoder)


def provenance(kind: str, name: str, device: str = "auto", backend: str = "auto", precision: str = "fp32") -> dict:
    """What a model loaded with these settings records with its vectors: its revision, and the precision it will
    really run at (an int8 export that was refused runs at fp32). Reads the export cache; loads no model."""
    effective = precision
    chosen = backends.resolve(backend, device)
    if chosen != "torch" and precision != "fp32":
        manifest = backends.read_manifest(backends.export_dir(kind, name, chosen, precision))
        if manifest is not None and manifest.get("refused"):
            effective = "fp32"
    return {"model_revision": hub.model_revision(name), "precision": effective}


def _load(
    kind: str,
    name: str,
    device: str,
    backend: str,
    precision: str,
    torch_model: Callable,
    export: Callable,
    exported: Callable,
):
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
        raise ModelLoadError(
            f"The {chosen} export of {name!r} in {folder} could not be loaded ({e}); it was "
            f"removed and is made again on the next start"
        ) from e


def _export(kind, name, backend, precision, folder: Path, torch_model, export) -> dict:
    """Exports ``name`` into ``folder`` (through a temporary folder, so a crash leaves nothing half-written),
    checks it against torch and writes the manifest: the export's files and settings, or why it was refused."""
    model = torch_model()  # first: a model that is not there fails here, before any line says it is being prepared
    logger.warning(  # a progress line: the command line prints it without "WARNING"
        "Preparing the %s model %s for %s %s (once; it is cached in %s)",
        *(kind, name, backend, precision, folder),
        extra={"progress": True},
    )
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
        manifest.update(
            model=name,
            revision=hub.model_revision(name),
            backend=backend,
            precision=precision,
            exporter=backends.EXPORTER,
        )
        backends.write_manifest(tmp, manifest)
        loaded = (ExportedClap if kind == "clap" else ExportedTextEncoder)(name, tmp, backend, precision)
        manifest["cosine"] = _agreement(kind, name, model, loaded, precision)
    except ModelLoadError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        manifest = {"refused": str(e), "model": name, "backend": backend, "precision": precision}
    except Exception as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelLoadError(
            f"Could not export the {kind} model {name!r} for {backend}: {e}. Use --backend torch "
            f"(AUDIORET_BACKEND=torch) to run it without an export"
        ) from e
    backends.write_manifest(tmp, manifest)
    if folder.exists():  # another process finished first: keep its export
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, folder)
    logger.info("Export of %s: %s", name, json.dumps({k: manifest.get(k) for k in ("cosine", "refused")}))
    return backends.read_manifest(folder) or manifest


def _agreement(kind: str, name: str, reference, exported, precision: str) -> dict[str, float]:
    """The lowest cosine between the export's vectors and torch's on fixed inputs; refuses an export below the
    floor (:func:`audioret.models.backends.check`)."""
    if kind == "text":
        return {
            "text": backends.check(
                kind,
                name,
                reference.encode(list(backends.CHECK_TEXTS)),
                exported.encode(list(backends.CHECK_TEXTS)),
                precision,
            )
        }
    windows = backends.check_windows(reference.sample_rate, reference.window)
    return {
        "audio": backends.check(kind, name, reference.embed_audio(windows), exported.embed_audio(windows), precision),
        "text": backends.check(
            kind,
            name,
            reference.embed_text(list(backends.CHECK_TEXTS)),
            exported.embed_text(list(backends.CHECK_TEXTS)),
            precision,
        ),
    }
