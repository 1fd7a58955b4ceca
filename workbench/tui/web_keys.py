"""Keys in a browser: the few a browser keeps for itself get web defaults, shown in the footer.

Chromium and Firefox never pass ctrl+n, ctrl+t, ctrl+w (and their shift forms, ctrl+tab) to
a page, so a review action bound only to such keys could not be reached from `wuwb serve`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen

from workbench.tui.keymap import ACTIONS, bindings
from workbench.tui.review_screen import ReviewScreen

BROWSER_KEEPS = frozenset(
    {"ctrl+n", "ctrl+t", "ctrl+w", "ctrl+shift+n", "ctrl+shift+t", "ctrl+shift+w", "ctrl+tab"}
)
WEB_DEFAULTS = {"review.skip": "ctrl+o"}  # in place of ctrl+n


def web_keymap(keymap: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The keymap with the browser's keys taken out, and a note for each the user chose."""
    out = dict(keymap)
    notes: list[str] = []
    for binding_id, default, *_ in ACTIONS:
        default = WEB_DEFAULTS.get(binding_id, default)  # WebReviewScreen's own default
        keys = [k.strip() for k in out.get(binding_id, default).split(",")]
        kept = [k for k in keys if k not in BROWSER_KEEPS]
        if len(kept) == len(keys):
            continue
        if not kept and binding_id in WEB_DEFAULTS:
            kept = [WEB_DEFAULTS[binding_id]]
        lost = ", ".join(k for k in keys if k in BROWSER_KEEPS)
        if kept:
            out[binding_id] = ",".join(kept)
        if binding_id in keymap or not kept:
            notes.append(
                f"{binding_id}: the browser keeps {lost} for itself"
                + (f"; {out[binding_id]} works here" if kept else "; give it another key")
            )
    return out, notes


def _web_bindings() -> list[Binding]:
    """The review bindings with the web defaults in place and shown in the footer."""
    return [
        dataclasses.replace(b, key=WEB_DEFAULTS[b.id], show=True)
        if b.id is not None and b.id in WEB_DEFAULTS
        else b
        for b in bindings()
        if isinstance(b, Binding)
    ]


class WebReviewScreen(ReviewScreen, inherit_bindings=False):
    """The review screen as a browser shows it: only the bindings differ."""

    BINDINGS: ClassVar[list[BindingType]] = [*Screen.BINDINGS, *_web_bindings()]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keymap = {**WEB_DEFAULTS, **self.keymap}  # what the keys help and hints show
