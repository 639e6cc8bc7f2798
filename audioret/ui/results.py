"""The results area as HTML: a header that says what was searched and how many results, then one compact card per
hit: its name and folder, time range, why it matched, a player of the segment, "play from here in the whole file",
and, under a long file, a strip of every stretch's match for the query. Pure functions of their arguments.

The page wires the clicks with one script (``SCRIPT``): a strip cell or "play from here" plays the whole file from
that time, "Search by this sound" sends the segment id back to the server, and "Good match" / "Not this" the card's
rank (relevance feedback on the visitor's last typed or spoken query). The same results as a table sit under the
cards, behind "Show as table", formatted as the cards are.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from ..export import clip_name
from ..render import clock, strength_word, time_range
from ..types import Hit, Moment

LONG_S = 30.0  # files at least this long get a timeline strip
CELLS = 48  # cells in a strip
MAX_CHIPS = 6  # tag chips on a card, strongest first

SCRIPT = """
element.addEventListener('click', (event) => {
  const card = event.target.closest('.hit');
  const at = event.target.closest('[data-t]');
  if (card && at) {
    const player = card.querySelector('audio.whole');
    player.hidden = false;
    player.src = card.dataset.whole + '#t=' + at.dataset.t;
    player.play().catch(() => {});
    return;
  }
  const tag = event.target.closest('button.tag');
  if (tag) { trigger('click', {tag: tag.dataset.tag}); return; }
  const more = event.target.closest('button.more');
  if (more) trigger('click', {segment: more.dataset.segment});
  const vote = event.target.closest('button.vote');
  if (vote) trigger('click', {vote: vote.dataset.vote, rank: vote.dataset.rank});
});
watch('value', () => {
  const header = element.querySelector('.results-header');
  if (header) header.scrollIntoView({behavior: 'smooth', block: 'start'});
  // the best segment plays by itself after a spoken query (or a typed one), as the toggles under the query say
  const found = element.querySelector('.results[data-kind]');
  const toggle = found && document.querySelector(`#autoplay-${found.dataset.kind} input[type=checkbox]`);
  const best = found && found.querySelector('audio.segment');
  if (toggle && toggle.checked && best) best.play().catch(() => {});
});
"""

CSS = """
.results-header { margin: 0.5em 0; font-size: 1.1em; scroll-margin-top: 8px; }
.results-note { margin: 0 0 0.5em; color: var(--body-text-color-subdued); }
.hit { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6em; margin: 0.5em 0;
       list-style: none; }
.hit-title { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: baseline; }
.hit-name { font-weight: 600; overflow-wrap: anywhere; }
.hit-folder, .hit-time { color: var(--body-text-color); font-variant-numeric: tabular-nums; }
.hit-folder { background: var(--background-fill-secondary); border-radius: 4px; padding: 0 0.35em; }
.why { margin: 0.3em 0; overflow-wrap: break-word; }  /* whole words; only a word wider than the card breaks */
.hit audio { width: 100%; height: 36px; }
.strip { display: flex; height: 18px; margin: 0.3em 0; cursor: pointer; border-radius: 3px; overflow: hidden; }
.strip span { flex: 1; background: #3b82f6; }
.strip span.mark { outline: 2px solid #f59e0b; outline-offset: -2px; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5em; margin-top: 0.3em; }
.actions a.download { font-size: 0.85em; align-self: center; }
.actions button { font-size: 0.85em; padding: 0.2em 0.6em; border-radius: 6px;
                  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.actions button svg { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: -0.1em;
                      margin-right: 0.25em; fill: none;
                      stroke: currentColor; stroke-width: 2.2; }
.hit ol { padding: 0; }
.tags { display: flex; flex-wrap: wrap; gap: 0.3em; margin: 0.2em 0; }
.tags button.tag { font-size: 0.8em; padding: 0.05em 0.6em; border-radius: 999px; cursor: pointer;
                   border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
details.as-table { margin: 0.8em 0; }
details.as-table summary { cursor: pointer; font-weight: 600; }
.as-table .scroll { overflow-x: auto; }
.as-table table { border-collapse: collapse; font-size: 0.9em; width: 100%; }
.as-table th { white-space: nowrap; text-align: left; border-bottom: 1px solid var(--border-color-primary); }
.as-table th, .as-table td { padding: 0.25em 0.5em; vertical-align: top; }
.as-table td.num { white-space: nowrap; font-variant-numeric: tabular-nums; text-align: right; }
.as-table td.why { min-width: 18em; overflow-wrap: break-word; }
"""

CHECK = '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M2.5 8.5l3.5 3.5 7.5-8"/></svg>'
CROSS = '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M3.5 3.5l9 9M12.5 3.5l-9 9"/></svg>'


@dataclass(frozen=True)
class Card:
    """What a card shows besides the hit: its name and folder as the visitor may see them, and its media URLs."""

    hit: Hit
    name: str
    folder: str
    clip_url: str
    whole_url: str
    spectrogram_url: str = ""
    moments: tuple[Moment, ...] = ()
    votes: bool = False  # "Good match" / "Not this": relevance feedback (typed and spoken queries)


def header(
    described: str,
    count: int,
    no_good_match: bool,
    why: str = "",
    example: bool = False,
    matches: int | None = None,
    verdict: str = "",
) -> str:
    """``3 results for "rain on a tin roof"``, and how many of them are matches where not all are (``: 1 match, 2
    weak``); or why there are none (``why``, as the command line says it: :func:`audioret.render.why_nothing`); or
    the no-good-match sentence, then the closest; or ``verdict`` (:attr:`Results.message` of a quoted phrase no
    file holds), then the results for its words."""
    what = html.escape(described)
    some = f": {matches} match{'es' * (matches != 1)}, {count - matches} weak" if matches and matches < count else ""
    if count and verdict:  # "No exact match: no file holds …" said for the query, as the other headers are
        head, _, rest = verdict.partition(": ")
        tail = f"The closest {count}, all weak" if no_good_match else f"{count} result{'s' * (count != 1)}{some}"
        return f'<h3 class="results-header">{html.escape(head)} for {what}: {html.escape(rest)}. {tail}:</h3>'
    if count == 0:
        why = why or (
            'no file holds the "quoted words" word for word, the filters leave nothing, or the library holds '
            "nothing yet"
        )
        return f'<h3 class="results-header">No results for {what}: {html.escape(why)}</h3>'
    if no_good_match:
        like = "clearly sounds like that example" if example else "clearly sounds like that or says it"
        return (
            f'<h3 class="results-header">No good match for {what}: nothing in your library {like}. The closest '
            f"{count}, all weak:</h3>"
        )
    return f'<h3 class="results-header">{count} result{"s" * (count != 1)} for {what}{some}</h3>'


def strip(moments: Sequence[Moment], duration_s: float, mark: tuple[float, float], cells: int = CELLS) -> str:
    """A row of cells over the file's length, each as dark as the best match of any stretch overlapping it; the
    cells of the hit's own time range are marked. A cell's ``data-t`` is its start, for playing from there."""
    if duration_s <= 0:
        return ""
    width = duration_s / cells
    spans = []
    for i in range(cells):
        lo, hi = i * width, (i + 1) * width
        level = max((m.strength for m in moments if m.start_s < hi and m.end_s > lo), default=0.0)
        marked = mark[0] < hi and mark[1] > lo
        spans.append(
            f'<span data-t="{lo:.1f}" title="{clock(lo)}" class="{"mark" * marked}" '
            f'style="opacity:{0.12 + 0.88 * level:.2f}"></span>'
        )
    return f'<div class="strip" title="Where in the file it matches; click to play from there">{"".join(spans)}</div>'


def card(c: Card) -> str:
    hit = c.hit
    word = strength_word(hit.score)
    title = (
        f'<div class="hit-title"><span class="hit-name">{hit.rank}. {html.escape(c.name)}</span>'
        f'<span class="hit-folder">{html.escape(c.folder)}</span>'
        f'<span class="hit-time">{time_range(hit.start_s, hit.end_s, "–")}</span>'
        f'<span class="score" title="match strength: 0.5 is the line between a match and chance">'
        f"score {hit.score:.2f} ({word})</span></div>"
    )
    why = f'<div class="why">{html.escape(hit.why)}</div>' if hit.why else ""
    top = sorted(hit.tags, key=lambda t: -hit.tags[t])[:MAX_CHIPS]
    chips = "".join(
        f'<button class="tag" data-tag="{html.escape(t)}" title="only files tagged {html.escape(t)}">'
        f"{html.escape(t)}</button>"
        for t in top
    )
    why += f'<div class="tags">{chips}</div>' if chips else ""
    player = f'<audio class="segment" controls preload="none" src="{c.clip_url}"></audio>'
    whole = '<audio class="whole" controls preload="none" hidden></audio>'
    said = hit.text_kind == "speech" and hit.text_start_s is not None  # mark where the words are, if any were said
    mark = (hit.text_start_s, hit.text_end_s) if said else (hit.start_s, hit.end_s)
    timeline = strip(c.moments, hit.duration_s, mark) if hit.duration_s >= LONG_S else ""
    actions = [
        f'<button class="play-from" data-t="{hit.start_s:.1f}">Play from {clock(hit.start_s)} in the whole '
        f"file</button>",
        f'<a class="download" href="{c.clip_url}" download="{html.escape(clip_name(hit, lambda _: c.name))}">'
        "Download this segment</a>",
    ]
    if hit.segment_id:
        actions.append(
            f'<button class="more" data-segment="{html.escape(hit.segment_id)}" title="a new search: the library\'s '
            f'segments that sound like this one">Search by this sound</button>'
        )
    if c.votes:
        actions.append(
            f'<button class="vote" data-vote="like" data-rank="{hit.rank}" title="the same query again, with more '
            f'results like this one">{CHECK}Good match</button>'
            f'<button class="vote" data-vote="unlike" data-rank="{hit.rank}" title="the same query again, without '
            f'this one and with fewer like it">{CROSS}Not this</button>'
        )
    spectrogram = (
        (
            f'<details><summary>Spectrogram</summary><img loading="lazy" alt="mel spectrogram of the segment" '
            f'src="{c.spectrogram_url}" style="max-width:100%"></details>'
        )
        if c.spectrogram_url
        else ""
    )
    return (
        f'<li class="hit" data-whole="{c.whole_url}">{title}{why}{player}{timeline}{whole}'
        f'<div class="actions">{"".join(actions)}</div>{spectrogram}</li>'
    )


TABLE_COLUMNS = ("rank", "file", "folder", "time", "score", "sound", "text", "why")


def hits_table(cards: Sequence[Card]) -> str:
    """The results as a table, formatted as on the cards (0.33, 0:08.3–0:16.0) and with the whole "why"."""
    rows = []
    for c in cards:
        hit = c.hit
        cosine = lambda channel: f"{hit.scores[channel]:.2f}" if channel in hit.scores else ""  # noqa: E731
        cells = [
            f'<td class="num">{hit.rank}</td>',
            f"<td>{html.escape(c.name)}</td>",
            f"<td>{html.escape(c.folder)}</td>",
            f'<td class="num">{time_range(hit.start_s, hit.end_s, "–")}</td>',
            f'<td class="num">{hit.score:.2f}</td>',
            f'<td class="num">{cosine("clap")}</td>',
            f'<td class="num">{cosine("text")}</td>',
            f'<td class="why">{html.escape(hit.why or "")}</td>',
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{h}</th>" for h in TABLE_COLUMNS)
    return (
        '<details class="as-table"><summary>Show as table</summary><div class="scroll"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></details>"
    )


def results(
    described: str,
    cards: Sequence[Card],
    no_good_match: bool,
    kind: str = "",
    why: str = "",
    example: bool = False,
    note: str = "",
    verdict: str = "",
) -> str:
    """The whole results area; ``kind`` ("spoken", "typed" or "example") lets the page play the best segment by
    itself after the kinds of query the visitor chose; ``why`` says why there are no cards; ``example``: found by a
    sound (an example, or "Search by this sound"), so nothing was said to match; ``note``: how the query was read
    (an unmatched quote, what the exclusions left out), under the header; ``verdict``: the header of a query whose
    quoted phrase no file holds (:func:`header`)."""
    items = "".join(card(c) for c in cards)
    attribute = f' data-kind="{html.escape(kind)}"' if kind else ""
    table = hits_table(cards) if cards else ""
    matches = sum(c.hit.is_match for c in cards)
    top = header(described, len(cards), no_good_match, why, example or kind == "example", matches, verdict)
    said = f'<p class="results-note">{html.escape(note)}.</p>' if note else ""
    return f'<div class="results"{attribute}>{top}{said}<ol>{items}</ol>{table}</div>'


def heard_sentence(app, t, session: str) -> str:
    """What was heard and found, in one sentence: ``Heard (en): “…” and found 3 results; the best is x.wav at
    0:00.3–0:06.8.``"""
    from ..render import time_range

    heard = f"Heard ({t.language}): “{t.text}”" + (
        f", searched in English as “{t.english}”," if t.english != t.text else ""
    )
    hits = app.last_results.get(session, ("", []))[1]
    if not hits:
        return f"{heard} and found nothing."
    best = hits[0]
    return (
        f"{heard} and found {len(hits)} result{'s' * (len(hits) != 1)}; the best is "
        f"{app.shown(best.path, session)[0]} at {time_range(best.start_s, best.end_s, '–')}."
    )


def markdown_bold(text: str) -> str:
    """A sentence with **bold** as HTML, escaped."""
    import re

    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escape(text))


def escape(text: str) -> str:
    return html.escape(text)
