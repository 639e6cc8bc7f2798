"""The map on the Library tab: every file the visitor may see, placed by how it sounds (:mod:`audioret.library_map`),
coloured by its top tag (by folder where no file has tags), drawn on a canvas by the page itself.

Hovering a point shows the file's name and tags; a click plays the file; dragging draws a box (with Shift, a
lasso) and the files inside become the scope of the Search tab's searches, until cleared. The results of the
visitor's last search are ringed. Points carry only shown names and an index into the visitor's own map (kept
here per session), never a server path; a click is answered with a media token like a card's.
"""

from __future__ import annotations

import html
import math

import gradio as gr  # at module level: Gradio reads the handlers' gr.Request / gr.EventData hints here

from .. import library_map
from ..errors import AudioretError
from ..library_map import in_polygon
from .state import App, session_of

# colour-blind-safe categories (Okabe-Ito, then Tableau), "other" last
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#4E79A7", "#B07AA1"]
OTHER = "#9a9a9a"
MAX_TAGS_SHOWN = 5  # tags listed per file when hovering
MAX_LASSO = 400  # corners of a lasso the server looks at (a longer one is thinned): its cost is files x corners

TEMPLATE = """
<div class="map-wrap">
  <canvas class="map" aria-label="map of the library: each dot is a file, files that sound alike lie close"></canvas>
  <div class="map-tip" hidden></div>
</div>
<div class="map-legend"></div>
<p class="map-note"></p>
"""

CSS = """
.map-wrap { position: relative; width: 100%; aspect-ratio: 16 / 9; max-height: 480px; border-radius: 8px;
            border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
canvas.map { width: 100%; height: 100%; display: block; cursor: crosshair; touch-action: none; }
.map-tip { position: absolute; pointer-events: none; background: var(--background-fill-primary);
           color: var(--body-text-color); border: 1px solid var(--border-color-primary); border-radius: 6px;
           padding: 0.3em 0.5em; font-size: 0.85em; max-width: 22em; overflow-wrap: break-word; z-index: 5; }
.map-legend { display: flex; flex-wrap: wrap; gap: 0.3em 1em; margin: 0.4em 0; font-size: 0.9em; }
.map-legend .key i { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%; margin-right: 0.3em; }
.map-note { margin: 0.2em 0; color: var(--body-text-color); }
"""

SCRIPT = """
// the template may be re-rendered when the value changes: every element is looked up afresh
const q = (sel) => element.querySelector(sel);
let drag = null;
const empty = {x: [], y: [], c: [], n: [], t: [], h: [], colours: []};
const data = () => (props.value && props.value.x) ? props.value : empty;
function toPx(d, i, w, h) {
  const s = Math.min(w, h); return [(w - s) / 2 + d.x[i] * s, (h - s) / 2 + (1 - d.y[i]) * s];
}
function toUnit(px, py, w, h) { const s = Math.min(w, h); return [(px - (w - s) / 2) / s, 1 - (py - (h - s) / 2) / s]; }
function boxOf(p) {
  const [a, b] = [p[0], p[p.length - 1]]; return [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]];
}
function draw() {
  const canvas = q('canvas.map'); if (!canvas) return;
  const d = data(), t0 = performance.now(), rect = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
  const [w, h] = [rect.width, rect.height];
  canvas.width = Math.max(1, Math.round(w * dpr)); canvas.height = Math.max(1, Math.round(h * dpr));
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, w, h);
  const n = d.x.length, r = n > 3000 ? 1.8 : n > 300 ? 3 : 5;
  for (let k = 0; k < d.colours.length; k++) {  // one path per colour: fast for 10k points
    ctx.beginPath(); ctx.fillStyle = d.colours[k];
    for (let i = 0; i < n; i++) {
      if (d.c[i] !== k) continue;
      const [px, py] = toPx(d, i, w, h); ctx.moveTo(px + r, py); ctx.arc(px, py, r, 0, 6.2832);
    }
    ctx.fill();
  }
  ctx.lineWidth = 2; ctx.strokeStyle = '#111';
  for (const i of d.h) {
    const [px, py] = toPx(d, i, w, h); ctx.beginPath(); ctx.arc(px, py, r + 4, 0, 6.2832); ctx.stroke();
  }
  if (drag && drag.points.length > 1) {
    ctx.beginPath(); ctx.setLineDash([4, 3]); ctx.strokeStyle = '#444'; ctx.lineWidth = 1;
    const p = drag.box ? boxOf(drag.points) : drag.points;
    p.forEach(([x, y], j) => j ? ctx.lineTo(x, y) : ctx.moveTo(x, y));
    ctx.closePath(); ctx.stroke(); ctx.setLineDash([]);
  }
  const legend = q('.map-legend'), note = q('.map-note');
  if (legend && !drag) {
    legend.textContent = '';
    for (const [name, colour] of (d.legend || [])) {
      const key = document.createElement('span'), dot = document.createElement('i');
      key.className = 'key'; dot.style.background = colour; key.append(dot, name); legend.appendChild(key);
    }
  }
  if (note) note.textContent = d.note || '';
  canvas.dataset.drawnMs = (performance.now() - t0).toFixed(1); canvas.dataset.points = n;
}
function at(ev) {
  const r = q('canvas.map').getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top, r];
}
function nearest(ev) {
  const d = data(), [mx, my, rect] = at(ev);
  let best = -1, bestD = 100;  // within 10 px
  for (let i = 0; i < d.x.length; i++) { const [px, py] = toPx(d, i, rect.width, rect.height);
    const dd = (px - mx) ** 2 + (py - my) ** 2; if (dd < bestD) { best = i; bestD = dd; } }
  return [best, mx, my, rect];
}
element.addEventListener('pointerdown', (ev) => {
  if (!ev.target.closest('canvas.map')) return;
  const [x, y] = at(ev); drag = {points: [[x, y]], box: !ev.shiftKey};
  ev.target.setPointerCapture(ev.pointerId); ev.preventDefault();
});
element.addEventListener('pointermove', (ev) => {
  const tip = q('.map-tip'); if (!tip || !q('canvas.map')) return;
  if (drag) {
    const [x, y] = at(ev), last = drag.points[drag.points.length - 1];
    if (Math.hypot(x - last[0], y - last[1]) >= 3) drag.points.push([x, y]);  // a lasso's corners 3 px apart
    tip.hidden = true; draw(); return;
  }
  if (!ev.target.closest('canvas.map')) { tip.hidden = true; return; }
  const [i, mx, my, rect] = nearest(ev), d = data();
  if (i < 0) { tip.hidden = true; return; }
  tip.hidden = false; tip.textContent = '';
  const name = document.createElement('b'); name.textContent = d.n[i]; tip.appendChild(name);
  if (d.t[i]) { const t = document.createElement('div'); t.textContent = d.t[i]; tip.appendChild(t); }
  tip.style.left = Math.max(0, Math.min(mx + 12, rect.width - 220)) + 'px'; tip.style.top = (my + 12) + 'px';
});
element.addEventListener('pointerleave', () => { const tip = q('.map-tip'); if (tip) tip.hidden = true; });
element.addEventListener('pointerup', (ev) => {
  const d = drag; drag = null; if (!d) return;
  const [x, y, rect] = at(ev), a = d.points[0];
  if (Math.hypot(x - a[0], y - a[1]) < 6) {
    const [i] = nearest(ev); draw(); if (i >= 0) trigger('click', {play: i}); return;
  }
  d.points.push([x, y]);
  const poly = (d.box ? boxOf(d.points) : d.points).map(([px, py]) => toUnit(px, py, rect.width, rect.height));
  draw(); trigger('click', {select: poly});
});
new ResizeObserver(() => draw()).observe(element);
watch('value', draw);
draw();
"""

PLAYER_SCRIPT = """
watch('value', () => { const a = element.querySelector('audio'); if (a) a.play().catch(() => {}); });
"""


def _legend(labels: list[str]) -> tuple[list[str], dict[str, int]]:
    """The most common labels get a colour each, in order of frequency; the rest share "other"."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    named = sorted(counts, key=lambda k: (-counts[k], k))[: len(PALETTE)]
    if len(counts) > len(PALETTE):
        named = named[: len(PALETTE) - 1]
    return named, {label: i for i, label in enumerate(named)}


def event_data(evt) -> dict:
    """What a page's script sent with an event: a dict, or an empty one for anything else a crafted call sends."""
    data = getattr(evt, "_data", None)
    return data if isinstance(data, dict) else {}


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def top_tag(tags: dict[str, float], kinds: dict[str, str]) -> str:
    """The tag a file is coloured by: its strongest sound label, else "speech" where speech was heard, else "no
    sound label" (loudness, tempo, key and your own tags say nothing about where a file lies on the map)."""
    sounds = {t: v for t, v in tags.items() if kinds.get(t) == "sound"}
    if sounds:
        return max(sounds, key=lambda t: (sounds[t], t))
    return next((t for t in tags if kinds.get(t) == "speech"), "no sound label")


class MapHandlers:
    """The map's events; each session keeps the paths behind its points and its selection (in ``app.selection``)."""

    def __init__(self, app: App):
        self.app = app
        self.points: dict[str, tuple[str, ...]] = {}  # session -> the paths of its map's points, in order
        self.fresh: set[str] = set()  # sessions that have just made a selection (their query runs there next)
        app.on_end.append(lambda session: self.points.pop(session, None))
        app.on_end.append(self.fresh.discard)

    def selected(self, request) -> bool:
        """Whether the session has just made a selection (asked once)."""
        session = session_of(request)
        if session in self.fresh:
            self.fresh.discard(session)
            return True
        return False

    def value(self, session: str) -> dict:
        """The map as the page draws it: unit coordinates, colour per point, shown names and tags, ringed results."""
        app = self.app
        try:
            found = library_map.file_map(app.library, app.scope(session))
            infos = {f.path: f for f in app.library.files(app.scope(session))}
        except AudioretError as e:
            return {"note": app.scrub(str(e), session)}
        self.points[session] = found.paths
        tags = [dict(getattr(infos.get(p), "tags", None) or {}) for p in found.paths]
        by_tag = any(tags)
        kinds = {t.name: t.kind for t in app.library.tags(app.scope(session))} if by_tag else {}
        labels = [
            top_tag(t, kinds) if by_tag else (app.shown(p, session)[1] or "(no folder)")
            for p, t in zip(found.paths, tags)
        ]
        named, index = _legend(labels)
        other = len(named)
        colours = [PALETTE[i] for i in range(len(named))] + [OTHER]
        last = app.last_results.get(session)
        ringed = {h.path for h in last[1]} if last else set()
        n = len(found.paths)
        note = f"{n} file{'s' * (n != 1)}, coloured by {'top tag' if by_tag else 'folder'}"
        if found.method == "umap":
            note += ", placed by UMAP: files that sound alike lie close."
        elif found.method == "pca":
            note += ", placed by their two main directions of sound (too few files for UMAP)."
        if found.placed:
            note += (
                f" {found.placed} file{'s' * (found.placed != 1)} added since the layout "
                "placed beside the files they sound most like (the next index run lays the map out again)."
            )
        if found.missing:
            note += f" {len(found.missing)} without a sound channel are not on the map."
        if ringed:
            note += " Ringed: the results of your last search."
        note += " Hover for a name, click to play, drag a box (Shift: a lasso) to search only there."
        return {
            "x": [round(float(v), 4) for v in found.xy[:, 0]],
            "y": [round(float(v), 4) for v in found.xy[:, 1]],
            "c": [index.get(label, other) for label in labels],
            "colours": colours,
            "n": [app.shown_path(p, session) for p in found.paths],
            "t": [", ".join(sorted(t, key=t.get, reverse=True)[:MAX_TAGS_SHOWN]) for t in tags],
            "h": [i for i, p in enumerate(found.paths) if p in ringed],
            "legend": [[label, colours[i]] for i, label in enumerate(named)]
            + ([["other", OTHER]] if len(set(labels)) > len(named) else []),
            "note": note,  # the page sets names and notes as text, never as HTML
        }

    def redraw(self, request: gr.Request):
        """The map drawn again (the Library tab opened, or Redraw): in the public mode it counts as a search against
        the visitor's limits (it reads every file of the visitor's view), and one over them is refused with the
        search's message."""
        app, session = self.app, session_of(request)
        if app.access.public:
            try:
                app.visitors.check_search(session, app.address(request))
            except AudioretError as e:
                raise app.user_error(e, session) from e
        return self.value(session)

    show = redraw  # the tab's select event: the same map, counted the same way

    def click(self, evt: gr.EventData, request: gr.Request):
        """A click plays a file; a box or lasso scopes the searches to the files inside (and marks the session, so
        that :meth:`selected` runs the query there): ``(player, selection note, clear button)``."""
        app, session = self.app, session_of(request)
        data = event_data(evt)
        paths = self.points.get(session, ())
        if type(data.get("play")) is int and 0 <= data["play"] < len(paths):  # not a bool
            path = paths[data["play"]]
            url = app.media.whole(path, session, app.address(request))
            name = html.escape(app.shown_path(path, session))
            player = f'<p>Playing <b>{name}</b></p><audio controls autoplay src="{url}"></audio>'
            return player, gr.skip(), gr.skip()
        polygon = data.get("select")
        if isinstance(polygon, list) and 2 < len(polygon) <= 100_000 and paths:
            polygon = polygon[:: -(-len(polygon) // MAX_LASSO)]  # thinned to at most MAX_LASSO corners
            if not all(isinstance(c, list) and len(c) == 2 and all(_number(v) for v in c) for c in polygon):
                return gr.skip(), gr.skip(), gr.skip()  # corners are two plain numbers each, nothing nested
            try:
                inside = in_polygon(library_map.file_map(app.library, app.scope(session)).xy, polygon)
            except (ValueError, TypeError):
                return gr.skip(), gr.skip(), gr.skip()
            chosen = tuple(paths[i] for i in inside if i < len(paths))
            app.selection[session] = chosen
            self.fresh.add(session)
            return gr.skip(), selection_note(app, session), gr.update(visible=True)
        return gr.skip(), gr.skip(), gr.skip()

    def clear(self, request: gr.Request):
        self.app.selection.pop(session_of(request), None)
        return "Searches look in the whole library again.", gr.update(visible=False)


def selection_note(app: App, session: str) -> str:
    """What the map's selection does to searches, in a sentence ("" when nothing is selected)."""
    chosen = app.selection.get(session)
    if chosen is None:
        return ""
    if not chosen:
        return "The box held no file: draw it around some dots."
    names = ", ".join(app.shown(p, session)[0] for p in chosen[:3]) + (" …" if len(chosen) > 3 else "")
    return f"**Searching only in {len(chosen)} file{'s' * (len(chosen) != 1)} chosen on the map** ({names})."


def build_map_view(app: App):
    """The map, its player and its selection note; returns ``(map, selection note, clear button, its click event,
    handlers)``."""
    on = MapHandlers(app)
    with gr.Accordion("Map of the library", open=True, elem_id="map-panel"):
        area = gr.HTML({}, html_template=TEMPLATE, css_template=CSS, js_on_load=SCRIPT, elem_id="map", padding=False)
        player = gr.HTML("", elem_id="map-player", js_on_load=PLAYER_SCRIPT)
        with gr.Row():
            note = gr.Markdown(elem_id="map-selection")
            clear = gr.Button("Search the whole library again", size="sm", scale=0, min_width=220, visible=False)
            refresh = gr.Button("Redraw the map", size="sm", scale=0, min_width=160)
    clicked = area.click(on.click, None, [player, note, clear], api_name=False)
    refresh.click(on.redraw, None, area, api_name=False)
    return area, note, clear, clicked, on
