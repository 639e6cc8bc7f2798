"""The text channel's encoder: a sentence-transformers model in torch, and its export to ONNX."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class TextEncoder:
    """A sentence-transformers model. Build with :func:`audioret.models.load.load_text_encoder`."""

    def __init__(self, name: str, model):
        self.name = name
        self.model = model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """L2-normalised embeddings, float32, shape (len(texts), dim)."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, np.float32)


def torch_text_encoder(name: str = "sentence-transformers/all-MiniLM-L6-v2", device: str = "auto") -> TextEncoder:
    """A sentence-transformers model by hub id or local directory, in torch (see
    :func:`audioret.models.load.load_text_encoder`
    for the other backends)."""
    from sentence_transformers import SentenceTransformer

    from . import hub
    from .devices import resolve_device

    try:
        model = SentenceTransformer(name, device=str(resolve_device(device)), local_files_only=hub.local_only(name))
    except (OSError, ValueError, RuntimeError) as e:
        raise hub.not_found("text", name, "AUDIORET_TEXT_MODEL", e) from e
    model.eval()
    return TextEncoder(name, model)


def export(encoder: TextEncoder, folder) -> dict:
    """Writes the model as one ONNX graph (transformer and mean pooling; normalised after) and its tokenizer into
    ``folder``; returns the manifest's ``files`` and ``settings``. Only the common layout is exported: a
    transformer, mean pooling and optionally normalisation. Any other (CLS pooling, dense layers) raises
    ModelLoadError, and the model runs in torch."""
    import torch

    from ..errors import ModelLoadError
    from .exported import export_text_graph

    modules = list(encoder.model)
    kinds = [type(m).__name__ for m in modules]
    pooling = modules[1].get_config_dict() if kinds[1:2] == ["Pooling"] else {}
    modes = {pooling.get("pooling_mode")} | {
        k[len("pooling_mode_") :] for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True
    }
    if (
        kinds[:2] != ["Transformer", "Pooling"]
        or modes - {None} not in ({"mean"}, {"mean_tokens"})
        or any(k != "Normalize" for k in kinds[2:])
    ):
        raise ModelLoadError(
            f"The text model {encoder.name!r} is not a transformer with mean pooling ({' + '.join(kinds)}); "
            f"it runs in torch"
        )
    transformer = modules[0].auto_model.float().cpu().eval()

    class Mean(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    tokens = encoder.model.tokenizer(["a dog barking", "rain"], padding=True, return_tensors="pt")
    export_text_graph(Mean(), tokens, folder / "text.onnx")
    transformer.to(encoder.model.device)
    encoder.model.tokenizer.save_pretrained(folder / "tokenizer")
    return {
        "files": {"text": "text.onnx"},
        "settings": {"dim": encoder.dim, "max_tokens": int(encoder.model.max_seq_length)},
    }
