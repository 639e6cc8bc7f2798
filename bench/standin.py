"""A stand-in for a trained CLAP, for benchmarks only: it knows each file's class and embeds with realistic spread.

No CLAP weights can be downloaded where these benchmarks run, and a random CLAP knows nothing, so a claim about
fusing an *informative* sound channel needs a stand-in. This one plugs into the real indexer and search in place
of :class:`audioret.models.clap.ClapEmbedder` (same attributes and methods):

- every audio class has a centroid; all centroids share a common "audio" direction (unrelated sounds still score
  about 0.5 against each other, as CLAP's do);
- a file's vector is its class centroid, plus a random mix of the other classes' centroids (so a file sometimes
  sounds more like another class, as a rain clip can sound like a fire), plus per-file and per-window noise;
- a text query of a class is that centroid (with a smaller mix of others) pulled towards a shared "text"
  direction plus noise (CLAP's modality gap): matching text-audio cosines come out near 0.3, unrelated ones
  near 0.15;
- a query about what someone says (class ``"speech content"``) leans weakly towards the "speech" class: a real CLAP
  hears that a memo is speech, not which words are said; any other query (a class the library lacks, or an
  everyday prompt) gets a centroid of its own.

With the defaults, zero-shot classification of 10 classes (argmax over the class prompts) is about 0.85 and a
class query's top file is of its class about 9 times in 10, near what laion/clap-htsat-unfused reaches on ESC-50. The
window is told apart by a hash of its samples, which the benchmark
maps to the file's class beforehand (:func:`window_key`). What it stands in for, and what it cannot show (how
CLAP ranks *within* a class), is written in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import hashlib

import numpy as np

DIM = 512
WINDOW = 480_000  # 10 s at 48 kHz, as CLAP


def window_key(samples: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(samples, np.float32).tobytes(), digest_size=12).hexdigest()


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


class StandInClap:
    """Args:
    window_class: window key -> class name (from the benchmark's own decoding of each file).
    query_class: query text -> class name; other queries are about speech content or absent classes.
    """

    name = "stand-in-clap"
    sample_rate = 48_000
    window = WINDOW
    window_s = 10.0
    dim = DIM

    def __init__(
        self,
        window_class: dict[str, str],
        query_class: dict[str, str],
        seed: int = 0,
        audio_common: float = 1.0,
        file_noise: float = 0.6,
        window_noise: float = 0.2,
        mix: float = 0.3,
        text_mix: float = 0.15,
        text_gap: float = 1.6,
        text_noise: float = 0.9,
    ):
        self.window_class, self.query_class = window_class, query_class
        self.classes = sorted(
            ({c for k, c in window_class.items() if not k.startswith("file:")} | set(query_class.values()))
            - {"speech content"}
        )
        self.mix, self.text_mix = mix, text_mix
        params = (seed, audio_common, file_noise, window_noise, mix, text_mix, text_gap, text_noise, self.classes)
        self.name = f"stand-in-clap-{hashlib.md5(repr(params).encode()).hexdigest()[:8]}"  # its own collection
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.audio_dir = _unit(rng.standard_normal(DIM))
        self.text_dir = _unit(rng.standard_normal(DIM))
        self.audio_common, self.file_noise, self.window_noise = audio_common, file_noise, window_noise
        self.text_gap, self.text_noise = text_gap, text_noise
        self._centroids: dict[str, np.ndarray] = {}

    def centroid(self, label: str) -> np.ndarray:
        if label not in self._centroids:
            rng = np.random.default_rng([self.seed, int(hashlib.md5(label.encode()).hexdigest()[:8], 16)])
            self._centroids[label] = _unit(self.audio_common * self.audio_dir + _unit(rng.standard_normal(DIM)))
        return self._centroids[label]

    def _rng(self, key: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(hashlib.md5(key.encode()).hexdigest()[:12], 16)])

    def _noise(self, key: str) -> np.ndarray:
        return _unit(self._rng(key).standard_normal(DIM))

    def _mixed(self, key: str, weight: float) -> np.ndarray:
        """A random blend of every class centroid, the same for the same key."""
        if not self.classes:
            return np.zeros(DIM)
        centroids = np.array([self.centroid(c) for c in self.classes])
        return (
            weight * 3.0 * (self._rng("m" + key).standard_normal(len(centroids)) @ centroids) / np.sqrt(len(centroids))
        )

    def embed_audio(self, windows, pad_to: int | None = None) -> np.ndarray:
        out = []
        for samples in np.asarray(windows, np.float32):
            key = window_key(samples)
            label = self.window_class.get(key, f"unknown:{key}")
            file_key = self.window_class.get(f"file:{key}", key)  # windows of one file share its file noise
            v = (
                self.centroid(label)
                + self._mixed(file_key, self.mix)
                + self.file_noise * self._noise("f" + file_key)
                + self.window_noise * self._noise(key)
            )
            out.append(_unit(v))
        return np.asarray(out, np.float32)

    def embed_text(self, texts) -> np.ndarray:
        out = []
        for text in texts:
            label = self.query_class.get(text, f"query:{text}")
            if label == "speech content":  # CLAP hears that someone speaks, not what is said
                base = 0.35 * self.centroid("speech") + self.centroid(f"query:{text}")
            else:
                base = self.centroid(label) + self._mixed(text, self.text_mix)
            v = _unit(base) + self.text_gap * self.text_dir + self.text_noise * self._noise("q" + text)
            out.append(_unit(v))
        return np.asarray(out, np.float32)
