"""What counts as speech in what Whisper wrote: its own no-speech rule, fillers and stock phrases on non-speech
sounds, a decode that loops, a decode that stops early, and utterances cut at long gaps. Pure: text and numbers
in, text and numbers out."""

from __future__ import annotations

import re

NO_SPEECH_THRESHOLD = 0.6


LOG_PROB_THRESHOLD = -1.0


# On the short non-speech sounds that pass the VAD (a baby's cry, a sneeze), tiny/base still write a line with a
# no-speech probability of 0.5-0.9: "Thank you." most of all. Real speech measured 0.01-0.2 (read speech) and
# 0.3-0.7 (single spoken digits). So an utterance is also dropped when its no-speech probability is above 0.5 and
# it is either improbable or one of Whisper's well-known stock phrases.
SUSPECT_NO_SPEECH = 0.5


# Measured on 400 ESC-10 clips and 300 FSDD digits with tiny.en (docs/BENCHMARKS.md, "Speech"): on a sneeze or a
# bark, Whisper writes an exclamation or a stock phrase with a no-speech probability of 0.33-0.64, and real single
# spoken words share those probabilities (and their log-probabilities), so what is said decides: above 0.3, an
# utterance of nothing but fillers is dropped.
FILLER_NO_SPEECH = 0.3


FILLER_WORDS = frozenset(
    "ah aah ahh oh ooh ow ouch whoa wow yeah yes yep no nope hmm hm mm mmm uh um huh hey ha haha heh yay oops eh shh "
    "aw aww ugh yikes achoo bless you and but so okay ok here there well the a".split()
)


STOCK_PHRASES = frozenset(
    [
        "thank you",
        "thanks",
        "thank you very much",
        "thanks for watching",
        "you",
        "bye",
        "so",
        "okay",
        "oh",
        "ah",
        "please subscribe",
        "subtitles by the amara org community",
        "music",
        "applause",
    ]
)


def split_at_gaps(words: list[tuple[float, float, str]], gap_s: float) -> list[list[tuple[float, float, str]]]:
    """Timed words ``(start_s, end_s, word)`` in runs, cut wherever one ends more than ``gap_s`` before the next."""
    runs: list[list] = []
    for word in words:
        if runs and word[0] - runs[-1][-1][1] <= gap_s:
            runs[-1].append(word)
        else:
            runs.append([word])
    return [run for run in runs if "".join(w for _, _, w in run).strip()]


def collapse_repeats(text: str) -> str:
    """Text that starts over and over ("four four four", "call me back call me back call") as its first run:
    what a decode that loops writes. Other text is returned as it is."""
    words = text.split()
    for n in range(1, len(words) // 2 + 1):
        if words[n:] == words[: len(words) - n]:
            return " ".join(words[:n])
    return text


# A short clip's decode (up to 10 s of speech) that writes one run of REPEATED_WORDS words twice has looped: read
# speech of that length did not repeat one (46 synthesised memos, 64 clips of 8 sentences in 4 voices), and two
# 125-words-a-minute memos came back as "... take the ridge path instead" four times (docs/BENCHMARKS.md, "Speech").
REPEATED_WORDS = 4


def repeats_a_phrase(text: str, n: int = REPEATED_WORDS) -> bool:
    """Whether ``text`` holds one run of ``n`` words (case and punctuation aside) twice: a decode that looped."""
    words = re.sub(r"[^\w\s']", " ", text.lower()).split()
    runs = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(runs) != len(set(runs))


def is_speech(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    if not text.strip():
        return False
    if no_speech_prob > NO_SPEECH_THRESHOLD and avg_logprob < LOG_PROB_THRESHOLD:  # Whisper's own rule
        return False
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    if no_speech_prob > FILLER_NO_SPEECH and is_filler(words):
        return False
    if no_speech_prob > SUSPECT_NO_SPEECH:
        return avg_logprob >= LOG_PROB_THRESHOLD and " ".join(words) not in STOCK_PHRASES
    return True


def is_filler(words: list[str]) -> bool:
    """Only exclamations, stock words and one word or phrase said over and over: what Whisper writes for a sneeze,
    a bark or a baby's cry ("Ah!", "Thank you.", "Oh, oh, oh.", "But this year, but this year.")."""
    if not words:
        return True
    if all(w in FILLER_WORDS for w in words) or " ".join(words) in STOCK_PHRASES:
        return True
    for n in range(1, len(words) // 2 + 1):  # a phrase of n words repeated to the end
        if len(words) % n == 0 and words == words[:n] * (len(words) // n):
            return True
    return False


# A greedy decode (beam 1, the index's) sometimes ends its text mid-word and early ("... has moved to San R" of a
# 12-s voice note), and Whisper then takes the whole 30-s window as read: the rest of the note was never stored,
# so no search could find it. A decode that leaves UNHEARD_S or more of the speech unread (pauses are cut out
# before it) is decoded again with a beam (asr.RETRY_BEAM), which read those notes to the end
# (docs/BENCHMARKS.md, "Fusion": "voice notes read to the end").
UNHEARD_S = 2.0


def cut_short(spans: list[tuple[float, float]], speech_s: float, unheard_s: float = UNHEARD_S) -> bool:
    """Whether a decode's segments (``(start, end)`` in seconds of the ``speech_s`` seconds of speech it was given,
    pauses already cut out) leave ``unheard_s`` or more of it unread: before the first, between two, or after the
    last (Whisper's window taken as read after an early end). Not where it wrote nothing (the speech rules' call)."""
    if not spans:
        return False
    edges = sorted(spans)
    gaps = [edges[0][0], speech_s - max(end for _, end in edges)]
    gaps += [later[0] - max(end for _, end in edges[: i + 1]) for i, later in enumerate(edges[1:])]
    return max(gaps) >= unheard_s
