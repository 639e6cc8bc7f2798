"""Re-scores fusion rules over every query of a set from bench/fusion_cache.py's cache: seconds, no model, no store.

    python bench/fusion_rules.py [--set memos|talks|both] [--rule shipped ...] [--check] [--growth] [--ceiling]
                                 [--speech-only]

Each rule turns the cached vectors into each channel's evidence for every file and says whether the top is "no
good match"; the tables are bench/fusion.py's (R@1 / MRR of each channel alone and fused, by regime and kind of
query, "no good match" on right tops, wrong tops and absent answers, and how many of the files called a match in
the first ten are relevant). ``--check`` compares the shipped rule re-scored here with the evidence the channels
themselves gave (in the cache), file by file. ``--growth`` counts, for each rule, the queries of bench/growth.py
that flip between a match and "no good match" (from the caches ``bench/fusion_cache.py --set growth`` writes), and
of them those whose top in the grown library is a file added (an answer the base library did not hold: its verdict
may rightly change). ``--ceiling`` adds, by regime, the
most any "no good match" line on the top hit's shown score could flag of the wrong tops while flagging at most
10 % of the right ones (whether a target is a matter of the line or of the ranking). ``--speech-only`` re-scores
with the text channel holding the files that speak alone (:class:`Data`): a library of talks or memos whose other
files' names say nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from audioret.channels.passages import numbers_disagree  # noqa: E402
from audioret.query import Query  # noqa: E402
from audioret.ranking import calibration as cal  # noqa: E402
from audioret.ranking.calibration import MATCH_EVIDENCE, Background, match_evidence  # noqa: E402
from audioret.ranking.null import ALIKE, match_line, say  # noqa: E402

LIBRARIES = ("collapsed", "spread", "stand-in")
REGIMES = {  # name: (library, kinds of query)
    "memos": {
        "(a)": ("collapsed", ("paraphrase", "quote", "quote, not in the transcript")),
        "(a')": ("spread", ("paraphrase", "quote", "quote, not in the transcript")),
        "(b)": ("stand-in", ("sound",)),
        "(c)": ("stand-in", ("paraphrase", "quote", "quote, not in the transcript", "sound", "sample")),
    },
    "talks": {
        "(a)": ("collapsed", ("question",)),
        "(a')": ("spread", ("question",)),
        "(b)": ("stand-in", ("sound",)),
        "(c)": ("stand-in", ("question", "sound")),
    },
    "growth": {  # bench/growth.py's regimes, on the talks set alone (base) and grown ten times (grown)
        "(a')": ("spread", ("question",)),
        "(c)": ("stand-in", ("question", "sound")),
    },
}
ROOTS = {"memos": "fusion", "talks": "talks", "base": "growth/base", "grown": "growth/grown"}


@dataclass
class Channel:
    """One channel of one library, from the cache: records, background, and the vectors of every prompt."""

    records: np.ndarray
    file: np.ndarray  # each record's file index
    sample: np.ndarray
    count: int
    reference: np.ndarray
    decoys: np.ndarray
    queries: np.ndarray
    n_files: int
    unrelated: np.ndarray | None = None  # the text channel's unrelated requests (null.UNRELATED_PROMPTS)

    def __post_init__(self):
        order = np.argsort(self.file, kind="stable")
        self.records, self.file = self.records[order], self.file[order]
        self.starts = np.flatnonzero(np.r_[True, self.file[1:] != self.file[:-1]])
        self.present = self.file[self.starts]
        self.scores = self.records @ self.queries.T  # (records, queries)

    def best(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        """Each file's best cosine for query ``q`` and its best record's vector (-inf and zeros where absent)."""
        return self.best_records(q)[:2]

    def best_records(self, q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`best`, and each file's best record (its row in :attr:`records`; -1 where the file has none)."""
        s = self.scores[:, q]
        best = np.full(self.n_files, -np.inf)
        vec = np.zeros((self.n_files, self.records.shape[1]), np.float32)
        at = np.maximum.reduceat(s, self.starts)
        best[self.present] = at
        # the argmax within each file
        marker = np.repeat(at, np.diff(np.r_[self.starts, len(s)]))
        hit = np.flatnonzero(s >= marker)
        first = hit[np.r_[True, self.file[hit][1:] != self.file[hit][:-1]]]
        vec[self.file[first]] = self.records[first]
        row = np.full(self.n_files, -1)
        row[self.file[first]] = first
        return best, vec, row


class Data:
    """One set's cache. ``speech_only``: the text channel holds only the files where Whisper heard speech (their
    names, descriptions and speech), as if the others' names said nothing: a library of talks or memos alone,
    to the text channel."""

    def __init__(self, name: str, speech_only: bool = False):
        root = HERE / "out" / ROOTS[name]
        self.set = name
        self.name = name + (" (text of the speaking files alone)" if speech_only else "")
        self.regimes = REGIMES["growth" if name in ("base", "grown") else name]
        arrays = np.load(root / "cache.npz")
        self.meta = json.loads((root / "cache.json").read_text())
        self.files = self.meta["files"]
        self.queries = self.meta["queries"]
        n = len(self.files)
        self.channels = {
            key: Channel(
                arrays[f"{key}/records"],
                arrays[f"{key}/file"],
                arrays[f"{key}/sample"],
                self.meta[key]["count"],
                arrays[f"{key}/reference"],
                arrays[f"{key}/decoys"],
                arrays[f"{key}/queries"],
                n,
                arrays[f"{key}/unrelated"] if f"{key}/unrelated" in arrays else None,
            )
            for key in (*self.meta["libraries"], "text")
        }
        self.lexical = [np.zeros(n) for _ in self.queries]
        for q, found in enumerate(self.meta["text"]["lexical"]):
            for f, e in found:
                self.lexical[q][f] = max(self.lexical[q][f], e)
        if speech_only:
            self._speech_only(arrays)

    def cached(self, field: str) -> list:
        """Each record of the text channel (in its order) with its ``field`` in the cache ("documents", "kinds");
        computed once."""
        held = self.__dict__.setdefault("_cached", {})
        if field not in held:
            if "_rows" not in self.__dict__:  # each record is one of the cache's, in another order
                every = np.load(HERE / "out" / ROOTS[self.set] / "cache.npz")["text/records"]
                self._rows = (self.channels["text"].records @ every.T).argmax(axis=1)
            held[field] = [self.meta["text"][field][i] for i in self._rows]
        return held[field]

    def _speech_only(self, arrays) -> None:
        """The text channel without the records of files that have no speech passage (its background sample too)."""
        c, kinds = self.channels["text"], self.meta["text"]["kinds"]
        records, files = arrays["text/records"], arrays["text/file"]
        speaking = {int(f) for f, kind in zip(files, kinds) if kind == "speech"}
        keep = np.isin(files, sorted(speaking))
        gone = records[~keep]
        in_sample = (c.sample @ gone.T).max(axis=1) > 1 - 1e-5 if len(gone) else np.zeros(len(c.sample), bool)
        self.channels["text"] = Channel(
            records[keep],
            files[keep],
            c.sample[~in_sample],
            c.count - int((~keep).sum()),
            c.reference,
            c.decoys,
            c.queries,
            len(self.files),
            c.unrelated,
        )
        self.lexical = [np.where(np.isin(np.arange(len(x)), sorted(speaking)), x, 0.0) for x in self.lexical]


class Previous:
    """The previous rule: each channel calibrated against the reference prompts' tops (their lower quantiles), the
    text channel's lexical leg where it is stronger, the evidence added, "no good match" under MATCH_EVIDENCE."""

    name = "previous"

    def __init__(self, data: Data):
        self.data = data
        self.backgrounds = {}

    alike = None  # the text channel's background counts near-copies once from this cosine (None: every record)

    def unrelated(self, c: Channel) -> np.ndarray | None:
        """The unrelated requests' vectors a background measures its second unrelated law with (None: none)."""
        return None

    def background(self, key: str) -> Background:
        if key not in self.backgrounds:
            c = self.data.channels[key]
            alike = self.alike if key == "text" else None
            self.backgrounds[key] = Background.of(
                c.sample, c.count, c.reference, debias=key != "text", alike=alike, unrelated=self.unrelated(c)
            )
        return self.backgrounds[key]

    def channel_evidence(self, key: str, q: int) -> tuple[np.ndarray, np.ndarray]:
        """A channel's evidence for every file, and its cosines (-inf where it holds no record of the file)."""
        c = self.data.channels[key]
        best, vec = c.best(q)
        e = np.zeros(len(best))
        ok = np.isfinite(best)
        debias = key != "text"
        bg = self.background(key)
        law = bg.__dict__.setdefault("_law", bg.fit_law())
        e[ok] = cal.surprisal(self.z(key, q, best[ok], vec[ok] if debias else vec[:0]), *law)
        return e, best

    def z(self, key: str, q: int, best: np.ndarray, vec: np.ndarray) -> np.ndarray:
        """The candidates' scores standardised as calibration.judge does."""
        bg, query = self.background(key), self.data.channels[key].queries[[q]]
        sample_scores = (bg.sample @ query.T).max(axis=1) - bg.sample_bias
        scores = best - (vec @ bg.reference.T).mean(axis=1) if bg.sample_bias.any() and len(vec) else best
        return (scores - np.median(sample_scores)) / bg.scale

    def evidence(self, library: str, q: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        sound = self.channel_evidence(library, q)
        text, cos = self.channel_evidence("text", q)
        return {"clap": sound, "text": (np.maximum(text, self.data.lexical[q]), cos)}

    def fused(self, found: dict) -> np.ndarray:
        return found["clap"][0] + found["text"][0]

    def tiebreak(self, found: dict) -> np.ndarray | None:
        return None

    def alone(self, e: np.ndarray) -> np.ndarray:
        """What one channel's files are ranked by when it is the only one."""
        return e

    def no_good_match(self, found: dict, total: np.ndarray, top: int) -> bool:
        return total[top] < MATCH_EVIDENCE

    def matches(self, found: dict, total: np.ndarray) -> np.ndarray:
        """Whether each file is a match (strength 0.5 or more)."""
        return total >= MATCH_EVIDENCE


class Shipped(Previous):
    """The shipped rule (audioret.ranking): calibration.judge's two values for each channel (weighed by
    null.informative where ``gated``), the lexical leg in both, the says added for the ranking, "no good match"
    when none of the first ten is a match (some say, and null.match_line of the channels' informative weights
    against unrelated queries: calibration.match_evidence). A channel's value against unrelated queries adds up
    only where it has a say for the file (the best channel's where none has: fusion.fuse)."""

    name = "shipped"
    gated = True
    alike = ALIKE

    def unrelated(self, c: Channel) -> np.ndarray | None:
        return c.unrelated

    def channel_evidence(self, key: str, q: int):
        c = self.data.channels[key]
        best, vec, row = c.best_records(q)
        e, beyond = np.zeros(len(best)), np.zeros(len(best))
        ok = np.isfinite(best)
        debias = key != "text"
        e[ok], beyond[ok] = cal.judge(
            best[ok], vec[ok] if debias else vec[:0], c.queries[[q]], self.background(key), gated=self.gated
        )
        if key == "text":  # a passage that says other numbers than the query asks for (TextChannel.rank), or that
            words = Query.parse(self.data.queries[q]["query"]).words  # is a number alone, for a query that asks none
            said = self.data.cached("documents")
            off = np.array([r >= 0 and numbers_disagree(words, said[r]) for r in row])
            e[off], beyond[off] = 0.0, 0.0
        return (e, beyond), best

    def evidence(self, library: str, q: int):
        (s, sb), scos = self.channel_evidence(library, q)
        (t, tb), tcos = self.channel_evidence("text", q)
        lex = self.data.lexical[q]
        chances = sum(self.background(k).informative() if self.gated else 1.0 for k in (library, "text"))
        return {
            "clap": (s, scos),
            "text": (np.maximum(t, lex), tcos),
            "_beyond": (sb, np.maximum(tb, lex)),
            "_line": match_line(chances),
        }

    def beyond(self, found):
        """Each file's evidence against unrelated queries, over the channels with a say for it (fusion.fuse)."""
        said = [say(found[c][0]) > 0 for c in ("clap", "text")]
        summed = sum(np.where(s, b, 0.0) for s, b in zip(said, found["_beyond"]))
        return np.where(said[0] | said[1], summed, np.maximum(*found["_beyond"]))

    def fused(self, found):  # the score shown (calibration.match_evidence), as fuse ranks
        said, beyond = say(found["clap"][0]) + say(found["text"][0]), self.beyond(found)
        evidence = found["clap"][0] + found["text"][0]
        return np.array([match_evidence(*x, found["_line"]) for x in zip(said, beyond, evidence)])

    def tiebreak(self, found):
        return say(found["clap"][0]) + say(found["text"][0])

    def alone(self, e):
        return say(e)

    def no_good_match(self, found, total, top, k=10):
        order = ranked(total, np.maximum(found["clap"][1], found["text"][1]), self.tiebreak(found))[:k]
        return not self.matches(found, total)[order].any()

    def matches(self, found, total):
        return (self.tiebreak(found) > cal.MATCH_SAY) & (self.beyond(found) >= found["_line"])


def ranked(total: np.ndarray, cosine: np.ndarray, evidence: np.ndarray | None = None) -> np.ndarray:
    """Files by ``total``, then ``evidence``, then cosine (fuse's order; the file's index breaks what is left)."""
    evidence = np.zeros(len(total)) if evidence is None else evidence
    return np.lexsort((np.arange(len(total)), -cosine, -evidence, -total))


def score(order: np.ndarray, relevant: list[int]) -> tuple[float, float]:
    where = np.flatnonzero(np.isin(order[:200], relevant))
    return (float(where[0] == 0), 1.0 / (where[0] + 1)) if len(where) else (0.0, 0.0)


def evaluate(rule, data: Data) -> dict:
    """Every regime of the set: R@1 / MRR by kind for sound, text, fused; "no good match" by case."""
    out = {}
    for regime, (library, kinds) in data.regimes.items():
        rows: dict[str, dict[str, list]] = {}
        said = {"right": [0, 0], "wrong": [0, 0], "absent": [0, 0]}
        tops: dict[str, list[float]] = {"right": [], "wrong": [], "absent": []}  # the top hit's shown score
        called = [0, 0]  # files called a match in the first ten: relevant, not (queries with an answer)
        for q, query in enumerate(data.queries):
            kind = query["kind"]
            if kind not in kinds and kind != "absent":
                continue
            found = rule.evidence(library, q)
            cos = np.maximum(found["clap"][1], found["text"][1])
            total = rule.fused(found)
            order = ranked(total, cos, rule.tiebreak(found))
            flag = rule.no_good_match(found, total, order[0])
            relevant = query["relevant"]
            case = "absent" if kind == "absent" else "right" if order[0] in relevant else "wrong"
            said[case][0] += int(bool(flag))
            said[case][1] += 1
            tops[case].append(float(total[order[0]]))
            if kind == "absent":
                continue
            matched = rule.matches(found, total)
            for i in order[:10]:
                if matched[i]:
                    called[i not in relevant] += 1
            for way, (e, c) in (("sound", found["clap"]), ("text", found["text"])):
                rows.setdefault(way, {}).setdefault(kind, []).append(score(ranked(rule.alone(e), c, e), relevant))
            rows.setdefault("fused", {}).setdefault(kind, []).append(score(order, relevant))
        table = {
            way: {k: [round(float(x), 3) for x in np.mean(v, axis=0)] + [len(v)] for k, v in by.items()}
            for way, by in rows.items()
        }
        out[regime] = {"table": table, "said": said, "tops": tops, "called": called}
    return out


def ceiling(tops: dict, most_right: float = 0.10) -> tuple[float, dict] | None:
    """The line on the top hit's shown score (nats) that flags the most wrong tops while flagging at most
    ``most_right`` of the right ones, and the share of each case it flags: what any "no good match" line on that
    score can reach (ranks follow the score shown, so "no good match" is the top under the line)."""
    right, wrong = np.asarray(tops["right"]), np.asarray(tops["wrong"])
    if not len(right) or not len(wrong):
        return None
    best = None
    for line in np.unique(np.r_[right, wrong, tops["absent"], MATCH_EVIDENCE]):
        if (right < line).mean() <= most_right:
            best = line
    return float(best), {case: float((np.asarray(v) < best).mean()) if len(v) else 0.0 for case, v in tops.items()}


def gaps(result: dict) -> list[str]:
    """Where fused R@1 or MRR falls more than 0.02 under the best channel alone, by regime and kind."""
    missed = []
    for regime, r in result.items():
        for kind, fused in r["table"]["fused"].items():
            for i, measure in enumerate(("R@1", "MRR")):
                best = max(r["table"][way][kind][i] for way in ("sound", "text"))
                if fused[i] < best - 0.02:
                    missed.append(f"{regime} {kind} {measure} {fused[i]:.2f} < {best:.2f}")
    return missed


def report(rule, data: Data, show_ceiling: bool = False) -> dict:
    result = evaluate(rule, data)
    print(f"\n## {data.name}: {rule.name}\n")
    print("| regime | kind (n) | sound R@1/MRR | text R@1/MRR | fused R@1/MRR |")
    print("|---|---|---|---|---|")
    for regime, r in result.items():
        for kind, fused in r["table"]["fused"].items():
            s, t = r["table"]["sound"][kind], r["table"]["text"][kind]
            print(
                f"| {regime} | {kind} ({fused[2]}) | {s[0]:.2f} / {s[1]:.2f} | {t[0]:.2f} / {t[1]:.2f} "
                f"| {fused[0]:.2f} / {fused[1]:.2f} |"
            )
    print("\n| regime | no good match: top right | top wrong | absent |")
    print("|---|---|---|---|")
    for regime, r in result.items():
        cells = [f"{a} of {b}" + (f" ({a / b:.0%})" if b else "") for a, b in r["said"].values()]
        print(f"| {regime} | " + " | ".join(cells) + " |")
    print("\n| regime | files called a match in the first ten: relevant | not relevant | share relevant |")
    print("|---|---|---|---|")
    for regime, r in result.items():
        right, wrong = r["called"]
        print(f"| {regime} | {right} | {wrong} | {right / max(right + wrong, 1):.0%} |")
    print("\nmissed (best - 0.02):", "; ".join(gaps(result)) or "none")
    if show_ceiling:
        print("\n| regime | the best line on the top's score, right flagged <= 10 % | right | wrong | absent |")
        print("|---|---|---|---|---|")
        for regime, r in result.items():
            best = ceiling(r["tops"])
            if best is not None:
                line, share = best
                print(f"| {regime} | {line:.2f} nats | " + " | ".join(f"{share[c]:.0%}" for c in share) + " |")
    return result


def growth(rule_name: str) -> dict:
    """bench/growth.py's question from the caches (``fusion_cache.py --set growth``): which queries flip between
    a match and "no good match", and which (query, file of the base library) pairs between a match and not, when
    ten times as many unrelated files are added."""
    from bench import fusion_variants

    base, grown = Data("base"), Data("grown")
    where = {path: i for i, path in enumerate(grown.files)}
    to_grown = np.array([where[p] for p in base.files])
    rules = [fusion_variants.RULES[rule_name](d) for d in (base, grown)]
    print(f"\n## growth: {rule_name}\n")
    print(
        "| regime | queries | flips | of them, to an added file | (query, file) pairs a match in either "
        "| pairs that flip |"
    )
    print("|---|---|---|---|---|---|")
    out = {}
    added = set(range(len(grown.files))) - set(to_grown.tolist())
    for regime, (library, kinds) in base.regimes.items():
        flips, pairs, flipped, names, to_added = 0, 0, 0, [], 0
        for q, query in enumerate(base.queries):
            if query["kind"] not in kinds and query["kind"] != "absent":
                continue
            said = []
            for rule, data, at in zip(rules, (base, grown), (np.arange(len(base.files)), to_grown)):
                found = rule.evidence(library, q)
                total = rule.fused(found)
                order = ranked(total, np.maximum(found["clap"][1], found["text"][1]), rule.tiebreak(found))
                said.append((rule.no_good_match(found, total, order[0]), rule.matches(found, total)[at], order[0]))
            if said[0][0] != said[1][0]:
                flips += 1
                new = int(said[1][2]) in added  # the grown library's top is one of the files added
                to_added += new
                names.append(query["query"] + (f" (to {Path(grown.files[said[1][2]]).name})" if new else ""))
            either = said[0][1] | said[1][1]
            pairs += int(either.sum())
            flipped += int((said[0][1] != said[1][1]).sum())
        n = sum(1 for query in base.queries if query["kind"] in kinds or query["kind"] == "absent")
        print(f"| {regime} | {n} | {flips} | {to_added} | {pairs} | {flipped} |")
        for name in names:
            print(f"|  flip: {name!r} | | | | | |")
        out[regime] = {
            "queries": n,
            "flips": flips,
            "flips to an added file": to_added,
            "pairs": pairs,
            "pairs flipped": flipped,
            "flipped": names,
        }
    return out


def check(data: Data):
    """The shipped rule re-scored here against the channels' own evidence (cached), over every query."""
    rule = Shipped(data)
    worst = {}
    for library in data.meta["libraries"]:
        for q in range(len(data.queries)):
            (e, _), _ = rule.channel_evidence(library, q)
            shipped = data.meta[library]["shipped"][q]
            idx = np.array([int(k) for k in shipped])
            worst[library] = max(worst.get(library, 0), float(np.max(np.abs(e[idx] - list(shipped.values())))))
    for q in range(len(data.queries)):
        e = rule.evidence("stand-in", q)["text"][0]
        shipped = data.meta["text"]["shipped"][q]
        idx = np.array([int(k) for k in shipped])
        got = np.array([v[0] for v in shipped.values()])
        worst["text"] = max(worst.get("text", 0), float(np.max(np.abs(e[idx] - got))))
    print(f"{data.name}: largest difference from the channels' own evidence (nats): {worst}")


def main():
    from bench import fusion_variants

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("memos", "talks", "both"), default="memos")
    parser.add_argument("--rule", nargs="*", default=["shipped"], help="rules by name (bench/fusion_variants.py)")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--growth", action="store_true", help="also each rule's flips as the library grows")
    parser.add_argument(
        "--ceiling", action="store_true", help="also the best any line on the top's score does (right flagged <= 10 %%)"
    )
    parser.add_argument(
        "--speech-only", action="store_true", help="the text channel with the speaking files alone (Data.speech_only)"
    )
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    results = {}
    for name in ("memos", "talks") if args.set == "both" else (args.set,):
        data = Data(name, args.speech_only)
        if args.check:
            check(data)
        for rule in args.rule:
            results[f"{data.name}/{rule}"] = report(fusion_variants.RULES[rule](data), data, args.ceiling)
    if args.growth:
        for rule in args.rule:
            results[f"growth/{rule}"] = growth(rule)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
