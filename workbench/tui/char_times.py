"""Where in the audio a character of the draft is: character times carried from a timed
hypothesis to the draft through the edit alignment (Textual-free, so it is tested alone).

A hypothesis stores one start second per non-space character (db.timings). The draft is an
edit of some hypothesis: equal and replaced characters take the time of the hypothesis
character they align with; inserted ones have none (the nearest earlier one answers).
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from db.store import Hypothesis

LEAD = 0.5  # seconds played before the character, so its onset is heard
SPOKEN = "reverse"  # how the character being played is marked (hypotheses and draft)


def per_character(text: str, times: Sequence[float]) -> list[float | None]:
    """``times`` (non-space characters only) laid out over every character of ``text``."""
    out: list[float | None] = []
    it = iter(times)
    for char in text:
        out.append(None if char.isspace() else next(it, None))
    return out


def best_timed(hyps: Sequence[Hypothesis], draft: str) -> Hypothesis | None:
    """The timed transcript closest to the draft (fewest edits), which it most likely came
    from; None when no system gave times."""
    timed = [h for h in hyps if h.task == "asr" and h.text and h.times]
    return min(timed, key=lambda h: Levenshtein.distance(h.text or "", draft), default=None)


def draft_times(draft: str, hyp: Hypothesis) -> list[float | None]:
    """A start second (or None) for each character of ``draft``."""
    source = hyp.text or ""
    timed = per_character(source, hyp.times or ())
    out: list[float | None] = [None] * len(draft)
    for op in Levenshtein.opcodes(source, draft):
        if op.tag not in ("equal", "replace"):
            continue
        span = op.src_end - op.src_start
        for k in range(op.dest_start, op.dest_end):
            out[k] = timed[op.src_start + min(k - op.dest_start, span - 1)]
    return out


def time_at(times: Sequence[float | None], index: int) -> float | None:
    """The time of character ``index``, else of the nearest timed one before it, else after."""
    index = min(max(index, 0), len(times) - 1) if times else -1
    for k in (*range(index, -1, -1), *range(index + 1, len(times))):
        found = times[k]
        if found is not None:
            return float(found)
    return None


def play_from(draft: str, hyps: Sequence[Hypothesis], index: int) -> float | None:
    """Where to start playing to hear the draft's character ``index`` (LEAD before it)."""
    hyp = best_timed(hyps, draft)
    if hyp is None:
        return None
    start = time_at(draft_times(draft, hyp), index)
    return None if start is None else max(start - LEAD, 0.0)


def spoken_at(times: Sequence[float | None], position: float) -> int | None:
    """The character being spoken at ``position``: the last one started by then."""
    found = None
    for k, t in enumerate(times):
        if t is not None:
            if t > position:
                break
            found = k
    return found


class Spoken:
    """Which character each timed hypothesis, and the draft, is at while the clip plays.

    Built per utterance and draft (the alignment is computed once, not per tick)."""

    def __init__(self, hyps: Sequence[Hypothesis], draft: str) -> None:
        self.hyps = {h.system: per_character(h.text or "", h.times or ())
                     for h in hyps if h.task == "asr" and h.text and h.times}
        best = best_timed(hyps, draft)
        self.draft = [] if best is None else draft_times(draft, best)

    def at(self, position: float) -> tuple[dict[str, int], int | None]:
        """(system -> index into its text, index into the draft) at ``position``."""
        systems = {}
        for system, times in self.hyps.items():
            k = spoken_at(times, position)
            if k is not None:
                systems[system] = k
        return systems, spoken_at(self.draft, position)
