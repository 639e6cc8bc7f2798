"""Load: 32 concurrent API clients for 60 s while an indexing job runs, at several queue concurrency limits.

    python bench/load.py [--clients 32] [--seconds 60] [--limits 1 2 4] [--audio ../shared/audio/esc10/audio]
                         [--public] [--fresh-sessions]

The app is built as ``app.py`` builds it (``build_demo`` + ``queue(default_concurrency_limit=N)``) and served on
127.0.0.1; each client is a ``gradio_client.Client`` calling the named endpoints in a loop: 70 % text searches,
15 % spoken queries (an espeak-ng recording), 15 % query by example (a 5-s clip). Meanwhile the library indexes
--audio (a real job: decoding, CLAP, text channel). Reported per limit: requests, errors, p50/p95 latency per
kind, and the process's resident memory sampled every second. The models are the real architectures: CLAP with
laion/clap-htsat-unfused's shape (random weights, built once under bench/out/), MiniLM and Whisper tiny.en from
AUDIORET_TEXT_MODEL / AUDIORET_ASR_MODEL (tests/conftest.py sets them to the packaged copies).

``--public`` serves the page as on a Hugging Face Space (the public mode, with the default limits), each client
from its own address in ``X-Forwarded-For``; meanwhile an attacker guesses the admin password from one address,
and at the end the admin signs in from another (reported: whether it worked, and how long the try waited).
``--fresh-sessions`` gives every request a new session id, as a client that lies about it would.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

KINDS = (("text", 0.70), ("spoken", 0.15), ("example", 0.15))
ADMIN = ("admin", "a-long-admin-password")
QUERIES = [
    "rain on a tin roof",
    "a dog barking",
    "church bell",
    "waves on a beach",
    "someone talking about the budget",
    "a helicopter flying over",
    "a baby crying",
    "clock ticking",
    "footsteps",
    "an alarm in the morning",
]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def run_limit(limit: int, args, inputs) -> dict:
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    from app import EXAMPLES_DIR, QUEUE_MAX_SIZE
    from audioret import Config
    from audioret.ui import build_demo, decide, launch
    from tests.conftest import free_port

    data = Path(tempfile.mkdtemp(prefix=f"load-{limit}-"))
    config = Config.from_env(data_dir=data, clap_model=args.model, device="cpu")
    access = decide("127.0.0.1", False, ADMIN, space_id="bench/load") if args.public else None
    demo = build_demo(config, library_paths=[str(EXAMPLES_DIR)], access=access)
    demo.audioret.warm_up().join()  # examples/, before the clock
    port = free_port()
    launch(
        demo.queue(default_concurrency_limit=limit, max_size=QUEUE_MAX_SIZE),
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
    )
    url = f"http://127.0.0.1:{port}/"
    stop = time.monotonic() + args.seconds
    results, errors, memory, guesses = [], [], [], []
    indexing = threading.Thread(target=lambda: demo.audioret.index([args.audio]), daemon=True)
    indexing.start()

    def connect(address: str):
        headers = {"X-Forwarded-For": address} if args.public else None
        return Client(url, verbose=False, headers=headers, httpx_kwargs={"timeout": args.http_timeout})

    def attacker():
        """Wrong admin passwords under a new session id each, from one address, until the end."""
        c = connect("10.2.0.1")
        while time.monotonic() < stop:
            c.session_hash = str(uuid.uuid4())
            try:
                guesses.append(c.predict(ADMIN[0], f"guess-{len(guesses)}", api_name="/sign_in")[0])
            except AppError as e:
                guesses.append(str(e))
            except Exception as e:  # noqa: BLE001 (a timeout: counted, and the guessing goes on)
                guesses.append(f"{type(e).__name__}: {e}")
            time.sleep(0.5)

    def client(seed: int):
        rng = random.Random(seed)
        c = connect(f"10.1.{seed // 250}.{seed % 250 + 1}")
        while time.monotonic() < stop:
            kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
            if args.fresh_sessions:
                c.session_hash = str(uuid.uuid4())
            t0 = time.perf_counter()
            try:
                if kind == "text":
                    c.predict(rng.choice(QUERIES), 10, 1.0, 1.0, "", "", None, None, api_name="/search")
                elif kind == "spoken":
                    c.predict(
                        handle_file(inputs["spoken"]), 10, 1.0, 1.0, "", "", None, None, api_name="/search_spoken"
                    )
                else:
                    c.predict(handle_file(inputs["example"]), 10, "", "", None, None, api_name="/search_example")
                results.append((kind, (time.perf_counter() - t0) * 1000))
            except Exception as e:  # every failure is counted and shown
                errors.append(f"{kind}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    if args.public:
        threads.append(threading.Thread(target=attacker))
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        memory.append(rss_mb())
        time.sleep(1)
    indexing_done = not indexing.is_alive()
    admin = None
    if args.public:  # the admin, from elsewhere, after a minute of guesses
        t0 = time.perf_counter()
        for _ in range(10):  # a try before the account takes the next one says how long to wait
            try:
                note = connect("10.3.0.1").predict(*ADMIN, api_name="/sign_in")[0]
            except Exception as e:  # reported as it came
                note = f"{type(e).__name__}: {e}"
            left = re.search(r"the next try is taken in (\d+) s", note)
            if not left:
                break
            time.sleep(int(left.group(1)) + 0.5)
        admin = {
            "note": note,
            "seconds": round(time.perf_counter() - t0, 1),
            "signed_in": note.startswith("Signed in"),
            "guesses": len(guesses),
            "guesses_refused": sum("Too many wrong logins" in g for g in guesses),
            "guesses_signed_in": sum(g.startswith("Signed in") for g in guesses),
        }
    demo.close()
    by_kind = {}
    for kind, _ in KINDS:
        ms = [m for k, m in results if k == kind]
        if ms:
            by_kind[kind] = {
                "n": len(ms),
                "p50_ms": round(float(np.percentile(ms, 50))),
                "p95_ms": round(float(np.percentile(ms, 95))),
            }
    return {
        "concurrency_limit": limit,
        "clients": args.clients,
        "seconds": args.seconds,
        "public": args.public,
        "http_timeout_s": args.http_timeout,
        "load_average": os.getloadavg()[0],
        "fresh_sessions": args.fresh_sessions,
        "admin": admin,
        "requests": len(results),
        "errors": len(errors),
        "error_samples": errors[:5],
        "by_kind": by_kind,
        "rss_mb_start": round(memory[0]),
        "rss_mb_max": round(max(memory)),
        "rss_mb_end": round(memory[-1]),
        "indexing_finished_within_run": indexing_done,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--limits", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--audio", default=str(HERE.parent.parent / "shared" / "audio" / "esc10" / "audio"))
    p.add_argument("--model", help="CLAP directory (default: the real architecture, random weights)")
    p.add_argument("--public", action="store_true", help="as on a Space: the public mode, an address per client")
    p.add_argument("--fresh-sessions", action="store_true", help="a new session id on every request")
    p.add_argument(
        "--http-timeout",
        type=float,
        default=5.0,
        help="seconds a client waits for the server to answer one HTTP call (httpx's default: 5)",
    )
    p.add_argument("--one-limit", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    import tests.conftest  # noqa: F401  (points AUDIORET_TEXT_MODEL / AUDIORET_ASR_MODEL at the packaged models)
    from bench.index_throughput import build_full_size_model
    from tests.conftest import speak

    args.model = args.model or str(build_full_size_model(HERE / "out" / "clap-htsat-random-spread"))
    out = HERE / "out" / "load"
    out.mkdir(parents=True, exist_ok=True)
    inputs = {
        "spoken": str(speak(out / "spoken.wav", "the meeting about the new budget")),
        "example": str(sorted(Path(args.audio).glob("*"))[0]),
    }
    if args.one_limit:
        print("RESULT " + json.dumps(run_limit(args.one_limit, args, inputs)), flush=True)
        os._exit(0)  # the app's worker threads (torch, CTranslate2) need not be torn down one by one
    rows = []
    for limit in args.limits:  # each in its own process, so that memory is measured from the same start
        cmd = (
            [
                sys.executable,
                __file__,
                "--one-limit",
                str(limit),
                "--clients",
                str(args.clients),
                "--seconds",
                str(args.seconds),
                "--audio",
                args.audio,
                "--model",
                args.model,
                "--http-timeout",
                str(args.http_timeout),
            ]
            + ["--public"] * args.public
            + ["--fresh-sessions"] * args.fresh_sessions
        )
        out_text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        row = json.loads(next(line[7:] for line in out_text.splitlines() if line.startswith("RESULT ")))
        rows.append(row)
        print(json.dumps(row), flush=True)
    name = "load" + "-public" * args.public + "-fresh" * args.fresh_sessions
    (out / f"{name}.json").write_text(json.dumps(rows, indent=2))
    print(f"\n{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
