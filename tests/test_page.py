"""The page as a new user meets it, in a real browser: the start-up status until the models are ready, the map
(drawn, a click plays, a box scopes the search), tag chips that filter, a spoken query held on the space bar that
plays its best match, and text never cut inside a word. Also the helpers behind them."""

from __future__ import annotations

import re

import pytest

from audioret import Config
from audioret.errors import InputError
from audioret.render import length, shorten
from audioret.ui import build_demo, launch

from .conftest import EXAMPLES_DIR, free_port, speak
from .test_app import CHROMIUM_ARGS, open_page, serve
from .test_public import public  # noqa: F401  (the public page: a fixture)


def test_shorten_cuts_between_words_or_after_a_sentence():
    text = "Can't load it. If you were trying to load it from 'https://huggingface.co/models', make sure. Otherwise"
    assert shorten(text, 200) == text
    assert shorten(text, 60) == "Can't load it. If you were trying to load it from…"
    assert shorten(text, 24) == "Can't load it."
    cut = shorten("one two three https://huggingface.co/docs/installation#offline-mode", 40)
    assert cut == "one two three…"  # the link is left out whole, never cut
    assert shorten("x" * 50, 10) == "x" * 10 + "…"


def test_length_of_audio_reads_at_a_glance():
    # the header and `stats` said "0.02 h" for 72 s of audio
    seconds = (0, 0.4, 3.2, 59.4, 59.6, 72, 600, 3599.6, 7500)
    said = ("0 s", "0 s", "3 s", "59 s", "1 min", "1 min 12 s", "10 min", "1 h 00 min", "2 h 05 min")
    assert [length(s) for s in seconds] == list(said)


def test_scrub_keeps_links_and_hides_paths(tmp_path, tiny_clap_dir):
    app = build_demo(Config(data_dir=tmp_path, clap_model=str(tiny_clap_dir))).audioret
    said = app.scrub("see https://huggingface.co/models or file:///srv/data/x.wav and /home/me/lib/a.wav")
    assert "https://huggingface.co/models" in said and "/srv/data" not in said and "/home/me" not in said


def search_for(page, text: str):
    """Types a query and presses Enter; returns the query box once the first card is there."""
    box = page.locator("#query input").first
    box.fill(text)
    box.press("Enter")
    page.locator(".hit").first.wait_for(timeout=60_000)
    return box


def map_drawn(page) -> None:
    """Waits for the Library tab's map to hold its dots."""
    page.wait_for_function(
        "() => { const c = document.querySelector('canvas.map'); return c && +c.dataset.points > 0; }",
        timeout=60_000,
    )


@pytest.fixture(scope="module")
def page_server(tmp_path_factory, tiny_clap_dir, asr_model, text_model):
    data = tmp_path_factory.mktemp("page")
    config = Config(
        data_dir=data / "index", clap_model=str(tiny_clap_dir), text_model=text_model, asr_model=asr_model, device="cpu"
    )
    demo = serve(config, [str(EXAMPLES_DIR)])
    yield demo
    demo.close()


@pytest.mark.slow
def test_browser_start_up_status_shows_until_the_models_are_ready(tmp_path, tiny_clap_dir, asr_model, text_model):
    """While the start-up job loads a model the header says so (and for how long) and Search is closed; then the
    header tells what the library holds and Search opens."""
    playwright = pytest.importorskip("playwright.sync_api")
    config = Config(
        data_dir=tmp_path / "index", clap_model=str(tiny_clap_dir), text_model=text_model, asr_model=asr_model
    )
    demo = build_demo(config, library_paths=[str(EXAMPLES_DIR)])
    app = demo.audioret
    app._start_lock.acquire()  # the start-up job, held at its first step
    app.loading = ("loading the sound model (CLAP), tiny (local)", None)
    port = free_port()
    launch(demo.queue(), server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with playwright.sync_playwright() as p:
            browser, page = open_page(p, f"http://127.0.0.1:{port}/")
            status = page.locator("#status")
            status.get_by_text("Starting: loading the sound model (CLAP)").wait_for(timeout=30_000)
            assert re.search(r"\(\d+ s so far\)", status.inner_text())
            button = page.get_by_role("button", name="Starting…")
            assert button.is_disabled()
            app._start_lock.release()
            app.loading = ("", None)
            app.warm_up()  # now the real job: the models load, the library is indexed
            status.get_by_text("files", exact=False).first.wait_for(timeout=300_000)
            page.get_by_role("button", name="Search", exact=True).wait_for(timeout=30_000)
            assert page.get_by_role("button", name="Search", exact=True).is_enabled()
            assert "Starting" not in status.inner_text() and re.search(r"\d+ files", status.inner_text())
            browser.close()
    finally:
        demo.close()


@pytest.mark.slow
def test_browser_map_draws_a_click_plays_and_a_box_scopes_the_search(page_server):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, page_server.url)
        search_for(page, "a bell ringing")
        page.get_by_role("tab", name="Library").click()
        map_drawn(page)
        shown = page.locator("#map").evaluate("e => e.querySelector('canvas.map').dataset.points")
        files = len(page_server.audioret.library.files())
        assert int(shown) == files
        assert "Ringed: the results of your last search" in page.locator(".map-note").inner_text()
        # hover a point: its name; a click: the player plays it
        canvas = page.locator("canvas.map")
        rect = canvas.bounding_box()
        from audioret import library_map

        found = library_map.file_map(page_server.audioret.library)  # the layout the page drew (kept: the same)
        w, h = rect["width"], rect["height"]
        s = min(w, h)
        px = (w - s) / 2 + float(found.xy[0, 0]) * s
        py = (h - s) / 2 + (1 - float(found.xy[0, 1])) * s
        page.mouse.move(rect["x"] + px, rect["y"] + py)
        tip = page.locator(".map-tip")
        tip.wait_for(state="visible", timeout=10_000)
        name = found.paths[0].rsplit("/", 1)[1]
        assert name in tip.inner_text() and str(EXAMPLES_DIR) not in tip.inner_text()
        page.mouse.click(rect["x"] + px, rect["y"] + py)
        player = page.locator("#map-player audio")
        player.wait_for(timeout=30_000)
        assert player.get_attribute("src").startswith("/media/") and name in page.locator("#map-player").inner_text()
        page.wait_for_function("() => !document.querySelector('#map-player audio').paused", timeout=10_000)
        # a box around the first point only: the next search looks only there, and goes back to the Search tab
        page.mouse.move(rect["x"] + px - 8, rect["y"] + py - 8)
        page.mouse.down()
        page.mouse.move(rect["x"] + px + 8, rect["y"] + py + 8, steps=5)
        page.mouse.up()
        page.locator("#map-selection").get_by_text("Searching only in").wait_for(timeout=30_000)
        page.locator(".results-header", has_text="chosen on the map").wait_for(timeout=60_000)
        names = [n.split(". ", 1)[1] for n in page.locator(".hit .hit-name").all_inner_texts()]
        assert names and set(names) <= {p.rsplit("/", 1)[1] for p in found.paths[:1]} | {name}
        browser.close()


@pytest.mark.slow
def test_browser_a_tag_chip_filters_the_results(page_server):
    playwright = pytest.importorskip("playwright.sync_api")
    library = page_server.audioret.library
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, page_server.url)
        search_for(page, "someone talking")
        before = page.locator(".hit").count()
        chip = page.locator(".hit button.tag", has_text=re.compile(r"^speech$")).first
        chip.click()
        page.locator("#only-tags").get_by_text("speech").first.wait_for(timeout=60_000)
        page.wait_for_function(f"() => document.querySelectorAll('.hit').length < {before}", timeout=60_000)
        shown = [n.split(". ", 1)[1] for n in page.locator(".hit .hit-name").all_inner_texts()]
        tagged = {f.path.rsplit("/", 1)[1] for f in library.files() if "speech" in f.tags}
        assert shown and set(shown) <= tagged  # every result carries the tag
        assert all("speech" in c for c in page.locator(".hit .tags").all_inner_texts())
        browser.close()


@pytest.mark.slow
def test_browser_push_to_talk_plays_the_best_match_and_says_what_it_heard(page_server, tmp_path, text_model):
    """Hold the space bar, say the query (chromium's fake microphone plays a spoken recording), let go: the header
    says in one sentence what was heard and found, and the best segment plays by itself; a typed query does not."""
    playwright = pytest.importorskip("playwright.sync_api")
    said = speak(tmp_path / "said.wav", "the part where they talk about the harvest", lead_s=0.3, tail_s=1.0)
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={said}",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(page_server.url)
        page.locator("#query input").first.wait_for(timeout=60_000)
        page.locator("#mic button.record-button").wait_for(timeout=30_000)
        page.locator("h1").first.click()  # the focus on the page, not in a text box
        page.keyboard.down("Space")
        page.locator("#mic button.stop-button").wait_for(timeout=10_000)
        page.wait_for_timeout(4500)
        page.keyboard.up("Space")
        heard = page.locator("#heard")
        heard.get_by_text("Heard (en)").wait_for(timeout=120_000)
        sentence = heard.inner_text()
        assert "harvest" in sentence.lower() and "voice-memo-harvest.flac" in sentence and "the best is" in sentence
        playing = "() => { const a = document.querySelector('.hit audio.segment'); return a && !a.paused; }"
        page.wait_for_function(playing, timeout=15_000)
        box = page.locator("#query input").first
        box.fill("a bell ringing")
        box.press("Enter")
        page.locator(".results-header", has_text="a bell ringing").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        assert page.evaluate("() => [...document.querySelectorAll('.hit audio')].every(a => a.paused)")
        browser.close()


WORD_CUT = re.compile(r"[A-Za-z]{2,}\.(?=\s|$)")


@pytest.mark.slow
def test_browser_no_text_is_cut_inside_a_word(tmp_path, text_model, asr_model):
    """No model loads (none is cached, the hub cannot be reached): the page says so in whole words with its links
    intact, Search is closed with a reason, and a search gives no red error badge."""
    playwright = pytest.importorskip("playwright.sync_api")
    config = Config(
        data_dir=tmp_path / "index",
        clap_model="laion/clap-htsat-unfused",
        text_model="sentence-transformers/all-MiniLM-L6-v2",
        asr_model=asr_model,
        device="cpu",
    )
    demo = serve(config, [str(EXAMPLES_DIR)])
    try:
        with playwright.sync_playwright() as p:
            browser, page = open_page(p, demo.url)
            status = page.locator("#status")
            status.get_by_text("Both channels are off").wait_for(timeout=60_000)
            for summary in page.locator("#status summary").all():
                summary.click()
            text = status.inner_text()
            assert "https:/" not in text.replace("https://", "")  # no link lost a slash
            details = demo.audioret.library.failures
            for failure in details.values():
                for word in re.findall(r"[A-Za-z]{4,}", failure.details or ""):
                    assert word in text or word in failure.short, word  # every word whole, none cut
            assert page.get_by_role("button", name="Search is off").is_disabled()
            assert page.locator("#query input").first.is_disabled()
            assert page.locator(".error").count() == 0 and "Error" not in page.locator("#results").inner_text()
            browser.close()
    finally:
        demo.close()


@pytest.mark.slow
def test_browser_public_map_shows_no_other_visitors_files_and_no_tag_edits(public, tmp_path):  # noqa: F811
    """Visitor A adds a recording; visitor B's map holds only the shared library, names as shown (no server path),
    and B's chosen file offers no tag edit (the admin's)."""
    from .test_public import client as visitor
    from .test_public import no_server_path, upload

    playwright = pytest.importorskip("playwright.sync_api")
    memo = speak(tmp_path / "secret-plan.wav", "The surprise party is on Friday at the lake house.")
    assert upload(visitor(public), memo)[0].startswith("**1 added")
    app = public.audioret
    shared = [f for f in app.library.files() if any(f.path.startswith(r) for r in app.roots)]
    hidden = (str(app.library.config.data_dir), str(EXAMPLES_DIR), str(tmp_path))
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, public.url)
        page.get_by_role("tab", name="Library").click()
        map_drawn(page)
        assert int(page.locator("canvas.map").get_attribute("data-points")) == len(shared)
        page.locator("#files").get_by_text("bell.flac").first.click()
        page.locator("#chosen-text").get_by_text("bell.flac").wait_for(timeout=30_000)
        assert not page.locator("#my-tag").is_visible()
        assert "only the admin may remove" in page.locator("#chosen-text").inner_text()
        assert "secret-plan" not in page.content() and no_server_path(page.content(), *hidden)
        browser.close()


@pytest.mark.slow
def test_browser_cards_table_and_library_read_as_they_should(page_server):
    """ "Search by this sound" puts what it searched in the query box; the table under the cards has one-line headers,
    the cards' formatting and the whole "why"; the Library tab has one status line, no "yours" column on this
    machine, and a row click asks nothing."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, page_server.url)
        box = search_for(page, "rain on a tin roof")
        page.locator(".as-table summary").click()
        heights = page.locator(".as-table th").evaluate_all("e => e.map(x => x.getBoundingClientRect().height)")
        assert max(heights) < 1.6 * min(heights)  # no header wraps onto a second line
        first = page.locator(".as-table tbody tr").first.locator("td").all_inner_texts()
        card = page.locator(".hit").first.inner_text()
        assert re.fullmatch(r"\d:\d\d\.\d–\d:\d\d\.\d", first[3]) and first[3] in card
        assert re.fullmatch(r"\d\.\d\d", first[4]) and f"score {first[4]}" in card
        assert first[7] in card and not first[7].endswith("…")  # the whole "why", as on the card
        assert page.locator(".hit button", has_text="👍").count() == 0
        page.locator(".hit button.more").first.click()
        page.locator(".results-header", has_text="sounds like").wait_for(timeout=60_000)
        assert box.input_value().startswith("sounds like ")
        page.get_by_role("tab", name="Library").click()
        page.locator("#files").get_by_text("bell.flac").first.click()
        page.locator("#chosen-text").get_by_text("bell.flac").wait_for(timeout=30_000)
        assert not page.get_by_role("button", name="Yes, remove it").is_visible()
        assert page.locator("#files th", has_text="yours").count() == 0
        assert page.locator("strong", has_text=re.compile(r"^\d+ files$")).count() == 1  # the header's, once
        browser.close()


def test_tag_queries_are_the_library_s_own_most_common_tags():
    from audioret.types import Tag
    from audioret.ui import tag_queries

    tags = [
        Tag("loud", "loudness", 9),
        Tag("Rain", "sound", 4),
        Tag("en", "language", 8),
        Tag("field recording", "user", 4),
        Tag("rain", "user", 2),
        Tag("Dog", "sound", 6),
        Tag("Bell", "sound", 0),
    ]
    assert tag_queries(tags, 5) == ["Dog", "field recording", "Rain"]  # a user's tag before a label on as many
    assert tag_queries(tags, 1) == ["Dog"] and tag_queries([], 5) == []


@pytest.mark.slow
def test_browser_on_your_own_library_the_chips_are_its_tags(tmp_path, tiny_clap_dir, text_model):
    """Served with ``--library`` (no demo queries), the chips under the box are the library's own tags, and one
    searches for what it says; no chip speaks of the demo library."""
    import shutil

    playwright = pytest.importorskip("playwright.sync_api")
    lib = tmp_path / "lib"
    lib.mkdir()
    wavs = sorted((EXAMPLES_DIR / "sounds").glob("*.flac"))[:3]
    for w in wavs:
        shutil.copy(w, lib / w.name)
    config = Config(data_dir=tmp_path / "index", clap_model=str(tiny_clap_dir), text_model=text_model, device="cpu")
    demo = build_demo(config, library_paths=[str(lib)], examples=None)
    demo.audioret.warm_up().join()
    library = demo.audioret.library
    for w in wavs[:2]:
        library.tag(lib / w.name, add=["porch at night"])
    library.tag(lib / wavs[2].name, add=["kettle"])
    port = free_port()
    launch(demo.queue(), server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with playwright.sync_playwright() as p:
            browser, page = open_page(p, f"http://127.0.0.1:{port}/")
            page.locator(".chip", has_text="porch at night").wait_for(timeout=60_000)
            chips = [c.strip() for c in page.locator(".chip").all_inner_texts() if c.strip()]
            assert chips[:2] == ["porch at night", "kettle"], chips
            assert not {"rain on a tin roof", "a bell ringing"} & set(chips)
            page.locator(".chip", has_text="kettle").click()
            page.locator(".hit").first.wait_for(timeout=60_000)
            assert page.locator("#query input").first.input_value() == "kettle"
            assert page.locator(".hit .hit-name").first.inner_text().endswith(wavs[2].name)
            browser.close()
    finally:
        demo.close()


def test_a_map_redraw_counts_as_a_search_in_the_public_mode(tmp_path, tiny_clap_dir):
    """Drawing the map again reads every file of the visitor's view: in the public mode it spends the visitor's
    searches like a search, and one over the limit is refused with the search's message."""
    import dataclasses

    import gradio as gr

    from audioret.ui import App, Limits, decide
    from audioret.ui.map_view import MapHandlers

    limits = dataclasses.replace(Limits(), searches_per_minute=3)
    config = Config(data_dir=tmp_path, clap_model=str(tiny_clap_dir))
    open_page_app = App(config, [], access=decide("127.0.0.1", False, None, public=True, limits=limits))
    on, visitor = MapHandlers(open_page_app), gr.Request(session_hash="visitor-1")
    for _ in range(3):
        assert "0 files" in on.redraw(visitor)["note"]
    with pytest.raises(gr.Error, match="More than 3 searches in a minute"):
        on.redraw(visitor)
    with pytest.raises(InputError, match="More than 3 searches in a minute"):  # the map spent the searches
        open_page_app.visitors.check_search("visitor-1")
    assert "0 files" in on.redraw(gr.Request(session_hash="visitor-2"))["note"]  # another visitor's own allowance
    local = MapHandlers(App(dataclasses.replace(config, data_dir=tmp_path / "local"), []))
    for _ in range(5):  # a page of one's own: no limit
        assert "0 files" in local.redraw(visitor)["note"]
