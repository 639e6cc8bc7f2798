"""``audioret eval``: retrieval quality on a labelled or captioned audio set, with the field's metrics.

The sets are read by :mod:`audioret.eval_data` (a folder per class, a ``path,label`` CSV, Clotho and AudioCaps
captions). Each query runs through the library's search per channel (CLAP alone, text alone) and fused, and ranx
computes the metrics: R@k as the audio-text retrieval papers report it (a relevant file in the top k: ranx
``hit_rate@k``), mAP@10 (from ranx ``map@10``, normalised by min(R, 10); with one relevant file per query it is the
DCASE language-based audio retrieval mAP@10, 1/rank within the top 10), MRR, and the classic precision, recall and
F1 at k. Class sets also get zero-shot accuracy (ESC-50 protocol: each file's mean CLAP embedding, argmax over the
class prompts).

``evaluate_judgements`` scores the library as it is, with the user's own 👍 / 👎 (:mod:`audioret.judgements`) as
the relevance judgements: no set to download, no re-indexing.

The files are indexed under opaque link names (``000123.wav``) so that neither a file nor a folder name, where
the labels often live, reaches the text channel; ``keep_names=True`` measures with the names.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import InputError
from .eval_data import FORMATS, TEMPLATE, Dataset, load_dataset, prompt
from .models.hub import model_revision

__all__ = [
    "CHANNELS",
    "DEPTH",
    "FORMATS",
    "TEMPLATE",
    "Dataset",
    "evaluate",
    "evaluate_judgements",
    "load_dataset",
    "metrics",
    "prompt",
]

KS = (1, 5, 10)
DEPTH = 100  # files retrieved per query; MRR is computed over these
CHANNELS = {"clap": {"clap": 1.0, "text": 0.0}, "text": {"clap": 0.0, "text": 1.0}, "fused": None}
COLUMNS = ("R@1", "R@5", "R@10", "mAP@10", "MRR", "P@10", "Rec@10", "F1@10")  # the metrics table's, in order


def metrics_table(metrics: dict[str, dict[str, float]]) -> list[str]:
    """The metrics as a text table: a header, then one line per channel (or "fused")."""
    rows = [f"{channel:<8}" + "".join(f"{m[c]:>8.3f}" for c in COLUMNS) for channel, m in metrics.items()]
    return [f"{'channel':<8}" + "".join(f"{c:>8}" for c in COLUMNS), *rows]


def link_files(dataset: Dataset, folder: Path, keep_names: bool = False) -> dict[str, str]:
    """Links the dataset's files into ``folder`` (opaque names unless ``keep_names``); returns link -> doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    links = {}
    for i, (doc, path) in enumerate(sorted(dataset.files.items())):
        link = folder / (doc if keep_names else f"{i:06d}{Path(path).suffix.lower()}")
        link.parent.mkdir(parents=True, exist_ok=True)
        if not (link.is_symlink() and os.readlink(link) == path):
            link.unlink(missing_ok=True)
            link.symlink_to(path)
        links[str(link)] = doc
    return links


def run_queries(library, dataset: Dataset, links: dict[str, str], channels=tuple(CHANNELS)) -> dict[str, dict]:
    """Each channel's ranking for each query: {channel: {query id: {doc id: score}}} (higher = better)."""
    runs = {}
    for channel in channels:
        run = {}
        for qid, text in dataset.queries.items():
            hits = library.search(text, k=DEPTH, weights=CHANNELS[channel])
            run[qid] = {links[h.path]: float(DEPTH + 1 - h.rank) for h in hits if h.path in links}
        runs[channel] = run
    return runs


def metrics(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], ks=KS) -> dict[str, float]:
    """R@k (hit rate), mAP@10, MRR and precision/recall/F1@k of one run, by ranx.

    mAP@10 normalises each query's AP@10 by min(R, 10) relevant files, so a top 10 full of relevant files
    scores 1 (ranx's ``map@10`` divides by R); with one relevant file, as in DCASE, the two are the same.
    """
    from ranx import Qrels, Run, evaluate

    names = {f"R@{k}": f"hit_rate@{k}" for k in ks} | {"MRR": "mrr"}
    names |= {
        f"{ours}@{k}": f"{theirs}@{k}"
        for ours, theirs in (("P", "precision"), ("Rec", "recall"), ("F1", "f1"))
        for k in ks
    }
    run = {q: run.get(q) or {"<nothing>": 0.0} for q in qrels}  # ranx needs every query in the run
    ranx_qrels, ranx_run = Qrels(qrels), Run(run)
    scores = evaluate(ranx_qrels, ranx_run, list(names.values()), make_comparable=True)
    result = {ours: round(float(scores[theirs]), 6) for ours, theirs in names.items()}
    ap = evaluate(ranx_qrels, ranx_run, "map@10", return_mean=False, make_comparable=True)
    relevant = np.array([len(qrels[q]) for q in ranx_qrels.keys()])
    result["mAP@10"] = round(float(np.mean(ap * relevant / np.minimum(relevant, 10))), 6)
    return result


def recall_curve(qrels, run, depth: int = DEPTH) -> list[float]:
    """R@k (hit rate) for k = 1..depth, for the plot."""
    firsts = []
    for q, relevant in qrels.items():
        ranked = sorted((run.get(q) or {}).items(), key=lambda kv: -kv[1])
        firsts.append(next((i for i, (d, _) in enumerate(ranked, 1) if d in relevant), depth + 1))
    firsts = np.asarray(firsts)
    return [round(float(np.mean(firsts <= k)), 6) for k in range(1, depth + 1)]


def zero_shot_accuracy(library, dataset: Dataset, links: dict[str, str], template: str = TEMPLATE) -> float | None:
    """ESC-50 protocol: each file's mean segment embedding against every class prompt; the argmax is the guess."""
    if not dataset.labels or not library.available("clap"):
        return None
    classes = sorted(set(dataset.labels.values()))
    prompts = library.embed_prompts([prompt(template, c) for c in classes])
    correct = total = 0
    for link, doc in links.items():
        vectors = library.file_vectors(link)
        if not len(vectors):
            continue  # failed to index; the report names it
        mean = vectors.mean(axis=0)
        guess = classes[int(np.argmax(prompts @ (mean / np.linalg.norm(mean))))]
        correct += guess == dataset.labels[doc]
        total += 1
    return round(correct / total, 6) if total else None


def plot_recall(curves: dict[str, list[float]], path: str | os.PathLike, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for channel, curve in curves.items():
        ax.plot(range(1, len(curve) + 1), curve, label=channel)
    ax.set(
        xscale="log",
        xlabel="k (files returned)",
        ylabel="R@k (queries with a relevant file in the top k)",
        ylim=(0, 1.02),
        title=title,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def evaluate(
    config,
    dataset: Dataset,
    channels=tuple(CHANNELS),
    ks=KS,
    template: str = TEMPLATE,
    keep_names: bool = False,
    progress: bool = False,
) -> dict:
    """Indexes the dataset (its own index under ``config.data_dir/eval``, incremental), runs every query per
    channel and returns the metrics with everything needed to reproduce them (JSON-ready)."""
    import dataclasses

    from . import __version__
    from .library import Library

    fingerprint = dataset.fingerprint()
    key = f"{dataset.name}-{fingerprint[:8]}{'-names' if keep_names else ''}"
    folder = config.data_dir / "eval" / key
    library = Library(dataclasses.replace(config, data_dir=folder / "index", chroma_url=None))
    links = link_files(dataset, folder / "files", keep_names)
    report = library.index([folder / "files"], prune=True, progress=progress)
    channels = [c for c in channels if c == "fused" or library.available(c)]
    runs = run_queries(library, dataset, links, channels)
    return {
        "audioret": __version__,
        "dataset": {
            "name": dataset.name,
            "format": dataset.kind,
            "files": len(dataset.files),
            "queries": len(dataset.queries),
            "missing_files": len(dataset.missing),
            "failed_files": [f"{links.get(f.path, f.path)}: {f.reason}" for f in report.failed],
            "fingerprint": fingerprint,
        },
        "models": {
            role: {"id": name, "revision": model_revision(name)}
            for role, name in (("clap", config.clap_model), ("text", config.text_model), ("asr", config.asr_model))
        },
        "settings": {
            "template": template if dataset.labels else None,
            "keep_names": keep_names,
            "hop_s": config.hop_s,
            "transcribe": config.transcribe,
            "asr_engine": config.asr_engine,
            "depth": DEPTH,
            "device": config.device,
            "channels_off": library.channel_errors,
        },
        "metrics": {c: metrics(dataset.qrels, runs[c], ks) for c in channels},
        "zero_shot_accuracy": zero_shot_accuracy(library, dataset, links, template),
        "recall_curve": {c: recall_curve(dataset.qrels, runs[c]) for c in channels},
    }


def evaluate_judgements(library, path, channels=tuple(CHANNELS), ks=KS) -> dict:
    """Runs each judged query (:func:`audioret.judgements.load`) on ``library`` as it is, per channel and fused,
    and scores the rankings against the files marked relevant (JSON-ready, like :func:`evaluate`)."""
    from . import __version__
    from .judgements import load

    queries, qrels = load(path)
    if not queries:
        raise InputError(
            f"{path} holds no query with a 👍 (a relevant file) to score; mark some results relevant first"
        )
    channels = [c for c in channels if c == "fused" or library.available(c)]
    runs: dict[str, dict] = {c: {} for c in channels}
    for channel in channels:
        for qid, text in queries.items():
            hits = library.search(text, k=DEPTH, weights=CHANNELS[channel])
            runs[channel][qid] = {h.path: float(DEPTH + 1 - h.rank) for h in hits}
    judged = sum(len(v) for v in qrels.values())
    indexed = {f.path for f in library.files()}
    missing = sorted({f for v in qrels.values() for f, r in v.items() if r > 0 and f not in indexed})
    return {
        "audioret": __version__,
        "judgements": {
            "file": str(path),
            "queries": len(queries),
            "judged_files": judged,
            "relevant": sum(r > 0 for v in qrels.values() for r in v.values()),
            "relevant_not_indexed": missing,
        },
        "metrics": {c: metrics(qrels, runs[c], ks) for c in channels},
        "recall_curve": {c: recall_curve(qrels, runs[c]) for c in channels},
    }
