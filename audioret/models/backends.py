"""Running the models without PyTorch: ONNX Runtime or OpenVINO, from an export made once and checked against torch.

Eager torch is the slowest way to run CLAP on the 2-4 CPU cores most users have, and importing torch and
transformers takes seconds before a CLI search can start. Measured side by side on a 2-core CPU (laion/clap-htsat-
unfused's architecture, batches of 8 windows; docs/BENCHMARKS.md "Backends"), ONNX Runtime and OpenVINO run both
towers faster and start faster. So the first use of a model on a backend exports it (``torch.onnx.export``, the
TorchScript exporter, opset 17) into a cache keyed by the model's revision, the backend, the precision and the
exporter version, embeds fixed inputs with torch and with the export, and keeps the export only if every vector
agrees (cosine ≥ ``MIN_COSINE``, or ``MIN_COSINE_INT8`` for ``precision="int8"``); otherwise the caller falls back
to torch with a warning. Later uses load the export with numpy, ``tokenizers`` and the runtime alone.

The log-mel front end (the checkpoint's own STFT and mel filterbank, saved with the export) runs in numpy here;
the text side uses the model's ``tokenizer.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..config import BACKENDS
from ..errors import InputError, ModelLoadError
from .memory import drop_file_pages

logger = logging.getLogger("audioret")

EXPORTER = "audioret-onnx-4"  # bump when the export or its checks change: old exports are redone
OPSET = 17
MIN_COSINE = 0.9999  # every vector of the export against torch's, on fixed inputs
MIN_COSINE_INT8 = 0.98  # int8 is opt-in and approximate; below this it is broken, not approximate
TEXT_MAX_TOKENS = {"clap": 77, "text": 256}  # roberta in CLAP reads 77 tokens; all-MiniLM-L6-v2 256 word pieces
CHECK_TEXTS = (
    "a dog barking in the distance",
    "rain on a tin roof",
    "the part where they talk about the harvest",
    "jazz",
    "",
)


def available(backend: str) -> bool:
    try:
        __import__({"onnxruntime": "onnxruntime", "openvino": "openvino", "torch": "torch"}[backend])
        return True
    except ImportError:
        return False


def resolve(backend: str, device: str) -> str:
    """``auto``: torch on a GPU; on a CPU OpenVINO where installed (the fastest measured), else ONNX Runtime, else
    torch. A named backend that is not installed is an error that says what to install."""
    if backend not in BACKENDS:
        raise InputError(f"Unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend == "auto":
        if device not in ("auto", "cpu", "") or (device != "cpu" and has_gpu()):
            return "torch"
        return next((b for b in ("openvino", "onnxruntime") if available(b)), "torch")
    if not available(backend):
        raise InputError(f"The {backend} backend is not installed: pip install {backend}")
    return backend


def runtime(backend: str, role: str, precision: str = "fp32") -> str:
    """What runs one graph of an export. Under ``openvino`` the fp32 text graphs (CLAP's text tower, the text model)
    run on ONNX Runtime where it is installed: one query at a time it is as fast, and it maps the weights file
    instead of keeping a compiled copy beside it, a third of the memory (docs/BENCHMARKS.md, "Memory"). The audio
    tower, which indexing runs in batches, stays on OpenVINO, and so do int8 graphs (ONNX Runtime's int8 kernels
    stray further from torch: a tiny CLAP's text tower at cosine 0.92 against OpenVINO's 0.98)."""
    if backend == "openvino" and role == "text" and precision == "fp32" and available("onnxruntime"):
        return "onnxruntime"
    return backend


def has_gpu() -> bool:
    """Whether torch sees a CUDA or MPS device. torch (slow to import) is asked only where a GPU may be: an NVIDIA
    driver, Apple silicon, or torch already imported; elsewhere the answer is no, at no cost."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        return False
    maybe = (
        "torch" in sys.modules
        or os.path.exists("/proc/driver/nvidia/version")
        or shutil.which("nvidia-smi")
        or (sys.platform == "darwin" and platform.machine() == "arm64")
    )
    if not maybe:
        return False
    try:
        import torch  # only asked when torch is installed; a CPU-only install answers quickly

        return torch.cuda.is_available() or (
            getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
        )
    except ImportError:
        return False


def cache_root() -> Path:
    base = os.environ.get("AUDIORET_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "audioret"
    )
    return Path(base)


def export_dir(kind: str, name: str, backend: str, precision: str) -> Path:
    """Where the export of a model lives: one folder per model revision, backend, precision and exporter."""
    from .hub import model_revision

    revision = model_revision(name)
    key = hashlib.sha1(f"{kind}|{name}|{revision}|{backend}|{precision}|{EXPORTER}".encode()).hexdigest()[:16]
    return cache_root() / "exports" / f"{kind}-{Path(name).name or 'model'}-{key}"


class Session:
    """One exported graph on a runtime: ``run(**inputs) -> first output``, numpy in and out. The graph is compiled
    on its first run (so a text search never compiles CLAP's audio tower), and runs one call
    at a time (an OpenVINO infer request is not thread-safe; the app searches from several threads)."""

    def __init__(self, path: Path, backend: str, threads: int | None = None):
        self.path, self.backend = path, backend
        self.threads = threads or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._run: Callable[[dict], np.ndarray] | None = None
        self._free: Callable[[], None] | None = None  # frees the buffers kept between runs (OpenVINO)

    def _open(self) -> Callable[[dict], np.ndarray]:
        if self.backend == "onnxruntime":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            # no busy-waiting after a run: the threads would spin against OpenVINO's on the same cores
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            return lambda inputs: session.run(None, inputs)[0]
        import openvino as ov

        core, cache = ov.Core(), self.path.parent / "openvino-cache"
        core.set_property({"CACHE_DIR": str(cache)})
        # f32 inference: OpenVINO may pick bf16 on CPUs that have it, which would change the vectors
        compiled = core.compile_model(
            str(self.path), "CPU", {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": self.threads}
        )
        request, output = compiled.create_infer_request(), compiled.output(0)
        self._free = compiled.release_memory
        first = [True]

        def infer(inputs: dict) -> np.ndarray:
            out = np.asarray(request.infer(inputs)[output])
            if first:  # the graph now runs from OpenVINO's own copy of the weights: the cache blob's pages can go
                first.clear()
                drop_file_pages(cache)
            return out

        return infer

    def release(self) -> None:
        """Frees the buffers a compiled graph keeps between runs (OpenVINO's intermediate tensors: a batch's
        activations); the next run makes them again and gives the same bits. The graph stays compiled."""
        with self._lock:
            if self._free is not None:
                self._free()

    def close(self) -> None:
        """Unloads the graph: the runtime's compiled copy of the weights and its buffers. The next run loads it
        again (from OpenVINO's cache, a fraction of a second) and gives the same bits."""
        with self._lock:
            self._run = self._free = None

    def run(self, **inputs: np.ndarray) -> np.ndarray:
        with self._lock:
            if self._run is None:
                try:
                    self._run = self._open()
                except Exception as e:  # a damaged cache: export again next time
                    shutil.rmtree(self.path.parent, ignore_errors=True)
                    why = (str(e).strip().splitlines() or [type(e).__name__])[-1]  # runtimes write pages
                    raise ModelLoadError(
                        f"The {self.backend} export in {self.path.parent} could not be loaded "
                        f"({why}); it was removed and is made again on the next start"
                    ) from e
            return self._run(inputs)


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def log_mel(windows: np.ndarray, mel_filters: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """CLAP's log-mel features of exact-length windows, as ``ClapEmbedder.features`` computes them in torch:
    a centred, reflect-padded STFT with a periodic Hann window, power, the mel filterbank, 10·log10.

    One window at a time: a batch's STFT at once holds several times the batch in temporaries (a third of an
    index run's memory above its models, docs/BENCHMARKS.md "Memory"), and each window's features are the same
    bits either way.

    Args:
        windows: float32, shape (batch, samples).
        mel_filters: shape (n_fft // 2 + 1, n_mels).
    Returns:
        float32, shape (batch, 1, frames, n_mels).
    """
    import scipy.fft

    windows = np.asarray(windows, np.float32)
    filters = mel_filters.astype(np.float32)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    out = np.empty((len(windows), 1, windows.shape[1] // hop + 1, filters.shape[1]), np.float32)
    for i, samples in enumerate(windows):
        x = np.pad(samples, n_fft // 2, mode="reflect")
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]  # (frames, n_fft)
        spectrum = scipy.fft.rfft(frames * window, axis=-1, workers=-1)
        power = spectrum.real**2 + spectrum.imag**2
        mel = power.astype(np.float32, copy=False) @ filters
        out[i, 0] = 10.0 * np.log10(np.maximum(mel, 1e-10))
    return out


class Tokens:
    """A ``tokenizer.json`` through the ``tokenizers`` library: padded ids and masks for a batch of texts."""

    def __init__(self, path: Path, max_tokens: int):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.enable_truncation(max_tokens)
        pad_id = self._tokenizer.token_to_id("<pad>")
        pad_id = self._tokenizer.token_to_id("[PAD]") if pad_id is None else pad_id
        self._tokenizer.enable_padding(pad_id=pad_id or 0)

    def __call__(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        encoded = self._tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encoded], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], np.int64),
        }


def external_weights(path: Path) -> None:
    """Rewrites an ONNX file with its weights in ``NAME.data`` beside it. ONNX Runtime maps such a file into memory
    and reads the weights in place (an embedding table's unused rows are never loaded); from a single file it
    copies them all."""
    import onnx

    model = onnx.load(str(path))
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=f"{path.name}.data",
        size_threshold=1024,
    )


def write_manifest(folder: Path, manifest: dict) -> None:
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, folder / "manifest.json")


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def check(kind: str, name: str, reference: np.ndarray, exported: np.ndarray, precision: str) -> float:
    """The lowest cosine between the export's vectors and torch's; refuses an export that disagrees."""
    cosine = float(np.min(np.sum(unit(reference) * unit(exported), axis=1)))
    floor = MIN_COSINE_INT8 if precision == "int8" else MIN_COSINE
    if not cosine >= floor:
        fallback = "fp32" if precision == "int8" else "torch"
        raise ModelLoadError(
            f"The {precision} export of the {kind} model {name!r} disagrees with torch (lowest cosine "
            f"{cosine:.6f}, below {floor}); using {fallback} instead"
        )
    return cosine


def check_windows(sample_rate: int, window: int) -> np.ndarray:
    """Fixed inputs for the agreement check, one window each, shaped like recordings: a tone, a chirp, noise
    bursts and a quiet hum, each over a noise floor 60 dB down. Pure synthetic signals are not used: the bins of
    their spectra at float32's rounding noise differ by tenths of a dB between any two STFT implementations
    (torch's and numpy's), which no recording has."""
    rng = np.random.default_rng(0)
    t = np.arange(window, dtype=np.float64) / sample_rate
    floor = 3e-4 * rng.standard_normal((4, window))
    bursts = rng.standard_normal(window) * (np.sin(2 * np.pi * 1.5 * t) > 0.6)
    signals = [
        0.3 * np.sin(2 * np.pi * 440 * t),
        0.3 * np.sin(2 * np.pi * (100 + 400 * t) * t),
        0.1 * bursts,
        0.01 * np.sin(2 * np.pi * 50 * t),
    ]
    return (np.stack(signals) + floor).astype(np.float32)


def quantize(fp32: Path, int8: Path) -> None:
    """Dynamic int8 quantisation of the weights (ONNX Runtime's), for ``precision="int8"``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger().level
    logging.getLogger().setLevel(max(quiet, logging.WARNING))  # it logs every tensor it leaves alone at INFO
    try:
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    finally:
        logging.getLogger().setLevel(quiet)
