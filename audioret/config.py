"""Settings: one frozen dataclass, filled from defaults, then environment variables, then explicit overrides.

Every field has an environment variable (``AUDIORET_<FIELD>``) and a CLI flag of the same name, so a deployment
can be configured without code. Model fields take a Hugging Face hub id or a local directory.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

KNOWN_CLAP_MODELS = ("laion/clap-htsat-unfused", "laion/larger_clap_general", "laion/larger_clap_music_and_speech")
DEFAULT_CLAP_MODEL = KNOWN_CLAP_MODELS[0]
DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_ASR_MODEL = "base"
ASR_ENGINES = ("faster-whisper", "openai-whisper")
BACKENDS = ("auto", "torch", "onnxruntime", "openvino")  # how the models run: "auto" picks (models/backends.py)
PRECISIONS = ("fp32", "int8")

# Seconds between the starts of consecutive 10-s windows. At 7.5 s every sound event up to 2.5 s long lies wholly
# inside some window (at 10 s, 20 % of 2-s events are cut in two) for 1.24x the windows of a 10-s hop; 5 s would
# cost 1.73x. Clips up to 10 s are one window whatever the hop. See docs/BENCHMARKS.md ("Window hop").
DEFAULT_HOP_S = 7.5


# Indexing settings by device, measured: on a CPU batch 4 and 2 decode threads (docs/BENCHMARKS.md, "Indexing
# throughput" and "Memory": the audio tower's buffers grow with the batch, a window's vector is the same bits at batch
# 4 as at 8, and the rate holds); on a CUDA GPU the model's ceiling rises from 418 windows/s at batch 8 to 1,969 at
# 128, and decoding scales with threads to 10.6x at 16 (the GPU issue's figures on an H200 with 16 cores).
CPU_SETTINGS = {"batch_size": 4, "decode_workers": 2}
GPU_BATCH_SIZE = 128
GPU_MAX_WORKERS = 16


def auto_settings(gpu: bool, cores: int) -> dict[str, int]:
    """The batch size and decode threads that "auto" stands for on a device (pure)."""
    if not gpu:
        return {
            "batch_size": CPU_SETTINGS["batch_size"],
            "decode_workers": min(CPU_SETTINGS["decode_workers"], max(cores, 1)),
        }
    return {"batch_size": GPU_BATCH_SIZE, "decode_workers": max(1, min(cores - 1, GPU_MAX_WORKERS))}


def default_data_dir() -> Path:
    """Where the index lives when ``AUDIORET_DATA_DIR`` is not set: ``$XDG_DATA_HOME/audioret``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "audioret"


@dataclass(frozen=True)
class Config:
    data_dir: Path = field(default_factory=default_data_dir)  # the embedded index (ChromaDB) and reports
    clap_model: str = DEFAULT_CLAP_MODEL  # hub id or local directory of a CLAP checkpoint
    text_model: str = DEFAULT_TEXT_MODEL  # sentence-transformers model for the text channel
    asr_model: str = DEFAULT_ASR_MODEL  # Whisper model size, hub id or local directory
    asr_engine: str = "faster-whisper"  # or "openai-whisper"
    transcribe: bool = True  # transcribe speech in the library at index time (only where the VAD hears speech)
    clap_weight: float = 1.0  # weight of the CLAP (how it sounds) channel in fusion; 0 turns it off
    text_weight: float = 1.0  # weight of the text (what is said, names, tags, descriptions) channel; 0 = off
    device: str = "auto"  # "auto" (cuda, then mps, then cpu), or a torch device string such as "cuda:1"
    backend: str = "auto"  # what runs CLAP and the text model: auto, torch, onnxruntime or openvino (backends.py)
    precision: str = "fp32"  # or "int8" (onnxruntime/openvino only; opt-in, approximate)
    chroma_url: str | None = None  # http://host:port of a `chroma run` server; None = embedded store in data_dir
    hop_s: float = DEFAULT_HOP_S  # seconds between window starts; windows are the model's input length (10 s)
    batch_size: int | str = "auto"  # windows per CLAP forward pass; "auto": by the device (auto_settings)
    decode_workers: int | str = "auto"  # threads decoding files ahead of the model; "auto": by the device
    tags: bool = True  # tag files at index time: sound labels, language, speech, loudness, tempo and key
    tags_file: str | None = None  # your own sound labels, one a line (default: AudioSet's; audioret/vocabulary.py)

    def __post_init__(self):
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser())
        for name in ("clap_model", "text_model", "asr_model", "tags_file"):  # "~/models/clap" from a quoted setting
            value = getattr(self, name)
            if isinstance(value, str) and value.startswith("~"):
                object.__setattr__(self, name, os.path.expanduser(value))
        if self.data_dir.exists() and not self.data_dir.is_dir():  # made the index's key file raise FileExistsError
            raise InputError(
                f"The data folder {self.data_dir} is a file: set --data-dir or AUDIORET_DATA_DIR to a folder"
            )
        if not self.hop_s > 0:
            raise InputError(f"hop_s must be positive, got {self.hop_s}")
        for name in ("batch_size", "decode_workers"):
            value = getattr(self, name)
            if value != "auto" and not (isinstance(value, int) and value >= 1):
                raise InputError(f"{name} must be 'auto' or a whole number of at least 1, got {value!r}")
        if self.asr_engine not in ASR_ENGINES:
            raise InputError(f"asr_engine must be one of {list(ASR_ENGINES)}, got {self.asr_engine!r}")
        if self.backend not in BACKENDS:
            raise InputError(f"backend must be one of {list(BACKENDS)}, got {self.backend!r}")
        if self.precision not in PRECISIONS:
            raise InputError(f"precision must be one of {list(PRECISIONS)}, got {self.precision!r}")
        if self.clap_weight < 0 or self.text_weight < 0:
            raise InputError(
                f"Channel weights must be at least 0, got clap {self.clap_weight}, text {self.text_weight}"
            )

    @property
    def store_path(self) -> Path:
        """Where the embedded index (ChromaDB) lives, when no server is set: ``DATA_DIR/chroma``."""
        return self.data_dir / "chroma"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Config:
        """Defaults, then ``AUDIORET_*`` environment variables, then ``overrides`` (None values are ignored)."""
        env = os.environ if env is None else env
        values = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"AUDIORET_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(name: str, raw: str, annotation: str):
    kind = annotation.split("|")[0].strip()
    if kind == "bool":
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise InputError(f"AUDIORET_{name.upper()} must be true or false (1/0, yes/no, on/off), got {raw!r}")
    if raw.strip().lower() == "auto" and "str" in annotation:
        return "auto"
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise InputError(f"AUDIORET_{name.upper()} must be a number, got {raw!r}") from None
    return raw
