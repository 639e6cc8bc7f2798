"""The rules tried against the shipped one (bench/fusion_rules.py re-scores them from the cache)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audioret.ranking import calibration as cal  # noqa: E402
from audioret.ranking.calibration import MATCH_EVIDENCE, Background  # noqa: E402
from audioret.ranking.null import fit_tops  # noqa: E402
from bench.fusion_rules import Previous, Shipped  # noqa: E402


def prompt_tops(bg: Background, prompts: np.ndarray) -> np.ndarray:
    """Each prompt's best sample record, standardised as Background.tops are (the reference's bias and scale)."""
    centred = (prompts @ bg.sample.T - bg.sample_bias).astype(np.float64)
    return (centred.max(axis=1) - np.median(centred, axis=1)) / bg.scale


def say(e):
    e = np.asarray(e, np.float64)
    return np.where(e > 1, e - 1 - np.log(np.maximum(e, 1e-12)), 0.0)


class Variant(Previous):
    """The null's tops from ``source`` ("reference", "decoys", "both"), a Gumbel law through ``quantiles``;
    ``transform`` "say" counts each channel by its say; ``line`` the match line (nats)."""

    def __init__(
        self, data, source="reference", quantiles=(0.10, 0.25), transform=None, line=MATCH_EVIDENCE, per_channel=None
    ):
        super().__init__(data)
        self.source, self.quantiles, self.transform, self.line = source, quantiles, transform, line
        self.per_channel = per_channel or {}  # key -> (source, quantiles)
        self.name = f"{source} q{quantiles} {transform or ''} line {line} {per_channel or ''}"

    def background(self, key):
        if key not in self.backgrounds:
            c = self.data.channels[key]
            bg = Background.of(c.sample, c.count, c.reference, debias=key != "text")
            channel = "text" if key == "text" else "sound"
            source, quantiles = self.per_channel.get(channel, (self.source, self.quantiles))
            decoys = c.decoys
            tops = {
                "reference": bg.tops,
                "decoys": prompt_tops(bg, decoys),
                "both": np.concatenate([bg.tops, prompt_tops(bg, decoys)]),
            }[source]
            loc, scale = fit_tops(tops, quantiles)
            law = (loc + cal.gumbel_max(bg.n)[0] - cal.gumbel_max(len(bg.sample))[0], scale)
            bg.__dict__["_law"] = law
            self.backgrounds[key] = bg
        return self.backgrounds[key]

    def fused(self, found):
        if self.transform == "say":
            return sum(say(e) for e, _ in found.values())
        return super().fused(found)

    def no_good_match(self, found, total, top):
        return total[top] < self.line


def isotropic(reference: np.ndarray, n: int = 256, seed: int = 0) -> np.ndarray:
    """Vectors that point nowhere in particular: the reference prompts' mean plus a random direction as long as
    their typical deviation from it."""
    rng = np.random.default_rng(seed)
    mean = reference.mean(axis=0)
    rms = np.sqrt(((reference - mean) ** 2).sum(axis=1).mean())
    g = rng.standard_normal((n, reference.shape[1]))
    v = mean + rms * g / np.linalg.norm(g, axis=1, keepdims=True)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


class Iso(Previous):
    """Ranking evidence against the tops of isotropic decoys (``rank_q``); "no good match" from the top file's
    evidence against the reference prompts' tops (``flag_q``), per channel, combined by ``flag``."""

    def __init__(
        self,
        data,
        rank_q=(0.5, 0.75),
        flag_q=(0.5, 0.75),
        flag="sum",
        line=MATCH_EVIDENCE,
        n=256,
        transform=None,
        sources=("iso", "reference"),
    ):
        super().__init__(data)
        self.rank_q, self.flag_q, self.flag, self.line, self.n = rank_q, flag_q, flag, line, n
        self.transform = transform
        self.sources = sources
        self.name = f"iso rank{rank_q} flag{flag_q} {flag} line {line} {transform or ''} {sources}"
        self.laws = {}

    def law(self, key, which):
        if (key, which) not in self.laws:
            bg = Background.of(
                self.data.channels[key].sample,
                self.data.channels[key].count,
                self.data.channels[key].reference,
                debias=key != "text",
            )
            src = self.sources[0] if which == "rank" else self.sources[1]
            c = self.data.channels[key]
            tops = {
                "iso": lambda: prompt_tops(bg, isotropic(c.reference, self.n)),
                "reference": lambda: bg.tops,
                "decoys": lambda: prompt_tops(bg, c.decoys),
            }[src]()
            loc, scale = fit_tops(tops, self.rank_q if which == "rank" else self.flag_q)
            self.laws[key, which] = (loc + cal.gumbel_max(bg.n)[0] - cal.gumbel_max(len(bg.sample))[0], scale)
        return self.laws[key, which]

    def channel_evidence(self, key, q):
        c = self.data.channels[key]
        best, vec = c.best(q)
        ok = np.isfinite(best)
        e = {w: np.zeros(len(best)) for w in ("rank", "flag")}
        z = self.z(key, q, best[ok], vec[ok] if key != "text" else vec[:0])
        for w in e:
            e[w][ok] = cal.surprisal(z, *self.law(key, w))
        return e, best

    def evidence(self, library, q):
        (s, scos), (t, tcos) = self.channel_evidence(library, q), self.channel_evidence("text", q)
        lex = self.data.lexical[q]
        t = {w: np.maximum(v, lex) for w, v in t.items()}
        return {"clap": (s["rank"], scos), "text": (t["rank"], tcos), "_flag": (s["flag"], t["flag"])}

    def fused(self, found):
        f = [found["clap"][0], found["text"][0]]
        if self.transform == "say":
            f = [say(x) for x in f]
        return f[0] + f[1]

    def no_good_match(self, found, total, top):
        s, t = found["_flag"]
        if self.flag == "sum":
            v = s[top] + t[top]
        elif self.flag == "max":
            v = max(s[top], t[top])
        elif self.flag == "say":
            v = float(say(s[top]) + say(t[top]))
        return v < self.line


class Wider(Iso):
    """Ranking evidence: the smaller of the shipped law's (reference tops, ``ref_q``) and the isotropic decoys'
    (``rank_q``); "no good match" as :class:`Iso`."""

    def __init__(self, data, ref_q=(0.10, 0.25), **kw):
        super().__init__(data, **kw)
        self.ref_q = ref_q
        self.name = "wider " + self.name + f" ref{ref_q}"

    def channel_evidence(self, key, q):
        c = self.data.channels[key]
        best, vec = c.best(q)
        ok = np.isfinite(best)
        bg = self.background(key)
        if (key, "ref") not in self.laws:
            loc, scale = fit_tops(bg.tops, self.ref_q)
            self.laws[key, "ref"] = (loc + cal.gumbel_max(bg.n)[0] - cal.gumbel_max(len(bg.sample))[0], scale)
        e = {w: np.zeros(len(best)) for w in ("rank", "flag", "ref")}
        z = self.z(key, q, best[ok], vec[ok] if key != "text" else vec[:0])
        for w in e:
            e[w][ok] = cal.surprisal(z, *(self.law(key, w) if w != "ref" else self.laws[key, "ref"]))
        e["rank"] = np.minimum(e["rank"], e.pop("ref"))
        return e, best


class Combined(Wider):
    """:class:`Wider` with the say, and one number per file for ranking, strength and the line: the smaller of
    its fused say over ``l1`` and its evidence against unrelated prompts' tops over ``l2`` ("no good match" under 1);
    ``rank_by`` "say" ranks by the say alone (the line as before)."""

    def __init__(self, data, l1=1.0, l2=2.0, rank_by="combined", **kw):
        super().__init__(data, transform="say", **kw)
        self.l1, self.l2, self.rank_by = l1, l2, rank_by
        self.name = f"combined l1 {l1} l2 {l2} rank by {rank_by} {kw}"

    def fused(self, found):
        s = say(found["clap"][0]) + say(found["text"][0])
        if self.rank_by == "say":
            return s
        beyond = found["_flag"][0] + found["_flag"][1]
        return np.minimum(s / self.l1, beyond / self.l2)

    def no_good_match(self, found, total, top):
        s = say(found["clap"][0][top]) + say(found["text"][0][top])
        beyond = found["_flag"][0][top] + found["_flag"][1][top]
        return min(s / self.l1, beyond / self.l2) < 1


class CombinedK(Combined):
    """:class:`Combined` ranked by the say, "no good match" when none of the first ``k`` reaches the line."""

    def __init__(self, data, k=10, **kw):
        super().__init__(data, rank_by="say", **kw)
        self.k = k
        self.name = f"combined-k{k} l1 {self.l1} l2 {self.l2}"

    def no_good_match(self, found, total, top):
        from bench.fusion_rules import ranked

        order = ranked(total, np.maximum(found["clap"][1], found["text"][1]))[: self.k]
        s = say(found["clap"][0][order]) + say(found["text"][0][order])
        beyond = found["_flag"][0][order] + found["_flag"][1][order]
        return bool(np.all(np.minimum(s / self.l1, beyond / self.l2) < 1))


RULES = {
    "previous": Previous,
    "shipped": Shipped,
    "upper": lambda d: Variant(d, "reference", (0.5, 0.75)),
    "upper-say": lambda d: Variant(d, "reference", (0.5, 0.75), "say", line=0.75),
    "decoys": lambda d: Variant(d, "decoys", (0.1, 0.25)),
    "decoys-upper-say": lambda d: Variant(d, "decoys", (0.5, 0.75), "say", line=0.75),
    "nowhere": lambda d: Iso(d, rank_q=(0.5, 0.75)),
    "nowhere-say": lambda d: Iso(d, rank_q=(0.5, 0.75), transform="say"),
    "wider": lambda d: Wider(d, rank_q=(0.5, 0.75)),
    "wider-say": lambda d: Wider(d, rank_q=(0.5, 0.75), transform="say"),
    "wider-say-rank-by-line": lambda d: Combined(d, rank_by="combined"),
    "wider-say-line-top": lambda d: CombinedK(d, k=1),
    "wider-say-line-10": lambda d: CombinedK(d, k=10),
}
