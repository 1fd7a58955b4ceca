"""Text from data made safe to print on a terminal: the one place every CLI line and every
screen of the review app goes through.

Keys, system names, file names, transcripts and notes come from corpora and other people's
tools: they may hold escape sequences (a clear-screen, an OSC title) or bidi overrides that
reorder what follows. `safe()` is for showing only; what is stored stays byte for byte.
"""

from __future__ import annotations

import re
import unicodedata

# Bidi embedding/override/isolate controls reorder what follows them on screen.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC, ␊ for LF
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code < 0xA0 or char in _BIDI:
        return "\ufffd"
    return char


def safe(text: str) -> str:
    """`text` with every control character replaced by a visible stand-in."""
    if text.isprintable():
        return text
    return "".join(
        _visible(c) if unicodedata.category(c) in ("Cc", "Cf") or c in _BIDI else c for c in text
    )


# What safe() replaces that JSON leaves raw (it escapes only U+0000-U+001F itself).
_JSON_RAW = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_json(encoded: str) -> str:
    """JSON text (from json.dumps(ensure_ascii=False)) with DEL, the C1 controls and bidi
    controls written as \\uXXXX escapes: the same data, nothing a terminal acts on."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)
