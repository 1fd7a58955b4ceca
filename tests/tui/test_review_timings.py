"""Character times in the review screen: the play-from-cursor key, click-to-seek on the
waveform, and the character being played marked in the timed answers and the draft, with a
real clip through PortAudio on ALSA's null device. The helpers that carry times from a
hypothesis to the draft are checked on their own first."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from tui_helpers import screen_text, settle

from db.store import Hypothesis, HypothesisIn, Store
from workbench.tui import app as app_module
from workbench.tui.app import ReviewApp
from workbench.tui.audio import Player
from workbench.tui.char_times import (
    SPOKEN,
    Spoken,
    best_timed,
    draft_times,
    play_from,
    time_at,
)
from workbench.tui.detail import HypothesisLines
from workbench.tui.hypotheses import diff_pieces
from workbench.tui.waveform import Waveform

# utt_001's draft is the Wu clip's transcript; this system's times are made up for the test.
TIMED_TEXT = "最少辰光阿拉是做撒呃喃"
TIMED = tuple(0.3 + 0.25 * k for k in range(len(TIMED_TEXT)))


def hyp(text: str, times: tuple[float, ...] | None, system: str = "s") -> Hypothesis:
    return Hypothesis(system, "asr", text, None, None, "", None, None, None, None, None,
                      times=times)


def test_draft_characters_take_the_times_of_the_characters_they_align_with() -> None:
    source = hyp("侬 好阿拉", (1.0, 2.0, 3.0, 4.0))  # the space has no time
    assert draft_times("侬好阿拉", source) == [1.0, 2.0, 3.0, 4.0]
    assert draft_times("侬 哈阿伐拉", source) == [1.0, None, 2.0, 3.0, None, 4.0]
    assert time_at([1.0, 2.0, 4.0, None], 3) == 4.0  # an insertion plays from before it
    assert time_at([None, None, 5.0], 0) == 5.0
    assert best_timed([hyp("完全不同", (0, 1, 2, 3), "far"), hyp("侬哈拉", (0, 1, 2), "near"),
                       hyp("侬哈拉伐", None, "untimed")], "侬哈拉伐").system == "near"
    assert play_from("侬好阿拉", [source], 0) == 0.5  # 0.5 s before the character
    assert play_from("侬好阿拉", [hyp("侬好阿拉", None)], 0) is None


@pytest.fixture
def timed_project(project: Path) -> Path:
    store = Store.open(project)
    utt_id = store.utterance_id("utt_001")
    assert utt_id is not None
    store.add_hypotheses([HypothesisIn(utt_id, "Timed-CTC", "asr", TIMED_TEXT, times=TIMED)])
    store.close()
    return project


class StartsRecorded(Player):
    """A real player that notes where each playback started (ALSA's null device drains a
    clip faster than real time, so the position is gone by the time a test looks)."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[float] = []

    def _start(self) -> None:
        self.starts.append(self.position)
        super()._start()


async def test_alt_p_plays_from_the_character_under_the_cursor(
        timed_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "Player", StartsRecorded)
    app = ReviewApp(timed_project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        player = app.player
        assert isinstance(player, StartsRecorded) and player.error is None
        assert app.screen.utt.key == "utt_001"
        app.screen.editor.move_cursor((0, 8))  # 撒: the system's 9th character, at 2.3 s
        await pilot.press("alt+p")
        await settle(app, pilot)
        assert player.starts == [pytest.approx(1.8, abs=0.01)]  # 0.5 s before it


async def test_alt_p_without_times_says_so(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("alt+p")
        await settle(app, pilot)
        assert not app.player.playing
        assert "no system gave character times" in screen_text(app)


async def test_clicking_the_waveform_seeks_there(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        wave = app.screen.query_one(Waveform)
        player = app.player
        info = len(wave._info(player.position))
        width = wave.size.width - info
        await pilot.click(Waveform, offset=(width // 2, 0))
        await settle(app, pilot)
        assert not player.playing
        assert player.position == pytest.approx(6.86 * (width // 2) / width, abs=0.01)
        await pilot.click(Waveform, offset=(width + 3, 0))  # the clock beside it: no seek
        await settle(app, pilot)
        assert player.position == pytest.approx(6.86 * (width // 2) / width, abs=0.01)


def test_the_character_spoken_is_the_last_one_started() -> None:
    spoken = Spoken([hyp("侬 好阿拉", (1.0, 2.0, 3.0, 4.0)), hyp("untimed", None, "u")],
                    "侬好阿拉")
    assert spoken.at(0.5) == ({}, None)
    assert spoken.at(2.5) == ({"s": 2}, 1)  # 好: index 2 in "侬 好阿拉", 1 in the draft
    assert spoken.at(9.0) == ({"s": 4}, 3)


def test_the_spoken_character_is_marked_inside_the_diff() -> None:
    text = Text.assemble(*diff_pieces("侬好阿拉", "侬哈阿拉", spoken=1))  # 哈 is being played
    marked = [text.plain[s.start:s.end] for s in text.spans if SPOKEN in str(s.style)]
    assert marked == ["哈"]
    same = Text.assemble(*diff_pieces("侬好", "侬好"))
    assert not [s for s in same.spans if SPOKEN in str(s.style)]


class PlayingAt(Player):
    """A real player whose transport reads as playing at a set second: ALSA's null device
    drains a clip faster than real time, so a test cannot catch a real one mid-clip."""

    at: float | None = None

    @property
    def playing(self) -> bool:
        return self.at is not None or super().playing

    @property
    def position(self) -> float:
        return self.at if self.at is not None else super().position


async def test_while_playing_the_spoken_character_is_marked_in_answer_and_draft(
        timed_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "Player", PlayingAt)
    app = ReviewApp(timed_project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        player = app.player
        assert isinstance(player, PlayingAt)
        screen = app.screen
        player.at = 2.35  # 撒 (the 9th character) started at 2.3 s
        screen._track_spoken()
        await pilot.pause()
        lines = screen.query_one(HypothesisLines)
        assert dict(lines.shown[4]) == {"Timed-CTC": 8}
        assert screen.editor.spoken == (0, 8)  # the draft's 撒 aligns with it
        line = screen.editor.get_line(0)
        assert [line.plain[s.start:s.end] for s in line.spans if SPOKEN in str(s.style)] == ["撒"]
        player.at = None  # stopped: the marks go
        screen._track_spoken()
        await pilot.pause()
        assert dict(lines.shown[4]) == {} and screen.editor.spoken is None
