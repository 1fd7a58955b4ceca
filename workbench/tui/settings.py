"""Review settings from the config file's `[review]` table (the keymap's file).

    [review]
    special_tokens = ["<unk>", "<noise>"]   # accepting text that holds one asks first
"""

from __future__ import annotations

from pathlib import Path

from workbench.session import SPECIAL_TOKENS
from workbench.tui.config import config_path, read_config, shown_path


def load_special_tokens(path: Path | None = None) -> tuple[tuple[str, ...], list[str]]:
    """The special tokens to warn about, and the problems found reading them (the defaults
    are used then: a bad config never stops the review). The file is read as the keymap
    reads it, so an unreadable one is reported in the same words (once, by the app)."""
    config, problems = read_config(path)
    if problems or not config:
        return SPECIAL_TOKENS, problems
    review = config.get("review", {})
    tokens = review.get("special_tokens", SPECIAL_TOKENS) if isinstance(review, dict) else None
    if not isinstance(tokens, list | tuple) or not all(isinstance(t, str) and t for t in tokens):
        where = shown_path(path or config_path())
        return SPECIAL_TOKENS, [f"{where}: [review] special_tokens must be a list of strings"]
    return tuple(tokens), []
