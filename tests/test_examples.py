"""The demo library: what examples/ holds, and the optional CC0 download (from a loopback mirror here)."""

import functools
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from audioret.audio import probe

from .conftest import EXAMPLES_DIR, require_shared


@pytest.fixture
def mirror(tmp_path):
    """The Sonic Pi samples served over HTTP on 127.0.0.1, with one of them missing."""
    source = require_shared("sonicpi_samples", "audio")
    served = tmp_path / "served"
    served.mkdir()
    for f in source.glob("*.flac"):
        if f.stem != "misc_crow":
            (served / f.name).symlink_to(f)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def run_fetch(*args):
    return subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / "fetch_cc0.py"), *args], capture_output=True, text=True, timeout=300
    )


def test_fetch_cc0_downloads_describes_and_resumes(mirror, tmp_path):
    dest = tmp_path / "cc0"
    first = run_fetch("--to", str(dest), "--base-url", mirror)
    assert first.returncode == 1
    assert "failed: misc_crow.flac: " in first.stderr and "Run the command again" in first.stderr
    assert "39 of 40 recordings" in first.stdout
    flacs = sorted(dest.glob("*.flac"))
    assert len(flacs) == 39 and not list(dest.glob("*.part"))
    assert all(probe(f).duration_s > 0 for f in flacs)
    assert (dest / "loop_tabla.txt").read_text().startswith("a tabla drum loop, Indian hand drums. Sonic Pi sample")
    mtime = (dest / "loop_tabla.flac").stat().st_mtime_ns
    again = run_fetch("--to", str(dest), "--base-url", mirror)  # resumes: keeps what is there
    assert (dest / "loop_tabla.flac").stat().st_mtime_ns == mtime and "39 of 40" in again.stdout


def test_examples_are_small_and_documented():
    audio = [p for p in EXAMPLES_DIR.rglob("*") if p.suffix == ".flac" and "cc0" not in p.parts]
    assert len(audio) == 8 and sum(p.stat().st_size for p in audio) < 3_000_000
    readme = (EXAMPLES_DIR / "README.md").read_text()
    assert all(p.name in readme for p in audio)
