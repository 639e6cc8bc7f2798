"""The public mode (a Space, a share link, a host others can reach): what one visitor may see and do, through every
API endpoint and the page, and that no server path reaches a visitor."""

import json
import re
import urllib.error
import urllib.request

import pytest
import soundfile as sf

from audioret import Config
from audioret.errors import InputError
from audioret.ui import Limits, decide
from audioret.ui.visitors import Visitors

from .conftest import EXAMPLES_DIR, make_tiny_clap, speak
from .test_app import SEARCH, open_browser, rows, serve

ADMIN = ("keeper", "s3cret-pass")

pytestmark = pytest.mark.slow  # the public app on a port, a browser


@pytest.fixture(scope="module")
def public(tmp_path_factory, tiny_clap_dir, asr_model, text_model):
    import os

    pytest.importorskip("gradio_client")
    data = tmp_path_factory.mktemp("public")
    here = os.getcwd()
    os.chdir(data)  # as app.py does: Gradio's upload folder of the public mode is relative to the working directory
    shared = data / "shared"
    speak(shared / "shared-note.wav", "The museum opens at nine on Sundays.")
    config = Config(
        data_dir=data / "index", clap_model=str(tiny_clap_dir), text_model=text_model, asr_model=asr_model, device="cpu"
    )
    access = decide("127.0.0.1", False, ADMIN, public=True, limits=Limits(searches_per_minute=1000))
    demo = serve(config, [str(EXAMPLES_DIR), str(shared)], access)
    assert demo.audioret.access.public and demo.audioret.served_paths == []
    yield demo
    demo.close()
    os.chdir(here)


def client(demo):
    from gradio_client import Client

    return Client(demo.url, verbose=False)


def upload(c, path):
    from gradio_client import handle_file

    return c.predict([handle_file(str(path))], "", api_name="/add_files")


ABSOLUTE = re.compile(r"(?<![\w.~-])/(?:tmp|root|home|work|usr|var|etc|opt|srv|mnt)/")


def no_server_path(text: str, *also: str) -> bool:
    return not ABSOLUTE.search(text) and not any(a in text for a in also)


def test_the_access_rules():
    space = decide("0.0.0.0", False, None, space_id="me/audioret")
    assert space.public and space.reason == "a Hugging Face Space" and space.admin is None
    assert decide("127.0.0.1", True, None).reason == "a share link"
    lan = decide("0.0.0.0", False, None)
    assert lan.public and lan.reason == "served on 0.0.0.0 without --auth"
    with_auth = decide("0.0.0.0", False, ADMIN)  # a host others can reach, with a login for the whole page
    assert not with_auth.public and with_auth.page_auth == ADMIN and with_auth.open_management
    on_space = decide("0.0.0.0", False, ADMIN, space_id="me/audioret")  # on a Space, --auth is the admin login
    assert on_space.public and on_space.admin == ADMIN and on_space.page_auth is None
    local = decide("127.0.0.1", False, None)
    assert not local.public and local.open_management
    assert decide("localhost", False, None, private=True).page_auth is None
    with pytest.raises(InputError, match="--private on a page others can reach needs --auth"):
        decide("0.0.0.0", False, None, private=True)
    with pytest.raises(InputError, match="contradict"):
        decide("127.0.0.1", False, None, public=True, private=True)
    assert Limits.from_env({"AUDIORET_VISITOR_FILES": "3"}).upload_files == 3
    with pytest.raises(InputError, match="AUDIORET_SESSION_HOURS must be a number"):
        Limits.from_env({"AUDIORET_SESSION_HOURS": "two"})


def test_visitors_see_and_remove_only_their_own_uploads(public, tmp_path):
    from gradio_client.exceptions import AppError

    a, b = client(public), client(public)
    memo = speak(tmp_path / "garage-code.wav", "The code for the garage door is four four seven.")
    report, status, listed, _ = upload(a, memo)
    assert report.startswith("**1 added") and ["garage-code.wav", "your uploads"] in [r[:2] for r in listed["data"]]
    assert "Public page: the shared library is read-only" in status
    mine = rows(a.predict("what is the garage door code", 5, 1.0, 1.0, *SEARCH, api_name="/search")[0])
    assert (mine[0]["file"], mine[0]["folder"]) == ("garage-code.wav", "your uploads")
    theirs = rows(b.predict("what is the garage door code", 20, 1.0, 1.0, *SEARCH, api_name="/search")[0])
    assert "garage-code.wav" not in [h["file"] for h in theirs]
    assert "garage-code.wav" not in [r[0] for r in b.predict("", api_name="/list_files")["data"]]
    with pytest.raises(AppError, match="No file"):
        b.predict("your uploads/garage-code.wav", "", api_name="/remove")
    with pytest.raises(AppError, match="No segment"):
        b.predict(mine[0]["segment"], 5, api_name="/similar")
    assert mine[0]["segment"] in [h["segment"] for h in mine]  # A may use it
    a.predict(mine[0]["segment"], 5, api_name="/similar")
    report, *_ = a.predict("your uploads/garage-code.wav", "", api_name="/remove")
    assert report == "- removed `your uploads/garage-code.wav`"


def test_visitors_cannot_change_the_shared_library_but_the_admin_can(public):
    from gradio_client.exceptions import AppError

    visitor = client(public)
    with pytest.raises(AppError, match="Only the admin may remove files of the shared library"):
        visitor.predict("examples/sounds/bell.flac", "", api_name="/remove")
    note, _ = visitor.predict(ADMIN[0], "wrong", api_name="/sign_in")
    assert note == "Wrong user or password."
    note, _ = visitor.predict(*ADMIN, api_name="/sign_in")
    assert note.startswith("Signed in")
    report, *_ = visitor.predict("shared/shared-note.wav", "", api_name="/remove")
    assert report == "- removed `shared/shared-note.wav`"
    assert "shared-note.wav" not in [r[0] for r in client(public).predict("", api_name="/list_files")["data"]]


def test_no_server_path_reaches_a_visitor(public, tmp_path):
    """/config, /gradio_api/info, every endpoint's answer, the errors and Gradio's upload answer: no absolute path,
    not the data folder, not the library folder. Gradio's own file route serves no library file."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    app = public.audioret
    hidden = (str(app.library.config.data_dir), str(EXAMPLES_DIR))
    c = client(public)
    answers = [
        urllib.request.urlopen(public.url + p, timeout=10).read().decode() for p in ("config", "gradio_api/info")
    ]
    memo = speak(tmp_path / "ferry.wav", "The ferry to the island leaves from pier three.")
    answers.append(json.dumps(upload(c, memo)))
    with open(memo, "rb") as f:  # what the browser gets back when it uploads a file
        import requests

        answers.append(requests.post(public.url + "gradio_api/upload", files={"files": f}, timeout=10).text)
    table, html, *_ = c.predict("when does the ferry leave", 5, 1.0, 1.0, *SEARCH, api_name="/search")
    answers += [json.dumps(table), html]
    answers.append(
        json.dumps(
            c.predict(handle_file(str(EXAMPLES_DIR / "sounds" / "bell.flac")), 3, *SEARCH, api_name="/search_example")[
                :3
            ]
        )
    )
    answers.append(json.dumps(c.predict(rows(table)[0]["segment"], 3, api_name="/similar")))
    answers.append(json.dumps(c.predict("", api_name="/list_files")))
    for call in (
        (("  ", 5, 1.0, 1.0, *SEARCH), "/search"),
        (("nope/x.wav", ""), "/remove"),
        (("nope-000000", 3), "/similar"),
    ):
        with pytest.raises(AppError) as e:
            c.predict(*call[0], api_name=call[1])
        answers.append(str(e.value))
    for answer in answers:
        assert no_server_path(answer, *hidden), answer[:2000]
    for path in (EXAMPLES_DIR / "sounds" / "bell.flac", app.library.config.data_dir / "chroma" / "chroma.sqlite3"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(public.url + f"gradio_api/file={path}", timeout=10)
        assert e.value.code in (403, 404)
    media = re.findall(r'src="(/media/[^"#]+)"', html)
    assert media and urllib.request.urlopen(public.url + media[0].lstrip("/"), timeout=10).status == 200


def test_a_made_up_forwarded_address_is_not_believed(public):
    """A page made public on a host of its own is reached directly: an X-Forwarded-For header is the visitor's own
    writing, so a new one on every request is not a new address. A media token made for one request's header still
    answers the next, whatever it writes (both are this connection's address); a share link's tunnel alone is
    believed."""
    import requests

    c = client(public)
    c.headers["X-Forwarded-For"] = "198.51.100.7"
    html = c.predict("when does the museum open", 5, 1.0, 1.0, *SEARCH, api_name="/search")[1]
    url = public.url + re.findall(r'src="/(media/[^"#]+)"', html)[0]
    assert requests.get(url, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10).status_code == 200
    assert requests.get(url, timeout=10).status_code == 200
    assert decide("127.0.0.1", True, None).forwarding_hosts == "127.0.0.1,::1"
    assert decide("0.0.0.0", False, None).forwarding_hosts == ""


def test_a_refused_name_tells_nothing_of_the_server(public):
    """A name that is not in the library is refused with its file name alone: a guess at the library's folder on
    the server reads exactly as any other guess."""
    from audioret.ui.library_tab import find

    app, said = public.audioret, set()
    for guess in (str(EXAMPLES_DIR / "sounds" / "nope.flac"), "/home/someone/sounds/nope.flac", "sounds/nope.flac"):
        with pytest.raises(InputError) as e:
            find(app, "visitor-guess", guess)
        said.add(app.scrub(str(e.value), "visitor-guess"))
    assert said == {"No file named 'nope.flac' in the library; name it as the list does"}
    with pytest.raises(InputError) as e:  # a name of 5,000 characters is not echoed whole
        find(app, "visitor-guess", "x" * 5000)
    assert len(str(e.value)) < 200


def test_a_skipped_channels_reason_names_no_server_path(tmp_path, text_model, asr_model):
    """A model set by a local path and refused at load (a collapsed CLAP): the start-up report every visitor sees
    names the channel and why, with the model's folder name, never its path on the server."""
    from audioret.ui import App

    clap = make_tiny_clap(tmp_path / "models" / "clap", spread=False)
    shared = tmp_path / "shared"
    speak(shared / "note.wav", "The library closes at six.")
    config = Config(
        data_dir=tmp_path / "index", clap_model=str(clap), text_model=text_model, asr_model=asr_model, device="cpu"
    )
    app = App(config, [str(shared)], access=decide("127.0.0.1", False, ADMIN, public=True))
    note = app.start()
    assert "clap channel skipped" in note and "'clap'" in note
    assert no_server_path(note, str(tmp_path)), note


def test_a_visitors_uploads_go_when_the_session_ends(public, tmp_path):
    app = public.audioret
    c = client(public)
    memo = speak(tmp_path / "parcel.wav", "Your parcel was left with the neighbour at number twelve.")
    upload(c, memo)
    visitor = app.visitors.known(c.session_hash)
    assert visitor is not None and (visitor.area / "parcel.wav").exists()
    html = c.predict("where is my parcel", 3, 1.0, 1.0, *SEARCH, api_name="/search")[1]
    clip = re.findall(r'src="(/media/[^"#]+)"', html)[0]
    app.end_session(c.session_hash)
    assert not visitor.area.exists()
    assert not [f for f in app.library.files() if f.path.startswith(str(visitor.area))]
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(public.url + clip.lstrip("/"), timeout=10)
    assert e.value.code == 404


def test_idle_visitors_expire_and_their_limits_hold(tmp_path):
    now = [0.0]
    visitors = Visitors(
        tmp_path, Limits(session_hours=1, upload_mb=1, upload_files=2, searches_per_minute=2), clock=lambda: now[0]
    )
    visitors.check_search("s")
    visitors.check_search("s")
    with pytest.raises(InputError, match="More than 2 searches in a minute"):
        visitors.check_search("s")
    now[0] += 61
    visitors.check_search("s")  # a minute later
    visitors.check_upload("s", 2, 500_000)
    visitors.added("s", 2, 500_000)
    with pytest.raises(InputError, match="A visitor may add 2 files in all; you have added 2"):
        visitors.check_upload("s", 1, 10)
    with pytest.raises(InputError, match="A visitor may add 1 MB in all"):
        visitors.check_upload("t", 1, 2_000_000)
    visitors.get("t")
    now[0] += 3000
    visitors.get("t")
    now[0] += 1000  # s idle for 4,000 s, t for 1,000
    assert visitors.expired() == ["s"]
    for _ in range(5):
        assert not visitors.sign_in("t", "x", "y", ADMIN)
        now[0] += 10  # past the account's wait after each wrong try, within the session's minute
    with pytest.raises(InputError, match="Too many wrong logins; wait a minute"):
        visitors.sign_in("t", *ADMIN, ADMIN)
    (tmp_path / "left-over").mkdir()
    assert tmp_path / "left-over" in visitors.leftovers()


def test_browser_two_visitors_and_no_path_on_the_page(public, tmp_path):
    """Visitor A adds a recording on the page; visitor B, in another browser, neither finds nor lists it; neither
    page's HTML holds a server path."""
    playwright = pytest.importorskip("playwright.sync_api")
    memo = speak(tmp_path / "bike-lock.wav", "The combination of the bike lock is two nine one.")
    hidden = (str(public.audioret.library.config.data_dir), str(EXAMPLES_DIR))
    with playwright.sync_playwright() as p:
        browser = open_browser(p)
        a = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        a.goto(public.url)
        a.locator("#query input").first.wait_for(timeout=60_000)
        a.locator("#status").get_by_text("Public page").wait_for(timeout=60_000)
        a.get_by_role("tab", name="Library").click()
        a.locator("#uploads input[type=file]").set_input_files(str(memo))
        a.get_by_role("button", name="Add and index").click()
        a.locator("#files").get_by_text("bike-lock.wav").wait_for(timeout=120_000)
        a.get_by_role("tab", name="Search").click()
        box = a.locator("#query input").first
        box.fill("the bike lock combination")
        box.press("Enter")
        a.locator(".hit", has_text="bike-lock.wav").first.wait_for(timeout=60_000)
        assert "your uploads" in a.locator(".hit").first.inner_text()
        a.locator(".hit").first.locator("button.vote[data-vote=like]").click()  # feedback works for a visitor...
        a.locator(".results-header", has_text="with your feedback").wait_for(timeout=60_000)
        assert not public.audioret.library.judgements_path.exists()  # ...and is not saved as the owner's judgements
        b = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        b.goto(public.url)
        box = b.locator("#query input").first
        box.wait_for(timeout=60_000)
        box.fill("the bike lock combination")
        box.press("Enter")
        b.locator(".results-header").wait_for(timeout=60_000)
        assert "bike-lock.wav" not in b.locator("#results").inner_text()
        b.get_by_role("tab", name="Library").click()
        b.locator("#files").get_by_text("bell.flac").wait_for(timeout=30_000)
        assert "bike-lock.wav" not in b.locator("#files").inner_text()
        for page in (a, b):
            assert no_server_path(page.content(), *hidden)
        browser.close()


def test_browser_duplicates_of_a_visitors_uploads(public, tmp_path):
    """A visitor adds a recording and its FLAC copy; Duplicates finds the pair, with a player for each (a media
    token, no path), marks the copy, offers the list without server paths, and leaves moving to the admin."""
    playwright = pytest.importorskip("playwright.sync_api")
    memo = speak(tmp_path / "parking.wav", "The car is parked on level three, row twelve.")
    samples, sr = sf.read(memo, dtype="float32")
    copy = tmp_path / "parking copy.flac"
    sf.write(copy, samples * 0.5, sr)
    hidden = (str(public.audioret.library.config.data_dir), str(EXAMPLES_DIR), str(tmp_path))
    with playwright.sync_playwright() as p:
        browser = open_browser(p)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(public.url)
        page.locator("#query input").first.wait_for(timeout=60_000)
        page.get_by_role("tab", name="Library").click()
        page.locator("#uploads input[type=file]").set_input_files([str(memo), str(copy)])
        page.get_by_role("button", name="Add and index").click()
        page.locator("#files").get_by_text("parking copy.flac").wait_for(timeout=120_000)
        page.locator("#duplicates").get_by_text("Duplicates").first.click()
        page.get_by_role("button", name="Find duplicates").click()
        table = page.locator("table.duplicates")
        table.wait_for(timeout=120_000)
        text = table.inner_text()
        assert "parking.wav" in text and "parking copy.flac" in text and "keep (suggested)" in text
        sources = [a.get_attribute("src") for a in table.locator("audio").all()]
        assert len(sources) == 2 and all(s.startswith("/media/") for s in sources)
        marked = page.locator("#marked input[type=checkbox]:checked")
        assert marked.count() == 1
        page.get_by_label("Move the marked copies into this folder").fill("set aside")
        page.get_by_role("button", name="Move…").click()
        page.get_by_text("Only the admin may move files").wait_for(timeout=30_000)
        link = page.locator("#duplicates a[download]").first
        link.wait_for(timeout=30_000)
        with page.expect_download() as download:
            link.click()
        listed = open(download.value.path()).read()
        assert "parking.wav" in listed and no_server_path(listed, *hidden)
        content = page.content()
        assert no_server_path(content, *hidden), [
            content[m.start() - 200 : m.end() + 100] for m in ABSOLUTE.finditer(content)
        ]
        browser.close()


def test_a_visitor_exports_names_and_clips_never_paths(public):
    """The export of a visitor's last results: CSV/JSON name files as shown, the zip holds clips; a playlist (server
    paths) is not offered."""
    import zipfile

    app = public.audioret
    hits = app.library.search("the museum opening hours", k=3, filters=app.scope("visitor-x"))
    assert hits
    app.last_results["visitor-x"] = ("“the museum opening hours”", hits)
    shown = ["/".join(reversed(app.shown(h.path, "visitor-x"))) for h in hits]
    hidden = (str(app.library.config.data_dir), str(EXAMPLES_DIR))
    for kind in ("csv", "json"):
        url = app.export("visitor-x", kind)
        assert url.startswith("/media/")
        text = urllib.request.urlopen(public.url.rstrip("/") + url, timeout=30).read().decode()
        assert all(name in text for name in shown) and no_server_path(text, *hidden)
    url = app.export("visitor-x", "clips")
    data = urllib.request.urlopen(public.url.rstrip("/") + url, timeout=30).read()
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sum(n.endswith(".wav") for n in z.namelist()) == len(hits)
        assert all(no_server_path(n, *hidden) for n in z.namelist())
    with pytest.raises(InputError, match="does not offer one"):
        app.export("visitor-x", "playlist")
    with pytest.raises(InputError, match="Search first"):
        app.export("someone-else", "csv")
    exports = app.library.config.data_dir / "exports"
    before = sorted(exports.iterdir())
    app.export("visitor-x", "csv")  # replaces the session's zip: the folders stay as many
    assert len(sorted(exports.iterdir())) == len(before)
    app.end_session("visitor-x")  # and the session's export goes with it
    assert len(sorted(exports.iterdir())) == len(before) - 1


def test_messages_are_whole_sentences():
    """The header of an empty answer and a model's not-found error end where they should (a wrapped string once
    lost its second half and the page said '... or the filters leave')."""
    from audioret.models.hub import not_found
    from audioret.ui.results import header

    assert header("“x”", 0, False).endswith("or the library holds nothing yet</h3>")
    # a list with a match and weak hits under it says how many of each (a visitor read "10 results" as ten matches)
    assert header("“x”", 10, False, matches=1).endswith("10 results for “x”: 1 match, 9 weak</h3>")
    assert header("“x”", 3, False, matches=3).endswith("3 results for “x”</h3>")
    error = not_found("clap", "laion/clap-htsat-unfused", "AUDIORET_CLAP_MODEL", OSError("offline"))
    assert str(error).endswith("(HF_HUB_OFFLINE=1 then uses the cache).")
