"""The web app on this machine (not public): its API through gradio_client and the page in a real browser, against
a real server on a free localhost port. The public mode has its own tests (test_public.py)."""

import os
import re

import numpy as np
import pytest
import soundfile as sf

from audioret import Config, InputError, Library
from audioret.audio import is_audio_path
from audioret.ui import build_demo, decide, launch

from .conftest import EXAMPLES_DIR, free_port, speak, tone, write

EXAMPLE_FILES = sum(map(is_audio_path, EXAMPLES_DIR.rglob("*")))  # 8, more after examples/fetch_cc0.py
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEARCH = ("", "", None, None)  # no folder, extension or duration filter

pytestmark = pytest.mark.slow  # the app on a port, a browser


def serve(config, library, access=None, **launch_kwargs):
    """The page as app.py serves it, on a free localhost port; returns the demo with its ``url``."""
    demo = build_demo(config, library_paths=library, access=access)
    demo.audioret.warm_up().join()
    port = free_port()
    launch(
        demo.queue(), server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs
    )
    demo.url = f"http://127.0.0.1:{port}/"
    return demo


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_clap_dir, asr_model, text_model):
    gradio_client = pytest.importorskip("gradio_client")
    data = tmp_path_factory.mktemp("app")
    config = Config(
        data_dir=data / "index", clap_model=str(tiny_clap_dir), text_model=text_model, asr_model=asr_model, device="cpu"
    )
    demo = serve(config, [str(EXAMPLES_DIR)])
    assert demo.audioret.roots == [str(EXAMPLES_DIR)] and not demo.audioret.access.public
    yield demo, gradio_client.Client(demo.url, verbose=False)
    demo.close()


def rows(table):
    return [dict(zip(table["headers"], row)) for row in table["data"]]


def test_build_demo_does_not_launch(tiny_clap_dir, tmp_path):
    demo = build_demo(Config(data_dir=tmp_path, clap_model=str(tiny_clap_dir)))
    assert not demo.is_running
    names = {d["api_name"] for d in demo.config["dependencies"] if d.get("api_name")}
    assert {"search", "search_spoken", "search_example", "similar", "add_files", "remove", "list_files"} <= names
    # a script's author reads what each parameter and answer is ("Use via API"), not q, k_, cw or value_83
    api = demo.get_api_info()["named_endpoints"]
    assert [p["parameter_name"] for p in api["/search"]["parameters"]] == [
        *("query", "k", "clap_weight", "text_weight", "folder", "extensions", "min_seconds", "max_seconds")
    ]
    assert [r["label"] for r in api["/search"]["returns"]][:3] == ["results", "results as HTML", "what was heard"]
    for name in ("/search", "/search_spoken", "/search_example"):  # a script may leave the filters out
        optional = [p["parameter_name"] for p in api[name]["parameters"] if p["parameter_has_default"]]
        assert {"folder", "extensions", "min_seconds", "max_seconds"} <= set(optional), name
    assert [p["parameter_name"] for p in api["/remove"]["parameters"]] == ["file", "pattern"]


def test_text_search_api(server):
    _, client = server
    table, html, *_ = client.predict("rain on a tin roof", 5, 1.0, 1.0, *SEARCH, api_name="/search")
    hits = rows(table)
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert (hits[0]["file"], hits[0]["folder"]) == ("rain-on-roof.flac", "examples/sounds")  # its description says so
    assert hits[0]["text (cosine)"] >= 0.3 and 0 <= hits[0]["from"] < hits[0]["to"] <= 10.0
    assert "roof" in hits[0]["matched text"] and hits[0]["why"].startswith(("name:", "sidecar:"))
    assert "5 results for “rain on a tin roof”" in html and html.count('class="hit"') == 5
    # a quoted phrase no file holds: its words searched as any others, and the page says so
    table, html, *_ = client.predict('"zebra crossing"', 5, 1.0, 1.0, api_name="/search")
    phrase = "&quot;zebra crossing&quot;"
    assert len(rows(table)) == 5 and html.count('class="hit"') == 5
    held = f"no file holds {phrase} word for word (a transcript may have heard it otherwise)"
    assert (
        f"No good match for “{phrase}”: {held}, and nothing is clearly near it. The closest 5, all weak:</h3>" in html
    )
    # a phrase held only outside the folder asked for: the one real reason, as the command line gives it
    table, html, *_ = client.predict('"tin roof"', 5, 1.0, 1.0, "examples/speech", "", None, None, api_name="/search")
    assert rows(table) == [] and html.count('class="hit"') == 0
    phrase = "&quot;tin roof&quot;"
    assert f"No results for “{phrase}”: the filters left out the files that hold {phrase} word for word</h3>" in html


def test_spoken_query_api(server, tmp_path):
    from gradio_client import handle_file

    _, client = server
    recording = speak(tmp_path / "q.wav", "the part where they talk about the harvest")
    query, table, html, note, _ = client.predict(
        handle_file(str(recording)), 3, 1.0, 1.0, *SEARCH, api_name="/search_spoken"
    )
    assert "harvest" in query.lower() and note.startswith("Heard (en)") and "harvest" in html
    hits = rows(table)
    assert hits[0]["file"] == "voice-memo-harvest.flac"
    assert hits[0]["from"] >= 0.3 and "harvest" in hits[0]["matched text"].lower()


def test_query_by_example_and_more_like_this_api(server):
    from gradio_client import handle_file

    _, client = server
    bell = EXAMPLES_DIR / "sounds" / "bell.flac"
    table, html, note, *_ = client.predict(handle_file(str(bell)), 3, *SEARCH, api_name="/search_example")
    hits = rows(table)
    assert hits[0]["file"] == "bell.flac" and hits[0]["sound (cosine)"] == pytest.approx(1.0, abs=1e-3)
    assert "your example sound" in html and note == "Sounds like your example:"
    table, html, _ = client.predict(hits[0]["segment"], 3, api_name="/similar")
    assert "bell.flac" not in [h["file"] for h in rows(table)]  # never the segment's own file
    assert "for sounds like bell.flac 0:00.0–0:08.0" in html  # the header says what was searched
    assert "No good match" not in html or "sounds like that example" in html  # found by sound: nothing was said
    assert "sounds like that or says it" not in html


def test_upload_and_index_then_find(server, tmp_path):
    from gradio_client import handle_file

    demo, client = server
    new = speak(tmp_path / "dentist.wav", "Your appointment with the dentist is on Friday at noon.")
    (tmp_path / "notes.txt").write_text("not audio")
    (tmp_path / "broken.wav").write_text("not audio either, whatever the name says")
    report, status, listed, uploads = client.predict(
        [handle_file(str(new)), handle_file(str(tmp_path / "notes.txt")), handle_file(str(tmp_path / "broken.wav"))],
        "",
        api_name="/add_files",
    )
    assert report.startswith("**1 added") and "notes.txt: not an audio file" in report and "broken.wav" in report
    assert not (demo.audioret.uploads / "broken.wav").exists()  # what could not be indexed is not kept
    assert f"{EXAMPLE_FILES + 1} files" in status and uploads is None  # the upload box is cleared
    assert ["dentist.wav", "uploads"] in [row[:2] for row in listed["data"]]
    hits = rows(client.predict("when do I see the dentist", 3, 1.0, 1.0, *SEARCH, api_name="/search")[0])
    assert (hits[0]["file"], hits[0]["folder"]) == ("dentist.wav", "uploads")
    assert (demo.audioret.uploads / "dentist.wav").exists()


def test_zip_upload_indexes_its_audio_and_refuses_unsafe_entries(server, tmp_path):
    import zipfile

    from gradio_client import handle_file

    demo, client = server
    memo = speak(tmp_path / "memo.wav", "The plumber will come on Tuesday to fix the kitchen sink.")
    archive = tmp_path / "memos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(memo, "house/plumber.wav")
        zf.write(memo, "../../outside.wav")
        zf.writestr("house/list.pdf", b"%PDF")
    report, *_ = client.predict([handle_file(str(archive))], "", api_name="/add_files")
    assert report.startswith("**1 added")
    assert (
        "memos.zip: ../../outside.wav: an unsafe path" in report and "memos.zip: house/list.pdf: not an audio" in report
    )
    uploads = demo.audioret.uploads
    assert not (uploads.parent / "outside.wav").exists() and not (uploads / "outside.wav").exists()
    hits = rows(client.predict("when is the plumber coming", 3, 1.0, 1.0, *SEARCH, api_name="/search")[0])
    assert (hits[0]["file"], hits[0]["folder"]) == ("plumber.wav", "uploads/memos/house")
    assert "plumber" in hits[0]["matched text"].lower()


def test_library_list_filters_and_removes_with_the_shown_name(server, tmp_path):
    from gradio_client import handle_file

    _, client = server
    gone = write(tmp_path / "short-lived.wav", tone(2.0, 700))
    client.predict([handle_file(str(gone))], "", api_name="/add_files")
    listed = client.predict("short-lived", api_name="/list_files")["data"]
    assert [row[:2] for row in listed] == [["short-lived.wav", "uploads"]] and listed[0][3] == "sound + text"
    report, status, *_ = client.predict("uploads/short-lived.wav", "", api_name="/remove")
    assert report == "- removed `uploads/short-lived.wav`"
    assert client.predict("short-lived", api_name="/list_files")["data"] == []


def test_page_says_which_channel_is_off_and_text_still_answers(tmp_path, text_model, asr_model):
    """No CLAP model (offline, no local copy): the page loads, names the channel and the setting; text answers."""
    missing = tmp_path / "no-clap-here"
    config = Config(
        data_dir=tmp_path / "index", clap_model=str(missing), text_model=text_model, asr_model=asr_model, device="cpu"
    )
    demo = build_demo(config, library_paths=[str(EXAMPLES_DIR)])
    first_load = next(f.fn for f in demo.fns.values() if f.name == "first_load")
    status, _, note, *_ = first_load()
    assert "The sound channel (CLAP) is off" in status and "searches use the text channel" in status
    assert "AUDIORET_CLAP_MODEL" in status and "<details>" in status  # the fix in a line, the raw error behind a toggle
    assert f"{EXAMPLE_FILES} files" in status and "clap" in note
    hits = demo.audioret.library.search("the part where they talk about the harvest", 3)
    assert hits[0].path.endswith("voice-memo-harvest.flac") and set(hits[0].scores) == {"text"}


def test_an_unreachable_hub_is_a_message_within_seconds(tmp_path, text_model, asr_model, monkeypatch):
    """A hub model that is not in the cache, the hub unreachable: the page says so in seconds, not minutes."""
    import time

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: connection refused at once
    config = Config(
        data_dir=tmp_path / "index",
        clap_model="laion/clap-htsat-unfused",
        text_model=text_model,
        asr_model=asr_model,
        device="cpu",
    )
    demo = build_demo(config, library_paths=[str(EXAMPLES_DIR)])
    first_load = next(f.fn for f in demo.fns.values() if f.name == "first_load")
    t0 = time.monotonic()
    status, *_ = first_load()
    assert time.monotonic() - t0 < 10
    assert "not in the local cache and the Hugging Face hub cannot be reached" in status
    assert "To fix: set AUDIORET_CLAP_MODEL (or --clap-model) to a local model directory" in status


def test_user_errors_are_messages(server):
    from gradio_client.exceptions import AppError

    _, client = server
    with pytest.raises(AppError, match="The query is empty"):
        client.predict("  ", 5, 1.0, 1.0, *SEARCH, api_name="/search")
    with pytest.raises(AppError, match="No file 'nothing/here.wav' in the library"):
        client.predict("nothing/here.wav", "", api_name="/remove")


def test_only_the_library_uploads_and_clips_are_served(server):
    """Path traversal and absolute paths against gradio's file route are refused; library files are served; the
    media route answers only tokens it made."""
    import urllib.error
    import urllib.parse

    demo, _ = server

    def status(path: str) -> int:
        try:
            with urllib.request.urlopen(demo.url + path, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def file_route(path: str) -> str:
        return "gradio_api/file=" + urllib.parse.quote(path, safe="/")

    assert status(file_route(str(EXAMPLES_DIR / "sounds" / "bell.flac"))) == 200
    for path in (
        "/etc/passwd",
        str(EXAMPLES_DIR / ".." / "README.md"),
        f"{EXAMPLES_DIR}/../../../etc/passwd",
        str(EXAMPLES_DIR.parent / "app.py"),
        str(demo.audioret.library.config.data_dir / "chroma" / "chroma.sqlite3"),
    ):
        assert status(file_route(path)) in (403, 404), path
    assert status("media/not-a-token") == 404 and status("media/..%2F..%2Fetc%2Fpasswd") == 404


def test_auth_protects_everything_and_uploads_are_limited(tmp_path, tiny_clap_dir, text_model, asr_model):
    import urllib.error

    from gradio_client import Client, handle_file

    config = Config(
        data_dir=tmp_path / "index",
        clap_model=str(tiny_clap_dir),
        text_model=text_model,
        asr_model=asr_model,
        device="cpu",
    )
    (tmp_path / "empty").mkdir()
    access = decide("127.0.0.1", False, ("ann", "s3cret"))  # on this machine, --auth is a login for the page
    assert not access.public and access.page_auth == ("ann", "s3cret")
    demo = serve(config, [str(tmp_path / "empty")], access, max_file_size="1mb")
    try:
        for path in ("gradio_api/info", "config", f"gradio_api/file={EXAMPLES_DIR}/sounds/bell.flac"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(demo.url + path, timeout=10)
            assert e.value.code in (401, 403), path
        with pytest.raises(Exception):
            Client(demo.url, verbose=False, auth=("ann", "wrong"))
        client = Client(demo.url, verbose=False, auth=("ann", "s3cret"))
        big = write(tmp_path / "big.wav", tone(30.0, 440))  # 2.9 MB
        assert big.stat().st_size > 2**20
        with pytest.raises(Exception, match="(?i)too large|exceeds|maximum"):
            client.predict([handle_file(str(big))], "", api_name="/add_files")
        assert not (demo.audioret.uploads / "big.wav").exists()
    finally:
        demo.close()


def test_app_py_says_where_it_runs_and_how_to_share(tmp_path, tiny_clap_dir):
    """``python app.py`` prints the page's address and this command's own way to share it, not Gradio's hint to
    "set `share=True` in `launch()`", which a user of the command cannot follow."""
    import subprocess
    import sys
    import time
    import urllib.request

    library = tmp_path / "lib"
    write(library / "tone.wav", tone(2.0, 440))
    port = free_port()
    env = {**os.environ, "AUDIORET_CLAP_MODEL": str(tiny_clap_dir), "AUDIORET_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, str(EXAMPLES_DIR.parent / "app.py"), "--port", str(port), "--library", str(library)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            lines.append(line)
            if "share" in line:  # the last line about the address, this command's or Gradio's
                break
        out = "".join(lines)
        assert f"* Running on local URL:  http://127.0.0.1:{port}" in out, out
        assert "python app.py --share" in out and "share=True" not in out, out
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_too_many_files_in_one_upload_is_refused(tmp_path, tiny_clap_dir):
    from audioret.archive import MAX_UPLOAD_FILES

    library = Library(Config(data_dir=tmp_path, clap_model=str(tiny_clap_dir)))
    with pytest.raises(InputError, match=f"{MAX_UPLOAD_FILES + 1} files in one upload, more than the limit"):
        library.add_files([str(tmp_path / f"{i}.wav") for i in range(MAX_UPLOAD_FILES + 1)], tmp_path / "uploads")
    assert not (tmp_path / "uploads").exists()


# -- in a real browser ----------------------------------------------------------------------------------------------


def open_browser(p):
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


def open_page(p, url: str, width: int = 1280, height: int = 900):
    """A browser with the page open and its query box ready: ``(browser, page)``."""
    browser = open_browser(p)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.locator("#query input").first.wait_for(timeout=60_000)
    return browser, page


def header_in_view(page) -> bool:
    """Whether the results header is (within 3 s: the scroll is smooth) wholly inside the window."""
    try:
        page.wait_for_function(
            """() => { const r = document.querySelector('.results-header').getBoundingClientRect();
                                          return r.top >= 0 && r.bottom <= window.innerHeight; }""",
            timeout=3000,
        )
        return True
    except Exception:
        return False


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_browser_type_enter_see_cards(server, tmp_path, width, height):
    """Type a query, press Enter: the results header scrolls into view, the first card names the file, its folder,
    the score and why, with a player of the segment; nothing is fetched from outside the machine."""
    playwright = pytest.importorskip("playwright.sync_api")
    demo, _ = server
    with playwright.sync_playwright() as p:
        browser = open_browser(p)
        page = browser.new_page(viewport={"width": width, "height": height})
        off_machine = []
        page.on(
            "request",
            lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else off_machine.append(r.url),
        )
        page.goto(demo.url)
        box = page.locator("#query input").first
        box.wait_for(timeout=60_000)
        box.fill("rain on a tin roof")
        box.press("Enter")
        page.locator(".hit").first.wait_for(timeout=60_000)
        header = page.locator(".results-header").inner_text()
        assert re.match(r"(\d+) results for “rain on a tin roof”", header), header
        assert header_in_view(page)
        first = page.locator(".hit").first.inner_text()
        assert first.startswith("1. rain-on-roof.flac") and "examples/sounds" in first
        assert float(first.split("score ")[1].split()[0]) > 0.5 and "(strong)" in first  # a match, and why
        assert page.locator(".hit audio.segment").count() == int(header.split()[0])
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        page.screenshot(path=str(tmp_path / f"search-{width}.png"))
        browser.close()
    assert off_machine == []


def test_browser_chip_searches_and_more_like_this_says_so(server):
    playwright = pytest.importorskip("playwright.sync_api")
    demo, _ = server
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, demo.url)
        page.locator(".chip", has_text="a bell ringing").click()
        page.locator(".results-header", has_text="a bell ringing").wait_for(timeout=60_000)
        assert page.locator("#query input").first.input_value() == "a bell ringing"
        page.locator(".hit button.more").first.click()
        page.locator(".results-header", has_text="sounds like").wait_for(timeout=60_000)
        header = page.locator(".results-header").inner_text()
        assert re.search(r"for sounds like \S+\.flac \d:\d\d\.\d–\d:\d\d\.\d", header), header
        page.locator("#new-search").click()
        page.wait_for_function("() => !document.querySelector('.results-header')", timeout=30_000)
        assert page.locator("#query input").first.input_value() == ""
        browser.close()


def test_browser_thumbs_reshape_the_results_and_say_so(server):
    """👎 on the first card hides it and the header says what the feedback changed; 👍 on another keeps it."""
    playwright = pytest.importorskip("playwright.sync_api")
    demo, _ = server
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, demo.url)
        box = page.locator("#query input").first
        box.fill("rain on a tin roof")
        box.press("Enter")
        page.locator(".hit").first.wait_for(timeout=60_000)
        first = page.locator(".hit .hit-name").first.inner_text().split(". ", 1)[1]
        second = page.locator(".hit .hit-name").nth(1).inner_text().split(". ", 1)[1]
        page.locator(".hit").first.locator("button.vote[data-vote=unlike]").click()
        page.locator(".results-header", has_text="with your feedback").wait_for(timeout=60_000)
        assert "left out" in page.locator(".results-header").inner_text()
        names = [n.split(". ", 1)[1] for n in page.locator(".hit .hit-name").all_inner_texts()]
        assert first not in names and second in names
        page.locator(".hit", has_text=second).first.locator("button.vote[data-vote=like]").click()
        page.wait_for_function("() => document.querySelector('.hit .hit-name').innerText.startsWith('1. ')")
        page.locator(".results-header", has_text="with your feedback").wait_for(timeout=60_000)
        names = [n.split(". ", 1)[1] for n in page.locator(".hit .hit-name").all_inner_texts()]
        assert first not in names and second in names  # the feedback of the session adds up
        # a local page saves the votes as the owner's relevance judgements (for `audioret eval --qrels`)
        from audioret import judgements

        queries, qrels = judgements.load(demo.audioret.library.judgements_path)
        judged = qrels[judgements.query_id("rain on a tin roof")]
        assert sorted(judged.values()) == [0, 1] and all(os.path.basename(f) in (first, second) for f in judged)
        # each card offers its segment; the list goes out as a playlist on this (local) page
        assert page.locator(".hit a.download").count() == len(names)
        page.locator("#export").get_by_role("button", name="Playlist (M3U8)").click()
        link = page.locator("#export-link a")
        link.wait_for(timeout=30_000)
        with page.expect_download() as download:
            link.click()
        entries = [line for line in open(download.value.path()).read().splitlines() if not line.startswith("#")]
        assert len(entries) == len(names) and all(os.path.isabs(e) and os.path.exists(e) for e in entries)
        browser.close()


def test_browser_timeline_strip_marks_where_the_words_are(server, tmp_path):
    """A 70-s recording, the words at 40 s: its card's strip marks the cells around 40 s, and a click plays the
    whole file from there."""
    playwright = pytest.importorskip("playwright.sync_api")
    demo, client = server
    words = speak(tmp_path / "words.wav", "The lighthouse keeper found a letter inside the ink bottle.")
    said = sf.read(words, dtype="float32")[0]
    rng = np.random.default_rng(5)
    recording = np.concatenate(
        [
            0.05 * rng.standard_normal(48000 * 40).astype(np.float32),
            said,
            0.05 * rng.standard_normal(48000 * 25).astype(np.float32),
        ]
    )
    write(tmp_path / "long-walk.wav", recording)
    from gradio_client import handle_file

    client.predict([handle_file(str(tmp_path / "long-walk.wav"))], "", api_name="/add_files")
    with playwright.sync_playwright() as p:
        browser = open_browser(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(demo.url)
        box = page.locator("#query input").first
        box.wait_for(timeout=60_000)
        box.fill("the lighthouse keeper found a letter")
        box.press("Enter")
        card = page.locator(".hit", has_text="long-walk.wav").first
        card.wait_for(timeout=60_000)
        marked = [float(t) for t in card.locator(".strip span.mark").evaluate_all("e => e.map(x => x.dataset.t)")]
        assert marked and 37 <= min(marked) and max(marked) <= 46, marked
        card.locator(".strip span.mark").first.click()
        src = card.locator("audio.whole").get_attribute("src")
        assert src.startswith("/media/") and f"#t={marked[0]:.1f}" in src
        browser.close()


def test_browser_upload_then_find_on_a_phone_screen(server, tmp_path):
    """On a 390-px phone screen: add a recording in the Library tab, then find it by searching for what it says."""
    playwright = pytest.importorskip("playwright.sync_api")
    demo, _ = server
    memo = speak(tmp_path / "memo-0412.wav", "Please water the tomatoes in the garden every evening.")
    with playwright.sync_playwright() as p:
        browser = open_browser(p)
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        page.goto(demo.url)
        page.locator("#query input").first.wait_for(timeout=60_000)
        page.get_by_role("tab", name="Library").click()
        page.locator("#uploads input[type=file]").set_input_files(str(memo))
        page.get_by_role("button", name="Add and index").click()
        page.locator("#files").get_by_text("memo-0412.wav").wait_for(timeout=120_000)  # added, and the list is current
        assert "1 added" in page.locator("#report").inner_text()
        page.get_by_role("tab", name="Search").click()
        box = page.locator("#query input").first
        box.fill("watering the tomato plants")
        box.press("Enter")
        page.locator(".hit").filter(has_text="memo-0412.wav").first.wait_for(timeout=60_000)
        first = page.locator(".hit").first.inner_text()
        assert first.startswith("1. memo-0412.wav") and "said at 0:00" in first and "tomatoes" in first
        assert header_in_view(page)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than a phone screen"
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        browser.close()


def test_a_page_load_says_what_the_start_up_job_is_loading(tmp_path, tiny_clap_dir):
    """While the start-up job holds the library (a model downloading), a page load passes its words on, then the
    job's note."""
    import threading
    import time

    from audioret.ui import App

    app = App(Config(data_dir=tmp_path, clap_model=str(tiny_clap_dir)), [])
    app._start_lock.acquire()
    app.loading = ("downloading the sound model (CLAP): 120 of 615 MB", 0.2)
    said = []
    page = threading.Thread(target=lambda: said.append(app.first_load(say=lambda text, f: said.append((text, f)))))
    page.start()
    time.sleep(1.2)
    app.loading, app.start_note = ("", None), "the job's note"
    app._start_lock.release()
    page.join(timeout=10)
    assert said[0] == ("downloading the sound model (CLAP): 120 of 615 MB", 0.2) and said[-1] == "the job's note"


@pytest.mark.slow  # two pages built
def test_a_library_of_ones_own_starts_without_the_demos_chips(tmp_path, tiny_clap_dir, text_model, asr_model):
    """With ``examples=None`` (``app.py --library``) the chips showed the demo's queries during the start-up until
    the first load put the library's tags there: they start hidden now; the demo's page shows its queries at once."""
    config = Config(
        data_dir=tmp_path / "index", clap_model=str(tiny_clap_dir), text_model=text_model, asr_model=asr_model
    )

    def chips(demo):
        found = [c for c in demo.config["components"] if "chip" in (c["props"].get("elem_classes") or [])]
        assert found
        return [c["props"].get("visible", True) for c in found]

    assert not any(chips(build_demo(config, [str(EXAMPLES_DIR)], examples=None)))
    assert all(chips(build_demo(config, [str(EXAMPLES_DIR)])))
