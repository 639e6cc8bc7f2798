"""CLAP and sentence-transformers models as exported graphs, run by ONNX Runtime or OpenVINO."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import backends
from .backends import OPSET, Session, Tokens, unit


def export_text_graph(module, tokens: dict, path: Path) -> None:
    """Writes a text tower as an ONNX graph: ``(input_ids, attention_mask) -> embedding``, with the batch and the
    token count dynamic (CLAP's text tower and a sentence-transformers model alike).

    Args:
        module: a ``torch.nn.Module`` whose ``forward(input_ids, attention_mask)`` returns the embeddings.
        tokens: a tokenizer's output for a sample batch (``input_ids`` and ``attention_mask`` tensors).
        path: the ``.onnx`` file to write.
    """
    import torch

    dynamic = {0: "batch", 1: "tokens"}
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            module.eval(),
            (tokens["input_ids"], tokens["attention_mask"]),
            path,
            dynamo=False,
            opset_version=OPSET,
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "embedding": {0: "batch"}},
        )


class ExportedClap:
    """CLAP's audio and text towers as exported graphs: the interface of :class:`audioret.models.clap.ClapEmbedder`."""

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
        self._text = Session(folder / manifest["files"]["text"], backends.runtime(backend, "text", precision))
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
        """As :meth:`audioret.models.clap.ClapEmbedder.embed_audio`: padded to ``pad_to`` rows, so that a window embeds
        to the same bits whatever shares its batch."""
        if len(windows) == 0:
            return np.zeros((0, self.dim), np.float32)
        n = len(windows)
        windows = np.asarray(windows, np.float32)
        if pad_to is not None and n < pad_to:
            windows = np.concatenate([windows, np.zeros((pad_to - n, self.window), np.float32)])
        return unit(self._audio.run(input_features=self.features(windows))[:n])

    def release_memory(self) -> None:
        """Unloads the audio tower until it embeds again (an index run is over): its compiled weights and its
        buffers for a batch, the most of an index run's memory (docs/BENCHMARKS.md, "Memory")."""
        self._audio.close()

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed_text takes a list of strings; wrap a single query in a list")
        if len(texts) == 0:
            return np.zeros((0, self.dim), np.float32)
        return unit(self._text.run(**self._tokens(texts)))


class ExportedTextEncoder:
    """A sentence-transformers model (transformer, mean pooling, normalisation) as an exported graph: the
    interface of :class:`audioret.models.text_encoder.TextEncoder`."""

    def __init__(self, name: str, folder: Path, backend: str, precision: str):
        self.name, self.backend, self.precision, self.folder = name, backend, precision, folder
        manifest = backends.read_manifest(folder) or {}
        self.dim: int = manifest["settings"]["dim"]
        self._session = Session(folder / manifest["files"]["text"], backends.runtime(backend, "text", precision))
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
