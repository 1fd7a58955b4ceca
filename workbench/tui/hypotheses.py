"""Each system's answer beside the draft: take-key, CER and a coloured character diff."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from db import metrics
from db.store import Hypothesis
from workbench.tui.char_times import SPOKEN
from workbench.tui.text import fit_middle, safe

# Styles per diff op; the brackets keep a diff readable without colour.
INSERT = "bold green"
DELETE = "strike red"
REPLACE_OLD = "strike dim red"
REPLACE_NEW = "bold yellow"
MARK = "dim"
NAME_CELLS = 40  # the widest a system's name column gets
CER_CELLS = 6  # "100.0%"


def _unscored(part: str) -> bool:
    """Punctuation and spaces only: CER ignores them, so the diff only hints at them."""
    return all(unicodedata.category(c)[0] in "PZ" for c in part)


def diff_text(ref: str, hyp: str, spoken: int | None = None) -> Text:
    """`hyp` with what differs from `ref` marked: [old→new], [+added], [-dropped]; its
    character `spoken` (being played) marked too."""
    text = Text(no_wrap=False)
    at = 0  # where in hyp the next hyp_part starts

    def add(part: str, style: str = "") -> None:
        nonlocal at
        k = -1 if spoken is None else spoken - at
        if 0 <= k < len(part):
            text.append(part[:k], style).append(part[k], f"{style} {SPOKEN}".strip())
            text.append(part[k + 1 :], style)
        else:
            text.append(part, style)
        at += len(part)

    for op, ref_part, hyp_part in metrics.char_diff(safe(ref), safe(hyp)):
        if op == "equal":
            add(hyp_part)
        elif _unscored(ref_part + hyp_part):
            if op == "delete":
                text.append(ref_part, MARK)
            else:
                add(hyp_part, MARK)
        elif op == "insert":
            text.append("[+", MARK)
            add(hyp_part, INSERT)
            text.append("]", MARK)
        elif op == "delete":
            text.append("[-", MARK).append(ref_part, DELETE).append("]", MARK)
        else:
            text.append("[", MARK).append(ref_part, REPLACE_OLD).append("→", MARK)
            add(hyp_part, REPLACE_NEW)
            text.append("]", MARK)
    return text


def cer_label(ref: str | None, hyp: str | None) -> str:
    if ref is None or hyp is None:
        return "    -"
    cer = metrics.counts(ref, hyp).cer
    return "    -" if cer is None else f"{cer * 100:4.1f}%"


def asr_lines(
    hyps: Sequence[Hypothesis], ref: str, take_keys: Sequence[str], width: int, console: Console,
    spoken: Mapping[str, int] | None = None,
) -> list[Text]:
    """One row per system: take-key, name, CER against `ref`, and the diff against it.

    The name column is as wide as the longest name (up to NAME_CELLS, a longer one loses its
    middle) and a long transcript wraps under itself, as CJK has no spaces to wrap at.
    """
    if not hyps:
        return [Text("no system has transcribed this utterance yet", style="dim italic")]
    keys = [take_keys[n] if n < len(take_keys) else "" for n in range(len(hyps))]
    names = [safe(h.system) for h in hyps]
    key_cells = max(cell_len(k) for k in keys)
    name_cells = min(max(cell_len(n) for n in names), NAME_CELLS, max(width // 3, 8))
    indent = key_cells + 1 + name_cells + 1 + CER_CELLS + 1
    lines: list[Text] = []
    for key, name, hyp in zip(keys, names, hyps, strict=True):
        line = Text(no_wrap=True, overflow="crop")
        line.append(key.ljust(key_cells) + " ", style="bold cyan")
        line.append(fit_middle(name, name_cells) + " ", style="magenta")
        if hyp.text is None:
            line.append(" " * (CER_CELLS + 1))
            answer = Text("failed: " + safe(hyp.error or "no answer"), style="italic red")
        else:
            line.append(cer_label(ref, hyp.text).rjust(CER_CELLS) + " ", style="bold")
            answer = diff_text(ref, hyp.text, (spoken or {}).get(hyp.system))
        for n, part in enumerate(answer.wrap(console, max(width - indent, 8), overflow="fold")):
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
