from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from audioret import Config, Library
from audioret.cli import main

from .conftest import REPO, speak, tone, write


@pytest.fixture
def env(tmp_path, tiny_clap_dir, monkeypatch):
    monkeypatch.setenv("AUDIORET_DATA_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("AUDIORET_CLAP_MODEL", str(tiny_clap_dir))
    monkeypatch.setenv("AUDIORET_DEVICE", "cpu")
    return tmp_path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_index_search_similar_stats_remove(env, small_library, capsys, monkeypatch):
    code, out, err = run(capsys, "index", str(small_library), "--no-progress")
    assert code == 0
    assert out.startswith("13 added, 0 updated, 0 unchanged, 0 removed, 1 failed; 15 segments")
    assert f"failed: {small_library / 'broken.wav'}: not a supported audio format" in err
    assert "-bound: " in err  # what limited the run
    code, out, err = run(capsys, "index", str(small_library), "--no-progress")  # nothing new: no limit to name
    assert out.startswith("0 added, 0 updated, 13 unchanged") and "-bound" not in err

    code, out, _ = run(capsys, "search", "a dog barking", "-k", "3", "--json")
    result = json.loads(out)
    assert code == 0 and result["query"] == "a dog barking"
    assert [h["rank"] for h in result["hits"]] == [1, 2, 3]
    for h in result["hits"]:
        assert {"path", "start_s", "end_s", "score"} <= h.keys() and os.path.exists(h["path"])

    clip = sorted((small_library / "sounds").glob("*.ogg"))[2]
    code, out, _ = run(capsys, "similar", str(clip), "-k", "2", "--json")
    hits = json.loads(out)["hits"]
    assert hits[0]["path"] == str(clip) and hits[0]["scores"]["clap"] == pytest.approx(1.0, abs=1e-4)
    assert hits[0]["match"] is True and list(hits[0])[:6] == ["rank", "path", "start_s", "end_s", "score", "match"]
    assert all(h["match"] == (h["score"] >= 0.5) and h["duration_s"] == round(h["duration_s"], 3) for h in hits)

    code, out, _ = run(capsys, "similar", "--segment", hits[0]["segment_id"], "-k", "2", "--json")
    assert str(clip) not in [h["path"] for h in json.loads(out)["hits"]]
    at = json.loads(out)["segment_at"]
    assert (at["path"], at["start_s"], round(at["end_s"])) == (str(clip), 0.0, 5)
    code, out, _ = run(capsys, "similar", "--segment", hits[0]["segment_id"], "-k", "1")
    assert out.startswith(f"more like {clip} at 0:00.0-0:05.0:\n")  # where "more like this" starts

    code, out, _ = run(capsys, "search", "tones", "--ext", "flac")
    first, matched, tags = out.strip().splitlines()  # one file, found by CLAP and by its name; its tags
    assert first.startswith("1.  0.") and str(small_library / "long" / "tones.flac") in first
    assert "(clap " in first and " text 0." in first and 'name: "tones (in long)" (strong)' in matched
    assert tags.strip().startswith("tags: ") and "tags" not in matched

    # a phrase no file holds, in an index that is not empty: its words are searched as any others, and it says so
    unheld = 'no file holds "zebra crossing" word for word (a transcript may have heard it otherwise)'
    verdict = f"No good match: {unheld}, and nothing is clearly near it"
    code, out, _ = run(capsys, "search", '"zebra crossing"', "-k", "3")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0] == f"{verdict}. The closest, all weak:" and lines[1].startswith("  1.  0.")
    code, out, _ = run(capsys, "search", "a dog", "--tag", "no such tag")  # a tag no file has: named, not the index
    assert code == 0 and out.strip() == (
        'No results: no file is tagged "no such tag" (`audioret tags` lists them); the filters leave nothing'
    )
    code, out, _ = run(capsys, "search", '"zebra crossing"', "-k", "3", "--json")  # a script is told the same
    result = json.loads(out)
    assert result["message"] == verdict and len(result["hits"]) == 3 and result["no_good_match"]
    assert "note" not in result  # the query was read as typed
    code, out, _ = run(capsys, "search", "-k", "2", "--", 'rain -"dog park" "zebra crossing"')  # as the query reads
    assert out.startswith(f'0 files left out by -"dog park"\n{verdict}. The closest, all weak:\n')
    code, out, _ = run(capsys, "search", '"tones"', "--folder", str(small_library / "sounds"))  # held, elsewhere
    assert code == 0 and out.strip() == 'No results: the filters left out the files that hold "tones" word for word'

    monkeypatch.chdir(small_library)  # --folder is taken from where the command runs
    code, out, _ = run(capsys, "search", "tones", "--folder", "long", "-k", "1")
    assert str(small_library / "long" / "tones.flac") in out
    code, out, _ = run(capsys, "search", "tones", "--folder", "lnog")  # mistyped: named, not "the index is empty"
    assert out.strip() == f"No results: no indexed file is under {small_library / 'lnog'}; the filters leave nothing"
    message = json.loads(run(capsys, "search", "tones", "--folder", "lnog", "--json")[1])["message"]
    assert message == f"No results: no indexed file is under {small_library / 'lnog'}; the filters leave nothing"

    code, out, _ = run(capsys, "stats", "--json")
    assert json.loads(out)["files"] == 13 and json.loads(out)["segments"] == 15

    code, out, _ = run(capsys, "remove", str(clip))
    assert out.strip() == f"removed: {clip}"
    assert json.loads(run(capsys, "stats", "--json")[1])["files"] == 12


def test_stats_names_the_engine_of_the_last_run_that_indexed_files(env, capsys):
    empty = env / "empty"
    empty.mkdir()
    assert run(capsys, "index", str(empty), "--no-progress")[0] == 1  # nothing to index there: said, exit 1
    assert json.loads(run(capsys, "stats", "--json")[1])["engine"] == "single process (last run: nothing to do)"

    write(env / "lib" / "tone.wav", np.sin(np.linspace(0, 2000, 48000 * 3)).astype(np.float32))
    assert run(capsys, "index", str(env / "lib"), "--no-progress", "--no-transcribe")[1].startswith("1 added")
    code, out, err = run(capsys, "index", str(env / "lib"), "--no-transcribe")  # the bar on, as a user runs it
    assert code == 0 and out.startswith("0 added, 0 updated, 1 unchanged")  # nothing to do: the index is as it was
    assert "indexing:" not in err and "0file" not in err  # and no empty progress bar
    code, out, _ = run(capsys, "stats")
    assert "single process (last run that indexed files)" in out
    assert "audio: 3 s\n" in out and "hours" not in out  # not "hours: 0.00"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["index", "/no/such/folder"], "No such file or folder: /no/such/folder"),
        (["similar", "/no/such.wav"], "/no/such.wav"),
        (["search", " "], "The query is empty"),
        (["search", "--", "-rain"], "The query only leaves things out (-rain); add what to look for"),
        (["search", "rain", "--min-duration", "6", "--max-duration", "2"], "longer than the longest (2 s): no file"),
        (["search", "rain", "--min-duration", "-1"], "A duration is seconds, 0 or more; got -1"),
        (["similar", "--segment", "nope"], "No segment 'nope'"),
        (["index", ".", "--hop", "0"], "hop_s must be positive"),
        (["search", "rain", "--export", "/no/such/dir/x.csv"], "Cannot export to /no/such/dir/x.csv: there is no"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(env, capsys, argv, message):
    (env / "index" / "chroma").mkdir(parents=True)  # an index, empty: each mistake is told, not the missing index
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("audioret: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("command", [["search", "rain"], ["similar", "x.wav"], ["stats"], ["duplicates"], ["tags"]])
def test_a_folder_without_an_index_is_named_and_left_as_it_was(env, capsys, command):
    """A mistyped --data-dir (or a first search before indexing) is told where no index is and how to make one;
    nothing is written there (an index used to be made, and the search said only that it was empty)."""
    code, out, err = run(capsys, "--data-dir", str(env / "typo"), *command)
    assert code == 2 and out == ""
    assert err == (
        f"audioret: error: There is no index in {env / 'typo'}: `audioret index FOLDER` makes one there "
        "(--data-dir or AUDIORET_DATA_DIR names the folder of another)\n"
    )
    assert not (env / "typo").exists()


def test_a_data_folder_that_is_a_file_is_a_one_line_error(env, capsys):
    """``--data-dir`` naming a file (a slip of the shell's completion): one line that names it, not a traceback,
    for the command that writes as for one that reads; the file is left as it was."""
    (env / "notes.txt").write_text("mine")
    for command in (["index", str(env)], ["search", "rain"]):
        code, out, err = run(capsys, "--data-dir", str(env / "notes.txt"), *command)
        assert code == 2 and out == "" and "Traceback" not in err
        assert err == (
            f"audioret: error: The data folder {env / 'notes.txt'} is a file: set --data-dir or AUDIORET_DATA_DIR "
            "to a folder\n"
        )
    assert (env / "notes.txt").read_text() == "mine"


def test_unloadable_model_is_a_one_line_error(env, capsys, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.wav").write_bytes(b"")
    write(tmp_path / "lib" / "b.wav", np.zeros(4800, np.float32))
    code, out, err = run(capsys, "--clap-model", "nobody/no-such-clap", "index", str(tmp_path / "lib"), "--no-progress")
    # the text channel still indexes b.wav; the CLAP channel's failure is one warning line that names the fix
    assert code == 0 and out.startswith("1 added") and "0 segments" in out and "text channel: 1 file, 1 passage," in out
    (warning,) = [line for line in err.splitlines() if line.startswith("warning:")]
    assert "the clap channel was not indexed" in warning
    assert "nobody/no-such-clap" in warning and "AUDIORET_CLAP_MODEL" in warning
    # again, with the model still missing: the text channel is complete, so this is the same warning, not an error
    b = str(tmp_path / "lib" / "b.wav")
    code, out, err = run(capsys, "--clap-model", "nobody/no-such-clap", "index", b, "--no-progress")
    assert code == 0 and "the clap channel was not indexed" in err and "error" not in err
    assert out.startswith("0 added")

    code, _, err = run(capsys, "--clap-model", "nobody/no-such-clap", "--text-model", "/no/text", "search", "x")
    (error,) = [line for line in err.splitlines() if line.startswith("audioret: error:")]
    assert code == 2 and all(line.startswith("audioret: ") for line in err.splitlines())
    assert "nobody/no-such-clap" in error and "AUDIORET_CLAP_MODEL" in error


@pytest.mark.slow
def test_an_unreadable_sidecar_is_one_warning_and_the_file_is_indexed(env, tmp_path):
    lib = tmp_path / "lib"
    write(lib / "kettle.wav", tone(2))
    (lib / "kettle.txt").write_text("a kettle whistling in the kitchen")
    (lib / "kettle.txt").chmod(0)
    command = [sys.executable, "-m", "audioret", "index", str(lib), "--no-progress", "--no-transcribe"]
    if os.geteuid() == 0:  # root reads any file: take that power away, as an ordinary user lacks it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv (util-linux): a file root cannot read cannot be made")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 added") and "0 failed" in done.stdout
    assert "Traceback" not in done.stderr and "kettle.txt: it cannot be read (Permission denied)" in done.stderr


def test_an_index_run_in_which_every_file_fails_exits_1_naming_them(env, capsys, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "empty.wav").write_bytes(b"")
    (lib / "text.mp3").write_bytes(b"not audio at all")
    code, out, err = run(capsys, "index", str(lib), "--no-progress", "--no-transcribe")
    assert code == 1 and out.startswith("0 added, 0 updated, 0 unchanged, 0 removed, 2 failed")
    assert "-bound" not in err  # no hint about decoding threads when nothing could be decoded
    (error,) = [line for line in err.splitlines() if line.startswith("audioret: error:")]
    assert "no file could be indexed: all 2 failed" in error
    assert "empty.wav: " in error and "text.mp3: " in error
    assert f"failed: {lib / 'empty.wav'}: " in err and f"failed: {lib / 'text.mp3'}: " in err

    write(lib / "tone.wav", np.zeros(4800, np.float32))  # one file that decodes: the run succeeds, failures named
    code, out, err = run(capsys, "index", str(lib), "--no-progress", "--no-transcribe")
    assert code == 0 and out.startswith("1 added, 0 updated, 0 unchanged, 0 removed, 2 failed")
    assert "audioret: error:" not in err and f"failed: {lib / 'empty.wav'}: " in err


def test_an_index_run_that_finds_no_audio_says_so(env, capsys, tmp_path):
    lib = tmp_path / "notes"
    lib.mkdir()
    (lib / "readme.txt").write_text("not audio")
    code, out, err = run(capsys, "index", str(lib), "--no-progress", "--no-transcribe")
    assert code == 1 and out.startswith("0 added, 0 updated, 0 unchanged, 0 removed, 0 failed")
    assert f"audioret: error: no audio file was found in {lib} (the kinds read: .aac .aif" in err


def test_python_m_and_console_script_agree(env):
    out = subprocess.run([sys.executable, "-m", "audioret", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("audioret ")


def test_a_reader_that_stops_early_ends_the_run_quietly(env):
    """``audioret tags --json | head -1``: the pipe is closed before the output is written."""
    (env / "index" / "chroma").mkdir(parents=True)  # an index, empty: the command gets as far as its output
    proc = subprocess.Popen(
        [sys.executable, "-m", "audioret", "tags", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    proc.stdout.close()  # the reader is gone before a byte is printed
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err


@pytest.mark.slow
def test_the_first_index_run_prepares_the_models_then_times_the_files(env, tmp_path, esc10_dir):
    """The models are prepared (exported) on the first run: plain progress lines, and the bar's clock starts after
    them, so its estimate and rate are of the files, not of the preparation."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for clip in sorted(esc10_dir.glob("*.ogg"))[:4]:
        shutil.copy(clip, lib)
    environ = {**os.environ, "PYTHONPATH": str(REPO), "AUDIORET_CACHE_DIR": str(tmp_path / "cache")}
    argv = [sys.executable, "-m", "audioret", "index", str(lib), "--no-transcribe", "--report", str(tmp_path / "r")]
    err = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=600, check=True).stderr
    assert "audioret: Preparing the clap model" in err and "WARNING" not in err
    states = re.findall(r"(\d+)/4 \[(\d+):(\d\d)<", err.split("Preparing the")[-1])
    assert states[-1][0] == "4"
    shown = 60 * int(states[-1][1]) + int(states[-1][2])  # the bar's time for the files
    assert shown < json.loads((tmp_path / "r").read_text())["elapsed_s"] / 2  # the preparation took the most


def wait_for_progress(proc: subprocess.Popen, files: int, timeout_s: float = 120.0):
    """Reads the progress bar on stderr until it shows at least ``files`` files done (or the run ends)."""
    deadline, seen = time.monotonic() + timeout_s, ""
    while time.monotonic() < deadline and proc.poll() is None:
        seen = (seen + os.read(proc.stderr.fileno(), 4096).decode(errors="replace"))[-200:]
        done = re.findall(r"(\d+)/\d+ \[", seen)
        if done and int(done[-1]) >= files:
            return


@pytest.mark.slow
def test_killed_indexer_resumes_to_the_same_index(env, esc10_dir, tiny_clap_dir, monkeypatch):
    """SIGKILL an indexing run at 10 random points (start-up, mid-write, after the end); the last restart finishes with
    no duplicate and no missing segment,
    and the result equals a clean build."""
    monkeypatch.setenv("AUDIORET_TRANSCRIBE", "0")  # the subject is the CLAP pass; names still go to the text channel
    library = env / "lib"
    library.mkdir()
    for copy in "abc":  # 1,200 files: indexing outlasts start-up, and is written in several calls
        (library / copy).mkdir()
        for src in sorted(esc10_dir.glob("*.ogg")):
            os.symlink(src, library / copy / src.name)

    clean = Library(Config.from_env(data_dir=env / "clean", batch_size=4))  # the same backend as the CLI's runs
    clean.index([library], progress=False)
    expected = clean.store.collection.get(include=["embeddings", "metadatas"])
    Config.from_env().data_dir.mkdir(parents=True, exist_ok=True)  # the runs below derive ids with the same key
    shutil.copy(env / "clean" / "id-key", Config.from_env().data_dir / "id-key")

    rng = random.Random(0)
    command = [sys.executable, "-m", "audioret", "index", str(library), "--batch-size", "4"]
    stats = [sys.executable, "-m", "audioret", "stats", "--json"]
    partial = []
    for _ in range(10):
        # kill at a random point: during start-up, or a random time after the progress bar passed a random file
        target = rng.choice([0, rng.randint(1, 1199)])
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if target == 0:
            time.sleep(rng.uniform(0.5, 3.0))
        else:
            wait_for_progress(proc, target)
            time.sleep(rng.uniform(0.0, 2.5))  # between writes, or in the middle of one
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # read the killed run's index from another process (Chroma's embedded store is one process at a time)
        partial.append(json.loads(subprocess.run(stats, cwd=REPO, check=True, capture_output=True).stdout)["files"])
    command.append("--no-progress")
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    assert any(0 < n < 1200 for n in partial), f"no kill landed mid-run: files after each kill {partial}"

    resumed = Library(Config.from_env())
    got = resumed.store.collection.get(include=["embeddings", "metadatas"])
    assert sorted(got["ids"]) == sorted(expected["ids"])  # ids are unique in Chroma: no duplicates, no gaps
    by_id = dict(zip(got["ids"], got["embeddings"]))
    for i, vector in zip(expected["ids"], expected["embeddings"]):
        np.testing.assert_array_equal(np.asarray(by_id[i]), np.asarray(vector))
    assert resumed.stats()["incomplete_files"] == 0
    # the text channel resumed too: one name passage per file, same ids as the clean build
    text_ids = resumed.text_store.collection.get()["ids"]
    assert sorted(text_ids) == sorted(clean.text_store.collection.get()["ids"])
    assert len(text_ids) == 1200
    # and the word index holds the same passages, marked as in step with the store
    words = resumed.text_store.words
    assert words.synced() and sorted(i for i, *_ in words.matching('"in"', None)) == sorted(text_ids)


def test_transcribe_and_spoken_search(env, capsys, asr_model, text_model):
    lib = env / "lib"
    speak(lib / "meeting.wav", "The meeting is about the new budget.", lead_s=2.0)
    write(lib / "quiet.wav", np.zeros(48000 * 3, np.float32))
    assert run(capsys, "index", str(lib), "--no-progress")[0] == 0

    query = speak(env / "query.wav", "what did they say about the budget")
    code, out, _ = run(capsys, "transcribe", str(query), "--json")
    t = json.loads(out)
    assert code == 0 and t["language"] == "en" and "budget" in t["text"].lower()
    assert t["utterances"][0]["start_s"] < 0.5

    code, out, _ = run(capsys, "search", "--spoken", str(query), "--json", "-k", "2")
    result = json.loads(out)
    assert code == 0 and result["spoken"]["text"] == t["text"] and result["query"] == t["english"]
    first = result["hits"][0]
    assert first["path"] == str(lib / "meeting.wav") and first["text_kind"] == "speech"
    assert first["start_s"] >= 1.5  # the words start after two seconds of room noise

    code, out, _ = run(capsys, "search", "--spoken", str(query), "-k", "1")
    assert out.startswith(f"heard [en]: {t['text']}") and "said at 0:0" in out

    code, _, err = run(capsys, "transcribe", str(lib / "quiet.wav"))
    assert code == 1 and "No speech heard" in err
    with pytest.raises(SystemExit):
        main(["search", "words", "--spoken", str(query)])  # a query or a recording, not both


def test_a_query_that_starts_with_minus_is_told_to_go_after_double_dash(capsys):
    """`search -rain` reads -rain as an option; the error says how to search for it."""
    with pytest.raises(SystemExit) as stopped:
        main(["search", "-k", "3", "-rain"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "audioret search -- '-rain ...'" in err
    with pytest.raises(SystemExit):
        main(["stats", "--bogus"])
    assert "--bogus" in (err := capsys.readouterr().err) and "goes after --" not in err
