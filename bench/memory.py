"""Where a cold search's or an index run's memory goes: resident memory after each step of one, in one process.

    AUDIORET_DATA_DIR=INDEX AUDIORET_CLAP_MODEL=MODEL AUDIORET_TEXT_MODEL=MINILM python bench/memory.py
    AUDIORET_CLAP_MODEL=MODEL AUDIORET_TEXT_MODEL=MINILM python bench/memory.py --index LIBRARY

Run it over an index made with the same models (their exports cached; ``audioret index`` makes them). Each line
is the resident memory after a step (VmRSS), what the step added, the peak so far (VmHWM) and the split between
anonymous memory and mapped files. tracemalloc cannot see these: most of it is the runtimes' native memory.
With ``--index``, the steps are those of ``audioret index LIBRARY --no-transcribe`` into an empty index (a
temporary one), a sampler prints each new high of the indexing phase, and a line marks where the pipeline ends and
the tagging after it begins. Prints the lines for
docs/BENCHMARKS.md ("Memory").
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_last = [0.0]


def status() -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon and RssFile of this process, in MB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024
    return out


def step(name: str) -> None:
    d = status()
    print(
        f"{name:52s} rss {d['VmRSS']:6.0f} (+{d['VmRSS'] - _last[0]:4.0f})  peak {d['VmHWM']:6.0f}  "
        f"anon {d['RssAnon']:5.0f}  file {d['RssFile']:5.0f}",
        flush=True,
    )
    _last[0] = d["VmRSS"]


def index(library: str) -> None:
    """The steps of an index run into an empty index, and the highs while it indexes."""
    import shutil
    import tempfile
    import threading
    import time

    import numpy as np

    from audioret import Config, Library, cli  # noqa: F401

    step("imports (numpy, audioret's modules)")
    import chromadb  # noqa: F401
    import openvino  # noqa: F401

    step("import chromadb, openvino")
    data = tempfile.mkdtemp(prefix="audioret-memory-")
    try:
        lib = Library(Config.from_env(data_dir=data, transcribe=False))
        clap = lib.embedder
        step("load CLAP from the export")
        clap.embed_audio(np.zeros((1, clap.window), np.float32), pad_to=lib.settings["batch_size"])
        step("CLAP's audio tower: compile and one batch")
        lib.text_encoder.encode(["a dog barking"] * 10)
        step("MiniLM: load, compile and encode")
        done = threading.Event()

        def highs():
            high = status()["VmRSS"]
            while not done.wait(0.05):
                d = status()
                if d["VmRSS"] > high + 10:
                    high = d["VmRSS"]
                    print(f"   high {high:6.0f}  anon {d['RssAnon']:5.0f}  file {d['RssFile']:5.0f}", flush=True)

        sampler = threading.Thread(target=highs, daemon=True)
        sampler.start()
        from audioret import tagging

        tag = tagging.update

        def marked(*args, **kwargs):  # the run's two phases: the pipeline, then tagging (librosa for music)
            step("indexing: the pipeline done (its high is the peak so far)")
            return tag(*args, **kwargs)

        tagging.update = marked
        t0 = time.perf_counter()
        report = lib.index([library], progress=False)
        done.set()
        sampler.join()
        step(f"index {len(report.added)} files ({report.segments} windows) in {time.perf_counter() - t0:.0f} s")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main():
    if "--index" in sys.argv:
        return index(sys.argv[sys.argv.index("--index") + 1])
    step("Python")
    import numpy  # noqa: F401

    from audioret import (
        Config,
        Library,
        cli,  # noqa: F401
    )

    step("numpy, audioret's modules")
    import chromadb  # noqa: F401

    step("import chromadb")
    import openvino  # noqa: F401
    import tokenizers  # noqa: F401

    step("import openvino, tokenizers")
    lib = Library(Config.from_env())
    clap = lib.embedder
    step("load CLAP from the export")
    clap.embed_text(["a dog barking"])
    step("CLAP's text tower: compile and one query")
    lib.text_encoder.encode(["a dog barking"])
    step("MiniLM: load, compile and one query")
    lib.search("a dog barking", k=5)
    step("open the store, first search")
    lib.search("rain on a roof", k=5)
    step("second search")


if __name__ == "__main__":
    main()
