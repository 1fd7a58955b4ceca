"""No escape sequence from data reaches the terminal, on any screen; stored text stays exact."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from tui_helpers import build_project, edits, row, screen_text, settle

from db.store import HypothesisIn, Store
from workbench.tui.app import ReviewApp
from workbench.tui.filter_screen import FilterDialog
from workbench.tui.help_screen import KeysHelp
from workbench.tui.stats_screen import StatsScreen

TITLE = "\x1b]0;pwned\x07"  # an OSC that sets the terminal's title
TRANSLATION = f"译文{TITLE}尾"
SUBSET = "sub\x1b[2Jset"  # a clear-screen
SYSTEM = f"sys{TITLE}tem"


def raw_controls(app: App[None]) -> list[str]:
    """Every drawn piece of the screen that holds a raw ESC or BEL."""
    strips = app.screen._compositor.render_strips()
    pieces = [segment.text for strip in strips for segment in strip]
    return [text for text in pieces if "\x1b" in text or "\x07" in text]


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = build_project(tmp_path / "hostile.db")
    with Store.open(path) as store:
        with store.transaction() as conn:
            conn.execute(
                "UPDATE utterances SET translation = ?, subset = ? WHERE key = 'utt_001'",
                (TRANSLATION, SUBSET),
            )
        utt_id = store.utterance_id("utt_001")
        assert utt_id is not None
        store.add_hypotheses([HypothesisIn(utt_id, SYSTEM, "asr", "最少辰光")])
    return path


async def test_no_raw_escape_on_any_screen_and_the_translation_stays_exact(
    hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / f"conf{TITLE}.toml"  # the help screen shows the config's path
    config.write_text("")
    monkeypatch.setenv("WUWB_CONFIG", str(config))
    app = ReviewApp(hostile, "alice")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        assert raw_controls(app) == []
        text = screen_text(app)
        assert "译文␛]0;pwned␇尾" in text  # the translation box
        assert "sys␛]0;pwned␇tem" in text  # the systems' answers

        await pilot.press("ctrl+f")
        await settle(app, pilot)
        assert isinstance(app.screen, FilterDialog)
        await pilot.press("tab", "tab", "tab", "tab", "enter")  # open "has system"'s options
        await settle(app, pilot)
        assert "sys␛]0;pwned␇tem" in screen_text(app)
        assert raw_controls(app) == []
        await pilot.press("escape", "escape")
        await settle(app, pilot)

        await pilot.press("f10")
        await settle(app, pilot)
        assert isinstance(app.screen, KeysHelp)
        assert raw_controls(app) == []
        assert "conf␛]0;pwned␇.toml" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("ctrl+s")  # utt_001 becomes gold: the report scores SYSTEM
        await settle(app, pilot)
        assert "invisible" in screen_text(app) or "control" in screen_text(app)
        await pilot.press("ctrl+s")  # the translation's ESC was flagged first: confirm
        await settle(app, pilot)
        await pilot.press("f9")
        await settle(app, pilot)
        assert isinstance(app.screen, StatsScreen)
        assert raw_controls(app) == []
        stats = screen_text(app)
        assert "sub␛[2Jset" in stats and "sys␛]0;pwned␇tem" in stats
    saved = row(hostile, "utt_001")
    assert saved.translation == TRANSLATION  # shown safely, stored byte for byte
    assert not [e for e in edits(hostile, "utt_001") if e[0] == "translation"]
