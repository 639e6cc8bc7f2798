"""The public mode probed as a hostile visitor would: a client that makes up a new session id for each request,
archives that lie by their wrapping, Gradio's raw upload route, borrowed media tokens, numbers that would tell about
other visitors, and requests racing for the same clip. The page runs as on a Hugging Face Space (``SPACE_ID``),
so each client's address is the ``X-Forwarded-For`` header the test sends, as the Space's proxy sets it."""

from __future__ import annotations

import io
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioret import Config
from audioret.errors import InputError
from audioret.ui import Limits, decide
from audioret.ui.access import counted, forwarded_address
from audioret.ui.minutes import cost
from audioret.ui.turns import turn_size
from audioret.ui.uploads import CACHE_DELETE
from audioret.ui.visitors import Visitors, login_wait_s

from .conftest import EXAMPLES_DIR, REPO, speak, tone, write
from .test_app import SEARCH, open_browser, rows, serve

ADMIN = ("keeper", "s3cret-pass")
LIMITS = Limits(
    searches_per_minute=6,
    address_searches_per_minute=10,
    all_searches_per_minute=10_000,
    upload_files=2,
    upload_mb=5,
    address_files=3,
    address_mb=8,
    upload_minutes=10,
    address_minutes=15,
    all_files=1000,
    all_mb=1000,
    login_free_tries=2,
    login_wait_s=0.3,
)


@pytest.fixture(scope="module")
def space(tmp_path_factory, tiny_clap_dir, asr_model, text_model):
    pytest.importorskip("gradio_client")
    data = tmp_path_factory.mktemp("space")
    here = os.getcwd()
    os.chdir(data)  # as app.py does
    shared = data / "shared"
    speak(shared / "shared-note.wav", "The museum opens at nine on Sundays.")
    config = Config(
        data_dir=data / "index", clap_model=str(tiny_clap_dir), text_model=text_model, asr_model=asr_model, device="cpu"
    )
    access = decide("127.0.0.1", False, ADMIN, space_id="someone/audioret", limits=LIMITS)
    assert access.public and access.trust_proxy
    demo = serve(config, [str(EXAMPLES_DIR), str(shared)], access)
    yield demo
    demo.close()
    os.chdir(here)


def client(demo, address: str):
    from gradio_client import Client

    return Client(demo.url, verbose=False, headers={"X-Forwarded-For": address})


def fresh(c):
    """A new session id for the next request, as a lying client makes one up."""
    c.session_hash = str(uuid.uuid4())
    return c


def search(c, q="a bell ringing", k=5):
    return c.predict(q, k, 1.0, 1.0, *SEARCH, api_name="/search")


def upload(c, *paths):
    from gradio_client import handle_file

    return c.predict([handle_file(str(p)) for p in paths], "", api_name="/add_files")


def get(demo, url: str, address: str) -> tuple[int, bytes]:
    request = urllib.request.Request(demo.url.rstrip("/") + url, headers={"X-Forwarded-For": address})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def post_upload(demo, data: bytes, address: str, name: str = "x.wav"):
    import requests

    return requests.post(
        demo.url + "gradio_api/upload", files={"files": (name, data)}, headers={"X-Forwarded-For": address}, timeout=60
    )


def call(demo, api_name: str, data: list, address: str) -> dict:
    """An event called through Gradio's raw queue API (as a script would, without gradio_client): its last message."""
    fn = next(d["id"] for d in demo.config["dependencies"] if d.get("api_name") == api_name)
    return call_fn(demo, fn, data, address)


def call_fn(demo, fn: int, data: list, address: str, event_data=None, trigger_id=None, session=None) -> dict:
    """Event ``fn`` called through Gradio's raw queue API, with whatever ``event_data`` a script makes up."""
    import requests

    session = session or str(uuid.uuid4())
    headers = {"X-Forwarded-For": address}
    requests.post(
        demo.url + "gradio_api/queue/join",
        json={
            "data": data,
            "fn_index": fn,
            "session_hash": session,
            "event_data": event_data,
            "trigger_id": trigger_id,
        },
        headers=headers,
        timeout=30,
    ).raise_for_status()
    last = {}
    with requests.get(
        demo.url + "gradio_api/queue/data", params={"session_hash": session}, headers=headers, stream=True, timeout=120
    ) as r:
        for line in r.iter_lines():
            if line.startswith(b"data:"):
                last = json.loads(line[5:])
                if last.get("msg") == "process_completed":
                    return last
    return last


def events_of(demo, event: str, elem_id: str | None = None, label: str | None = None) -> list[tuple[int, int]]:
    """``(fn index, trigger id)`` of each handler of the page's ``event`` on the component with that elem_id or
    label."""
    ids = {
        c["id"]
        for c in demo.config["components"]
        if (elem_id and c.get("props", {}).get("elem_id") == elem_id)
        or (label and c.get("props", {}).get("label") == label and c.get("type") == "tabitem")
    }
    found = [(d["id"], t) for d in demo.config["dependencies"] for t, n in d["targets"] if t in ids and n == event]
    assert found, f"no {event} event on {elem_id or label}"
    return found


def tiny_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"\0\1" * 80)
    return buffer.getvalue()


def meet_the_address_limit(c, forwarded=None):
    """14 searches under fresh session ids (with ``forwarded``, a new ``X-Forwarded-For`` for each): exactly the
    address's allowance is answered, and the rest are refused with the address's message."""
    from gradio_client.exceptions import AppError

    answered, refused = 0, []
    for i in range(14):
        if forwarded is not None:
            c.headers["X-Forwarded-For"] = forwarded(i)
        try:
            search(fresh(c))
            answered += 1
        except AppError as e:
            refused.append(str(e))
    assert answered == LIMITS.address_searches_per_minute
    assert refused and all("searches in a minute from your address" in r for r in refused)


@pytest.mark.slow  # the public app on a port
def test_rotated_session_ids_meet_the_address_limit_on_searches(space):
    """90 searches in 11 s under fresh session ids went through before; now the address's limit holds, and
    another address is not held up."""
    meet_the_address_limit(client(space, "203.0.113.1"))
    assert rows(search(client(space, "203.0.113.2"))[0])  # someone else searches on


@pytest.mark.slow  # the public app on a port
def test_made_up_forwarded_addresses_meet_the_address_limit(space):
    """A client that writes a new address into X-Forwarded-For on every request, left of the one the Space's proxy
    appends, still meets that address's limit."""
    # made up, the real one, a proxy
    meet_the_address_limit(client(space, "198.51.100.60"), lambda i: f"203.0.113.{100 + i}, 8.8.4.4, 10.16.3.80")


@pytest.mark.slow  # the public app on a port
def test_addresses_of_one_ipv6_network_meet_one_limit(space):
    """A client given an IPv6 /64 takes a new address of it for every search: the /64 is one address to the limits,
    and the next /64 is not held up."""
    meet_the_address_limit(
        client(space, "2001:4860:7:1::1, 10.16.3.80"), lambda i: f"2001:4860:7:1:{i:x}:{3 * i:x}::{i + 1:x}, 10.16.3.80"
    )
    assert rows(search(client(space, "2001:4860:7:2::1, 10.16.3.80"))[0])  # the next network searches on


def test_the_counted_address_of_ipv6_is_its_network():
    assert counted("2001:4860:7:1:aa:bb:cc:dd") == counted("2001:4860:7:1::1") == "2001:4860:7:1::/64"
    assert counted("2001:4860:7:2::1") != counted("2001:4860:7:1::1")
    assert counted("::ffff:8.8.4.4") == "8.8.4.4" == counted("8.8.4.4")  # IPv4 mapped into IPv6 is IPv4
    assert counted("::1") == "::1" and counted("testclient") == "testclient"


@pytest.mark.slow  # the public app on a port
def test_rotated_session_ids_cannot_guess_the_admin_password(space):
    """Wrong guesses under fresh session ids: the account takes a try only some time after the last wrong one, and a
    try before then is answered at once, so a burst holds no worker; the admin, from elsewhere, then signs in."""
    from gradio_client.exceptions import AppError

    attacker = client(space, "198.51.100.7")
    answers = []
    for i in range(8):
        try:
            answers.append(fresh(attacker).predict(ADMIN[0], f"guess-{i}", api_name="/sign_in")[0])
        except AppError as e:
            answers.append(str(e))
    checked = [a for a in answers if a == "Wrong user or password."]
    assert answers[:2] == ["Wrong user or password."] * 2  # the free tries
    assert all("Too many wrong logins" in a for a in answers if a not in checked), answers
    assert len(checked) < len(answers)
    admin = client(space, "192.0.2.10")
    for _ in range(10):  # a try too soon says how long to wait
        try:
            note, _ = admin.predict(*ADMIN, api_name="/sign_in")
            break
        except AppError as e:
            left = re.search(r"the next try is taken in (\d+) s", str(e))
            assert left, str(e)
            time.sleep(int(left.group(1)) + 0.5)
    assert note.startswith("Signed in")


@pytest.mark.slow  # the public app on a port
def test_rotated_session_ids_meet_the_address_allowance(space, tmp_path):
    from gradio_client.exceptions import AppError

    c = client(space, "203.0.113.20")
    files = [write(tmp_path / f"hum-{i}.wav", tone(1.0, 300 + 100 * i, seed=i)) for i in range(5)]
    assert upload(fresh(c), files[0], files[1])[0].startswith("**2 added")
    with pytest.raises(AppError, match="A visitor may add 2 files in all; you have added 2"):
        upload(c, files[2])  # the same session: its own limit
    assert upload(fresh(c), files[2])[0].startswith("**1 added")
    with pytest.raises(AppError, match="Visitors from one address may add 3 files in all; yours have added 3"):
        upload(fresh(c), files[3])
    assert upload(client(space, "203.0.113.21"), files[4])[0].startswith("**1 added")  # another address may


@pytest.mark.slow  # the public app on a port
def test_an_archive_is_counted_by_its_entries(space, tmp_path):
    """A zip of 4,999 tiny WAVs counted as one file and all 4,999 were added; now it is refused whole, with the
    figures, and nothing is extracted."""
    from gradio_client.exceptions import AppError

    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(4999):
            zf.writestr(f"clips/{i:04d}.wav", tiny_wav())
    c = client(space, "203.0.113.30")
    with pytest.raises(AppError) as e:
        upload(c, archive)
    assert "A visitor may add 2 files in all; you have added 0; this upload holds 4,999" in str(e.value)
    assert "(many.zip: 4,999 audio files, 1.0 MB unpacked). Nothing was added" in str(e.value)
    visitor = space.audioret.visitors.known(c.session_hash)
    assert not visitor.area.exists() or not any(visitor.area.rglob("*.wav"))
    assert visitor.files == 0


@pytest.mark.slow  # the public app on a port
def test_a_zip_bomb_is_refused_by_its_unpacked_size(space, tmp_path):
    """A 1-GB WAV zipped to about a megabyte passed a check of the compressed size and was indexed for minutes;
    now the uncompressed size is checked against the allowance before anything is written."""
    from gradio_client.exceptions import AppError

    archive = tmp_path / "bomb.zip"
    size = 1 << 30
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("big.wav", "w", force_zip64=True) as f,
    ):
        zeros = bytes(1 << 24)
        for _ in range(size // len(zeros)):
            f.write(zeros)
    assert archive.stat().st_size < 5_000_000
    c = client(space, "203.0.113.31")
    t0 = time.monotonic()
    with pytest.raises(AppError) as e:
        upload(c, archive)
    assert time.monotonic() - t0 < 30
    assert "A visitor may add 5 MB in all; you have added 0.0 MB; this upload holds 1,073.7 MB" in str(e.value)
    assert "(bomb.zip: 1 audio files, 1,073.7 MB unpacked)" in str(e.value)
    visitor = space.audioret.visitors.known(c.session_hash)
    assert not visitor.area.exists() or not any(p.is_file() for p in visitor.area.rglob("*"))


@pytest.mark.slow  # the public app on a port
def test_uploads_are_counted_by_their_minutes_of_audio(space, tmp_path):
    """Twelve minutes of silence compress to a few kB of FLAC, under every byte limit, and cost an index run like
    any twelve minutes: the visitor's 10 minutes refuse it whole, with the figures, and nothing of it stays, not
    even in the upload folder (it was sent again and again by its path, each try decoded); two minutes then go in
    and are counted."""
    long, short = tmp_path / "hours.flac", tmp_path / "short.flac"
    sf.write(long, np.zeros(8000 * 720, np.int16), 8000)
    sf.write(short, np.zeros(8000 * 120, np.int16), 8000)
    assert long.stat().st_size < 100_000
    address, session = "203.0.113.90", str(uuid.uuid4())
    stored = post_upload(space, long.read_bytes(), address, "hours.flac").json()[0]
    data = [[{"path": stored, "meta": {"_type": "gradio.FileData"}}], ""]
    answer = json.dumps(call_fn(space, _fn(space, "add_files"), data, address, session=session))
    assert re.search(
        r"A visitor may add 10 minutes of audio in all; you have added 0\.0 min; this upload holds 12\.0 min or "
        r"more\. Nothing was added",
        answer,
    ), answer
    assert not os.path.exists(stored)  # released: the same path cannot be sent again
    again = json.dumps(call_fn(space, _fn(space, "add_files"), data, address, session=str(uuid.uuid4())))
    assert "minutes of audio" not in again and "error" in again
    visitor = space.audioret.visitors.known(session)
    assert not visitor.area.exists() or not any(p.is_file() for p in visitor.area.rglob("*"))
    c = client(space, address)
    c.session_hash = session
    assert upload(c, short)[0].startswith("**1 added")
    assert visitor.seconds == pytest.approx(120.0, abs=0.01)


def _fn(demo, api_name: str) -> int:
    return next(d["id"] for d in demo.config["dependencies"] if d.get("api_name") == api_name)


def test_a_turn_ends_at_its_files_or_its_minutes():
    lengths = {"a": 400.0, "b": 300.0, "c": 5.0, "d": 7200.0}
    assert turn_size(["a", "b", "c"], lengths, most=8) == 2  # 700 s: past the 600 s of a turn
    assert turn_size(["c", "c2", "c3"], lengths, most=2) == 2  # two files, the most a turn holds
    assert turn_size(["d", "a"], lengths, most=8) == 1  # a long file is a turn of its own
    assert turn_size(["x"], {}, most=8) == 1


def test_a_minute_of_many_channels_at_a_high_rate_costs_more():
    """8 channels at 655 kHz took 73 times a stereo file's time to decode: such a minute costs 14 of the
    allowance; anything up to 192-kHz stereo costs one."""
    assert cost(48_000, 2) == cost(192_000, 2) == cost(8_000, 1) == 1.0
    assert cost(655_350, 8) == pytest.approx(13.65, abs=0.01)


@pytest.mark.slow  # the public app on a port
def test_uploads_take_turns_and_the_waiting_one_is_told(space, tmp_path, monkeypatch):
    """While one visitor's upload is indexed, another's waits its turn (not "An indexing job is already
    running"), is told how many uploads are ahead, and finishes before the long one."""
    from gradio_client import handle_file

    app = space.audioret
    queue = getattr(app, "upload_queue", None)
    if queue is not None:
        monkeypatch.setattr(queue, "turn_files", 1)  # one file a turn: the visitor's two files make two turns
    if True:
        long_one = [write(tmp_path / "a" / f"rain-{i}.wav", tone(20.0, 200 + 50 * i, seed=i)) for i in range(2)]
        short = write(tmp_path / "b" / "beep.wav", tone(1.0, 1000))
        a, b = client(space, "203.0.113.40"), client(space, "203.0.113.41")
        done = {}
        job_a = a.submit([handle_file(str(p)) for p in long_one], "", api_name="/add_files")
        while not app.library.indexing:
            time.sleep(0.05)
        job_b = b.submit([handle_file(str(short))], "", api_name="/add_files")
        said = set()
        while not job_b.done():
            progress = job_b.status().progress_data or []
            said |= {p.desc for p in progress if p.desc}
            time.sleep(0.05)
        done["b"] = time.monotonic()
        report_b = job_b.result()[0]
        report_a = job_a.result()[0]
        done["a"] = time.monotonic()
    assert report_b.startswith("**1 added") and report_a.startswith("**2 added")
    assert any(s.startswith("waiting for 1 other upload") for s in said), said
    assert done["b"] <= done["a"]


@pytest.mark.slow  # the public app on a port
def test_gradios_upload_route_is_bounded(space, tmp_path):
    """Posting to /gradio_api/upload without a session stored anything, for ever, for anyone who knew the path:
    now an address may post 2 x AUDIORET_ADDRESS_MB an hour, another address cannot add or take what it posted,
    the cache is deleted on a schedule, and empty tmp files are swept."""
    app = space.audioret
    blob = np.random.default_rng(0).integers(0, 255, 6_000_000, dtype=np.uint8).tobytes()
    answers = [post_upload(space, blob[: -i or None], "203.0.113.50") for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Uploads from your address are limited to 16 MB an hour" in answers[2].text
    stored = answers[0].json()[0]
    assert not os.path.isabs(stored) and os.path.exists(stored)
    assert post_upload(space, blob[:1000], "203.0.113.51").status_code == 200  # another address is not held up
    # another visitor names the stored path in add_files: refused, and the file is left alone
    answer = call(space, "add_files", [[{"path": stored, "meta": {"_type": "gradio.FileData"}}], ""], "203.0.113.52")
    assert "was not uploaded from this browser" in json.dumps(answer), answer
    assert os.path.exists(stored)
    # a folder inside the upload folder is refused by name, not with IsADirectoryError
    with pytest.raises(InputError, match="is a folder; add the audio files in it"):
        app.add("someone", "203.0.113.50", [os.path.dirname(stored)])
    assert space.max_file_size == 200 * 1024**2 and space.delete_cache == CACHE_DELETE
    stray = app.upload_route.folder / "tmpabandoned"
    stray.write_bytes(b"")
    os.utime(stray, (time.time() - 3600, time.time() - 3600))
    app.sweep()
    assert not stray.exists()


@pytest.mark.slow  # the public app on a port
def test_query_recordings_go_with_their_visitor(space, tmp_path):
    from gradio.utils import get_upload_folder
    from gradio_client import handle_file

    app = space.audioret
    c = client(space, "203.0.113.60")
    recording = speak(tmp_path / "query-recording.wav", "a bell ringing")
    c.predict(handle_file(str(recording)), 3, *SEARCH, api_name="/search_example")
    (kept,) = Path(get_upload_folder()).rglob("query-recording.wav")
    app.end_session(c.session_hash)
    assert not kept.exists()


@pytest.mark.slow  # the public app on a port
def test_a_media_token_answers_only_the_address_it_was_made_for(space):
    """Visitor B fetched A's file, clip and spectrogram with A's token; now B gets 404 and A still gets them."""
    a = client(space, "203.0.113.70")
    html = search(a, "when does the museum open")[1]
    urls = re.findall(r'(?:src|data-whole)="(/media/[^"#]+)"', html)
    assert len(urls) >= 3
    for url in urls[:3]:
        assert get(space, url, "203.0.113.70")[0] == 200
        assert get(space, url, "203.0.113.71")[0] == 404


@pytest.mark.slow  # the public app on a port
def test_one_address_cannot_flush_the_token_table(space, monkeypatch):
    """Searches under fresh session ids pushed every visitor's tokens out of the table; now the flooding address
    loses its own oldest."""
    from audioret.ui import media

    monkeypatch.setattr(media, "MAX_TOKENS", 120)
    monkeypatch.setattr(media, "MAX_TOKENS_PER_CLIENT", 60, raising=False)
    a = client(space, "203.0.113.80")
    clip = re.findall(r'src="(/media/[^"#]+)"', search(a, "when does the museum open", k=3)[1])[0]
    flood = client(space, "203.0.113.81")
    for _ in range(8):
        search(fresh(flood), k=10)
    assert get(space, clip, "203.0.113.80")[0] == 200


@pytest.mark.slow  # the public app on a port
def test_the_header_counts_nothing_of_another_visitors_uploads(space, tmp_path):
    """The header's hours counted everyone's audio (0.03 h became 0.20 h after another visitor uploaded); now B's
    header, in a browser, is the same before A uploads 90 s of audio, while it is there, and after A left."""
    playwright = pytest.importorskip("playwright.sync_api")
    a = client(space, "203.0.113.90")
    with playwright.sync_playwright() as p:
        browser = open_browser(p)
        context = browser.new_context()
        context.set_extra_http_headers({"X-Forwarded-For": "203.0.113.91"})
        page = context.new_page()

        def header():
            page.goto(space.url)
            page.locator("#status").get_by_text("Public page").wait_for(timeout=60_000)
            # without Gradio's timer ("0.0s", "processing | 0.1s", with its estimate "processing | 0.1/0.1s"), shown
            # over the header while the page's load event still runs
            timer = r"^(processing \| )?\d+(\.\d+)?(/\d+(\.\d+)?)?s\s+"
            return re.sub(timer, "", page.locator("#status").inner_text())

        before = header()
        long = write(tmp_path / "surf.wav", tone(90.0, 180, sr=8000), sr=8000)  # 0.025 h in 1.4 MB
        assert upload(a, long)[0].startswith("**1 added")
        assert re.search(r"files, \d+ (s|min|h)\b[^·]* of audio", before) and header() == before
        space.audioret.end_session(a.session_hash)
        assert header() == before
        browser.close()


@pytest.mark.slow  # the public app on a port
def test_scores_tell_nothing_of_another_visitors_uploads(space, tmp_path):
    """The calibration sampled the whole index: B's "dog barking" became "no good match" after A uploaded a bark,
    and stayed so after A left. Now B's results and scores are the same before A uploads, while A's files are
    there, and after A left."""
    a, b = client(space, "203.0.113.92"), client(space, "203.0.113.93")
    queries = ("a bell ringing", "when does the museum open on sundays", "waves on a beach")

    def seen():
        return [[(h["file"], h["score"], h["from"]) for h in rows(search(fresh(b), q, k=8)[0])] for q in queries]

    results = seen()
    memo = speak(tmp_path / "bell.wav", "A bell is ringing in the museum on Sunday, a bell, a bell.")
    waves = speak(tmp_path / "waves.wav", "Waves on a beach, the museum opens on Sundays.")
    assert upload(a, memo, waves)[0].startswith("**2 added")
    assert seen() == results
    space.audioret.end_session(a.session_hash)
    assert seen() == results


@pytest.mark.slow  # the public app on a port
def test_monitoring_is_off(space):
    for path in ("monitoring", "monitoring/summary"):
        assert get(space, "/" + path, "203.0.113.100")[0] in (403, 404)


@pytest.mark.slow  # the public app on a port
def test_parallel_requests_for_a_clip_not_yet_cut_all_get_it(space):
    """2-3 of 4 parallel requests for a clip not yet cut got a 500 (every thread wrote the same temporary file);
    now every player and spectrogram of a page asked for at once gets a whole file."""
    c = client(space, "203.0.113.110")
    html = search(c, "waves on a beach", k=5)[1]
    clips = re.findall(r'<audio class="segment"[^>]*src="(/media/[^"#]+)"', html)[:3]
    pictures = re.findall(r'<img[^>]*src="(/media/[^"#]+)"', html)[:3]
    assert len(clips) == len(pictures) == 3
    for cut in space.audioret.clips.glob("*.wav"):  # none of them cut yet
        cut.unlink()
    answers: list[tuple[str, int, bytes]] = []
    threads = [
        threading.Thread(target=lambda u=u: answers.append((u, *get(space, u, "203.0.113.110"))))
        for u in clips * 4 + pictures * 2
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [code for _, code, _ in answers] == [200] * len(threads)
    for url, _, body in answers:
        if url in pictures:
            assert body[:4] == b"\x89PNG"
            continue
        samples, sr = sf.read(io.BytesIO(body))
        assert sr == 48000 and len(samples) > 0
    assert len({body for u, _, body in answers if u == clips[0]}) == 1  # the same clip for everyone
    assert not list(space.audioret.clips.glob("*.tmp.wav"))


@pytest.mark.slow  # the public app on a port
def test_the_upload_folder_is_in_the_data_directory(space):
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder())
    assert (space.audioret.library.config.data_dir.resolve() / "gradio-uploads") == folder.resolve()
    assert not (REPO / ".audioret-uploads").exists() and not (REPO / "gradio-uploads").exists()


def test_every_limit_counts_per_session_per_address_and_overall(tmp_path):
    now = [0.0]
    visitors = Visitors(
        tmp_path,
        Limits(
            searches_per_minute=2,
            address_searches_per_minute=3,
            all_searches_per_minute=4,
            upload_files=5,
            address_files=6,
            all_files=7,
        ),
        clock=lambda: now[0],
    )
    visitors.check_search("s1", "a")
    visitors.check_search("s1", "a")
    with pytest.raises(InputError, match="More than 2 searches in a minute;"):
        visitors.check_search("s1", "a")
    visitors.check_search("s2", "a")
    with pytest.raises(InputError, match="More than 3 searches in a minute from your address"):
        visitors.check_search("s3", "a")
    visitors.check_search("s4", "b")
    with pytest.raises(InputError, match="More than 4 searches in a minute on this page, from everyone"):
        visitors.check_search("s5", "c")
    now[0] += 61
    visitors.check_search("s5", "c")
    visitors.added("s1", 4, 10, "a")
    visitors.added("s4", 2, 10, "b")
    assert visitors.allowance("s2", "a") == (1, 200_000_000)  # the page's 7 files: 6 added
    with pytest.raises(InputError, match="All visitors together may add 7 files in all; they have added 6"):
        visitors.check_upload("s6", 2, 1, "c")
    for i in range(3):
        assert not visitors.sign_in(f"x{i}", "keeper", "wrong", ADMIN, f"10.0.0.{i}")
    # three wrong tries on the account, from three places: its next try is taken 2 s after the last, from anywhere
    too_soon = r"Too many wrong logins on this account \(3 in the last 15 minutes\): the next try is taken in 2 s"
    with pytest.raises(InputError, match=too_soon):
        visitors.sign_in("y", *ADMIN, ADMIN, "10.0.1.1")
    now[0] += 2
    assert not visitors.sign_in("x3", "keeper", "wrong", ADMIN, "10.0.0.3")
    with pytest.raises(InputError, match="the next try is taken in 4 s"):
        visitors.sign_in("y", *ADMIN, ADMIN, "10.0.1.1")
    now[0] += 4
    assert visitors.sign_in("y", *ADMIN, ADMIN, "10.0.1.1")


def test_what_an_address_sent_stays_counted_against_it_when_its_visitors_move(tmp_path):
    """One client with two addresses (a home's IPv4 and IPv6): visitors that added files from P and then search from
    Q freed P's allowance, so P added twice its limit; now P's files count against P wherever its visitors go, and Q
    keeps its own allowance."""
    visitors = Visitors(tmp_path, Limits(upload_files=2, address_files=3, all_files=100))
    visitors.added("s1", 2, 10, "P")
    visitors.added("s2", 1, 10, "P")
    with pytest.raises(InputError, match="Visitors from one address may add 3 files in all; yours have added 3"):
        visitors.check_upload("s3", 1, 10, "P")
    visitors.check_search("s1", "Q")
    visitors.check_search("s2", "Q")
    with pytest.raises(InputError, match="Visitors from one address may add 3 files in all; yours have added 3"):
        visitors.check_upload("s3", 1, 10, "P")
    visitors.check_upload("s4", 2, 10, "Q")
    visitors.added("s2", -1, -10, "P")  # one of P's files deleted (not audio after all)
    visitors.check_upload("s3", 1, 10, "P")


def test_the_forwarded_address_is_the_one_the_proxy_wrote():
    """The rightmost global entry of X-Forwarded-For: what a client writes left of it, global or not, is ignored."""
    assert forwarded_address("8.8.4.4") == "8.8.4.4"
    assert forwarded_address("203.0.113.9, 8.8.4.4, 10.16.3.80") == "8.8.4.4"
    assert forwarded_address("1.1.1.1, 8.8.4.4, 10.16.3.80") == "8.8.4.4"
    # no global entry: the rightmost, the last proxy's (the client wrote the ones left of it)
    assert forwarded_address("198.51.100.7, 10.16.3.80") == "10.16.3.80"
    assert forwarded_address("8.8.8.8:5555") == "8.8.8.8"  # a port is not part of the address
    assert forwarded_address("203.0.113.9, 8.8.4.4:443, 10.16.3.80") == "8.8.4.4"
    assert forwarded_address("[2001:4860:4860::8888]:443, 10.16.3.80") == "2001:4860:4860::8888"
    assert forwarded_address("made-up, 10.16.3.80:80") == "10.16.3.80"
    assert forwarded_address("") == ""


def test_the_login_wait_doubles_after_the_free_tries():
    limits = Limits(login_free_tries=3, login_wait_s=2.0)
    assert [login_wait_s(n, limits) for n in range(1, 8)] == [0.0, 0.0, 2.0, 4.0, 8.0, 10.0, 10.0]


@pytest.mark.slow  # the public app on a port
def test_the_deep_link_route_is_refused(space):
    """Gradio's deep-link route wrote the caller's session state to disk on every call (never deleted) and named it
    by a hash that served the snapshot to anyone: the page uses no deep links, so the route is not there."""
    c = client(space, "203.0.113.120")
    search(c)
    folder = Path(space.audioret.upload_route.folder) / "deep_links"
    for url in (f"/gradio_api/deep_link?session_hash={c.session_hash}", "/gradio_api/deep_link/?session_hash=x"):
        assert get(space, url, "203.0.113.120") == (404, b"")
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.slow  # the public app on a port
def test_an_upload_that_does_not_say_its_size_is_refused(space):
    """A chunked post to Gradio's upload route was counted as the allowance and stored whatever came (900 MB
    against 800); now a post must say its size, and it is refused before anything is stored."""
    import requests

    def body():
        yield b'--B\r\nContent-Disposition: form-data; name="files"; filename="big.wav"\r\n\r\n'
        yield b"\0" * 100_000
        yield b"\r\n--B--\r\n"

    before = sorted(p for p in space.audioret.upload_route.folder.rglob("*") if p.is_file())
    answer = requests.post(
        space.url + "gradio_api/upload",
        data=body(),
        headers={"Content-Type": "multipart/form-data; boundary=B", "X-Forwarded-For": "203.0.113.70"},
        timeout=60,
    )
    assert answer.status_code == 411 and "Content-Length" in answer.text
    assert sorted(p for p in space.audioret.upload_route.folder.rglob("*") if p.is_file()) == before


def test_exports_are_counted_kept_one_per_session_and_swept(tmp_path):
    """Each export wrote a new folder that was never deleted and was not counted (20 clip zips: 117 MB in 3 s). In
    the public mode an export counts as a search, a session keeps its newest export only, and its export goes when
    the session ends; an export older than an hour is swept."""
    from audioret.ui.exports import Exports

    visitors = Visitors(tmp_path / "visitors", Limits(searches_per_minute=3))
    exports = Exports(tmp_path / "exports", True, visitors.check_search)
    folders = []
    for _ in range(3):
        folders.append(exports.folder("results-", "s", "203.0.113.1"))
        (folders[-1] / "results.csv").write_text("x")
    assert [f.exists() for f in folders] == [False, False, True]  # the newest only
    with pytest.raises(InputError, match="More than 3 searches in a minute"):
        exports.folder("results-", "s", "203.0.113.1")
    other = exports.folder("duplicates-", "t", "203.0.113.2")
    exports.end("s")
    assert not folders[2].exists() and other.exists()
    exports.sweep(now=time.time() + 3599)
    assert other.exists()
    exports.sweep(now=time.time() + 3601)
    assert not other.exists() and not list((tmp_path / "exports").iterdir())
    local = Exports(tmp_path / "local", False, visitors.check_search)  # on this machine alone: kept, not counted
    kept = [local.folder("results-", "s") for _ in range(5)]
    local.sweep(now=time.time() + 7200)
    assert all(k.exists() for k in kept)


@pytest.mark.slow  # the public app on a port
def test_the_library_tab_redraws_the_map_within_the_search_limit(space):
    """Opening the Library tab redraws the map (every file of the visitor's view is read) like the Redraw button,
    which counted against the search limit while the tab's select did not: now both count."""
    ((fn, trigger),) = events_of(space, "select", label="Library")
    answers = [call_fn(space, fn, [], "203.0.113.130", trigger_id=trigger) for _ in range(12)]
    done = [a for a in answers if a.get("success")]
    refused = [a for a in answers if not a.get("success")]
    assert len(done) == LIMITS.address_searches_per_minute and "x" in done[0]["output"]["data"][0]
    assert refused and all("searches in a minute from your address" in a["output"]["error"] for a in refused)


@pytest.mark.slow  # the public app on a port
def test_crafted_event_data_is_ignored_quietly(space, capfd):
    """A map click or a card click whose event data is not a dict (a string, a list, a number) raised
    AttributeError (a traceback in the log); now it changes nothing."""
    handlers = events_of(space, "click", elem_id="map") + events_of(space, "click", elem_id="results")
    assert len(handlers) == 3  # the map's click, a card's click and a tag chip's
    for fn, trigger in handlers:
        values = {c["id"]: c.get("props", {}).get("value") for c in space.config["components"]}
        inputs = [values[i] for i in space.config["dependencies"][fn]["inputs"]]  # as the page starts
        for data in ("play", [1, 2], 7, None):
            answer = call_fn(space, fn, inputs, "203.0.113.131", event_data=data, trigger_id=trigger)
            assert answer.get("success"), (fn, data, answer.get("output"))
    assert "AttributeError" not in capfd.readouterr().err


@pytest.mark.slow  # the public app on a port
def test_page_loads_from_one_address_are_limited(space):
    """Each page load read the library several times and made a visitor for its (made-up) session id, with no
    limit: 300 loads slowed everyone's searches. Beyond the address's loads in a minute a load says so and reads
    nothing; another address loads as before."""
    (fn,) = [d["id"] for d in space.config["dependencies"] if any(n == "load" for _, n in d["targets"])]
    app = space.audioret
    sessions = [str(uuid.uuid4()) for _ in range(LIMITS.address_loads_per_minute + 3)]
    answers = [call_fn(space, fn, [], "203.0.113.140", session=s) for s in sessions]
    heads = [a["output"]["data"][0] for a in answers if a.get("success")]
    assert len(heads) == len(answers)
    told = [h for h in heads if "Too many page loads from your address" in h]
    assert len(told) == 3 and all("files**" not in h for h in told)  # the header's "**N files**" is not read
    refused = [s for s, h in zip(sessions, heads) if "Too many page loads" in h]
    assert len(refused) == 3 and all(app.visitors.known(s) is None for s in refused)  # no visitor for them
    # (the whole count of visitors is not compared: other tests' visitors expire and are swept meanwhile)
    other = call_fn(space, fn, [], "203.0.113.141")["output"]["data"][0]
    assert "files**" in other and "Too many" not in other
