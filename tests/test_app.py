"""The web app through its API (gradio_client against a real server on a free localhost port)."""

import time

import pytest

from audioret import Config, InputError, Library
from audioret.audio import is_audio_path
from audioret.ui import build_demo

from .conftest import EXAMPLES_DIR, free_port, speak, tone, write


EXAMPLE_FILES = sum(map(is_audio_path, EXAMPLES_DIR.rglob("*")))  # 8, more after examples/fetch_cc0.py


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_clap_dir, asr_model, text_model):
    gradio_client = pytest.importorskip("gradio_client")
    data = tmp_path_factory.mktemp("app")
    config = Config(data_dir=data / "index", clap_model=str(tiny_clap_dir), text_model=text_model,
                    asr_model=asr_model, device="cpu")  # fmt: skip
    demo = build_demo(config, library_paths=[str(EXAMPLES_DIR)])
    assert demo.audioret.roots == [str(EXAMPLES_DIR)]
    demo.audioret.index_in_background().join()
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        allowed_paths=demo.audioret.served_paths)  # fmt: skip
    client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.url = f"http://127.0.0.1:{port}/"
    yield demo, client
    demo.close()


def test_build_demo_does_not_launch(tiny_clap_dir, tmp_path):
    demo = build_demo(Config(data_dir=tmp_path, clap_model=str(tiny_clap_dir)))
    assert not demo.is_running
    names = {d["api_name"] for d in demo.config["dependencies"] if d.get("api_name")}
    assert {"search", "search_spoken", "search_example", "add_files", "remove"} <= names


def rows(result):
    table = result[0]
    return [dict(zip(table["headers"], row)) for row in table["data"]]


def test_text_search_api(server):
    _, client = server
    hits = rows(client.predict("rain on a tin roof", 5, 1.0, 1.0, "", "", None, None, api_name="/search"))
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0]["file"].endswith("sounds/rain-on-roof.flac")  # its description says so
    assert hits[0]["text"] >= 0.3 and 0 <= hits[0]["start_s"] < hits[0]["end_s"] <= 10.0
    assert "roof" in hits[0]["matched words"]  # its name or its description


def test_spoken_query_api(server, tmp_path):
    from gradio_client import handle_file

    _, client = server
    recording = speak(tmp_path / "q.wav", "the part where they talk about the harvest")
    query, table, note = client.predict(handle_file(str(recording)), 3, 1.0, 1.0, "", "", None, None,
                                        api_name="/search_spoken")  # fmt: skip
    assert "harvest" in query.lower() and note.startswith("Heard (en)")
    hits = rows((table,))
    assert hits[0]["file"].endswith("speech/voice-memo-harvest.flac")
    assert hits[0]["start_s"] >= 0.3 and "harvest" in hits[0]["matched words"].lower()


def test_query_by_example_api(server):
    from gradio_client import handle_file

    _, client = server
    bell = EXAMPLES_DIR / "sounds" / "bell.flac"
    hits = rows(client.predict(handle_file(str(bell)), 3, "", "", None, None, api_name="/search_example"))
    assert hits[0]["file"] == str(bell) and hits[0]["clap"] == pytest.approx(1.0, abs=1e-3)


def test_upload_and_index_then_find(server, tmp_path):
    from gradio_client import handle_file

    demo, client = server
    new = speak(tmp_path / "dentist.wav", "Your appointment with the dentist is on Friday at noon.")
    (tmp_path / "notes.txt").write_text("not audio")
    report, stats = client.predict([handle_file(str(new)), handle_file(str(tmp_path / "notes.txt"))],
                                   api_name="/add_files")  # fmt: skip
    assert report.startswith("**1 added") and "notes.txt: not an audio file" in report
    assert f"{EXAMPLE_FILES + 1} files" in stats
    hits = rows(client.predict("when do I see the dentist", 3, 1.0, 1.0, "", "", None, None, api_name="/search"))
    assert hits[0]["file"] == str(demo.audioret.uploads / "dentist.wav")


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
    report, _ = client.predict([handle_file(str(archive))], api_name="/add_files")
    assert report.startswith("**1 added")
    assert "memos.zip: ../../outside.wav: an unsafe path" in report and "memos.zip: house/list.pdf: not an audio" in report
    uploads = demo.audioret.uploads
    assert not (uploads.parent / "outside.wav").exists() and not (uploads / "outside.wav").exists()
    hits = rows(client.predict("when is the plumber coming", 3, 1.0, 1.0, "", "", None, None, api_name="/search"))
    assert hits[0]["file"] == str(uploads / "memos" / "house" / "plumber.wav")
    assert "plumber" in hits[0]["matched words"].lower()


def test_page_says_which_channel_is_off_and_text_still_answers(tmp_path, text_model, asr_model):
    """No CLAP model (offline, no local copy): the page loads, names the channel and the setting; text answers."""
    missing = tmp_path / "no-clap-here"
    config = Config(data_dir=tmp_path / "index", clap_model=str(missing), text_model=text_model,
                    asr_model=asr_model, device="cpu")  # fmt: skip
    demo = build_demo(config, library_paths=[str(EXAMPLES_DIR)])
    first_load = next(f.fn for f in demo.fns.values() if f.name == "first_load")
    status, _, note = first_load()
    assert "The sound (CLAP) channel is off" in status and "AUDIORET_CLAP_MODEL" in status
    assert f"{EXAMPLE_FILES} files" in status and "clap" in note
    hits = demo.audioret.search("the part where they talk about the harvest", 3, 1.0, 1.0, "", "", None, None)
    assert hits[0].path.endswith("voice-memo-harvest.flac") and set(hits[0].scores) == {"text"}


def test_user_errors_are_messages(server):
    from gradio_client.exceptions import AppError

    _, client = server
    with pytest.raises(AppError, match="The query is empty"):
        client.predict("  ", 5, 1.0, 1.0, "", "", None, None, api_name="/search")


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_browser_type_enter_see_cards(server, tmp_path):
    """A real browser: type a query, press Enter, see cards with players and scores; nothing leaves the machine."""
    playwright = pytest.importorskip("playwright.sync_api")
    demo, _ = server
    with playwright.sync_playwright() as p:
        browser = open_browser(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        off_machine = []
        page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                else off_machine.append(r.url))  # fmt: skip
        page.goto(demo.url)
        box = page.locator("#query textarea").first
        box.wait_for(timeout=60_000)
        box.fill("rain on a tin roof")
        box.press("Enter")
        page.locator(".hit").first.wait_for(timeout=60_000)
        first = page.locator(".hit").first.inner_text()
        assert first.startswith("1. rain-on-roof.flac") and "text 0." in first
        assert float(first.split("score ")[1].split()[0]) > 0.5 and "(strong)" in first  # a match, and why
        assert page.locator(".hit-audio").count() >= 1
        page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
        browser.close()
    assert off_machine == []


def open_browser(p):
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


def test_browser_upload_then_find_on_a_phone_screen(server, tmp_path):
    """On a 390-px phone screen: add a recording in the Library tab, then find it by searching for what it says."""
    playwright = pytest.importorskip("playwright.sync_api")
    demo, _ = server
    memo = speak(tmp_path / "memo-0412.wav", "Please water the tomatoes in the garden every evening.")
    with playwright.sync_playwright() as p:
        browser = open_browser(p)
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        page.goto(demo.url)
        page.locator("#query textarea").first.wait_for(timeout=60_000)
        page.get_by_role("tab", name="Library").click()
        page.locator("#uploads input[type=file]").set_input_files(str(memo))
        page.get_by_role("button", name="Add and index").click()
        page.locator("#report").get_by_text("1 added").wait_for(timeout=120_000)
        page.get_by_role("tab", name="Search").click()
        box = page.locator("#query textarea").first
        box.fill("watering the tomato plants")
        box.press("Enter")
        page.locator(".hit").filter(has_text="memo-0412.wav").first.wait_for(timeout=60_000)
        first = page.locator(".hit").first.inner_text()
        assert first.startswith("1. memo-0412.wav") and "said at 0:00" in first and "tomatoes" in first
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than a phone screen"
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        browser.close()


def test_only_the_library_uploads_and_clips_are_served(server):
    """Path traversal and absolute paths against gradio's file route are refused; library files are served."""
    import urllib.error
    import urllib.parse
    import urllib.request

    demo, _ = server

    def status(path: str) -> int:
        url = demo.url + "gradio_api/file=" + urllib.parse.quote(path, safe="/")
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    bell = EXAMPLES_DIR / "sounds" / "bell.flac"
    assert status(str(bell)) == 200
    for path in ("/etc/passwd", str(EXAMPLES_DIR / ".." / "README.md"), f"{EXAMPLES_DIR}/../../../etc/passwd",
                 str(EXAMPLES_DIR.parent / "app.py"), str(demo.audioret.library.config.data_dir / "chroma" / "chroma.sqlite3")):  # fmt: skip
        assert status(path) in (403, 404), path


def test_auth_protects_everything_and_uploads_are_limited(tmp_path, tiny_clap_dir, text_model, asr_model):
    import urllib.error
    import urllib.request

    from gradio_client import Client, handle_file

    config = Config(data_dir=tmp_path / "index", clap_model=str(tiny_clap_dir), text_model=text_model,
                    asr_model=asr_model, device="cpu")  # fmt: skip
    demo = build_demo(config, library_paths=[str(tmp_path / "empty")])
    (tmp_path / "empty").mkdir()
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        auth=("ann", "s3cret"), max_file_size="1mb", allowed_paths=demo.audioret.served_paths)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        for path in ("gradio_api/info", "config", f"gradio_api/file={EXAMPLES_DIR}/sounds/bell.flac"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(url + path, timeout=10)
            assert e.value.code in (401, 403), path
        with pytest.raises(Exception):
            Client(url, verbose=False, auth=("ann", "wrong"))
        client = Client(url, verbose=False, auth=("ann", "s3cret"))
        big = write(tmp_path / "big.wav", tone(30.0, 440))  # 2.9 MB
        assert big.stat().st_size > 2**20
        with pytest.raises(Exception, match="(?i)too large|exceeds|maximum"):
            client.predict([handle_file(str(big))], api_name="/add_files")
        assert not (demo.audioret.uploads / "big.wav").exists()
    finally:
        demo.close()


def test_too_many_files_in_one_upload_is_refused(tmp_path, tiny_clap_dir):
    from audioret.archive import MAX_UPLOAD_FILES

    library = Library(Config(data_dir=tmp_path, clap_model=str(tiny_clap_dir)))
    with pytest.raises(InputError, match=f"{MAX_UPLOAD_FILES + 1} files in one upload, more than the limit"):
        library.add_files([str(tmp_path / f"{i}.wav") for i in range(MAX_UPLOAD_FILES + 1)], tmp_path / "uploads")
    assert not (tmp_path / "uploads").exists()
