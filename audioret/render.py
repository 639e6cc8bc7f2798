"""How results and reports read, in one place for the command line and the page: times, hit lines, reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .query import Query
from .types import MATCH_SCORE, SHOWN_KIND, Filters, Hit, IndexReport

STRONG_SCORE = 0.75  # a strength from here on reads "strong"; from MATCH_SCORE (0.5) "good", below "weak"


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters (and "…"), cut after a sentence, or else between words: never
    inside a word or a link."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    sentence = max(cut.rfind(". "), cut.rfind("; "), cut.rfind("? "))
    if sentence >= limit // 2:
        return cut[: sentence + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else text[:limit]).rstrip(" ,;:(") + "…"


def strength_word(s: float) -> str:
    """A 0-1 match strength in a word: "strong", "good" or "weak"."""
    return "strong" if s >= STRONG_SCORE else "good" if s >= MATCH_SCORE else "weak"


def clock(seconds: float, digits: int = 1) -> str:
    """A time in a file as ``m:ss.s`` (``h:mm:ss.s`` from an hour on), to ``digits`` decimals."""
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    sec = f"{s:0{3 + digits}.{digits}f}"
    return f"{h}:{m:02d}:{sec}" if h else f"{m}:{sec}"


def duration(seconds: float) -> str:
    """A file's length as :func:`clock` gives it, to the hundredth under a second (a 19-ms sample is 0:00.02)."""
    return clock(seconds, 2 if seconds < 1 else 1)


def length(seconds: float) -> str:
    """How much audio, in words a person reads at a glance: ``45 s``, ``1 min 12 s``, ``2 h 05 min``."""
    m, s = divmod(round(max(0.0, float(seconds))), 60)
    if m == 0:
        return f"{s} s"
    if m < 60:
        return f"{m} min {s:02d} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def time_range(start_s: float, end_s: float, dash: str = "-") -> str:
    """``0:12.0-0:16.0``; to the hundredth where tenths would show one time (a hit in a sample of 40 ms)."""
    digits = 2 if end_s > start_s and clock(start_s) == clock(end_s) else 1
    return f"{clock(start_s, digits)}{dash}{clock(end_s, digits)}"


def channel_scores(hit: Hit, sep: str = "  ") -> str:
    """Each channel's cosine: ``clap 0.412  text 0.455``."""
    return sep.join(f"{c} {v:.3f}" for c, v in hit.scores.items())


def matched_text(hit: Hit, limit: int = 100, quote: tuple[str, str] = ('"', '"'), dash: str = "-") -> str:
    """The text channel's match: ``said at 0:12.0-0:16.0: "…"`` for speech, ``name: …`` for the rest."""
    if not hit.text:
        return ""
    if hit.text_kind == "speech":
        return f"said at {time_range(hit.text_start_s, hit.text_end_s, dash)}: {quote[0]}{hit.text}{quote[1]}"
    return f"{SHOWN_KIND.get(hit.text_kind, hit.text_kind)}: {hit.text[:limit]}"


def hit_lines(hit: Hit, shown_path: str | None = None) -> list[str]:
    """The command line's lines for a hit: rank, score, time range, path, channel cosines; then why it matched, and
    a line of the file's tags."""
    lines = [
        f"{hit.rank:>3}. {hit.score:6.3f}  {time_range(hit.start_s, hit.end_s)}  {shown_path or hit.path}  "
        f"({channel_scores(hit)})"
    ]
    said = hit.why or (matched_text(hit) if hit.text else "")
    if said:
        lines.append(f"       {said}")
    if hit.tags:  # " · " between them: AudioSet labels hold commas ("canidae, dogs, wolves")
        lines.append(f"       tags: {' · '.join(list(hit.tags)[:8])}")
    return lines


def report_markdown(report: IndexReport | None, skipped: Iterable[str] = (), name: Callable[[str], str] = str) -> str:
    """The page's report: the summary in bold, then each failure, skipped channel and skipped upload.

    ``name`` turns a path into what the reader may see (on a public page, never a server path).
    """
    lines = [f"**{report.summary()}**"] if report else []
    lines += [f"- failed: `{name(f.path)}`: {f.reason}" for f in (report.failed if report else [])]
    lines += [f"- {c} channel skipped: {r}" for c, r in (report.skipped_channels.items() if report else [])]
    lines += [f"- skipped: {s}" for s in skipped]
    return "\n".join(lines)


def size_text(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


def closeness(member) -> str:
    """How a copy compares with the one suggested to keep, in the words of the method that compared them."""
    if member.method == "spectrum":
        return f"spectra {1 - member.bit_error:.0%} alike"
    if member.method == "waveform":
        return f"waveforms {1 - member.bit_error:.0%} alike"
    if member.method == "linked":
        return "same as another copy"
    if member.method == "identical":
        return "the same bytes"
    return f"{member.bit_error:.0%} of bits differ"


def duplicate_lines(groups, name: Callable[[str], str] = str) -> list[str]:
    """The command line's lines for duplicate groups: per file, what tells the copies apart; the first is the one
    suggested to keep."""
    lines = []
    for n, group in enumerate(groups, 1):
        lines.append(f"group {n}: {len(group)} copies")
        for i, m in enumerate(group):
            mark = "keep" if i == 0 else closeness(m)
            lines.append(
                f"  {'*' if i == 0 else ' '} {name(m.path)}  {m.format}  {m.sample_rate / 1000:g} kHz  "
                f"{'mono' if m.channels == 1 else f'{m.channels} ch'}  {duration(m.duration_s)}  "
                f"{m.kbps:.0f} kb/s  {size_text(m.size)}  ({mark})"
            )
    return lines


CLI_HINTS = (
    " (`audioret tags` lists them)",
    "the index is empty (`audioret index FOLDER` adds files)",
    "no indexed file is under {folder}",
)
PAGE_HINTS = ("", "the library holds nothing yet", "no file is in the folder chosen")


def empty_reasons(
    query: str | None,
    filters,
    known_tags: set[str],
    indexed: bool,
    hints=CLI_HINTS,
    in_folder: bool = True,
    left_out=(),
    unheld=None,
) -> str:
    """Why a search returned nothing, most likely first: a folder with no indexed file (``in_folder`` False), tags
    no file has, quoted phrases (those no file holds: ``unheld``, None where unknown; or the filters and exclusions
    that left out the files holding them: ``left_out``, each exclusion as typed and how many files it left out),
    other filters, or an empty index, each with what to do (``hints``: the command line's, or the page's
    ``PAGE_HINTS``)."""
    reasons = [hints[2].format(folder=filters.folder)] if filters.folder and indexed and not in_folder else []
    reasons += [f'no file is tagged "{t}"{hints[0]}' for t in filters.tags or () if t not in known_tags]
    excluding = [name for name, n in left_out if n]
    filtered = any((filters.folder, filters.extensions, filters.min_duration_s, filters.max_duration_s, filters.tags))
    unless = f", or {' and '.join(excluding)} left out those that do" if excluding else ""
    for phrase in Query.parse(query or "").phrases:
        quoted = f'"{" ".join(phrase)}" word for word'
        if unheld is None or phrase in unheld:
            reasons.append(f"no file holds {quoted}{unless if unheld is None else ''}")
        else:  # some file holds it: what left them out
            by = [*(["the filters"] if filtered else []), *excluding] or ["the query's scope"]
            reasons.append(f"{' and '.join(by)} left out the files that hold {quoted}")
            filtered = False  # said
    if filtered:
        reasons.append("the filters leave nothing")
    if not indexed:
        reasons.append(hints[1])
    return "; ".join(reasons) or "nothing in the index passes the query's exclusions"


def unindexed(channels, asked, absent: Callable[[str], bool] = lambda name: False) -> str:
    """What to tell a user whose model for a channel has nothing indexed while other channels hold the library
    (another CLAP or text model than the one the files were indexed with, or a path that holds no model): that
    channel answers nothing, and says so ("" when each channel asked holds records, or none does: an empty index).
    Only the channels with a model of their own (the sound and text channels) are asked; ``absent`` tells a model
    path that is not there (models.hub.looks_local and no such file), which the note names."""
    failed = getattr(channels, "errors", {})  # a model that did not load has said so in its warning
    named = [c for c in channels if getattr(c, "model_name", "")]
    empty = [c for c in asked if c in named and c.name not in failed and not c.holds_records()]
    if not empty or not any(c.holds_records() for c in named if c not in empty):
        return ""
    return "; ".join(
        f"{c.title} has nothing indexed with {c.model_name}"
        + (" (there is no such folder)" if absent(c.model_name) else "")
        + ": it answers nothing until `audioret index` adds the files with that model (the index holds another's)"
        for c in empty
    )


def why_nothing(library, query: str | None, filters: Filters | None, hints=CLI_HINTS, left_out=(), unheld=None) -> str:
    """:func:`empty_reasons` for a search of ``library`` that found nothing, its tags and files looked up only
    within what the searcher may see (on a public page, the visitor's folders)."""
    filters = filters or Filters()
    visible = Filters(folders=filters.folders)
    known = {t.name for t in library.tags(visible)}
    indexed = bool(library.files(visible))
    in_folder = not filters.folder or bool(library.files(Filters(folder=filters.folder, folders=filters.folders)))
    return empty_reasons(query, filters, known, indexed, hints, in_folder, left_out, unheld)
