"""The channels a library indexes and searches, built once per library: the one place a channel is added.

:data:`CHANNELS` lists a factory for each channel: a function of the :class:`~audioret.library.Library` that
builds the channel, wired to the library's settings and to its models and stores (loaded on first use, so that
``stats()`` and ``remove()`` load no model). A library builds its :class:`Channels` from them once. Their order
matters where evidence ties: the earlier channel carries the hit.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping

from ..errors import InputError, ModelLoadError
from .base import Channel


def sound(library) -> Channel:
    """CLAP windows: how it sounds."""
    from ..models.checks import remembered
    from ..ranking.null import REFERENCE_PROMPTS
    from .sound import SoundChannel

    cfg = library.config
    reference = lambda: remembered(library.embedder, REFERENCE_PROMPTS, library.embedder.embed_text)  # noqa: E731
    return SoundChannel(
        lambda: library.embedder,
        lambda: library.store,
        cfg.hop_s,
        library.settings["batch_size"],
        reference,
        lambda: _provenance(library, "embedder", "clap", cfg.clap_model),
        cfg.clap_weight,
        cfg.clap_model,
        measure=cfg.tags,
    )


def text(library) -> Channel:
    """Passages: what is said in a file, and written about it."""
    from ..models.checks import remembered
    from ..ranking.null import REFERENCE_PROMPTS, UNRELATED_PROMPTS
    from .text import TextChannel

    cfg = library.config
    transcriber = (lambda: library.transcriber) if cfg.transcribe else None
    reference = lambda: remembered(library.text_encoder, REFERENCE_PROMPTS, library.text_encoder.encode)  # noqa: E731
    unrelated = lambda: remembered(library.text_encoder, UNRELATED_PROMPTS, library.text_encoder.encode)  # noqa: E731
    return TextChannel(
        lambda: library.text_encoder,
        lambda: library.text_store,
        transcriber,
        reference,
        lambda: _provenance(library, "text_encoder", "text", cfg.text_model),
        cfg.text_weight,
        cfg.text_model,
        f"{cfg.asr_model} ({cfg.asr_engine})",
        unrelated,
    )


def sound_store(library):
    """The sound channel's store (its collections are named as before there were other channels)."""
    from ..store.chroma import Store

    cfg = library.config
    dim = library.embedder.dim if "embedder" in library.__dict__ else None  # checked on the first write
    return Store(cfg.clap_model, dim, path=cfg.store_path, url=cfg.chroma_url, key=library.id_key)


def text_store(library):
    """The text channel's store, with a word index of its passages."""
    from ..store.chroma import Store

    cfg = library.config
    return Store(
        cfg.text_model,
        None,
        path=cfg.store_path,
        url=cfg.chroma_url,
        channel="text",
        words=True,
        key=library.id_key,
    )


# Every channel, in order. To add one, write its factory (a function of the library returning a Channel) and add
# it here; the library indexes it, searches it with its weight and counts it in its stats.
CHANNELS: tuple[Callable[[object], Channel], ...] = (sound, text)


def _provenance(library, attribute: str, kind: str, name: str) -> dict:
    """What the library's model records with its vectors (:func:`audioret.models.load.provenance`); empty for a
    model assigned by hand, whose settings are its own."""
    from ..models.load import provenance

    cfg, model = library.config, library.__dict__.get(attribute)
    if model is not None and not hasattr(model, "backend"):
        return {}
    return provenance(kind, name, cfg.device, cfg.backend, cfg.precision)


class Channels:
    """A library's channels, in order, and which of them are off because their model could not be loaded."""

    def __init__(self, channels: Iterable[Channel]):
        self.all = list(channels)
        names = [c.name for c in self.all]
        if len(set(names)) != len(names) or not all(names):
            raise InputError(f"Expected channels with distinct, non-empty names, got {names}")
        self.errors: dict[str, str] = {}  # channel -> why its model could not be loaded
        self.failures: dict[str, ModelLoadError] = {}  # channel -> the error itself (its short form and details)

    @classmethod
    def build(cls, library, factories: Iterable[Callable] = CHANNELS) -> Channels:
        return cls(factory(library) for factory in factories)

    def __iter__(self) -> Iterator[Channel]:
        return iter(self.all)

    def __len__(self) -> int:
        return len(self.all)

    def __getitem__(self, name: str) -> Channel:
        for channel in self.all:
            if channel.name == name:
                return channel
        raise InputError(f"No channel {name!r}; expected one of {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.all]

    def weights(self, given: Mapping[str, float] | None = None) -> dict[str, float]:
        """Each channel's weight when a search gives none, and ``given``'s for the channels it names (a page's
        sliders: a channel without one, or a slider left out, searches at its own weight)."""
        own = {c.name: c.weight for c in self.all}
        return {**own, **{name: float(w) for name, w in (given or {}).items() if name in own and w is not None}}

    def titles(self) -> dict[str, str]:
        """How a page names each channel, by its key: "the sound channel (CLAP)"."""
        return {c.name: c.title or f"the {c.name} channel" for c in self.all}

    def available(self, name: str) -> bool:
        """Whether the channel's model loads; the first failure is kept in ``errors`` and warned about."""
        if name in self.errors:
            return False
        try:
            self[name].model
        except ModelLoadError as e:
            self.errors[name] = str(e)
            self.failures[name] = e
            warnings.warn(f"The {name} channel is off: {e.short}", stacklevel=3)  # the library's words: e.details
            return False
        return True

    def answering(self) -> list[Channel]:
        """The channels that can answer a query now: a primary one whose model loads, another once its store holds
        records too (so that its model is not loaded for nothing)."""
        return [c for c in self.all if (c.primary or c.holds_records()) and self.available(c.name)]

    def hearing(self) -> Channel:
        """The channel that answers an example recording and "more like this"."""
        for channel in self.all:
            if channel.hears:
                return channel
        raise InputError("No channel answers an example recording")

    def skipped(self, skipped: Mapping[str, str]) -> None:
        """Keeps why an indexing run turned channels off (``IndexReport.skipped_channels``)."""
        for name in self.names:
            if name in skipped:
                self.errors.setdefault(name, skipped[name])
