"""Each system's answer beside the draft: take-key, CER and a coloured character diff."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from db import metrics
from db.store import Hypothesis
from workbench.tui.text import safe

# Styles per diff op; the brackets keep a diff readable without colour.
INSERT = "bold green"
DELETE = "strike red"
REPLACE_OLD = "strike dim red"
REPLACE_NEW = "bold yellow"
MARK = "dim"


def _unscored(part: str) -> bool:
    """Punctuation and spaces only: CER ignores them, so the diff only hints at them."""
    return all(unicodedata.category(c)[0] in "PZ" for c in part)


def diff_text(ref: str, hyp: str) -> Text:
    """`hyp` with what differs from `ref` marked: [old→new], [+added], [-dropped]."""
    text = Text(no_wrap=False)
    for op, ref_part, hyp_part in metrics.char_diff(safe(ref), safe(hyp)):
        if op == "equal":
            text.append(hyp_part)
        elif _unscored(ref_part + hyp_part):
            text.append(ref_part if op == "delete" else hyp_part, MARK)
        elif op == "insert":
            text.append("[+", MARK).append(hyp_part, INSERT).append("]", MARK)
        elif op == "delete":
            text.append("[-", MARK).append(ref_part, DELETE).append("]", MARK)
        else:
            text.append("[", MARK).append(ref_part, REPLACE_OLD).append("→", MARK)
            text.append(hyp_part, REPLACE_NEW).append("]", MARK)
    return text


def cer_label(ref: str | None, hyp: str | None) -> str:
    if ref is None or hyp is None:
        return "    -"
    cer = metrics.counts(ref, hyp).cer
    return "    -" if cer is None else f"{cer * 100:4.1f}%"


def asr_lines(hyps: Sequence[Hypothesis], ref: str, take_keys: Sequence[str]) -> RenderableType:
    """One row per system: take-key, name, CER against `ref`, and the diff against it.

    A grid, so a long transcript wraps inside its own column (CJK has no spaces to wrap at).
    """
    if not hyps:
        return Text("no system has transcribed this utterance yet", style="dim italic")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column(style="magenta", no_wrap=True, max_width=18, overflow="ellipsis")
    grid.add_column(style="bold", no_wrap=True, justify="right")
    grid.add_column(ratio=1, overflow="fold")
    for n, hyp in enumerate(hyps):
        key = take_keys[n] if n < len(take_keys) else ""
        if hyp.text is None:
            grid.add_row(
                key,
                Text(safe(hyp.system)),
                "",
                Text("failed: " + safe(hyp.error or "no answer"), style="italic red"),
            )
        else:
            grid.add_row(
                key, Text(safe(hyp.system)), cer_label(ref, hyp.text), diff_text(ref, hyp.text)
            )
    return grid


def answers(hyps: Sequence[Hypothesis], task: str) -> str:
    """What each system said for a label or translation task, e.g. 'sysA 中年 · sysB 青年'."""
    said = [
        f"{safe(h.system)} {safe(h.text) if h.text is not None else '✗'}"
        for h in hyps
        if h.task == task
    ]
    return " · ".join(said)
