"""Keys in a browser: what the browser keeps is replaced, and the reviewer is told."""

from __future__ import annotations

from workbench.tui.web_keys import WEB_DEFAULTS, WebReviewScreen, web_keymap


def test_skip_has_a_web_default_shown_in_the_footer() -> None:
    keys = WebReviewScreen._merge_bindings().key_to_bindings
    assert "ctrl+n" not in keys
    (skip,) = keys[WEB_DEFAULTS["review.skip"]]
    assert skip.id == "review.skip" and skip.show
    assert web_keymap({}) == ({}, [])  # the screen's own default needs no remap


def test_a_users_browser_keys_are_dropped_and_reported() -> None:
    keymap, notes = web_keymap(
        {"review.skip": "ctrl+n,ctrl+k", "review.flag": "ctrl+w", "review.accept": "ctrl+s"}
    )
    assert keymap["review.skip"] == "ctrl+k" and keymap["review.accept"] == "ctrl+s"
    assert keymap["review.flag"] == "ctrl+w"  # nothing else to give it: left, and said so
    assert notes == [
        "review.skip: the browser keeps ctrl+n for itself; ctrl+k works here",
        "review.flag: the browser keeps ctrl+w for itself; give it another key",
    ]
    keymap, notes = web_keymap({"review.skip": "ctrl+t"})
    assert keymap["review.skip"] == "ctrl+o" and "ctrl+o works here" in notes[0]
