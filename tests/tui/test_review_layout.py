"""The review screen at 80x24, 120x30 and 160x45: every part shown or reachable, nothing cut."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tui_helpers import build_project, screen_text, settle

from db.store import HypothesisIn, Store
from workbench.tui.app import ReviewApp
from workbench.tui.detail import HypothesisLines
from workbench.tui.filter_screen import FilterDialog
from workbench.tui.review_screen import ReviewScreen

SIZES = [(80, 24), (120, 30), (160, 45)]
WORDS = [f"word{n:02d}x" for n in range(24)]  # a long Latin answer: where may it break?


@pytest.mark.parametrize("size", SIZES)
async def test_the_filter_dialog_shows_its_status_and_buttons(
    project: Path, size: tuple[int, int]
) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+f")
        await settle(app, pilot)
        assert isinstance(app.screen, FilterDialog)
        text = screen_text(app)
        assert re.search(r"status +todo", text)  # the current status, not a blank box
        for button in ("Apply", "Clear", "Cancel"):
            assert button in text


@pytest.mark.parametrize("size", SIZES)
async def test_every_system_the_labels_and_the_translation_can_be_seen(
    project: Path, size: tuple[int, int]
) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        for system in ("Step-Audio2-FT", "Tele-CTC-FT", "wswu-corpus"):
            assert system in text
        await pilot.press("alt+e")  # a label changed is in view
        await settle(app, pilot)
        assert "emotion 中立" in screen_text(app)
        await pilot.press("tab")  # the translation box: focused and in view
        await settle(app, pilot)
        assert app.focused is not None and app.focused.id == "translation"
        assert "最少的时候我们是做什么呢" in screen_text(app)


async def test_at_80x24_the_list_collapses_above_the_detail(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.list.region.height <= 5
        assert screen.detail.region.width >= 78
        await pilot.press("ctrl+l")  # the list takes half the screen while it has focus
        await settle(app, pilot)
        assert screen.list.region.height >= 9


async def test_a_long_answer_wraps_between_words(tmp_path: Path) -> None:
    path = build_project(tmp_path / "long.db")
    with Store.open(path) as store:
        with store.transaction() as conn:
            draft = " ".join(WORDS)
            conn.execute("UPDATE utterances SET draft = ? WHERE key = 'utt_001'", (draft,))
        utt_id = store.utterance_id("utt_001")
        assert utt_id is not None
        answer = " ".join(["wordXYx" if n == 10 else w for n, w in enumerate(WORDS)])
        store.add_hypotheses([HypothesisIn(utt_id, "latin", "asr", answer)])
    app = ReviewApp(path, "alice")
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(app, pilot)
        lines = screen_text(app).splitlines()
    start = next(n for n, line in enumerate(lines) if "latin" in line)
    shown = "\n".join(lines[start : start + 12])
    for word in WORDS[:10] + WORDS[11:]:  # each whole on one line, never "wo" / "rd03x"
        assert word in shown, word
    assert "[10→XY]" in shown  # the difference, marked


async def test_the_answers_panel_shrinks_for_a_shorter_utterance(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        panel = app.screen.query_one(HypothesisLines)
        tall = panel.region.height
        await pilot.press("ctrl+pagedown")  # utt_004: one failed system
        await settle(app, pilot)
        assert panel.region.height < tall
        assert panel.region.height == len(panel._strips(panel.size.width))


async def test_title_progress_headings_and_what_the_cer_is_against(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "4 todo of 4" in text  # not "4 / 4": a count of a total, not a position
        assert "accepted 0 of 4 · 0%" in text
        assert re.search(r"key +secs +group +conf dis draft", text)
        assert "CER vs draft" in text
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        text = screen_text(app)
        assert "3 todo of 4" in text and "accepted 1 of 4 · 25%" in text
        await pilot.press("ctrl+up")  # back to the accepted one: scored against its gold
        await settle(app, pilot)
        assert "CER vs gold" in screen_text(app)
