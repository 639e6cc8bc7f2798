"""Choosing the torch device and dtype, and the indexing settings for it, in one place. torch is imported only when
a device is resolved."""

from __future__ import annotations

import os

from ..config import Config, auto_settings
from ..errors import InputError


def resolve_device(device: str | None = "auto"):
    """``"auto"`` → cuda if available, then mps, then cpu; anything else is passed to :class:`torch.device`."""
    import torch

    if device in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as e:
        raise InputError(f"Invalid device {device!r}; expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from e
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"Device {device!r} was asked for, but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    return resolved


def default_dtype(device):
    """fp16 on CUDA, where it is fast and accurate enough for embeddings; fp32 everywhere else."""
    import torch

    return torch.float16 if device.type == "cuda" else torch.float32


def device_name(device: str) -> str:
    """What the page shows: ``CPU``, ``MPS`` or ``GPU (<name>)``."""
    resolved = resolve_device(device)
    if resolved.type == "cuda":
        import torch

        return f"GPU ({torch.cuda.get_device_name(resolved)})"
    return resolved.type.upper()


def settings_for(cfg: Config) -> dict[str, int]:
    """``cfg``'s batch size and decode threads, "auto" resolved for the device CLAP runs on: a CUDA GPU when
    torch runs it there, else the CPU (an export backend always runs on the CPU)."""
    from .backends import has_gpu, resolve

    chosen = {k: getattr(cfg, k) for k in ("batch_size", "decode_workers")}
    if "auto" not in chosen.values():
        return chosen
    on_torch = resolve(cfg.backend, cfg.device) == "torch"
    gpu = on_torch and (cfg.device.startswith("cuda") or (cfg.device == "auto" and has_gpu()))
    auto = auto_settings(gpu, os.cpu_count() or 1)
    return {k: auto[k] if v == "auto" else v for k, v in chosen.items()}
