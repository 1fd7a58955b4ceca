"""Each system's answer beside the draft: take-key, CER and a coloured character diff."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from db import metrics
from db.consensus import LOW_AGREEMENT, decode_agreement
from db.store import Hypothesis
from workbench.tui.char_times import SPOKEN
from workbench.tui.text import fit_middle, safe

# Styles per diff op; the brackets keep a diff readable without colour.
INSERT = "bold green"
DELETE = "strike red"
REPLACE_OLD = "strike dim red"
REPLACE_NEW = "bold yellow"
MARK = "dim"
WEAK = "underline"  # added to a consensus character less than LOW_AGREEMENT of the weight chose
NAME_CELLS = 40  # the widest a system's name column gets
CER_CELLS = 6  # "100.0%"


def _unscored(part: str) -> bool:
    """Punctuation and spaces only: CER ignores them, so the diff only hints at them."""
    return all(unicodedata.category(c)[0] in "PZ" for c in part)


# What may not be split across lines: a word of a spaced script (letters and digits, with
# the spaces after it) or one character; CJK breaks between any two characters.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_UNIT = re.compile(rf"[^\W_{_CJK}]+\s*|\s+|.")
_WORDY = re.compile(rf"[^\W_{_CJK}]")


def weak_positions(hyp: Hypothesis) -> frozenset[int]:
    """Characters of a consensus hypothesis that less than LOW_AGREEMENT of the weight chose."""
    shares = decode_agreement(hyp.agreement)
    if not shares:
        return frozenset()
    return frozenset(i for i, share in enumerate(shares) if share is not None
                     and share < LOW_AGREEMENT)


def _hyp_part(
    text: Text, part: str, style: str | None, at: int, weak: frozenset[int], spoken: int | None
) -> None:
    """Append `part` (which starts at `at` in the hypothesis): weak characters underlined,
    the one being played (`spoken`) marked."""
    marked = weak | ({spoken} if spoken is not None else set())
    if marked.isdisjoint(range(at, at + len(part))):
        text.append(part, style)
        return
    for n, char in enumerate(part):
        extra = [WEAK] * (at + n in weak) + [SPOKEN] * (at + n == spoken)
        text.append(char, " ".join([style or "", *extra]).strip() or None)


def diff_pieces(
    ref: str, hyp: str, weak: frozenset[int] = frozenset(), spoken: int | None = None
) -> list[Text]:
    """`hyp` with what differs from `ref` marked ([old→new], [+added], [-dropped]), as the
    pieces a line may break between: each marked difference stays whole, and so does a word
    a difference falls inside of (word[10→XY]x). Characters at the `weak` positions of `hyp`
    are underlined and the character `spoken` (being played) is marked (safe() keeps
    positions)."""
    pieces: list[tuple[str, Text]] = []  # (the characters it stands for, how it is shown)
    at = 0  # where in hyp the next part starts
    for op, ref_part, hyp_part in metrics.char_diff(safe(ref), safe(hyp)):
        if op == "equal":
            for unit in _UNIT.findall(hyp_part):
                shown = Text()
                _hyp_part(shown, unit, None, at, weak, spoken)
                pieces.append((unit, shown))
                at += len(unit)
            continue
        text = Text()
        if _unscored(ref_part + hyp_part):
            if op == "delete":
                text.append(ref_part, MARK)
            else:
                _hyp_part(text, hyp_part, MARK, at, frozenset(), spoken)
        elif op == "insert":
            text.append("[+", MARK)
            _hyp_part(text, hyp_part, INSERT, at, weak, spoken)
            text.append("]", MARK)
        elif op == "delete":
            text.append("[-", MARK).append(ref_part, DELETE).append("]", MARK)
        else:
            text.append("[", MARK).append(ref_part, REPLACE_OLD).append("→", MARK)
            _hyp_part(text, hyp_part, REPLACE_NEW, at, weak, spoken)
            text.append("]", MARK)
        at += len(hyp_part)
        pieces.append((hyp_part or ref_part, text))
    joined: list[tuple[str, Text]] = []
    for chars, text in pieces:
        if joined and _WORDY.match(joined[-1][0][-1:]) and _WORDY.match(chars[:1]):
            before, shown = joined[-1]
            joined[-1] = (before + chars, Text.assemble(shown, text))
        else:
            joined.append((chars, text))
    return [text for _chars, text in joined]


def wrap_pieces(pieces: list[Text], width: int, console: Console) -> list[Text]:
    """Lines of at most `width` cells, broken only between pieces; a piece wider than a
    line is folded, and spaces at a line's end are dropped."""
    lines: list[Text] = []
    line = Text()
    for piece in pieces:
        if line.cell_len and line.cell_len + cell_len(piece.plain.rstrip()) > width:
            lines.append(line)
            line = Text()
        if piece.cell_len > width and not line.cell_len:
            *full, line = piece.wrap(console, width, overflow="fold")
            lines += full
            continue
        line.append_text(piece)
    lines.append(line)
    for text in lines:
        text.rstrip()
    return lines


def cer_label(ref: str | None, hyp: str | None) -> str:
    if ref is None or hyp is None:
        return "    -"
    cer = metrics.counts(ref, hyp).cer
    return "    -" if cer is None else f"{cer * 100:4.1f}%"


def asr_lines(
    hyps: Sequence[Hypothesis],
    ref: str,
    take_keys: Sequence[str],
    width: int,
    console: Console,
    against: str = "draft",
    spoken: Mapping[str, int] | None = None,
) -> list[Text]:
    """A heading saying what the scores are against, then one row per system: take-key,
    name, CER against `ref` (the `against` text: draft or gold), and the diff against it.

    The name column is as wide as the longest name (up to NAME_CELLS, a longer one loses its
    middle) and a long transcript wraps under itself between words (CJK: characters), never
    inside a marked difference.
    """
    if not hyps:
        return [Text("no system has transcribed this utterance yet", style="dim italic")]
    keys = [take_keys[n] if n < len(take_keys) else "" for n in range(len(hyps))]
    names = [safe(h.system) for h in hyps]
    key_cells = max(cell_len(k) for k in keys)
    name_cells = min(max(max(cell_len(n) for n in names), 6), NAME_CELLS, max(width // 3, 8))
    indent = key_cells + 1 + name_cells + 1 + CER_CELLS + 1
    heading = Text(no_wrap=True, overflow="crop", style="dim")
    heading.append(" " * (key_cells + 1) + "system".ljust(name_cells) + " ")
    heading.append("CER".rjust(CER_CELLS) + " ")
    heading.append(f"vs {against}")
    legend = f"   diff: [{against}→system] [+added] [-dropped]"
    if heading.cell_len + cell_len(legend) <= width:
        heading.append(legend)
    lines: list[Text] = [heading]
    for key, name, hyp in zip(keys, names, hyps, strict=True):
        line = Text(no_wrap=True, overflow="crop")
        line.append(key.ljust(key_cells) + " ", style="bold cyan")
        line.append(fit_middle(name, name_cells) + " ", style="magenta")
        wrap_at = max(width - indent, 8)
        if hyp.text is None:
            line.append(" " * (CER_CELLS + 1))
            failed = Text("failed: " + safe(hyp.error or "no answer"), style="italic red")
            parts = list(failed.wrap(console, wrap_at, overflow="fold"))
        else:
            line.append(cer_label(ref, hyp.text).rjust(CER_CELLS) + " ", style="bold")
            marks = weak_positions(hyp)
            at = (spoken or {}).get(hyp.system)
            parts = wrap_pieces(diff_pieces(ref, hyp.text, marks, at), wrap_at, console)
        for n, part in enumerate(parts):
            if n:
                line = Text(" " * indent, no_wrap=True, overflow="crop")
            line.append_text(part)
            lines.append(line)
    return lines


def answers(hyps: Sequence[Hypothesis], task: str) -> str:
    """What each system said for a label or translation task, e.g. 'sysA 中年 · sysB 青年'."""
    said = [
        f"{safe(h.system)} {safe(h.text) if h.text is not None else '✗'}"
        for h in hyps
        if h.task == task
    ]
    return " · ".join(said)
