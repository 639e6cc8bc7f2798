"""Choosing the torch device and dtype, in one place."""

from __future__ import annotations

import logging

import torch

logger = logging.getLogger("audioret")


def resolve_device(device: str | None = "auto") -> torch.device:
    """``"auto"`` → cuda if available, then mps, then cpu; anything else is passed to :class:`torch.device`."""
    if device in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"Invalid device {device!r}; expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from e
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Device {device!r} was asked for, but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    return resolved


def default_dtype(device: torch.device) -> torch.dtype:
    """fp16 on CUDA, where it is fast and accurate enough for embeddings; fp32 everywhere else."""
    return torch.float16 if device.type == "cuda" else torch.float32
