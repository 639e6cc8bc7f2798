"""The README's pictures of the page, taken from the real page in chromium (Playwright).

    python docs/screenshots.py [--data-dir /tmp/audioret-shots]

Serves the demo library (examples/) with the models of the AUDIORET_* settings, searches it as a visitor would, and
saves docs/search.png (the Search tab, results in view) and docs/library.png (the Library tab and its map), each
PNG quantised to 256 colours to stay small.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def small_png(path: Path) -> int:
    """Re-saves a screenshot with a 256-colour palette; returns its size in bytes."""
    from PIL import Image

    image = Image.open(path).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)
    return path.stat().st_size


def main() -> None:
    from playwright.sync_api import sync_playwright

    from audioret import Config
    from audioret.ui import build_demo, launch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="where the index goes (default: a new temporary folder)")
    ap.add_argument("--port", type=int, default=7899)
    args = ap.parse_args()
    data = Path(args.data_dir or tempfile.mkdtemp(prefix="audioret-shots-"))
    demo = build_demo(Config.from_env(data_dir=data), [str(HERE.parent / "examples")])
    demo.audioret.warm_up().join()
    launch(demo.queue(), server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=True, quiet=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(f"http://127.0.0.1:{args.port}/")
        box = page.locator("#query input").first
        box.wait_for(timeout=120_000)
        page.get_by_role("button", name="Search", exact=True).wait_for(timeout=300_000)
        box.fill("the part where they talk about the harvest")
        box.press("Enter")
        page.locator(".hit").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(HERE / "search.png"))
        page.get_by_role("tab", name="Library").click()
        page.wait_for_function(
            "() => { const c = document.querySelector('canvas.map'); return c && +c.dataset.points > 0; }",
            timeout=120_000,
        )
        canvas = page.locator("canvas.map").bounding_box()
        page.mouse.move(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
        page.wait_for_timeout(500)
        page.screenshot(path=str(HERE / "library.png"))
        browser.close()
    demo.close()
    for name in ("search.png", "library.png"):
        print(f"docs/{name}: {small_png(HERE / name) / 1000:.0f} kB")


if __name__ == "__main__":
    main()
