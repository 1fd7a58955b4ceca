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
    are used then: a bad config never stops the review). A file that cannot be read is
    reported by `keymap.load_keymap`, not twice."""
    config, unreadable = read_config(path)
    if unreadable or not config:
        return SPECIAL_TOKENS, []
    review = config.get("review", {})
    tokens = review.get("special_tokens", SPECIAL_TOKENS) if isinstance(review, dict) else None
    if not isinstance(tokens, list | tuple) or not all(isinstance(t, str) and t for t in tokens):
        where = shown_path(path or config_path())
        return SPECIAL_TOKENS, [f"{where}: [review] special_tokens must be a list of strings"]
    return tuple(tokens), []
