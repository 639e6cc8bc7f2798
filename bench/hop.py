"""What the window hop costs and buys: windows per hour of audio, against how often a short sound event lies
wholly inside one window.

    python bench/hop.py [--audio ../shared/audio/librosa-data]

Cost is counted with audioret's own windowing on the real recordings in --audio (the number of windows is what
indexing time and store size are proportional to). Containment is measured by placing events of 1-5 s (ESC-50's
clips are 5 s, most sound events shorter) at 10,000 uniformly random offsets and checking, window by window,
whether one window holds the whole event. An event cut in two is seen by each window only in part, and its
similarity with a query for it drops.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from audioret import audio
from audioret.indexing.plan import scan

WINDOW_S = 10.0


def containment(event_s: float, hop_s: float, n: int = 10_000, length_s: float = 600.0, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0, length_s - event_s - WINDOW_S, n)
    # window k covers [k*hop, k*hop + WINDOW_S]; the latest window starting at or before the event is the best
    k = np.floor(starts / hop_s)
    return float(np.mean(starts + event_s <= k * hop_s + WINDOW_S + 1e-9))


def main():
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", default=str(here.parent.parent / "shared" / "audio" / "librosa-data"))
    args = parser.parse_args()
    files = [f for f in scan([args.audio]) if not f.endswith(".hq.ogg")]
    hops = (10.0, 7.5, 5.0, 2.5)
    windows = dict.fromkeys(hops, 0)
    seconds = 0.0
    for path in files:
        x = audio.load(path)
        seconds += len(x) / audio.SAMPLE_RATE
        for hop in hops:
            windows[hop] += sum(1 for _ in audio.windows(iter([x]), 480_000, int(hop * audio.SAMPLE_RATE)))
    print(f"{len(files)} recordings, {seconds / 60:.1f} min\n")
    print("| hop | windows | windows/hour | cost vs hop 10 | event 1 s inside a window | 2 s | 5 s |")
    print("|---|---|---|---|---|---|---|")
    for hop in hops:
        inside = [containment(e, hop) for e in (1.0, 2.0, 5.0)]
        print(
            f"| {hop:g} s | {windows[hop]} | {windows[hop] / seconds * 3600:.0f} | "
            f"{windows[hop] / windows[10.0]:.2f}× | " + " | ".join(f"{c:.0%}" for c in inside) + " |"
        )


if __name__ == "__main__":
    main()
