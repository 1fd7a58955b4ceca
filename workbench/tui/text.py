"""Data text made safe for the terminal, and fitted to a number of cells.

Transcripts, keys and notes come from corpora and other people: they may hold Rich markup,
terminal escape sequences or bidi overrides. Everything shown goes through `safe()` and into a
`rich.text.Text` (never markup), so it reaches the screen literally and cannot move the cursor.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from db.safe_text import safe

__all__ = ["fit", "fit_middle", "literal", "safe"]


def fit(text: str, width: int) -> str:
    """`text` cut or padded to exactly `width` cells, with an ellipsis where it was cut."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def fit_middle(text: str, width: int) -> str:
    """`text` in exactly `width` cells; a long one loses its middle, so that the end that tells
    similar names apart (`…-attention_rescoring`, `…_S0003_G0004_33`) stays in view."""
    if width < 5:
        return fit(text, width)
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    head_cells = (width - 1) // 2
    tail_cells = width - 1 - head_cells
    tail: list[str] = []
    used = 0
    for char in reversed(text):
        used += cell_len(char)
        if used > tail_cells:
            break
        tail.append(char)
    end = "".join(reversed(tail))
    head = set_cell_size(text, head_cells) + " " * (tail_cells - cell_len(end))
    return head + "…" + end


def literal(text: str, style: str = "") -> Text:
    """A Rich Text holding `text` literally (markup and escapes shown, not obeyed)."""
    return Text(safe(text), style=style, no_wrap=False)
