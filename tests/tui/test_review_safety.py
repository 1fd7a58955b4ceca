"""Data is never markup; keys are remappable; every action is in the palette and the help."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from tui_helpers import UTTERANCES, build_project, row, screen_text, settle

from db.store import Hypothesis
from workbench.tui.app import ReviewApp
from workbench.tui.help_screen import KeysHelp
from workbench.tui.hypotheses import asr_lines
from workbench.tui.keymap import ACTIONS, load_keymap
from workbench.tui.review_screen import ReviewScreen
from workbench.tui.text import fit, fit_middle, safe

EVIL_KEY = "[red]k[/red]\x1b]0;pwned\x07"
EVIL_DRAFT = "[bold]x[/] \x1b[31mred\x1b[0m [link=http://e.vil]y[/link]"


async def test_markup_and_escapes_show_literally(tmp_path: Path) -> None:
    evil = [
        (
            EVIL_KEY,
            UTTERANCES[0][1],
            1.0,
            16000,
            "[i]dia[/i]",
            "Vlog",
            0.5,
            EVIL_DRAFT,
            "[u]tr[/u]",
            None,
            None,
        )
    ]
    project = build_project(tmp_path / "evil.db", evil)
    app = ReviewApp(project, "[b]mallory[/b]")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+g", *"[blink]n[/blink]", "enter")
        await settle(app, pilot)
        text = screen_text(app)
        strips = app.screen._compositor.render_strips()
        assert not any("\x1b" in s.text or "\x07" in s.text for strip in strips for s in strip)
    assert "[red]k[/red]␛]0;pwned␇" in text  # list row, header and status line
    assert "[bold]x[/] ␛[31mred␛[0m [link=http://e.vil]y[/link]" in text  # editor and list
    assert "[i]dia[/i]" in text
    assert "[blink]n[/blink]" in text
    flagged = row(project, EVIL_KEY)
    assert flagged.note == "[blink]n[/blink]" and flagged.annotator == "[b]mallory[/b]"


def test_safe_and_fit_keep_cells_aligned() -> None:
    assert safe("a\x1bb\nc\u202ed") == "a␛b␊c\ufffdd"
    assert safe("㑚好") == "㑚好"
    for width in range(1, 12):
        for text in ("㑚好侬今朝去伐", "abc", "a㑚b好c"):
            from rich.cells import cell_len

            assert cell_len(fit(text, width)) == width
            assert cell_len(fit_middle(text, width)) == width


def test_long_names_keep_the_end_that_tells_them_apart() -> None:
    assert fit_middle("wu_A0002_S0003_0_G0003_G0004_33", 18) == "wu_A0002…_G0004_33"
    systems = ("conformer-u2pp-wu-attention_rescoring", "conformer-u2pp-wu-ctc_greedy_search")
    hyps = [
        Hypothesis(name, "asr", "侬好", None, None, "", None, None, None, None, None)
        for name in systems
    ]
    heading, *lines = [
        line.plain for line in asr_lines(hyps, "侬好", ["alt+1", "alt+2"], 90, Console())
    ]
    assert "CER vs draft" in heading
    assert "rescoring" in lines[0] and "greedy_search" in lines[1]
    assert lines[0].index("0.0%") == lines[1].index("0.0%")  # one name column for all


def test_keymap_file_is_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"review.accept" = "ctrl+o"\n"no.such" = "x"\n"audio.toggle" = 3\n')
    keymap, problems = load_keymap(config)
    assert keymap == {"review.accept": "ctrl+o"}
    assert any("no.such" in p for p in problems) and any("audio.toggle" in p for p in problems)
    config.write_text("[keys\n")
    assert load_keymap(config)[0] == {}


async def test_remapped_accept_and_help_and_palette(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "wuwb.toml"
    config.write_text('[keys]\n"review.accept" = "ctrl+o"\n')
    monkeypatch.setenv("WUWB_CONFIG", str(config))
    app = ReviewApp(project, "alice")
    # Wide enough for the whole footer: a remapped key's binding is listed last.
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+s")  # no longer accept
        await settle(app, pilot)
        assert row(project, "utt_001").status == "todo"
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert row(project, "utt_001").status == "accepted"
        assert "^o Accept" in screen_text(app)

        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, KeysHelp)
        help_text = screen_text(app)
        for binding_id, *_ in ACTIONS[:12]:
            assert binding_id in help_text
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Skip", "enter")  # skip utt_002 through the palette
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewScreen)
    assert row(project, "utt_002").status == "skipped"


def test_alt_digit_from_an_xterm_style_terminal_is_alt_digit():
    """ESC 3 (what xterm and tmux send for alt+3) must reach the app as alt+3, not "£"."""
    from textual._xterm_parser import XTermParser
    from textual.events import Key

    from workbench.tui.terminal_keys import restore_alt_digits

    restore_alt_digits()
    keys = []
    for pressed in ("\x1b3", "\x1b9", "\x1b0", "£"):
        # One key press, then end of input: what the driver's timeout does between keys.
        parser = XTermParser()
        events = [*parser.feed(pressed), *parser.feed("")]
        keys += [e.key for e in events if isinstance(e, Key)]
    assert keys == ["alt+3", "alt+9", "alt+0", "pound_sign"]
