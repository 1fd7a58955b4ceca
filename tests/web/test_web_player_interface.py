"""The browser's player stands in for the terminal one: the review screen holds either."""

from __future__ import annotations

from textual.app import App

from workbench.tui.audio import Player
from workbench.tui.web_audio import WebPlayer


def _public(obj: object) -> set[str]:
    names = {n for n in dir(type(obj)) if not n.startswith("_")}
    return names | {n for n in vars(obj) if not n.startswith("_")}


def test_web_player_has_every_public_name_of_the_terminal_player() -> None:
    """A name only the terminal player had (`stretch_note`) crashed the app in the browser on
    the speed key; this lists any such name at once."""
    terminal = Player()
    web = WebPlayer(App())
    try:
        assert _public(terminal) - _public(web) == set()
    finally:
        terminal.close()
        web.close()
