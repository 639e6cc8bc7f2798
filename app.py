"""audioret's web app: ``python app.py`` opens a search over the demo library in examples/.

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--auth user:pass] [--public | --private]
                  [--data-dir DIR] [--library PATH ...] [--allow-server-folders]

Every flag also has an environment variable (AUDIORET_HOST, AUDIORET_PORT, AUDIORET_SHARE, AUDIORET_AUTH,
AUDIORET_PUBLIC, AUDIORET_PRIVATE, AUDIORET_LIBRARY with paths separated by os.pathsep,
AUDIORET_ALLOW_SERVER_FOLDERS), and the model settings are read from the AUDIORET_* variables listed in README.md.
On a Hugging Face Space, behind --share, or on a host other than this machine without --auth, the page is public
(see audioret/ui/access.py): visitors cannot change the shared library, and --auth is the admin login.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from audioret.config import Config
from audioret.errors import AudioretError
from audioret.ui import EXAMPLE_QUERIES, MAX_FILE_SIZE, Limits, build_demo, decide, launch

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"  # the demo library, made by examples/make_examples.py

# Requests of one kind (text, spoken, example, upload) run at most this many at a time. A forward pass already
# uses every core: on 2 cores, 32 clients got the most answers with 2 (324 in 60 s, against 292 with 1 and 317
# with 4; bench/load.py, docs/BENCHMARKS.md "Load"), so one per core, up to 4.
CONCURRENCY_LIMIT = min(4, os.cpu_count() or 2)
QUEUE_MAX_SIZE = 64  # waiting requests beyond this are refused ("queue full") instead of piling up memory


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    on = ("1", "true", "yes", "on")
    p = argparse.ArgumentParser(description="audioret web app")
    p.add_argument(
        "--host",
        default=env("AUDIORET_HOST", env("GRADIO_SERVER_NAME", "127.0.0.1")),
        help="0.0.0.0 to serve the local network (Hugging Face Spaces set GRADIO_SERVER_NAME)",
    )
    p.add_argument("--port", type=int, default=int(env("AUDIORET_PORT", env("GRADIO_SERVER_PORT", "7860"))))
    p.add_argument(
        "--share",
        action="store_true",
        default=env("AUDIORET_SHARE", "").lower() in on,
        help="also serve on a public gradio.live link",
    )
    p.add_argument(
        "--auth",
        default=env("AUDIORET_AUTH"),
        help="user:password: the admin login of a public page, or the login for the whole private page",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--public",
        action="store_true",
        default=env("AUDIORET_PUBLIC", "").lower() in on,
        help="the public mode even on this machine alone",
    )
    mode.add_argument(
        "--private",
        action="store_true",
        default=env("AUDIORET_PRIVATE", "").lower() in on,
        help="no public mode: the whole page behind --auth",
    )
    p.add_argument("--data-dir", default=env("AUDIORET_DATA_DIR"), help="where the index lives")
    p.add_argument(
        "--library",
        nargs="+",
        default=[x for x in env("AUDIORET_LIBRARY", "").split(os.pathsep) if x],
        help="folders to index and serve (default: examples/)",
    )
    p.add_argument(
        "--allow-server-folders",
        action="store_true",
        default=env("AUDIORET_ALLOW_SERVER_FOLDERS", "").lower() in on,
        help="let the page index any folder on this machine (never in the public mode)",
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            sys.exit("audioret: error: --auth takes user:password")
        auth = (user, password)
    config = Config.from_env(data_dir=args.data_dir)
    config = dataclasses.replace(config, data_dir=config.data_dir.resolve())
    library = [str(Path(p).resolve()) for p in args.library or [EXAMPLES_DIR]]
    try:
        access = decide(
            args.host, args.share, auth, os.environ.get("SPACE_ID"), args.public, args.private, Limits.from_env()
        )
    except AudioretError as e:
        sys.exit(f"audioret: error: {e}")
    if access.public:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        os.chdir(
            config.data_dir
        )  # Gradio's upload folder goes in the data folder, named relative to it (no server path)
        print(
            f"audioret: public mode ({access.reason}): the shared library is read-only"
            + ("; --auth is the admin login" if auth else ""),
            file=sys.stderr,
        )
    demo = build_demo(
        config, library, args.allow_server_folders, access, examples=None if args.library else EXAMPLE_QUERIES
    )
    demo.audioret.warm_up()  # loads the models, then indexes the library (only what changed)
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
    # quiet: Gradio's own lines would tell a user of this command to "set `share=True` in `launch()`"
    launch(
        demo,
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        max_file_size=MAX_FILE_SIZE,
        quiet=True,
        prevent_thread_lock=True,
    )
    print(f"* Running on local URL:  {demo.local_url}", flush=True)
    if demo.share_url:
        print(f"* Running on public URL: {demo.share_url}", flush=True)
    elif not args.share and not os.environ.get("SPACE_ID"):
        print("* For a link others can open: python app.py --share (in the public mode)", flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
