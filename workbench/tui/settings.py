"""Review settings from the config file's `[review]` table (the keymap's file).

    [review]
    special_tokens = ["<unk>", "<noise>"]   # accepting text that holds one asks first
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from workbench.session import SPECIAL_TOKENS
from workbench.tui.keymap import config_path


def load_special_tokens(path: Path | None = None) -> tuple[tuple[str, ...], list[str]]:
    """The special tokens to warn about, and the problems found reading them (the defaults
    are used then: a bad config never stops the review)."""
    path = path or config_path()
    try:
        if not path.is_file():
            return SPECIAL_TOKENS, []
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return SPECIAL_TOKENS, [f"{path}: {error}"]
    review = config.get("review", {})
    tokens = review.get("special_tokens", SPECIAL_TOKENS) if isinstance(review, dict) else None
    if not isinstance(tokens, list | tuple) or not all(isinstance(t, str) and t for t in tokens):
        return SPECIAL_TOKENS, [f"{path}: [review] special_tokens must be a list of strings"]
    return tuple(tokens), []
