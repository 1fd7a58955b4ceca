"""Character timings: the start second of each non-space character of a hypothesis.

Stored beside the hypothesis as a JSON array (milliseconds precision) in `hypotheses.times`.
Whitespace carries no time, so "IT WAS" has five times and "广州市" three. A list whose
length does not match the text, or that goes backwards, is refused rather than stored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import orjson

Times = tuple[float, ...]


class TimesError(ValueError):
    """Character times that do not fit their text."""


def timed_chars(text: str) -> list[str]:
    """The characters of ``text`` that carry a time (all but whitespace)."""
    return [c for c in text if not c.isspace()]


def check(text: str | None, times: Sequence[float]) -> Times:
    """``times`` as a tuple if it fits ``text``: one finite, non-negative, non-decreasing
    start per non-space character; else TimesError saying why."""
    if text is None:
        raise TimesError("times given for a failed hypothesis")
    want = len(timed_chars(text))
    if len(times) != want:
        raise TimesError(f"{len(times)} times for {want} non-space characters")
    out: list[float] = []
    for t in times:
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
            raise TimesError(f"a time must be a number of seconds >= 0, got {t!r}")
        if out and t < out[-1]:
            raise TimesError(f"times go backwards ({out[-1]} then {t})")
        out.append(float(t))
    return tuple(out)


def encode(times: Times | None) -> str | None:
    if times is None:
        return None
    return orjson.dumps([round(t, 3) for t in times]).decode()


def decode(raw: str | None) -> Times | None:
    if raw is None:
        return None
    return tuple(float(t) for t in orjson.loads(raw))


def spread(words: Iterable[tuple[str, float, float]]) -> Times:
    """Character starts from word spans (text, start, end): each word's span is shared evenly
    among its non-space characters, so a word of n characters starts one every (end-start)/n."""
    out: list[float] = []
    for word, start, end in words:
        chars = timed_chars(word)
        step = max(end - start, 0.0) / len(chars) if chars else 0.0
        for k in range(len(chars)):
            # Clamp: aligners may give a word that starts before the previous one ended.
            out.append(max(start + k * step, out[-1] if out else 0.0))
    return tuple(out)


def spread_tokens(tokens: Sequence[str], starts: Sequence[float]) -> Times:
    """Character starts from model tokens and each token's start: a token spans up to the
    next one's start. "▁" (a word-start mark in BPE units) is whitespace here."""
    ends = [*starts[1:], starts[-1]] if starts else []
    return spread((t.replace("▁", " "), s, e) for t, s, e in zip(tokens, starts, ends,
                                                                  strict=True))
