"""A third channel, added in one place (the list of channel factories), indexed and searched like the others: it
ranks within the query's scope, its evidence is fused without fusion knowing its name, and the library's file list,
counts and removal ask it too."""

from __future__ import annotations

import numpy as np
import pytest

from audioret import Config, Filters, Library
from audioret.channels.base import Channel, Output
from audioret.channels.registry import CHANNELS
from audioret.ranking.fusion import Found
from audioret.ranking.nearest import best_files
from audioret.store.chroma import Store
from audioret.store.records import file_fields, records

from .conftest import tone, write

DIM = 256


def name_vector(text: str) -> np.ndarray:
    """A bag of the character trigrams of ``text``'s words, hashed into DIM dimensions, unit length."""
    v = np.zeros(DIM, np.float32)
    for word in text.lower().replace("_", " ").replace("-", " ").split():
        padded = f" {word} "
        for i in range(len(padded) - 2):
            v[sum(map(ord, padded[i : i + 3])) * 7919 % DIM] += 1.0
    return v / max(float(np.linalg.norm(v)), 1e-12)


class NameChannel(Channel):
    """File names as character trigrams: finds "doorbel" in ``doorbell ring.wav``."""

    name = "name"
    needs_audio = False

    def __init__(self, store):
        self.store, self.weight = store, 1.0
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._out: list[Output] = []

    @property
    def model(self):
        return name_vector

    def finish(self, job, info, duration_s: float) -> None:
        common = file_fields(job.path, job.stat, job.digest, duration_s, 1)
        ids, metadatas = records(common, [(0.0, duration_s, {})])
        self._out.append(Output(job, self.name, ids, metadatas, name_vector(common["name"])[None]))

    def reuse(self, job) -> None:
        self.finish(job, None, job.stored[self.name].duration_s)

    def ready(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def rank(self, request, n_files: int) -> list[Found]:
        matches = best_files(self.store, name_vector(request.query.text), n_files, request.scope)
        return [
            Found(m, 20.0 * max(m.score - 0.2, 0.0), "name", m.score, None, None, "named", f'"{m.metadata["name"]}"')
            for m in matches
        ]

    def stats(self, complete: dict) -> dict:
        return {"names": self.store.count()}


def names(library) -> Channel:
    """The factory: the one place the channel is wired to a library."""
    return NameChannel(Store("name-trigrams", DIM, path=library.config.data_dir / "chroma", channel="name"))


@pytest.fixture
def three(tmp_path, tiny_clap_dir, tiny_embedder, text_model):
    folder = tmp_path / "lib"
    for i, name in enumerate(
        ["doorbell ring.wav", "rain on the roof.wav", "kettle whistle.flac", "doorbell chime.flac"]
    ):
        write(folder / name, tone(3, 300 + 200 * i, seed=i))
    config = Config(
        data_dir=tmp_path / "index",
        clap_model=str(tiny_clap_dir),
        text_model=text_model,
        device="cpu",
        transcribe=False,
        batch_size=4,
    )
    library = Library(config, channels=CHANNELS + (names,))
    library.embedder = tiny_embedder
    report = library.index([folder], progress=False)
    assert len(report.added) == 4 and not report.failed and not report.skipped_channels
    return library, folder


def test_a_third_channel_is_indexed_and_searched_with_its_weight(three):
    library, folder = three
    assert library.channels.names == ["clap", "text", "name"]
    assert library.channels["name"].store.count() == 4

    hits = library.search("doorbel", k=4, weights={"name": 1})  # the other channels off
    assert {h.path for h in hits[:2]} == {str(folder / n) for n in ("doorbell chime.flac", "doorbell ring.wav")}
    assert hits[1].score > hits[2].score
    assert set(hits[0].scores) == {"name"} and hits[0].why.startswith('named: "doorbell')
    assert hits[0].start_s == 0.0 and hits[0].segment_id is None  # it pins no moment and offers no "more like this"

    fused = library.search("doorbell", k=4)  # every channel at its own weight
    assert {"clap", "text", "name"} <= set().union(*(h.scores for h in fused))
    assert fused[0].segment_id is not None  # the sound channel's window comes with the fused hit


def test_the_third_channel_keeps_to_the_scope(three):
    library, folder = three
    flac = library.search("doorbell", k=4, filters=Filters(extensions=("flac",)), weights={"name": 1})
    assert [h.path for h in flac] == [str(folder / "doorbell chime.flac"), str(folder / "kettle whistle.flac")]
    # "-chime" is read by the text channel (which holds the file names' words); the name channel keeps to it
    without = library.search("doorbell -chime", k=4, weights={"name": 1})
    assert str(folder / "doorbell chime.flac") not in [h.path for h in without]
    assert without[0].path == str(folder / "doorbell ring.wav")
    assert without.note == "1 file left out by -chime" and without.to_dict()["note"] == without.note
    # a file outside the filters is not counted (on a public page, another visitor's files stay unseen)
    wav = library.search("doorbell -chime -kettle", k=4, filters=Filters(extensions=("wav",)), weights={"name": 1})
    assert wav.note == "0 files left out by -chime, 0 by -kettle"
    required = library.search('"rain on the roof"', k=4, weights={"name": 1})
    assert [h.path for h in required] == [str(folder / "rain on the roof.wav")]


def test_the_library_asks_every_channel_for_files_counts_and_removal(three):
    library, folder = three
    assert {f.channels for f in library.files()} == {("clap", "text", "name")}
    assert library.stats()["names"] == 4 and library.stats()["files"] == 4
    library.remove([str(folder / "kettle whistle.flac")])
    assert library.channels["name"].store.count() == 3 and library.stats()["files"] == 3


def test_weights_name_the_channels():
    from audioret.errors import InputError
    from audioret.search import check_weights

    with pytest.raises(InputError, match=r"All 3 channel weights are 0.*clap, text, name"):
        check_weights(["clap", "text", "name"], {"clap": 0, "text": 0})


def test_the_page_searches_and_names_a_third_channel(three):
    """The page's sliders set the sound and text channels' weights; a channel without a slider searches at its own
    weight (the page had left it out), and the header names it when it is off (its name was looked up in a table
    of the two: a KeyError)."""
    import gradio as gr

    from audioret.ui.search_tab import SearchHandlers
    from audioret.ui.state import App

    library, folder = three
    app = App(library.config)
    app.library = library  # the page over this library of three channels
    assert library.channels.weights({"clap": 0, "text": "0.5", "speed": 2}) == {"clap": 0, "text": 0.5, "name": 1}
    assert library.channels.weights({"clap": None}) == library.channels.weights() == {"clap": 1, "text": 1, "name": 1}
    cards = SearchHandlers(app).search("doorbel", 4, 0, 0, "", "", None, None, gr.Request(session_hash="v"))[1]
    assert cards.index("doorbell") < cards.index("kettle whistle")  # the sliders at 0: the name channel alone
    library.channels.errors["name"] = "its model could not be loaded"
    status = app.status()
    assert "**The name channel is off**; searches use the sound channel (CLAP) and the text channel" in status
    assert "<summary>the name channel: its model could not be loaded</summary>" in status
