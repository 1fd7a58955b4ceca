"""Alt+digit, as xterm-style terminals send it (ESC then the digit), reaching the app.

Textual maps ESC+digit to the characters that macOS WezTerm's Option+digit types (ESC 3 is
"£"), so in xterm, tmux, GNOME Terminal or the Linux console alt+1…alt+9 — the keys that take
a hypothesis — never arrived: the editor got "£" instead. Dropping those entries from
Textual's sequence table lets its parser read ESC+digit as it reads ESC+letter: alt+digit.
A typed "£" is one character, not ESC 3, and still types "£".
"""

from __future__ import annotations

from textual import _ansi_sequences

ALT_DIGITS: tuple[str, ...] = tuple(f"\x1b{digit}" for digit in "0123456789")


def restore_alt_digits() -> None:
    table = _ansi_sequences.ANSI_SEQUENCES_KEYS
    for sequence in ALT_DIGITS:
        if sequence in table:
            del table[sequence]  # type: ignore[attr-defined]
