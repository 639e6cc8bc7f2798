"""CLAP embeddings of 10-s audio windows and of text, through Hugging Face ``transformers``.

The checkpoint's own preprocessor config decides the sample rate, window length, STFT and mel filterbank (the
``ClapFeatureExtractor`` class defaults do not match laion/clap-htsat-unfused). The log-mel features are computed
here in batched torch on the model's device, matching ``ClapFeatureExtractor`` for exact-length windows (see
tests/test_clap.py), several times faster than the numpy extractor (docs/BENCHMARKS.md, "Figures behind the
code"). Inputs never reach the extractor's random crop, because :func:`audioret.audio.windows` cuts exact windows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..config import KNOWN_CLAP_MODELS
from ..errors import ModelLoadError
from . import hub
from .backends import OPSET
from .checks import check_text_tower
from .devices import default_dtype, resolve_device
from .exported import export_text_graph

__all__ = ["ClapEmbedder", "ModelLoadError", "export"]

logger = logging.getLogger("audioret")

KNOWN_MODELS = KNOWN_CLAP_MODELS


class ClapEmbedder:
    """Embeds audio windows and text queries into CLAP's joint space (L2-normalised float32 vectors).

    Args:
        model: a hub id (e.g. ``"laion/clap-htsat-unfused"``) or a local directory holding a saved ``ClapModel``
            and ``ClapProcessor``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        dtype: a ``torch.dtype``; defaults to fp16 on CUDA and fp32 elsewhere.
    """

    def __init__(self, model: str, device: str = "auto", dtype: torch.dtype | None = None):
        from transformers import ClapModel, ClapProcessor

        self.name = model
        self.device = resolve_device(device)
        self.dtype = dtype or default_dtype(self.device)
        local = hub.local_only(model)
        try:
            _quiet_transformers()
            self.processor = ClapProcessor.from_pretrained(model, local_files_only=local)
            self.model = ClapModel.from_pretrained(model, dtype=self.dtype, local_files_only=local)
        except (OSError, ValueError) as e:
            raise _load_error(model, e) from e
        self.model.to(self.device).eval()

        fe = self.processor.feature_extractor
        self.sample_rate: int = fe.sampling_rate
        self.window: int = fe.nb_max_samples  # samples per embedded window (480,000 = 10 s at 48 kHz)
        self.fusion = fe.truncation == "fusion"
        filters = fe.mel_filters if self.fusion else fe.mel_filters_slaney  # shape = (n_freqs, n_mels)
        self._mel_filters = torch.tensor(np.asarray(filters), dtype=torch.float32, device=self.device)
        self._n_fft = fe.fft_window_size
        self._hop = fe.hop_length
        self._stft_window = torch.hann_window(self._n_fft, periodic=True, device=self.device)
        self.dim: int = self.model.config.projection_dim
        self._check_text_tower()

    def _check_text_tower(self):
        check_text_tower(self.name, self.embed_text)

    @property
    def window_s(self) -> float:
        return self.window / self.sample_rate

    def features(self, windows: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Log-mel features of exact-length windows, as ``ClapFeatureExtractor`` computes them.

        Args:
            windows: float32 at ``self.sample_rate``, shape (batch, self.window).

        Returns:
            torch.Tensor, float32, shape (batch, 1 or 4, n_frames, n_mels), on the model's device.
        """
        x = torch.as_tensor(windows, dtype=torch.float32)
        pinned = self.device.type == "cuda" and x.device.type == "cpu" and x.is_pinned()
        x = x.to(self.device, non_blocking=pinned)  # ordered before the STFT on the same stream
        if x.ndim != 2 or x.shape[1] != self.window:
            raise ValueError(f"Expected windows of shape (batch, {self.window}), got {tuple(x.shape)}")
        spec = torch.stft(
            x, self._n_fft, self._hop, window=self._stft_window, center=True, pad_mode="reflect", return_complex=True
        )
        power = spec.real.square() + spec.imag.square()  # (batch, n_freqs, n_frames)
        mel = torch.einsum("fm,bft->btm", self._mel_filters, power)
        log_mel = 10.0 * torch.log10(mel.clamp(min=1e-10))  # transformers' power_to_db with reference 1.0
        log_mel = log_mel[:, None]
        return log_mel.expand(-1, 4, -1, -1) if self.fusion else log_mel

    def batch_buffer(self, rows: int) -> np.ndarray:
        """An empty float32 array of ``rows`` windows to fill and hand to :meth:`embed_audio`, again and again.

        On CUDA it lies in pinned (page-locked) host memory, so the copy to the GPU runs at the bus's speed, with
        no staging copy; elsewhere it is a plain array. Reusing one also spares each batch a fresh allocation
        (245 MB at batch 128) and its page faults. The array keeps its memory alive.
        """
        pin = self.device.type == "cuda"
        return torch.empty((rows, self.window), dtype=torch.float32, pin_memory=pin).numpy()

    @torch.inference_mode()
    def embed_audio(self, windows: np.ndarray | torch.Tensor, pad_to: int | None = None) -> np.ndarray:
        """Embeddings of exact-length windows: shape = (batch, self.dim), float32, unit length.

        With ``pad_to``, the batch is zero-padded to that many rows (``len(windows)`` must not exceed it). A
        batched CPU matmul is not row-independent at the last bit when the batch size changes (sizes 1-3 vs 8
        differ by ~1e-7 here), so the indexer always runs the same batch size: a window then embeds to the same
        bits whatever other windows share its batch.
        """
        if len(windows) == 0:
            return np.zeros((0, self.dim), np.float32)
        n = len(windows)
        if pad_to is not None and n < pad_to:
            windows = np.concatenate([np.asarray(windows, np.float32), np.zeros((pad_to - n, self.window), np.float32)])
        feats = self.features(windows).to(self.dtype)
        is_longer = torch.zeros(len(feats), 1, dtype=torch.bool, device=self.device)  # windows are never longer
        out = self.model.get_audio_features(input_features=feats, is_longer=is_longer)
        return _normalise(out.pooler_output[:n])

    @torch.inference_mode()
    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of text queries: shape = (len(texts), self.dim), float32, unit length."""
        if isinstance(texts, str):
            raise TypeError("embed_text takes a list of strings; wrap a single query in a list")
        if len(texts) == 0:
            return np.zeros((0, self.dim), np.float32)
        tokens = self.processor.tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt")
        tokens = {k: v.to(self.device) for k, v in tokens.items()}
        out = self.model.get_text_features(**tokens)
        return _normalise(out.pooler_output)


def export(embedder: ClapEmbedder, folder: Path) -> dict:
    """Writes both towers as ONNX graphs (fp32, on the CPU), the mel filterbank and the tokenizer into ``folder``;
    returns the manifest's ``files`` and ``settings``. The graphs take log-mel features and token ids, and return
    the projected embeddings (``pooler_output``) before normalisation."""
    model = embedder.model.float().cpu()
    fusion = embedder.fusion

    class Audio(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_features):
            x = input_features.expand(-1, 4, -1, -1) if fusion else input_features
            is_longer = torch.zeros_like(x[:, :1, 0, 0], dtype=torch.bool)  # windows are never longer
            return self.model.get_audio_features(input_features=x, is_longer=is_longer).pooler_output

    class Text(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask).pooler_output

    features = embedder.features(np.zeros((2, embedder.window), np.float32))[:, :1].float().cpu()
    tokens = embedder.processor.tokenizer(["a dog barking", "rain"], padding=True, return_tensors="pt")
    batch = {0: "batch"}
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            Audio().eval(),
            (features,),
            folder / "audio.onnx",
            dynamo=False,
            opset_version=OPSET,
            input_names=["input_features"],
            output_names=["embedding"],
            dynamic_axes={"input_features": batch, "embedding": batch},
        )
    export_text_graph(Text(), tokens, folder / "text.onnx")
    model.to(embedder.device).to(embedder.dtype)
    np.save(folder / "mel_filters.npy", embedder._mel_filters.cpu().numpy())
    tokenizer = embedder.processor.tokenizer
    tokenizer.save_pretrained(folder / "clap-tokenizer")
    max_positions = model.config.text_config.max_position_embeddings - 2  # roberta's positions start after padding
    return {
        "files": {"audio": "audio.onnx", "text": "text.onnx"},
        "settings": {
            "sample_rate": embedder.sample_rate,
            "window": embedder.window,
            "dim": embedder.dim,
            "n_fft": embedder._n_fft,
            "hop": embedder._hop,
            "max_tokens": int(min(tokenizer.model_max_length, max_positions)),
        },
    }


def _quiet_transformers():
    """No per-load weight progress bars from transformers; our own progress bar is the one users watch."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _normalise(x: torch.Tensor) -> np.ndarray:
    x = torch.nn.functional.normalize(x.float(), dim=-1)
    return x.cpu().numpy()


def _load_error(model: str, error: Exception) -> ModelLoadError:
    e = hub.not_found("CLAP", model, "AUDIORET_CLAP_MODEL (or --clap-model)", error)
    if os.path.isdir(model):  # a directory that does not hold what from_pretrained needs
        hint = (
            "It should hold a ClapModel and its processor, as ClapModel.save_pretrained() and "
            "ClapProcessor.save_pretrained() write them."
        )
        return ModelLoadError(f"{e} {hint}", f"{e.short} {hint}", e.details)
    if not os.path.exists(model) and model not in KNOWN_MODELS:
        hint = f"Known CLAP checkpoints: {', '.join(KNOWN_MODELS)}."
        return ModelLoadError(f"{e} {hint}", f"{e.short} {hint}", e.details)
    return e
