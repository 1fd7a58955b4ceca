"""Review you can trust (issues 8 and 14), driven by keys: each test failed before its fix."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import UTTERANCES, WU, build_project, edits, row, screen_text, settle

from db.store import Store
from workbench.tui.app import ReviewApp
from workbench.tui.modals import ConflictChoice
from workbench.tui.review_screen import ReviewScreen

DRAFT_1 = "最少辰光阿拉是做撒呃喃，有钞票就是到银行里保本保息。"
HOSTILE = "第一行\n第二\t行\x1b[31m红\u202e反"


def review(app: ReviewApp) -> ReviewScreen:
    screen = next(s for s in app.screen_stack if isinstance(s, ReviewScreen))
    return screen


async def until(pilot: Any, done: Any, tries: int = 400) -> None:
    """Pause until `done()` holds (at most tries × 50 ms: a bound for a loaded machine, not a
    timing claim). Used where a blocked read would make `settle` wait for ever."""
    for _ in range(tries):
        if done():
            return
        await pilot.pause(0.05)


def with_draft(draft: str, key: str = "utt_001", audio: str = WU) -> list[tuple[Any, ...]]:
    first = (key, audio, *UTTERANCES[0][2:7], draft, None, None, None)
    return [first, *UTTERANCES[1:]]


async def test_notifications_shown_not_crashing_on_an_unknown_keymap_id(
    project: Path, tmp_path: Path
) -> None:
    """Issue 8 defect 1: with notifications on (as in real use), a warning must not kill."""
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"audio.toggel" = "f6"\n')
    app = ReviewApp(project, "alice", config=config)
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert "audio.toggel" in screen_text(app)
        await pilot.press("end", "好", "ctrl+s")
        await settle(app, pilot)
    assert row(project, "utt_001").gold == DRAFT_1 + "好"


async def test_own_edit_survives_a_quick_return_and_accept(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8 defect 2: the autosave is slowed by 150 ms so the return beats it."""
    save = Store.save

    def slowly(self: Store, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.15)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Store, "save", slowly)
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("end", "嗯", "ctrl+down")
        await pilot.pause(0.05)
        await pilot.press("ctrl+up", "ctrl+s")
        await settle(app, pilot)
    saved = row(project, "utt_001")
    assert saved.gold == DRAFT_1 + "嗯" and saved.status == "accepted"
    drafts = [(old, new) for field, old, new, *_ in edits(project, "utt_001") if field == "draft"]
    assert drafts == [(DRAFT_1, DRAFT_1 + "嗯")]


async def test_edits_to_accepted_gold_wait_for_an_accept(project: Path) -> None:
    """Issue 8 defect 3."""
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("ctrl+up")
        await settle(app, pilot)
        await pilot.press("end", "x", "alt+a", "ctrl+down")
        await settle(app, pilot)
        kept = row(project, "utt_001")
        assert (kept.gold, kept.age, kept.status) == (DRAFT_1, "中年", "accepted")
        await pilot.press("ctrl+up")
        await settle(app, pilot)
        assert "modified since accepted" in screen_text(app)
        assert review(app).editor.text == DRAFT_1 + "x"
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert review(app).editor.text == DRAFT_1
    reverted = row(project, "utt_001")
    assert (reverted.draft, reverted.gold, reverted.pending) == (DRAFT_1, DRAFT_1, None)


async def test_skip_of_gold_asks_and_the_last_decision_undoes(project: Path) -> None:
    """Issue 8 defect 4."""
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("ctrl+up")
        await settle(app, pilot)
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        assert row(project, "utt_001").status == "accepted"
        assert not isinstance(app.screen, ReviewScreen)  # asked first
        await pilot.press("ctrl+n")  # the same key again: yes
        await settle(app, pilot)
        assert row(project, "utt_001").status == "skipped"
        await pilot.press("ctrl+u")  # undo the skip
        await settle(app, pilot)
        assert row(project, "utt_001").status == "accepted"
        assert review(app).utt is not None and review(app).utt.key == "utt_001"


async def test_quit_keeps_the_draft_and_is_shown(project: Path) -> None:
    """Issue 8 defect 5."""
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        assert "Quit" in screen_text(app)  # in the footer
        await pilot.press("end", "呀", "ctrl+q")
        await pilot.pause(0.2)
    assert row(project, "utt_001").draft == DRAFT_1 + "呀"


async def test_special_tokens_and_invisible_text_warn_before_accept(tmp_path: Path) -> None:
    """Issue 8 defect 6 and issue 14 item 4: byte-exact gold, warned about first."""
    project = build_project(tmp_path / "p.db", with_draft(HOSTILE + "<unk>"))
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert row(project, "utt_001").status == "todo"
        shown = screen_text(app)
        assert "<unk>" in shown and "U+202E" in shown
        await pilot.press("ctrl+s")  # accept anyway, deliberately
        await settle(app, pilot)
    saved = row(project, "utt_001")
    assert saved.gold == HOSTILE + "<unk>" and saved.draft == HOSTILE + "<unk>"


async def test_a_blocking_clip_never_holds_the_detail_or_the_app(tmp_path: Path) -> None:
    """Issue 14 item 1: utt_002's audio is a FIFO nobody writes to."""
    rows = list(UTTERANCES)
    rows[1] = (rows[1][0], "blocked.wav", *rows[1][2:])
    project = build_project(tmp_path / "p.db", rows)
    fifo = tmp_path / "blocked.wav"
    os.mkfifo(fifo)
    app = ReviewApp(project, "alice")
    try:
        async with app.run_test(size=(150, 40)) as pilot:
            await until(pilot, lambda: "utt_001 ·" in screen_text(app))
            await pilot.press("ctrl+down")
            await until(pilot, lambda: "utt_002 ·" in screen_text(app))
            screen = review(app)
            assert screen.utt is not None and screen.utt.key == "utt_002"
            await pilot.press("end", "甲", "ctrl+s")
            await until(pilot, lambda: "saved utt_002" in screen_text(app))
            await pilot.press("ctrl+q")
            await pilot.pause(0.2)
        assert not app.is_running
    finally:
        with contextlib.suppress(OSError):  # let a reader still blocked in open() go
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert row(project, "utt_002").gold == UTTERANCES[1][7] + "甲"
    assert row(project, "utt_001").status == "todo"


async def test_a_clip_that_never_opens_times_out_and_quit_still_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 1, a hung network mount: stat answers, open never returns (a FIFO that
    passes for a regular file). The read's thread stays blocked; nothing else does."""
    import workbench.tui.clips
    import workbench.tui.review_screen

    monkeypatch.setattr(workbench.tui.clips, "check_regular", lambda path: None)
    monkeypatch.setattr(workbench.tui.review_screen, "TIMEOUT_S", 0.3)
    rows = list(UTTERANCES)
    rows[0] = (rows[0][0], "hung.wav", *rows[0][2:])
    project = build_project(tmp_path / "p.db", rows)
    fifo = tmp_path / "hung.wav"
    os.mkfifo(fifo)
    app = ReviewApp(project, "alice")
    try:
        async with app.run_test(size=(150, 40)) as pilot:
            await until(pilot, lambda: "not read within" in screen_text(app))
            screen = review(app)
            assert screen.utt is not None and screen.utt.key == "utt_001"
            assert "not read within 0.3 s" in screen_text(app)
            await pilot.press("end", "乙", "ctrl+s")
            await until(pilot, lambda: "saved utt_001" in screen_text(app))
            assert screen.utt is not None and screen.utt.key == "utt_002"
            await pilot.press("ctrl+q")
            await pilot.pause(0.2)
        assert not app.is_running
    finally:
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert row(project, "utt_001").gold == DRAFT_1 + "乙"


async def test_a_save_under_another_process_lock_keeps_the_work(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 2: the write lock held by a second connection in another thread."""
    opener = Store.open.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        Store, "open", classmethod(lambda cls, p, **k: opener(cls, p, **{**k, "busy_timeout": 0.2}))
    )
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(project, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(60)
        conn.execute("COMMIT")
        conn.close()

    app = ReviewApp(project, "alice")
    holder = threading.Thread(target=hold)
    try:
        async with app.run_test(size=(150, 40), notifications=True) as pilot:
            await settle(app, pilot)
            holder.start()
            held.wait(10)
            await pilot.press("end", "锁", "alt+a", "ctrl+s")
            await until(pilot, lambda: "locked" in screen_text(app))
            assert "locked" in screen_text(app)
            assert row(project, "utt_001").status == "todo"
            await pilot.press("ctrl+up")
            await settle(app, pilot)
            assert review(app).editor.text == DRAFT_1 + "锁"
            release.set()
            holder.join()
            review(app).session.retry()
            await settle(app, pilot)
    finally:
        release.set()
        if holder.is_alive():
            holder.join()
    saved = row(project, "utt_001")
    assert (saved.gold, saved.age, saved.status) == (DRAFT_1 + "锁", "老年", "accepted")


async def test_typing_never_answers_a_conflict(project: Path) -> None:
    """Issue 14 item 3: the dialog opens after an autosave, typing goes on."""
    first = ReviewApp(project, "alice")
    second = ReviewApp(project, "bob")
    async with first.run_test(size=(150, 40)) as pa, second.run_test(size=(150, 40)) as pb:
        await settle(first, pa)
        await settle(second, pb)
        await pb.press("ctrl+g", *"bad", "enter")
        await settle(second, pb)
        await pa.press("end", "乙", "ctrl+down")
        await settle(first, pa)
        await until(pa, lambda: isinstance(first.screen, ConflictChoice))
        await pa.press("t", "m", "escape", "enter")
        await settle(first, pa)
        assert not isinstance(first.screen, ReviewScreen)  # still asking
        assert row(project, "utt_001").draft == DRAFT_1
        await pa.press("alt+t")  # take theirs, deliberately
        await settle(first, pa)
        assert isinstance(first.screen, ReviewScreen)
    kept = row(project, "utt_001")
    assert (kept.status, kept.note, kept.draft) == ("flagged", "bad", DRAFT_1)
    with Store.open(project) as store:
        lost = store.edit_log(kept.id, discarded=True)
    assert ("draft", DRAFT_1, DRAFT_1 + "乙", "alice") in [r[:4] for r in lost]


async def test_feedback_after_moves_searches_and_imports(project: Path) -> None:
    """Issue 8 defect 9 (stale message, last todo, empty list) and issue 14 item 9."""
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("alt+9")
        await pilot.pause()
        assert "no hypothesis 9" in screen_text(app)
        await pilot.press("ctrl+down")
        await settle(app, pilot)
        assert "no hypothesis 9" not in screen_text(app)
        with Store.open(project) as other, other.transaction() as conn:  # an import meanwhile
            conn.execute("INSERT INTO utterances (key, audio) VALUES ('new_1', 'x.wav')")
        await pilot.press("ctrl+pagedown", "ctrl+s")
        await settle(app, pilot)
        shown = screen_text(app)
        assert "4 todo of 5" in shown  # the project total counted again
        assert "last" in shown  # utt_004 was the last in this list
        await pilot.press("ctrl+f")
        await pilot.pause()
        await pilot.press(*"没有这句", "enter")
        await settle(app, pilot)
        assert "searching" not in screen_text(app)
        await pilot.press("x")
        await pilot.pause()
        assert review(app).editor.text == ""


async def test_draft_cer_uses_the_report_normalisation(tmp_path: Path) -> None:
    """Issue 14 item 9: a draft with a newline and a tab scores 0 % against its own words."""
    draft = "最少辰光阿拉是做撒呃喃\n有钞票就是到银行里保本保息\t"
    app = ReviewApp(build_project(tmp_path / "p.db", with_draft(draft)), "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        assert " 0.0%" in screen_text(app)  # Step-Audio2-FT has exactly these words


async def test_one_wrong_character_fixed_from_a_hypothesis_in_two_keys(project: Path) -> None:
    """Reviewer speed: utt_003's draft 侬今朝去伐; Step-Audio2-FT (hypothesis 1) says 去勿."""
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+down", "ctrl+down")
        await settle(app, pilot)
        editor = review(app).editor  # the cursor is at the end: f6 goes round to the start
        await pilot.press("f6", "f7")
        assert editor.text == "侬今朝去勿"
        await pilot.press("ctrl+z")
        assert editor.text == "侬今朝去伐"
        await pilot.press("f8", "f6")  # Tele-CTC-FT says the same: no difference to go to
        assert "no further difference from Tele-CTC-FT" in screen_text(app)
        await pilot.press("f8", "f6", "f7", "ctrl+s")  # the 4-key fix, through hypothesis 1
        await settle(app, pilot)
    assert row(project, "utt_003").gold == "侬今朝去勿"


async def test_label_digits_backwards_cycle_and_system_labels(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        screen = review(app)
        await pilot.press("alt+a", "2")
        assert screen.session.values is not None
        assert screen.session.values.labels["age"] == "少年"
        assert screen.editor.text == DRAFT_1  # the digit chose, it was not typed
        await pilot.press("alt+shift+e")
        assert screen.session.values.labels["emotion"] == "生气"
        await pilot.press("alt+l")  # the systems' labels
        assert screen.session.values.labels == {"age": "青年", "gender": "男性", "emotion": "中立"}
        await pilot.press("1")
        assert screen.editor.text.endswith("1")  # a digit not after a label key is typed


async def test_quit_with_an_open_conflict_asks_then_logs_mine(project: Path) -> None:
    first = ReviewApp(project, "alice")
    second = ReviewApp(project, "bob")
    async with first.run_test(size=(150, 40)) as pa, second.run_test(size=(150, 40)) as pb:
        await settle(first, pa)
        await settle(second, pb)
        await pb.press("alt+1", "ctrl+s")
        await settle(second, pb)
        await pa.press("end", "丙", "ctrl+down")
        await settle(first, pa)
        await until(pa, lambda: isinstance(first.screen, ConflictChoice))
        await settle(first, pa)  # the dialog is up before the reviewer reaches for quit
        assert isinstance(first.screen, ConflictChoice)
        await pa.press("ctrl+q")
        await settle(first, pa)

        def told() -> str:  # the status line, or the notification when a dialog covers it
            said = " ".join(n.message for n in first._notifications)
            return screen_text(first) + said

        await until(pa, lambda: "conflict is not answered" in told())
        assert first.is_running and "conflict is not answered" in told()
        await pa.press("ctrl+q")
        await pa.pause(0.2)
        assert not first.is_running
    with Store.open(project) as store:
        utt_id = store.utterance_id("utt_001")
        assert utt_id is not None
        lost = [r[:4] for r in store.edit_log(utt_id, discarded=True)]
    assert ("draft", row(project, "utt_001").draft, DRAFT_1 + "丙", "alice") in lost
