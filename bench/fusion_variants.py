"""The rules tried against the shipped one (bench/fusion_rules.py re-scores them from the cache)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audioret.ranking import calibration as cal  # noqa: E402
from audioret.ranking.calibration import MATCH_BEYOND, MATCH_EVIDENCE, Background  # noqa: E402
from audioret.ranking.null import ALIKE, INFORMATIVE, UNRELATED_QUANTILES, fit_tops, informative, no_wider  # noqa: E402
from bench.fusion_rules import Previous, Shipped  # noqa: E402
from bench.text_rules import TEXT_RULES  # noqa: E402


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


class Lined(Shipped):
    """(Every record in the text channel's background, as before :func:`null.distinct` was shipped.) The shipped
    rule with its lines and its laws' size moved: a match needs a fused say of ``say_line`` and
    ``beyond_line`` nats against unrelated queries; ``size`` is the record count the laws are moved to ("n": the
    channel's, as shipped; "sample": the background sample's, so the law does not move once a library outgrows
    the sample; an int: that many records, whatever the library's size)."""

    alike = None

    def __init__(self, data, say_line=1.0, beyond_line=MATCH_EVIDENCE, size="n", gate=None):
        super().__init__(data)
        self.say_line, self.beyond_line, self.size, self.gate = say_line, beyond_line, size, gate
        self.name = f"lined say {say_line} beyond {beyond_line} size {size} gate {gate}"

    @property
    def gated(self) -> bool:
        return False

    def informative(self, key: str) -> float:
        """How often the reference prompts' tops beat the tops of directions that point nowhere (an AUC), as a
        weight: 0 at or under ``gate[0]``, 1 from ``gate[1]`` (null.informative)."""
        bg = self.background(key)
        return informative(bg.tops, bg.nowhere_tops, self.gate)

    def channel_evidence(self, key, q):
        (e, beyond), best = super().channel_evidence(key, q)
        if self.gate is not None:
            w = self.informative(key)
            e, beyond = e * w, beyond * w
        return (e, beyond), best

    def background(self, key):
        if key not in self.backgrounds:
            bg = super().background(key)
            if self.size != "n":
                k = len(bg.sample) if self.size == "sample" else int(self.size)
                shift = cal.gumbel_max(k)[0] - cal.gumbel_max(bg.n)[0]
                laws = {"_law": bg.law(), "_nowhere": bg.nowhere_law(), "_unrelated": bg.unrelated_law()}
                for name, law in laws.items():
                    bg.__dict__[name] = (law[0] + shift, law[1])
        return self.backgrounds[key]

    def fused(self, found):  # ranked by the say, as the rule was then
        return Shipped.tiebreak(self, found)

    def tiebreak(self, found):
        return found["clap"][0] + found["text"][0]

    def matches(self, found, total):
        beyond = found["_beyond"][0] + found["_beyond"][1]
        return (total >= self.say_line) & (beyond >= self.beyond_line)


class Ungated(Shipped):
    """The shipped rule without null.informative's weight: a noise channel keeps its (chance) evidence."""

    name = "ungated"
    gated = False
    alike = None


class ShippedBefore(Shipped):
    """The shipped rule with every record of the text channel's background counted (before null.distinct)."""

    name = "shipped-before"
    alike = None


RULES |= {
    "say-line": lambda d: Lined(d, 1.0, MATCH_EVIDENCE),  # the rule shipped before this one
    "ungated": Ungated,
    "shipped-before": ShippedBefore,
    "say-line-gated": lambda d: Lined(d, 1.0, MATCH_EVIDENCE, gate=INFORMATIVE),
    "ln10-say-line": lambda d: Lined(d, 1.0, MATCH_BEYOND),
    "ln10-say-half": lambda d: Lined(d, 0.5, MATCH_BEYOND),
    # the shipped rule with its laws moved to another record count (bench/fusion_rules.py --growth)
    "shipped-size-sample": lambda d: Lined(d, 1e-9, MATCH_BEYOND, "sample", INFORMATIVE),
    "shipped-size-256": lambda d: Lined(d, 1e-9, MATCH_BEYOND, 256, INFORMATIVE),
    "shipped-size-64": lambda d: Lined(d, 1e-9, MATCH_BEYOND, 64, INFORMATIVE),
}
for _say in (1e-9, 0.1, 0.25, 0.35, 0.5, 0.6, 0.75, 1.0):  # the grid behind "What was tried"
    for _beyond in (1.5, 2.0, 2.25, 2.5, 2.75, 3.0):
        for _size in ("n", "sample", 256, 64):
            RULES[f"lined-{_say}-{_beyond}-{_size}"] = lambda d, a=_say, b=_beyond, c=_size: Lined(d, a, b, c)
            RULES[f"gated-{_say}-{_beyond}-{_size}"] = lambda d, a=_say, b=_beyond, c=_size: Lined(
                d, a, b, c, INFORMATIVE
            )


class Distinct(Shipped):
    """The shipped rule over a background that counts alike records once: the sample's near-copies (cosine at least
    ``alike``) collapsed, and the record count scaled by the share kept (so the laws move to the number of distinct
    records, not to a flood of alike ones: 2,000 file names "clip_0001.wav" ... count about as one). ``channels``:
    which channels' backgrounds ("text", "sound")."""

    def __init__(self, data, alike=0.95, channels=("text",)):
        super().__init__(data)
        self.alike, self.which = alike, channels
        self.name = f"distinct {alike} {'+'.join(channels)}"

    def background(self, key):
        if key not in self.backgrounds:
            c = self.data.channels[key]
            alike = self.alike if ("text" if key == "text" else "sound") in self.which else None
            self.backgrounds[key] = Background.of(
                c.sample, c.count, c.reference, debias=key != "text", alike=alike, unrelated=self.unrelated(c)
            )
        return self.backgrounds[key]


for _alike in (0.9, 0.95, 0.98):
    RULES[f"distinct-{_alike}"] = lambda d, a=_alike: Distinct(d, a)
    RULES[f"distinct-{_alike}-both"] = lambda d, a=_alike: Distinct(d, a, ("text", "sound"))


RULES |= TEXT_RULES  # the rules tried against the text channel's misses (bench/text_rules.py)


class WideUnrelated(Shipped):
    """The shipped rule with the unrelated queries' law as before null.no_wider: through the reference tops' median
    and upper quartile, however wide (``bench/fusion_rules.py --rule shipped wide-unrelated`` compares the two)."""

    name = "wide-unrelated"

    def background(self, key):
        fresh = key not in self.backgrounds
        bg = super().background(key)
        if fresh and len(bg.tops):
            bg.__dict__["_unrelated"] = bg.fit_law(bg.tops, UNRELATED_QUANTILES)
            bg.__dict__.pop("_laws", None)
        return bg


RULES |= {"wide-unrelated": WideUnrelated}


class SummedBeyond(Shipped):
    """The rule before fusion summed the channels' evidence against unrelated queries only where each has a say: every
    channel's value added, so a channel at chance for a file (the stand-in CLAP's 0.1-0.7 nats for a talk) could
    move it past another file the text channel found as strongly, or over the match line."""

    name = "summed-beyond"

    def beyond(self, found):
        return found["_beyond"][0] + found["_beyond"][1]


RULES |= {"summed-beyond": SummedBeyond}


class Series(Shipped):
    """The shipped rule over a text background in which a numbered series counts once: records whose text is the
    same with its numbers taken out ("clip 0005 (in clips)", "clip 0859 (in clips)") stand for one, before the
    near-copies (null.distinct) are counted once. MiniLM puts two such names under cosine 0.95, so 215 of the grown
    library's 490 distinct background records were the 1,711 clips' names."""

    name = "series"

    def background(self, key):
        if key not in self.backgrounds and key == "text":
            c = self.data.channels[key]
            said = self.data.cached("documents")
            rows = (c.sample @ c.records.T).argmax(axis=1)  # each sample record is one of the channel's
            first = {}
            for i, r in enumerate(rows):
                first.setdefault(re.sub(r"\d+", "#", said[r].lower()), i)
            keep = sorted(first.values())
            count = max(len(keep), round(c.count * len(keep) / len(c.sample)))
            self.backgrounds[key] = Background.of(
                c.sample[keep], count, c.reference, debias=False, alike=ALIKE, unrelated=c.unrelated
            )
        return super().background(key)


RULES |= {"series": Series}


class EverydayUnrelated(Shipped):
    """The rule before the unrelated requests (null.UNRELATED_PROMPTS): what an unrelated query reaches here is
    measured with the everyday reference prompts alone, which name what libraries hold most."""

    name = "everyday-unrelated"

    def unrelated(self, c):
        return None


RULES |= {"everyday-unrelated": EverydayUnrelated}


class Requests(Shipped):
    """Ways tried before the shipped one to use the unrelated requests (null.UNRELATED_PROMPTS) in the text channel:
    ``"every law"`` (the requests instead of the everyday prompts for all of its laws), ``"line"`` (the requests'
    unrelated law alone), ``"location"`` (of the two unrelated laws, the one with the lower location)."""

    def __init__(self, data, way: str):
        super().__init__(data)
        self.way, self.name = way, f"requests-{way}"

    def background(self, key):
        if key != "text" or key in self.backgrounds:
            return super().background(key)
        c = self.data.channels[key]
        if self.way == "every law":
            self.backgrounds[key] = Background.of(c.sample, c.count, c.unrelated, debias=False, alike=ALIKE)
            return self.backgrounds[key]
        bg = super().background(key)
        everyday = no_wider(*bg.fit_law(bg.tops, UNRELATED_QUANTILES), bg.law()[1])
        requests = no_wider(*bg.fit_law(bg.unrelated_tops, UNRELATED_QUANTILES), bg.law()[1])
        bg.__dict__["_unrelated"] = requests if self.way == "line" else min(everyday, requests)
        bg.__dict__.pop("_laws", None)
        return bg


RULES |= {f"requests-{w.replace(' ', '-')}": (lambda d, w=w: Requests(d, w)) for w in ("every law", "line", "location")}
