"""Every keyboard flow of the review screen, driven by key presses, checked in the database."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import SYSTEMS, WU, build_project, edits, row, screen_text, settle

from workbench.tui.app import ReviewApp
from workbench.tui.filter_screen import FilterDialog
from workbench.tui.modals import ConflictChoice, FlagNote
from workbench.tui.review_screen import ReviewScreen

DRAFT_1 = "最少辰光阿拉是做撒呃喃，有钞票就是到银行里保本保息。"


def review(app: ReviewApp) -> ReviewScreen:
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


async def test_opens_on_first_todo_with_editor_focused(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        screen = review(app)
        assert screen.utt is not None and screen.utt.key == "utt_001"
        assert app.focused is screen.editor
        assert screen.editor.text == DRAFT_1
        assert "4 todo of 4" in screen_text(app)


async def test_accept_writes_gold_labels_and_edit_log_then_moves_on(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("end", "啊", "alt+e", "ctrl+s")
        await settle(app, pilot)
        screen = review(app)
        assert screen.utt is not None and screen.utt.key == "utt_002"
        assert "saved utt_001 as gold" in screen_text(app)
        assert "✓" in screen_text(app)
    saved = row(project, "utt_001")
    assert saved.status == "accepted"
    assert saved.gold == saved.draft == DRAFT_1 + "啊"
    assert saved.emotion == "中立" and saved.age == "中年"
    assert saved.annotator == "alice" and saved.version == 1
    log = {field: (old, new, who) for field, old, new, who, _at in edits(project, "utt_001")}
    assert log["gold"] == (None, DRAFT_1 + "啊", "alice")
    assert log["status"] == ("todo", "accepted", "alice")
    assert log["emotion"] == (None, "中立", "alice")


async def test_take_hypothesis_undo_and_accept(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        editor = review(app).editor
        await pilot.press("alt+2")  # systems in name order: Step-Audio2-FT, Tele-CTC-FT, ...
        assert editor.text == SYSTEMS["utt_001"]["Tele-CTC-FT"]
        await pilot.press("ctrl+z")
        assert editor.text == DRAFT_1
        await pilot.press("ctrl+y")
        assert editor.text == SYSTEMS["utt_001"]["Tele-CTC-FT"]
        await pilot.press("ctrl+z", "alt+3", "end", "呀", "ctrl+z")
        assert editor.text == SYSTEMS["utt_001"]["wswu-corpus"]
        await pilot.press("alt+9")
        await pilot.pause()
        assert "no hypothesis 9" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert row(project, "utt_001").gold == SYSTEMS["utt_001"]["wswu-corpus"]


async def test_next_previous_keep_unsaved_edits(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("end", "嗯", "ctrl+down")
        await settle(app, pilot)
        screen = review(app)
        assert screen.utt is not None and screen.utt.key == "utt_002"
        await pilot.press("ctrl+down", "ctrl+up", "ctrl+up")
        await settle(app, pilot)
        assert screen.utt is not None and screen.utt.key == "utt_001"
        assert screen.editor.text == DRAFT_1 + "嗯"
        await pilot.press("ctrl+pagedown")
        await settle(app, pilot)
        assert screen.utt is not None and screen.utt.key == "utt_004"
    kept = row(project, "utt_001")
    assert kept.draft == DRAFT_1 + "嗯" and kept.status == "todo" and kept.gold is None


async def test_revert_restores_the_saved_state(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("alt+1", "end", "x", "y", "alt+a", "ctrl+r")
        await settle(app, pilot)
        screen = review(app)
        assert screen.editor.text == DRAFT_1
        assert screen.labels["age"] == "中年"
        await pilot.press("ctrl+down")
        await settle(app, pilot)
    assert row(project, "utt_001").version == 0  # nothing was written
    assert edits(project, "utt_001") == []


async def test_flag_stores_the_note_and_cancel_changes_nothing(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, FlagNote)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+g", *"noise", "enter")
        await settle(app, pilot)
        assert "utt_001 flagged: noise" in screen_text(app)
        await pilot.press("ctrl+n")  # skip utt_002
        await settle(app, pilot)
    flagged = row(project, "utt_001")
    assert (flagged.status, flagged.note) == ("flagged", "noise")
    assert row(project, "utt_002").status == "skipped"


async def test_labels_cycle_and_translation_take(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("alt+a", "alt+s", "alt+0", "ctrl+s")
        await settle(app, pilot)
    saved = row(project, "utt_001")
    assert saved.age == "老年" and saved.gender == "女性"
    assert saved.translation == "最少的时候我们做什么呢"


async def test_filter_by_text_and_clear(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, FilterDialog)
        await pilot.press(*"今朝去", "enter")
        await settle(app, pilot)
        screen = review(app)
        assert screen.utt is not None and screen.utt.key == "utt_003"
        assert "1 todo of 4" in screen_text(app)
        await pilot.press("ctrl+f", "ctrl+r")
        await settle(app, pilot)
        assert "4 utterances of 4" in screen_text(app)


async def test_two_reviewers_never_overwrite_each_other_silently(project: Path) -> None:
    first = ReviewApp(project, "alice")
    second = ReviewApp(project, "bob")
    async with first.run_test(size=(150, 40)) as pa, second.run_test(size=(150, 40)) as pb:
        await settle(first, pa)
        await settle(second, pb)
        await pb.press("alt+1", "ctrl+s")
        await settle(second, pb)
        await pa.press("end", "甲", "ctrl+s")
        await settle(first, pa)
        assert isinstance(first.screen, ConflictChoice)
        text = screen_text(first)
        assert "bob" in text and "甲" in text
        assert row(project, "utt_001").gold == SYSTEMS["utt_001"]["Step-Audio2-FT"]
        await pa.press("alt+m")  # alice keeps hers, knowingly
        await settle(first, pa)
    saved = row(project, "utt_001")
    assert saved.gold == DRAFT_1 + "甲" and saved.annotator == "alice"
    who = {annotator for _f, _o, _n, annotator, _at in edits(project, "utt_001")}
    assert who == {"alice", "bob"}


async def test_conflict_take_theirs_keeps_their_save(project: Path) -> None:
    first = ReviewApp(project, "alice")
    second = ReviewApp(project, "bob")
    async with first.run_test(size=(150, 40)) as pa, second.run_test(size=(150, 40)) as pb:
        await settle(first, pa)
        await settle(second, pb)
        await pb.press("ctrl+g", *"bad", "enter")
        await settle(second, pb)
        await pa.press("end", "乙", "ctrl+down")  # alice's autosave meets bob's flag
        await settle(first, pa)
        assert isinstance(first.screen, ConflictChoice)
        await pa.press("alt+t")
        await settle(first, pa)
    kept = row(project, "utt_001")
    assert (kept.status, kept.note, kept.draft) == ("flagged", "bad", DRAFT_1)


async def test_accept_recounts_the_title_and_marks_its_row_in_a_long_list(tmp_path: Path) -> None:
    rest = (6.86, 16000, "Taihu_Shanghai", "News", 0.9, "侬今朝去伐", None, None, None)
    rows = [(f"long_{n:03d}", WU, *rest) for n in range(80)]
    app = ReviewApp(build_project(tmp_path / "long.db", rows), "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        assert "80 todo of 80" in screen_text(app)
        await pilot.press("ctrl+down")  # the first row gets drawn without the cursor...
        await settle(app, pilot)
        await pilot.press("ctrl+up", "ctrl+s")  # ...and must be drawn again once saved
        await settle(app, pilot)
        shown = screen_text(app)
        assert "79 todo of 80" in shown  # recounted after the save
        assert "accepted 1 of 80 · 1%" in shown  # the progress under the list
        assert "✓ long_000" in shown  # the row is redrawn beside the list's scrollbar
        assert review(app).utt is not None and review(app).utt.key == "long_001"
