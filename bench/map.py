"""The library map (audioret/library_map.py, audioret/ui/map_view.py): from files' mean vectors to a drawn plot.

    python bench/map.py [--files 10000] [--dim 512] [--rounds 3]

Each round runs, each in a process of its own and in alternating order: the layout by UMAP and by PCA of
``--files`` mean vectors (clustered unit vectors: 40 groups, as a library of kinds of sound is), cold (the import
and umap-learn's numba functions compiled on first use; numba caches them on disk, so only a machine's very first
map pays the compilation) and warm (a second layout in the same process). Then, once, the payload the page gets
(JSON) and its draw in chromium: the page's own drawing script over the payload, timed from the value's arrival to
the last dot (the script's ``data-drawn-ms``) and to the next frame. An index run lays the map out at its end
and keeps it beside the index; what a visitor waits for is then (``kept``, in a process of its own): the kept
layout read from disk and the map of the library made from it, with ``--new`` files added since placed by their
nearest laid-out files, then the payload and the draw.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

CHILD = """
import sys, time, json
t0 = time.perf_counter()
import numpy as np
from audioret.library_map import layout, pca, to_unit_square
n, dim, method = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
centres = rng.standard_normal((40, dim))
x = centres[rng.integers(0, 40, n)] + 0.4 * rng.standard_normal((n, dim))
x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
times = []
for _ in range(2):
    t = time.perf_counter()
    if method == "umap":
        xy, used = layout(x)
        assert used == "umap"
    else:
        xy = to_unit_square(pca(x, 2))
    times.append(time.perf_counter() - t)
print(json.dumps({"cold_s": times[0], "warm_s": times[1], "with_import_s": time.perf_counter() - t0 - times[1]}))
"""


KEPT = """
import sys, time, json, tempfile
from pathlib import Path
import numpy as np
from audioret.library_map import MapCache, pca, to_unit_square
from audioret.types import FileInfo
n, dim, new = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
centres = rng.standard_normal((40, dim))
x = centres[rng.integers(0, 40, n + new)] + 0.4 * rng.standard_normal((n + new, dim))
x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
files = [FileInfo(f"/lib/{i:06d}.flac", 8.0, ("clap",), False, 100, 1) for i in range(n + new)]
vectors = {f.path: x[i][None] for i, f in enumerate(files)}
kept = Path(tempfile.mkdtemp()) / "layout.npz"
xy = to_unit_square(pca(x[:n], 2))  # where they lie does not change the time: PCA's places stand in for UMAP's
MapCache(vectors.__getitem__, kept)._keep(files[:n], list(x[:n]), xy, "umap")  # as an index run keeps its layout
t = time.perf_counter()
found = MapCache(vectors.__getitem__, kept).file_map(files)  # a new process: the kept layout, new files placed
assert found.placed == new and len(found.paths) == n + new
print(json.dumps({"kept_map_s": time.perf_counter() - t, "kept_mb": kept.stat().st_size / 1e6}))
"""


def kept_times(n: int, dim: int, new: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    out = subprocess.run(
        [sys.executable, "-c", KEPT, str(n), str(dim), str(new)], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def layout_times(n: int, dim: int, method: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(dim), method], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def draw_times(n: int) -> dict:
    """The page's drawing script over an n-point payload in chromium: ms to draw, and to the next frame."""
    from playwright.sync_api import sync_playwright

    from audioret.ui.map_view import CSS, PALETTE, SCRIPT, TEMPLATE

    rng = np.random.default_rng(1)
    value = {
        "x": [round(float(v), 4) for v in rng.random(n)],
        "y": [round(float(v), 4) for v in rng.random(n)],
        "c": [int(c) for c in rng.integers(0, len(PALETTE), n)],
        "colours": PALETTE,
        "n": [f"examples/sounds/file-{i:05d}.flac" for i in range(n)],
        "t": ["rain, thunderstorm, medium loudness" for _ in range(n)],
        "h": list(range(10)),
        "legend": [[f"tag {i}", c] for i, c in enumerate(PALETTE)],
        "note": f"{n} files",
    }
    payload = json.dumps(value)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    harness = f"""<html><head><style>{CSS}</style></head><body style="width:1200px">
    <div id="map">{TEMPLATE}</div>
    <script>
    const element = document.getElementById('map');
    const watchers = [];
    const props = {{value: {{}}}};
    const watch = (name, f) => watchers.push(f);
    const trigger = () => {{}};
    {SCRIPT}
    window.show = (text) => {{ const t0 = performance.now(); props.value = JSON.parse(text);
      watchers.forEach(f => f()); const drawn = performance.now() - t0;
      return new Promise(done => requestAnimationFrame(() => done([drawn, performance.now() - t0]))); }};
    </script></body></html>"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_content(harness)
        rounds = [page.evaluate("t => window.show(t)", payload) for _ in range(5)]
        hover = page.evaluate(
            """() => { const c = document.querySelector('canvas.map'), r = c.getBoundingClientRect();
                       const t0 = performance.now();
                       c.dispatchEvent(new PointerEvent('pointermove', {clientX: r.left + 300, clientY: r.top + 200,
                                                                       bubbles: true}));
                       return performance.now() - t0; }"""
        )
        browser.close()
    return {
        "payload_mb": len(payload) / 1e6,
        "draw_ms": sorted(r[0] for r in rounds)[2],
        "frame_ms": sorted(r[1] for r in rounds)[2],
        "hover_ms": hover,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--new", type=int, default=500, help="files added since the kept layout, placed by neighbours")
    ap.add_argument("--kept-only", action="store_true", help="only the kept map and the draw (no new layouts)")
    args = ap.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d')}")
    results: dict[str, list[dict]] = {"umap": [], "pca": []}
    for r in range(0 if args.kept_only else args.rounds):
        for method in ("umap", "pca") if r % 2 == 0 else ("pca", "umap"):
            got = layout_times(args.files, args.dim, method)
            results[method].append(got)
            print(f"round {r + 1} {method}: " + ", ".join(f"{k} {v:.2f}" for k, v in got.items()), flush=True)
    for method, got in results.items() if not args.kept_only else ():
        for key in ("cold_s", "warm_s", "with_import_s"):
            values = sorted(g[key] for g in got)
            print(f"{method} {key}: {values[0]:.2f}-{values[-1]:.2f} over {len(values)} rounds")
    for r in range(args.rounds):
        got = kept_times(args.files, args.dim, args.new)
        print(
            f"round {r + 1} kept map ({args.new} new files placed): "
            + ", ".join(f"{k} {v:.2f}" for k, v in got.items())
        )
    drawn = draw_times(args.files)
    print(", ".join(f"{k} {v:.2f}" for k, v in drawn.items()))
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
