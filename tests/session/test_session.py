"""The review session's rules, without a terminal: plain calls on a real SQLite project file."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from db.safe_text import safe
from db.store import HypothesisIn, Store, Utterance
from workbench.session import (
    ConflictFound,
    Event,
    ReviewSession,
    Saved,
    SaveFailed,
    Values,
    restore,
)

DRAFT = "侬今朝去伐"
HOSTILE = "第一行\n第二\t行\x1b[31m红\u202e反"


def make_project(path: Path) -> Path:
    store = Store.open(path)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO utterances (key, audio, draft, translation, age) VALUES (?,?,?,?,?)",
            [
                ("a", "a.wav", DRAFT, "你今天去吗", "中年"),
                ("b", "b.wav", "希望你以后", None, None),
                ("c", "c.wav", HOSTILE, None, None),
                ("d", "d.wav", "有<unk>个", None, None),
            ],
        )
    ids = store.ids_for_keys(["a", "b", "c", "d"])
    store.add_hypotheses(
        [
            HypothesisIn(ids["a"], "sysA", "asr", "侬今朝去勿"),
            HypothesisIn(ids["a"], "sysB", "asr", "侬今早去伐"),
            HypothesisIn(ids["a"], "und", "age", "青年"),
            HypothesisIn(ids["a"], "und", "gender", "女性"),
            HypothesisIn(ids["a"], "und", "emotion", "不存在"),
            HypothesisIn(ids["a"], "und", "ast", "你今天去不去"),
        ]
    )
    store.close()
    return path


class Project:
    """A project file, the session over it, and the events the saver reported."""

    def __init__(self, path: Path, **kwargs: Any) -> None:
        self.path = path
        self.store = Store.open(path, busy_timeout=kwargs.pop("busy_timeout", 30.0))
        self.events: list[Event] = []
        self.session = ReviewSession(self.store, "alice", on_event=self.events.append, **kwargs)
        self.ids = self.store.ids_for_keys(["a", "b", "c", "d"])

    def show(self, key: str) -> Utterance:
        return self.session.show(self.session.read(self.ids[key]))

    def row(self, key: str) -> Utterance:
        with Store.open(self.path) as other:
            return other.utterance(self.ids[key])

    def log(self, key: str, *, discarded: bool = False) -> list[tuple[str, Any, Any, str]]:
        with Store.open(self.path) as other:
            return [r[:4] for r in other.edit_log(self.ids[key], discarded=discarded)]

    def idle(self) -> None:
        assert self.session.wait_idle(10)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    p = Project(make_project(tmp_path / "p.db"))
    yield p
    p.session.close()
    p.store.close()


def slow_saves(store: Store, seconds: float) -> None:
    """The real Store.save, slower: widens the window in which a stale read can be shown."""
    save = store.save

    def slowly(*args: Any, **kwargs: Any) -> Utterance:
        time.sleep(seconds)
        return save(*args, **kwargs)

    store.save = slowly  # type: ignore[method-assign]


def test_own_edit_survives_moving_back_and_accepting_before_the_save_lands(
    project: Project,
) -> None:
    """Issue 8 defect 2: type, move on, come back (from a read older than the save), accept."""
    slow_saves(project.store, 0.15)
    s = project.session
    stale = s.read(project.ids["a"])
    s.show(stale)
    s.edit_draft(DRAFT + "嗯")
    s.leave()
    project.show("b")
    assert s.show(stale).draft == DRAFT + "嗯"  # the stale read, with our queued save over it
    assert s.display_draft == DRAFT + "嗯"
    assert s.accept().done
    project.idle()
    saved = project.row("a")
    assert saved.gold == DRAFT + "嗯" and saved.status == "accepted"
    drafts = [(old, new) for f, old, new, _ in project.log("a") if f == "draft"]
    assert drafts == [(DRAFT, DRAFT + "嗯")]  # never a revert of one's own draft
    assert not any(isinstance(e, ConflictFound) for e in project.events)


def test_saves_of_one_utterance_land_in_order(project: Project) -> None:
    s = project.session
    slow_saves(project.store, 0.05)
    project.show("a")
    for n in range(5):
        s.edit_draft(DRAFT + "啊" * (n + 1))
        s.leave()
    project.idle()
    assert project.row("a").draft == DRAFT + "啊" * 5
    assert project.row("a").version == 5


def test_accept_with_no_edit_stores_exactly_what_was_imported(project: Project) -> None:
    """Issue 14 item 4: newline, tab, ESC and U+202E survive an accept untouched."""
    s = project.session
    project.show("c")
    assert s.display_draft == safe(HOSTILE) and "\n" not in s.display_draft
    s.edit_draft(s.display_draft)  # the editor reports its (unchanged) text
    first = s.accept()
    assert first.confirm and "U+000A" in first.message and "U+202E" in first.message
    assert s.accept().done  # the second accept is the deliberate one
    project.idle()
    assert project.row("c").gold == HOSTILE and project.row("c").draft == HOSTILE


def test_an_edit_keeps_the_untouched_control_characters(project: Project) -> None:
    s = project.session
    project.show("c")
    s.edit_draft(s.display_draft.replace("第一行", "第1行") + "！")
    assert s.values is not None and s.values.draft == HOSTILE.replace("第一行", "第1行") + "！"
    s.edit_draft(safe(HOSTILE))  # undone in the editor: exactly the stored text again
    assert s.values.draft == HOSTILE


def test_restore_maps_marks_back_and_keeps_what_was_typed() -> None:
    assert restore("a\nb", "a␊b") == "a\nb"
    assert restore("a\nb", "ax␊b") == "ax\nb"
    assert restore("a\nb", "a␊") == "a\n"
    assert restore("ab", "a␊b") == "a␊b"  # a mark typed by the reviewer stays a mark
    assert restore("\u202e", safe("\u202e") + "x") == "\u202ex"


def test_special_tokens_need_a_second_accept_and_the_list_is_configurable(
    tmp_path: Path,
) -> None:
    project = Project(make_project(tmp_path / "p.db"))
    s = project.session
    project.show("d")
    check = s.accept()
    assert check.confirm and not check.done and "<unk>" in check.message
    project.idle()
    assert project.row("d").status == "todo"
    assert s.accept().done
    project.idle()
    assert project.row("d").gold == "有<unk>个"
    project.session.close()
    other = Project(tmp_path / "p.db", special_tokens=("今朝",))
    other.show("a")
    assert other.session.accept().confirm
    other.session.close()


def test_edits_to_an_accepted_utterance_wait_as_a_pending_draft(project: Project) -> None:
    """Issue 8 defect 3: gold (text, labels, translation) changes only by accept."""
    s = project.session
    project.show("a")
    assert s.accept().done
    project.idle()
    project.show("a")
    s.edit_draft(DRAFT + "呀")
    s.set_label("age", "老年")
    s.set_translation("改过")
    s.leave()
    project.idle()
    kept = project.row("a")
    assert (kept.gold, kept.age, kept.translation) == (DRAFT, "中年", "你今天去吗")
    assert kept.status == "accepted" and kept.draft == DRAFT + "呀"
    again = project.show("a")  # shown again: the pending draft, not the gold
    assert s.values == Values(DRAFT + "呀", "改过", {"age": "老年", "gender": None,
                                                     "emotion": None})
    from workbench.session import modified_since_accepted

    assert modified_since_accepted(again, s.values)
    assert s.revert().done  # back to the gold
    project.idle()
    reverted = project.row("a")
    assert (reverted.draft, reverted.pending) == (DRAFT, None)
    project.show("a")
    s.set_label("age", "老年")
    assert s.accept().done  # only now does the gold change
    project.idle()
    assert project.row("a").age == "老年" and project.row("a").pending is None


def test_skip_and_flag_of_gold_need_a_confirmation_and_decisions_undo(project: Project) -> None:
    """Issue 8 defect 4."""
    s = project.session
    project.show("a")
    s.set_label("age", "老年")
    s.accept()
    project.idle()
    project.show("a")
    check = s.set_status("skipped")
    assert check.confirm and not check.done
    project.idle()
    assert project.row("a").status == "accepted"
    assert s.set_status("flagged", "noise", confirmed=True).done
    project.idle()
    assert (project.row("a").status, project.row("a").note) == ("flagged", "noise")
    assert s.undo_decision() is not None  # the flag
    project.idle()
    back = project.row("a")
    assert (back.status, back.gold, back.note, back.age) == ("accepted", DRAFT, None, "老年")
    assert s.undo_decision() is not None  # the accept
    project.idle()
    todo = project.row("a")
    assert (todo.status, todo.gold, todo.draft) == ("todo", None, DRAFT)
    assert todo.age == "老年"  # the label chosen stays as the working value
    assert s.undo_decision() is None


def test_conflict_waits_for_a_decision_and_both_versions_stay_in_the_log(
    project: Project,
) -> None:
    s = project.session
    project.show("a")
    with Store.open(project.path) as bob:  # another reviewer saves first
        bob.save(project.ids["a"], 0, {"draft": "bob的"}, "bob")
    s.edit_draft(DRAFT + "甲")
    s.leave()
    s.wait_idle(10)
    found = [e for e in project.events if isinstance(e, ConflictFound)]
    assert found and found[0].theirs.draft == "bob的"
    s.edit_draft(DRAFT + "甲乙")  # held with the conflict, not written over theirs
    s.leave()
    s.wait_idle(10)
    assert project.row("a").draft == "bob的"
    assert s.show(project.row("a")).draft == DRAFT + "甲乙"  # mine stays on screen meanwhile
    s.resolve(project.ids["a"], "theirs")
    project.idle()
    assert project.row("a").draft == "bob的"
    assert ("draft", "bob的", DRAFT + "甲乙", "alice") in project.log("a", discarded=True)
    assert s.values is not None and s.values.draft == "bob的"


def test_conflict_keep_mine_writes_over_theirs_knowingly(project: Project) -> None:
    s = project.session
    project.show("a")
    with Store.open(project.path) as bob:
        bob.save(project.ids["a"], 0, {"draft": "bob的"}, "bob")
    s.edit_draft("mine")
    assert s.accept().done
    s.wait_idle(10)
    assert project.ids["a"] in s.conflicts
    s.resolve(project.ids["a"], "mine")
    project.idle()
    assert project.row("a").gold == "mine"
    assert {who for *_, who in project.log("a")} == {"alice", "bob"}


def test_a_save_under_another_process_lock_is_kept_and_retried(tmp_path: Path) -> None:
    """Issue 14 item 2 (the lock held by a second connection in another thread)."""
    project = Project(make_project(tmp_path / "p.db"), busy_timeout=0.1, retry_s=0.1)
    s = project.session
    held, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        conn = sqlite3.connect(project.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(30)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    held.wait(10)
    project.show("a")
    s.edit_draft(DRAFT + "锁")
    s.set_label("age", "老年")
    assert s.accept().done
    deadline = time.monotonic() + 10
    while not any(isinstance(e, SaveFailed) for e in project.events):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    failed = next(e for e in project.events if isinstance(e, SaveFailed))
    assert failed.retrying and "locked" in failed.reason
    assert s.in_flight == 1
    assert project.row("a").status == "todo"
    shown = s.show(project.row("a"))  # shown again meanwhile: the values not yet saved
    assert shown.status == "accepted" and s.values is not None
    assert (s.values.draft, s.values.labels["age"]) == (DRAFT + "锁", "老年")
    release.set()
    holder.join()
    project.idle()
    saved = project.row("a")
    assert (saved.gold, saved.age, saved.status) == (DRAFT + "锁", "老年", "accepted")
    assert any(isinstance(e, Saved) for e in project.events)
    s.close()


def test_label_keys_pick_cycle_back_and_take_the_systems(project: Project) -> None:
    s = project.session
    project.show("a")
    assert s.pick_label("age", 1) and s.values is not None
    assert s.values.labels["age"] == "儿童"
    assert s.cycle_label("age", -1) is None
    assert s.cycle_label("age", -1) == "老年"
    assert not s.pick_label("gender", 3)
    assert s.take_system_labels() == ["age", "gender"]  # "不存在" is no emotion label
    assert s.values.labels == {"age": "青年", "gender": "女性", "emotion": None}
    assert s.take_translation() and s.values.translation == "你今天去不去"


def test_differences_from_a_chosen_hypothesis_and_taking_a_span(project: Project) -> None:
    s = project.session
    project.show("a")  # 侬今朝去伐 vs sysA 侬今朝去勿, sysB 侬今早去伐
    assert s.next_difference(-1, 1) == (4, 5, "勿")
    assert s.cycle_compare() is not None and s.compared().system == "sysB"
    assert s.next_difference(0, 1) == (2, 3, "早")
    assert s.next_difference(5, -1) == (2, 3, "早")
    assert s.difference_at(3) == (2, 3, "早")
    assert s.difference_at(0) is None


def test_taking_a_hypothesis_and_editing_the_translation_keep_their_bytes(
    project: Project,
) -> None:
    """Issue 14 item 4 (alt+N and the translation box): the text taken is the text stored."""
    s = project.session
    with Store.open(project.path) as other:
        other.add_hypotheses([HypothesisIn(project.ids["b"], "sysC", "asr", "甲\n乙\x1b")])
        other.save(project.ids["b"], 0, {"translation": "译\t文"}, "importer")
    project.show("b")
    assert s.take(1) == "甲␊乙␛"
    assert s.display_translation == "译␉文"
    s.edit_translation("译␉文！")
    assert s.values is not None and s.values.translation == "译\t文！"
    assert s.accept(confirmed=True).done
    project.idle()
    assert (project.row("b").gold, project.row("b").translation) == ("甲\n乙\x1b", "译\t文！")
