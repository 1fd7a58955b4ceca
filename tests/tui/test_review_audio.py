"""Playback through a real PortAudio stream on ALSA's null device (set up by conftest)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tui_helpers import DATA, FLOAT, WU, row, screen_text, settle

from workbench.tui.app import ReviewApp
from workbench.tui.audio import Player, envelope, load_clip
from workbench.tui.review_screen import ReviewScreen


class CountingPlayer(Player):
    """Counts the frames PortAudio pulled through the callback."""

    frames = 0

    def _callback(self, outdata: np.ndarray, frames: int, time_: Any, status: Any) -> None:
        self.frames += frames
        super()._callback(outdata, frames, time_, status)


def wait_stopped(player: Player) -> None:
    player.wait_idle()  # the queued command has started playback
    deadline = time.monotonic() + 10
    while (player.playing or player.position < player.duration) and time.monotonic() < deadline:
        time.sleep(0.01)
    player.wait_idle()


def test_float_24k_clip_plays_resampled_to_the_device_rate() -> None:
    clip = load_clip(DATA / FLOAT)
    assert clip.rate == 24000 and clip.samples.dtype == np.float32
    assert abs(clip.duration - 3.48) < 0.01
    player = CountingPlayer()
    try:
        player.load(clip)
        player.wait_idle()
        assert player.error is None, player.error
        assert player.device_rate > 0
        expected = round(clip.duration * player.device_rate)
        assert abs(len(player._buffer) - expected) <= 2
        player.toggle()
        wait_stopped(player)
        assert not player.playing
        assert player.frames >= len(player._buffer)  # every sample went through PortAudio
        assert player.position == pytest.approx(clip.duration)
        player.toggle()  # at the end, play starts over
        wait_stopped(player)
        assert player.frames >= 2 * len(player._buffer)
    finally:
        player.close()


def test_seek_speed_and_replay_keep_the_position_in_clip_time() -> None:
    clip = load_clip(DATA / WU)
    player = Player()
    try:
        player.load(clip)
        player.seek(2.0)
        player.wait_idle()
        assert player.position == pytest.approx(2.0, abs=0.01)
        full = len(player._buffer)
        player.step_speed(1)
        player.wait_idle()
        assert player.speed == 1.25
        assert len(player._buffer) == pytest.approx(full / 1.25, rel=0.01)
        assert player.position == pytest.approx(2.0, abs=0.01)
        player.step_speed(-3)
        player.seek(-10.0)
        player.wait_idle()
        assert player.speed == 0.75 and player.position == 0.0
        player.seek(100.0)
        player.wait_idle()
        assert player.position == pytest.approx(clip.duration)
        player.replay()
        wait_stopped(player)
        assert player.position == pytest.approx(clip.duration)
    finally:
        player.close()


def test_envelope_is_normalised_per_column() -> None:
    samples = np.concatenate([np.zeros(100), np.full(100, 0.5), -np.ones(100)]).astype(np.float32)
    assert envelope(samples, 3).tolist() == [0.0, 0.5, 1.0]
    assert len(envelope(samples[:2], 10)) == 10
    assert len(envelope(np.zeros(0, dtype=np.float32), 5)) == 5


async def test_keys_drive_the_player_from_the_editor(project: Path) -> None:
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        player = app.player
        assert player.error is None
        await pilot.press("f2", "f2")
        await settle(app, pilot)
        assert player.position == pytest.approx(4.0, abs=0.01)
        await pilot.press("f1", "f4")
        await settle(app, pilot)
        assert player.position == pytest.approx(2.0, abs=0.01) and player.speed == 1.25
        assert "1.2×  0:02.0 / 0:06.9" in screen_text(app)
        await pilot.press("f3", "f3", "escape")
        for _ in range(500):
            await settle(app, pilot)
            if player.position >= player.duration and not player.playing:
                break
        assert player.position == pytest.approx(6.86, abs=0.01) and player.speed == 0.9
        assert isinstance(app.screen, ReviewScreen)  # escape played; it closed nothing


async def test_missing_audio_and_missing_portaudio_leave_review_working(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as if libportaudio were absent
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        assert "PortAudio not found: playback off" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert "PortAudio not found: playback off" in screen_text(app)
        await pilot.press("ctrl+pagedown")  # utt_004 has no audio file
        await settle(app, pilot)
        assert "audio unreadable" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert row(project, "utt_004").status == "accepted"
