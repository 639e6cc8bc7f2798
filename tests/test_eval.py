"""``audioret eval``: metrics on rankings with known answers, the four input layouts, and end-to-end runs."""

import csv
import functools
import json
import subprocess
import sys

import pytest

from audioret import evaluate
from audioret.models import hub

from .conftest import require_shared, tone, write


@pytest.mark.slow
def test_metrics_on_hand_made_rankings():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1, "d": 1}}
    run = {
        "q1": {"a": 3.0, "x": 2.0, "y": 1.0},  # relevant first
        "q2": {"x": 3.0, "y": 2.0, "b": 1.0},  # relevant third
        "q3": {"x": 3.0, "c": 2.0},  # one of two relevant, second
    }
    m = evaluate.metrics(qrels, run)
    approx = functools.partial(pytest.approx, abs=1e-6)  # metrics are rounded to 6 decimals
    assert m["R@1"] == approx(1 / 3) and m["R@5"] == m["R@10"] == 1.0
    assert m["MRR"] == approx((1 + 1 / 3 + 1 / 2) / 3)
    # AP@10: q1 1, q2 1/3, q3 (1/2) / 2 relevant
    assert m["mAP@10"] == approx((1 + 1 / 3 + 1 / 4) / 3)
    # many relevant files (a class): a top 10 full of them is a perfect AP@10, whatever R is
    many = {"q": {f"d{i}": 1 for i in range(30)}}
    perfect = evaluate.metrics(many, {"q": {f"d{i}": 30.0 - i for i in range(10)}})
    assert perfect["mAP@10"] == 1.0 and perfect["P@10"] == 1.0 and perfect["Rec@10"] == approx(1 / 3)
    assert m["P@1"] == approx(1 / 3) and m["P@5"] == approx((1 / 5 + 1 / 5 + 1 / 5) / 3)
    assert m["Rec@5"] == approx((1 + 1 + 0.5) / 3)
    p, r = 1 / 5, 0.5  # q3 at 5
    assert m["F1@5"] == approx((2 * (1 / 5) / (1 / 5 + 1) * 2 + 2 * p * r / (p + r)) / 3)


@pytest.mark.slow
def test_map_at_10_is_the_dcase_definition_with_one_relevant_file():
    """DCASE language-based audio retrieval: one relevant file per caption, AP@10 = 1/rank if in the top 10."""
    approx = functools.partial(pytest.approx, abs=1e-6)
    qrels = {f"q{r}": {"hit": 1} for r in range(1, 13)}
    run = {f"q{r}": {**{f"n{i}": 100.0 - i for i in range(1, r)}, "hit": 100.0 - r} for r in range(1, 13)}
    dcase = sum(1 / r if r <= 10 else 0 for r in range(1, 13)) / 12
    assert evaluate.metrics(qrels, run)["mAP@10"] == approx(dcase)
    curve = evaluate.recall_curve(qrels, run)
    assert curve[0] == approx(1 / 12) and curve[9] == approx(10 / 12) and curve[11] == 1.0


@pytest.mark.slow
def test_a_query_with_no_results_scores_zero():
    m = evaluate.metrics({"q1": {"a": 1}, "q2": {"b": 1}}, {"q1": {"a": 1.0}})
    assert m["R@1"] == 0.5 and m["MRR"] == 0.5


@pytest.fixture
def clips(tmp_path):
    return [write(tmp_path / "src" / f"c{i}.wav", tone(1.0, 200 + 100 * i)) for i in range(4)]


def test_input_layouts(tmp_path, clips):
    folders = tmp_path / "classes"
    for label, clip in zip(["dog_bark", "dog_bark", "rain", "rain"], clips):
        (folders / label).mkdir(parents=True, exist_ok=True)
        (folders / label / clip.name).symlink_to(clip)
    d = evaluate.load_dataset(folders)
    assert d.kind == "folders" and d.queries == {
        "class:dog_bark": "the sound of a dog bark",
        "class:rain": "the sound of a rain",
    }
    assert d.qrels["class:rain"] == {"rain/c2.wav": 1, "rain/c3.wav": 1}

    labels = tmp_path / "labels.csv"
    labels.write_text("path,label,fold\nsrc/c0.wav,bird,1\nsrc/c1.wav,bird,2\nsrc/gone.wav,bird,3\n")
    d = evaluate.load_dataset(labels, template="{label} song")
    assert d.kind == "labels" and d.queries == {"class:bird": "bird song"} and d.missing == ["src/gone.wav"]

    clotho = tmp_path / "clotho_captions_evaluation.csv"
    with open(clotho, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file_name", *(f"caption_{i}" for i in range(1, 6))])
        w.writerow(["c0.wav", "a low hum", "a hum", "humming", "a drone", "a low tone"])
        w.writerow(["nope.wav", "x", "x", "x", "x", "x"])
    d = evaluate.load_dataset(clotho, audio_dir=tmp_path / "src")
    assert d.kind == "clotho" and len(d.queries) == 5 and d.qrels["c0.wav#3"] == {"c0.wav": 1}
    assert d.missing == ["nope.wav"]

    audiocaps = tmp_path / "test.csv"
    audiocaps.write_text(
        "audiocap_id,youtube_id,start_time,caption\n1,abc,30,a dog barks\n2,abc,30,barking\n3,zzz,0,wind\n"
    )
    (tmp_path / "src" / "c1.wav").rename(tmp_path / "src" / "abc_30.wav")
    d = evaluate.load_dataset(audiocaps, audio_dir=tmp_path / "src")
    assert d.kind == "audiocaps" and d.queries == {"abc_30.wav#1": "a dog barks", "abc_30.wav#2": "barking"}
    assert d.missing == ["zzz_0 (missing)"]

    bad = tmp_path / "bad.csv"
    bad.write_text("name,thing\nx,y\n")
    with pytest.raises(ValueError, match="Cannot tell the CSV's format from its columns \\(name, thing\\)"):
        evaluate.load_dataset(bad)


def run_eval(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "audioret", "eval", *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.mark.slow
def test_esc10_end_to_end_with_the_tiny_clap(tmp_path, esc10_dir, tiny_clap_dir):
    """A random CLAP: the numbers mean nothing, the pipeline is what is checked (and that it repeats exactly)."""
    rows = list(csv.DictReader(open(esc10_dir.parent / "labels.csv")))
    layout = tmp_path / "esc10-classes"  # a folder per class, 4 clips each
    for label in sorted({r["label"] for r in rows}):
        (layout / label).mkdir(parents=True)
        for r in [r for r in rows if r["label"] == label][:4]:
            (layout / label / r["path"].split("/")[-1]).symlink_to(esc10_dir.parent / r["path"])
    args = [str(layout), "--clap-model", str(tiny_clap_dir), "--data-dir", str(tmp_path / "data")]
    first = run_eval(*args, "--json", str(tmp_path / "1.json"), "--plot", str(tmp_path / "r.png"))
    assert first.returncode == 0, first.stderr
    assert "esc10-classes (folders), 40 files, 10 queries" in first.stdout
    assert f"clap model: {tiny_clap_dir} @ local:" in first.stdout and "zero-shot accuracy" in first.stdout
    result = json.loads((tmp_path / "1.json").read_text())
    assert set(result["metrics"]) == {"clap", "text", "fused"} and result["dataset"]["failed_files"] == []
    for m in result["metrics"].values():
        assert all(0 <= v <= 1 for v in m.values())
        assert m["R@1"] <= m["R@5"] <= m["R@10"]
    assert result["metrics"]["text"]["R@1"] <= 0.3  # names hidden: no label reaches the text channel (chance: 0.1)
    assert 0 <= result["zero_shot_accuracy"] <= 1 and (tmp_path / "r.png").stat().st_size > 10_000
    assert len(result["recall_curve"]["clap"]) == evaluate.DEPTH and result["recall_curve"]["clap"][-1] == 1.0
    again = run_eval(*args, "--json", str(tmp_path / "2.json"))
    assert again.stdout == first.stdout  # same inputs, same numbers (and the index is reused)
    assert json.loads((tmp_path / "2.json").read_text())["metrics"] == result["metrics"]


@pytest.mark.slow
def test_spoken_digits_with_the_real_text_and_speech_models(tmp_path, tiny_clap_dir):
    """FSDD: the query "seven" must find the recordings of people saying seven, through Whisper and MiniLM."""
    fsdd = require_shared("fsdd")
    rows = [r for r in csv.DictReader(open(fsdd / "labels.csv")) if r["index"] == "0"]
    subset = tmp_path / "digits.csv"
    with open(subset, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "transcript"])
        for digit in sorted({r["transcript"] for r in rows}):
            w.writerows([str(fsdd / r["path"]), digit] for r in [r for r in rows if r["transcript"] == digit][:3])
    out = run_eval(
        str(subset),
        "--label-column",
        "transcript",
        "--template",
        "{label}",
        "--json",
        str(tmp_path / "r.json"),
        "--clap-model",
        str(tiny_clap_dir),
        "--data-dir",
        str(tmp_path / "d"),
    )
    assert out.returncode == 0, out.stderr
    m = json.loads((tmp_path / "r.json").read_text())["metrics"]
    assert m["text"]["R@1"] >= 0.9 and m["text"]["MRR"] >= 0.9 and m["text"]["mAP@10"] >= 0.5
    assert m["text"]["mAP@10"] > m["clap"]["mAP@10"]  # the random CLAP knows nothing of digits


def test_eval_errors(tmp_path):
    out = run_eval(str(tmp_path / "nothing.csv"))
    assert out.returncode == 2 and "nothing.csv: no such folder or CSV file" in out.stderr
    (tmp_path / "x.csv").write_text("path,label\n")
    out = run_eval(str(tmp_path / "x.csv"), "--channels", "clap,sound")
    assert out.returncode == 2 and "no audio files with labels" in out.stderr


def test_model_revision_of_a_local_model_changes_with_its_weights(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.safetensors").write_bytes(b"a" * 100)
    first = hub.model_revision(str(tmp_path / "m"))
    assert first.startswith("local:") and first == hub.model_revision(str(tmp_path / "m"))
    (tmp_path / "m" / "model.safetensors").write_bytes(b"b" * 100)
    assert hub.model_revision(str(tmp_path / "m")) != first
    assert hub.model_revision("base").startswith("unknown")
