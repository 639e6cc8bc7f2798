from __future__ import annotations

import numpy as np
import pytest
import torch

from audioret import audio
from audioret.errors import ModelLoadError
from audioret.models.clap import ClapEmbedder

from .conftest import make_tiny_clap, require_shared, tone


def _windows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (0.1 * rng.standard_normal((n, 480_000))).astype(np.float32)
    x[-1, 100_000:] = 0  # a repeat-padded short clip ends in zeros
    return x


def test_checkpoint_preprocessor_settings_are_used(tiny_embedder):
    fe = tiny_embedder.processor.feature_extractor
    assert (fe.sampling_rate, fe.nb_max_samples, fe.truncation, fe.padding) == (
        48000,
        480000,
        "rand_trunc",
        "repeatpad",
    )
    assert fe.frequency_min == 50 and fe.frequency_max == 14000  # not the class defaults (0 and 14000)
    assert tiny_embedder.window_s == 10.0


def test_features_match_clap_feature_extractor(tiny_embedder):
    x = _windows(3)
    reference = tiny_embedder.processor.feature_extractor(list(x), sampling_rate=48000, return_tensors="pt")
    ours = tiny_embedder.features(x).cpu()
    assert ours.shape == reference["input_features"].shape == (3, 1, 1001, 64)
    assert torch.allclose(ours, reference["input_features"], atol=1e-3)  # dB; range is about 100 dB
    assert not reference["is_longer"].any()


def test_features_match_extractor_for_fusion_checkpoints(tmp_path):
    embedder = ClapEmbedder(str(make_tiny_clap(tmp_path / "fusion", enable_fusion=True)), device="cpu")
    x = _windows(2, seed=1)
    reference = embedder.processor.feature_extractor(list(x), sampling_rate=48000, return_tensors="pt")
    ours = embedder.features(x).cpu()
    assert ours.shape == reference["input_features"].shape == (2, 4, 1001, 64)
    assert torch.allclose(ours, reference["input_features"], atol=1e-3)
    # the processor marks one random clip of a fusion batch as "longer"; ours never does, so it is deterministic
    assert reference["is_longer"].sum() == 1
    np.testing.assert_array_equal(embedder.embed_audio(x), embedder.embed_audio(x))


def test_embeddings_equal_the_transformers_pipeline(tiny_embedder):
    x = _windows(2)
    inputs = tiny_embedder.processor.feature_extractor(list(x), sampling_rate=48000, return_tensors="pt")
    with torch.inference_mode():
        reference = tiny_embedder.model.get_audio_features(**inputs).pooler_output
    ours = tiny_embedder.embed_audio(x)
    np.testing.assert_allclose(ours, torch.nn.functional.normalize(reference, dim=-1).numpy(), atol=1e-5)


def test_embeddings_are_bit_identical_across_calls_and_loads(tiny_clap_dir, tiny_embedder):
    x = _windows(3)
    first = tiny_embedder.embed_audio(x)
    again = ClapEmbedder(str(tiny_clap_dir), device="cpu").embed_audio(x)
    np.testing.assert_array_equal(first, again)
    # batch composition does not change a window's vector beyond float noise
    np.testing.assert_allclose(tiny_embedder.embed_audio(x[:1])[0], first[0], atol=1e-5)
    assert first.shape == (3, 64) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-6)


def test_real_file_embeds_the_same_every_run(tiny_embedder):
    path = require_shared("librosa-data") / "Kevin_MacLeod_-_Vibe_Ace.ogg"  # 1 min: many full windows

    def embed():
        _, blocks = audio.stream(path)
        wins = list(audio.windows(blocks, tiny_embedder.window, tiny_embedder.window))
        return tiny_embedder.embed_audio(np.stack([w.samples for w in wins]))

    a, b = embed(), embed()
    assert len(a) >= 6
    np.testing.assert_array_equal(a, b)


def test_text_embeddings(tiny_embedder):
    v = tiny_embedder.embed_text(["rain on a tin roof", "a dog barking", "rain on a tin roof"])
    assert v.shape == (3, 64)
    np.testing.assert_array_equal(v[0], v[2])
    assert not np.allclose(v[0], v[1])
    with pytest.raises(TypeError, match="list of strings"):
        tiny_embedder.embed_text("rain")


def test_wrong_window_shape_is_refused(tiny_embedder):
    with pytest.raises(ValueError, match=r"Expected windows of shape \(batch, 480000\)"):
        tiny_embedder.features(tone(3.0)[None])


@pytest.mark.slow
def test_real_architecture_loads_and_embeds(tmp_path):
    """laion/clap-htsat-unfused's architecture (ClapConfig defaults, random weights), loaded as a checkpoint."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor

    from .conftest import make_tiny_clap, spread_weights

    tokenizer = ClapProcessor.from_pretrained(make_tiny_clap(tmp_path / "tok")).tokenizer
    torch.manual_seed(0)
    model = ClapModel(ClapConfig(text_config={"vocab_size": max(len(tokenizer), 50265)}))
    spread_weights(model)  # random, but not collapsed (audioret refuses a collapsed text tower)
    assert sum(p.numel() for p in model.parameters()) > 150e6
    fe = ClapFeatureExtractor(truncation="rand_trunc", padding="repeatpad", frequency_min=50, frequency_max=14000)
    model.save_pretrained(tmp_path / "full")
    ClapProcessor(feature_extractor=fe, tokenizer=tokenizer).save_pretrained(tmp_path / "full")
    del model

    embedder = ClapEmbedder(str(tmp_path / "full"), device="cpu")
    vectors = embedder.embed_audio(_windows(2))
    assert vectors.shape == (2, 512) and embedder.dim == 512
    assert embedder.embed_text(["a dog barking"]).shape == (1, 512)


def test_unloadable_model_says_what_was_tried_and_how_to_fix(tmp_path):
    with pytest.raises(ModelLoadError) as e:
        ClapEmbedder("laion/clap-htsat-unfused-typo", device="cpu")
    message = str(e.value)
    assert "laion/clap-htsat-unfused-typo" in message and "AUDIORET_CLAP_MODEL" in message
    assert "\n" not in message

    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="save_pretrained"):
        ClapEmbedder(str(tmp_path / "empty"), device="cpu")


def test_fixed_batch_size_makes_vectors_independent_of_batch_companions(tiny_embedder):
    """What the indexer relies on for bit-identical vectors whatever order files are decoded in."""
    x = _windows(8, seed=3)
    alone = tiny_embedder.embed_audio(x[:1], pad_to=8)[0]
    for position in range(8):
        batch = np.roll(x, position, axis=0)  # x[0] at `position`, among the others
        np.testing.assert_array_equal(tiny_embedder.embed_audio(batch, pad_to=8)[position], alone)
    np.testing.assert_array_equal(tiny_embedder.embed_audio(x[:3], pad_to=8)[0], alone)


def test_a_collapsed_text_tower_is_refused_with_the_setting_to_change(tmp_path):
    """A checkpoint that embeds every text alike would return one list for every query: refused at load."""
    from audioret.models.checks import COLLAPSED_COSINE, SANITY_PROMPTS, mean_cosine

    collapsed = make_tiny_clap(tmp_path / "collapsed", spread=False)  # transformers' random init: all texts alike
    with pytest.raises(ModelLoadError, match="nearly the same text embedding for every query") as e:
        ClapEmbedder(str(collapsed), device="cpu")
    assert "AUDIORET_CLAP_MODEL" in str(e.value) and "jazz standard" in str(e.value)
    assert mean_cosine(
        tiny := ClapEmbedder(str(make_tiny_clap(tmp_path / "ok")), device="cpu").embed_text(list(SANITY_PROMPTS))
    ) < COLLAPSED_COSINE and tiny.shape == (len(SANITY_PROMPTS), 64)
    assert mean_cosine(np.eye(3, dtype=np.float32)) == 0.0 and mean_cosine(np.ones((2, 4), np.float32) / 2) == 1.0
