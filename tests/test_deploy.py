"""The deployment files say what the app needs: Hugging Face Spaces front matter and the Deta Space Spacefile."""

import re
import shlex

import yaml

from .conftest import REPO


def test_spaces_front_matter_matches_requirements():
    front = yaml.safe_load((REPO / "README.md").read_text().split("---")[1])
    assert front["sdk"] == "gradio" and front["app_file"] == "app.py" and (REPO / front["app_file"]).exists()
    assert len(front["short_description"]) <= 60  # the Hub refuses longer ones
    low, high = re.search(r"^gradio>=([\d.]+),<(\d+)", (REPO / "requirements.txt").read_text(), re.M).groups()
    version = tuple(map(int, front["sdk_version"].split(".")))
    assert tuple(map(int, low.split("."))) <= version < (int(high),)


def test_spacefile_runs_the_same_app_with_everything_it_needs():
    micro = yaml.safe_load((REPO / "Spacefile").read_text())["micros"][0]
    assert micro["primary"] and micro["engine"] == "custom"
    for path in micro["include"]:
        assert path == "deps/" or (REPO / path).exists(), path
    run = shlex.split(micro["run"])
    assert run[run.index("python") + 1] == "app.py" and "$PORT" in run and "0.0.0.0" in run
    assert any("-r requirements.txt" in c for c in micro["commands"])
