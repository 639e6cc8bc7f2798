"""Numbers as a person types them and as Whisper writes them: "four" and "4", "seventy eight" and "78", "the
fourteenth" and "14th", "three hundred thousand" and "300,000", "nineteen eighty" and "1980". The lexical leg looks
a number up in all its spellings (:func:`spellings`), a query's number of several words as one
(:func:`numbers_joined`), and the text channel compares the numbers a query and a passage hold (:func:`numbers_in`).
Pure.

A number of several words is read as a person says it: a ten and a unit ("forty two"); with hundreds, thousands and
millions ("two thousand and five", "2 million"; a scale multiplies what comes before it); a year said in two pairs
of digits, from thirteen to twenty ("eighteen fifteen", "nineteen oh five", "twenty twenty four"); and a time with
an hour from one to twelve ("eleven thirty", which Whisper writes "1130" or "11.30"; "nine forty five" is 945, also
found as "9:45" and "9.45"). Strangers' libraries had "1815", "$300,000", "1130" and "945" in their transcripts,
and "eighteen fifteen", "three hundred thousand", "eleven thirty" and "nine forty five" found none of them
(docs/BENCHMARKS.md, "Long recordings").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Numbers from zero to twenty and the tens, as words and digits (spellings)
NUMBERS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
} | {w: str(10 * i) for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
_NUMBER_WORDS = {digits: w for w, digits in NUMBERS.items()}
TENS = frozenset("twenty thirty forty fifty sixty seventy eighty ninety".split())  # numbers_in: "forty two" is 42
# Ordinals as words and as Whisper writes them ("the fourteenth", "the 14th"): from first to thirtieth, and a ten
# with one ("twenty first" is "21st", numbers_joined)
ORDINALS = {
    w: i
    for i, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
        "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(),
        1,
    )
} | {"thirtieth": 30}
_ORDINAL_WORDS = {i: w for w, i in ORDINALS.items()}
_ORDINAL = re.compile(r"(\d{1,2})(st|nd|rd|th)")
DIGITS = frozenset("123456789")
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}  # "three hundred thousand" is 300000
CENTURIES = range(13, 21)  # a year's first pair: "nineteen eighty" is 1980
HOURS = range(1, 13)  # a time's hour: "eleven thirty" is 1130
ZEROS = frozenset({"oh", "o"})  # "nineteen oh five" is 1905


def spellings(word: str) -> tuple[str, ...]:
    """The ways a word is written that the lexical leg takes as one: a number as a word and in digits ("four", "4";
    Whisper writes "level 4" and "9 hundred" where a person types "four" and "nine"; "78", "seventy eight" and
    "seventy-eight"; "1200", "1,200" and "twelve hundred", "900" and the "9 hundred" Whisper writes, "2 million"),
    a digit with a leading zero too ("02 Rain Song.flac", "take_07"), else the word alone."""
    word = word.lower()
    if word.isdecimal() and len(word) >= 3 and word[0] != "0":  # "1,200", "9 hundred", "2 million"
        n, spelled = int(word), [word]
        spelled += [f"{n:,}"] if n >= 1000 else []
        for name, scale in reversed(SCALES.items()):  # by its largest scale: "twelve hundred", "300 thousand"
            if n % scale == 0 and n // scale < 1000:
                lead = str(n // scale)
                spelled += [f"{lead} {name}", *([f"{_NUMBER_WORDS[lead]} {name}"] if lead in _NUMBER_WORDS else [])]
                break
        return tuple(spelled + _time_spellings(n))
    ordinal = ORDINALS.get(word) or (int(m[1]) if (m := _ORDINAL.fullmatch(word)) else None)
    if ordinal is not None and 1 <= ordinal <= 39:
        return tuple(dict.fromkeys((word, *_ordinal_spellings(ordinal))))
    digits = _in_digits(word) if word in NUMBERS or len(word) <= 2 else None  # "04" is a spelling of 4, "004" not
    if digits is None:
        return (word,)
    spelled = [word, _NUMBER_WORDS.get(digits), digits, "0" + digits if len(digits) == 1 else None]
    if len(digits) == 2 and digits[1] != "0" and digits[0] in "23456789":  # 21-99 that are no ten: two words
        tens, unit = _NUMBER_WORDS[digits[0] + "0"], _NUMBER_WORDS[digits[1]]
        spelled += [f"{tens} {unit}", f"{tens}-{unit}"]
    return tuple(dict.fromkeys(w for w in spelled if w))


def _time_spellings(n: int) -> list[str]:
    """A number that reads as a time, hours from one to twelve and minutes: "945" is "9:45", "9.45", "nine forty
    five" and "nine forty-five" (Whisper writes "1130", "9.45" or the words); none for a whole hour ("900")."""
    hour, minutes = divmod(n, 100)
    if not (1 <= hour <= 12 and 1 <= minutes <= 59):
        return []
    said = [_NUMBER_WORDS[str(minutes)]] if str(minutes) in _NUMBER_WORDS else []
    if minutes < 10:
        said = [f"oh {_NUMBER_WORDS[str(minutes)]}"]
    elif not said:
        tens, unit = _NUMBER_WORDS[str(minutes - minutes % 10)], _NUMBER_WORDS[str(minutes % 10)]
        said = [f"{tens} {unit}", f"{tens}-{unit}"]
    return [f"{hour}:{minutes:02d}", f"{hour}.{minutes:02d}", *(f"{_NUMBER_WORDS[str(hour)]} {m}" for m in said)]


def _ordinal_spellings(n: int) -> tuple[str, ...]:
    """An ordinal from 1 to 39 in digits and in words: "21st", "twenty first", "twenty-first"."""
    suffix = "th" if 11 <= n <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    if n in _ORDINAL_WORDS:
        return f"{n}{suffix}", _ORDINAL_WORDS[n]
    tens, unit = _NUMBER_WORDS[str(n - n % 10)], _ORDINAL_WORDS[n % 10]
    return f"{n}{suffix}", f"{tens} {unit}", f"{tens}-{unit}"


def numbers_joined(words: Sequence[str]) -> tuple[str, ...]:
    """``words`` (lower case) with each number of two words, a ten and a unit, as one in digits: "seventy eight"
    is "78", which the lexical leg then finds as "78", "seventy eight" or "seventy-eight" (:func:`spellings`),
    not "seventy" alone in the "70" of another passage; "twenty first" is "21st"; a number said with a scale or a
    year in two pairs is one too (:func:`said_numbers`: "three hundred thousand" is "300000")."""
    out: list[str] = []
    for w in _said_as_one(words):
        tens = next((t for t in TENS if w.startswith(t) and w != t), None)  # "seventyeight": a query joined a hyphen
        w, tens = (w[len(tens) :], tens) if tens and _unit(w[len(tens) :]) else (w, None)
        if tens is None and out and out[-1] in TENS and _unit(w):
            tens = out.pop()
        out.append(w if tens is None else _with_tens(int(NUMBERS[tens]), w))
    return tuple(out)


def _unit(word: str) -> bool:
    """Whether ``word`` is a number or an ordinal from one to nine ("eight", "first")."""
    return NUMBERS.get(word, "0") in DIGITS or 1 <= ORDINALS.get(word, 0) <= 9


def _with_tens(tens: int, unit: str) -> str:
    """A ten and a unit as one number in digits: 78, or the ordinal 21st."""
    if unit in ORDINALS:
        return _ordinal_spellings(tens + ORDINALS[unit])[0]
    return str(tens + int(NUMBERS[unit]))


def numbers_in(words: Sequence[str]) -> frozenset[str]:
    """The numbers among ``words`` (lower case), each in digits without leading zeros: "four", "4" and "04" are
    "4"; "44" stays "44"; "forty two" (or "forty-two", two words) is "42"; "eighteen fifteen" is "1815" and "two
    thousand and five" "2005" (:func:`said_numbers`)."""
    found, after_tens = set(), None
    for w in _said_as_one(words):
        if after_tens is not None and NUMBERS.get(w, "0") in DIGITS:  # "forty two": 42, not 40
            found.discard(after_tens)
            found.add(str(int(after_tens) + int(NUMBERS[w])))
            after_tens = None
            continue
        digits = _in_digits(w)
        if digits is not None:
            found.add(digits)
        after_tens = NUMBERS[w] if w in TENS else None
    return frozenset(found)


def _in_digits(word: str) -> str | None:
    """A number word or a decimal number (lower case) in digits without leading zeros; None for any other word."""
    if word in NUMBERS:
        return NUMBERS[word]
    return (word.lstrip("0") or "0") if word.isdecimal() else None


def _said_as_one(words: Sequence[str]) -> list[str]:
    """``words`` with each number :func:`said_numbers` finds in two words or more as one, in digits (a scale alone,
    "hundred", stays a word: "the hundred acre wood")."""
    out, at = [], 0
    for start, stop, value in said_numbers(words):
        if stop - start >= 2:
            out += [*words[at:start], str(value)]
            at = stop
    return out + list(words[at:])


def said_numbers(words: Sequence[str]) -> list[tuple[int, int, int]]:
    """``(start, stop, value)`` of each number said in several words beyond a ten and a unit among ``words`` (lower
    case): one with a scale ("three hundred thousand", "two thousand and five", "2 million") or a year said in two
    pairs ("nineteen eighty four"). A ten and a unit alone are left to :func:`numbers_joined`."""
    found, i = [], 0
    while i < len(words):
        run = _pair(words, i, CENTURIES, 99) or _pair(words, i, HOURS, 59) or _scaled(words, i)
        if run is None:
            i += 1
            continue
        found.append(run)
        i = run[1]
    return found


def _small(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """``(stop, value)`` of a number under a hundred in words at ``i`` ("seven", "nineteen", "forty two")."""
    if i >= len(words) or words[i] not in NUMBERS:
        return None
    value = int(NUMBERS[words[i]])
    if words[i] in TENS and i + 1 < len(words) and NUMBERS.get(words[i + 1], "0") in DIGITS:
        return i + 2, value + int(NUMBERS[words[i + 1]])
    return i + 1, value


def _pair(words: Sequence[str], i: int, first: range, most: int) -> tuple[int, int, int] | None:
    """A number said as two pairs of digits at ``i``: a number in ``first`` in words, then one from ten to ``most``,
    or "oh" and a digit; not where a scale follows ("nineteen hundred" is hundreds). A year's first pair is from
    thirteen to twenty, a time's hour from one to twelve ("eleven thirty" is 1130, as Whisper writes it)."""
    if int(NUMBERS.get(words[i], "0")) not in first:
        return None
    j = i + 1
    if j + 1 < len(words) and words[j] in ZEROS and NUMBERS.get(words[j + 1], "0") in DIGITS:
        stop, low = j + 2, int(NUMBERS[words[j + 1]])
    elif (second := _small(words, j)) is not None and 10 <= second[1] <= most:
        stop, low = second
    else:
        return None
    if stop < len(words) and words[stop] in SCALES:
        return None
    return i, stop, int(NUMBERS[words[i]]) * 100 + low


def _scaled(words: Sequence[str], i: int) -> tuple[int, int, int] | None:
    """A number with a scale at ``i``: numbers under a hundred (in words, or digits before a scale: "2 million") and
    scales, "and" between them; a scale multiplies what comes before it since the last larger one."""
    total = current = 0
    j, stop, scaled = i, i, False
    while j < len(words):
        w = words[j]
        if w in SCALES:
            current = max(current, 1) * SCALES[w]
            if SCALES[w] >= 1000:
                total, current = total + current, 0
            j, stop, scaled = j + 1, j + 1, True
            continue
        if w == "and" and scaled and _small(words, j + 1) is not None:
            j += 1
            continue
        small = _small(words, j)
        if small is None and w.isdecimal() and j + 1 < len(words) and words[j + 1] in SCALES and j == i:
            small = (j + 1, int(w))
        if small is None or (j > i and current % 100 and words[j - 1] not in SCALES):
            break
        current += small[1]
        j = stop = small[0]
    if not scaled or (words[i] in SCALES and i > 0 and words[i - 1].isdecimal()):
        return None
    return i, stop, total + current
