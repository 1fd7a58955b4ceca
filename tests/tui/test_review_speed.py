"""Slow-down keeps the pitch (Wu is tonal); resume rewinds; autoplay; their config.

The tones are synthetic; the speech is the real demo clip; playback goes through real
PortAudio on ALSA's null device (conftest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tui_helpers import DATA, WU, settle

from workbench.tui.app import ReviewApp
from workbench.tui.audio import Clip, Player, load_clip
from workbench.tui.config import AudioSettings, audio_settings
from workbench.tui.stretch import BUILT_IN, Stretch, _rubber_band, wsola

RATE = 16000
TONE_HZ = 220.0


def tone(seconds: float = 2.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    """The FFT peak's frequency (0.5 Hz bins for a 2 s signal, finer for longer ones)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


STRETCHES: list[Stretch] = [wsola, _rubber_band]


@pytest.mark.parametrize("stretch", STRETCHES, ids=["wsola", "rubber-band"])
@pytest.mark.parametrize("speed", [0.5, 0.75, 0.9, 1.5])
def test_stretch_changes_the_length_not_the_pitch(stretch: Stretch, speed: float) -> None:
    if stretch is _rubber_band:
        pytest.importorskip("pedalboard")
    x = tone()
    y = stretch(x, RATE, speed)
    assert abs(len(y) - len(x) / speed) <= 1
    assert dominant_hz(y, RATE) == pytest.approx(TONE_HZ, abs=1.0)  # resampling: 220 * speed
    middle = y[len(y) // 4 : 3 * len(y) // 4]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


@pytest.mark.parametrize("stretch", STRETCHES, ids=["wsola", "rubber-band"])
def test_the_real_clip_slowed_down_lasts_duration_over_rate(stretch: Stretch) -> None:
    if stretch is _rubber_band:
        pytest.importorskip("pedalboard")
    clip = load_clip(DATA / WU)
    y = stretch(clip.samples, clip.rate, 0.75)
    assert abs(len(y) / clip.rate - clip.duration / 0.75) < 1 / clip.rate + 1e-9
    loud = np.sqrt(np.mean(clip.samples**2))
    assert np.sqrt(np.mean(y**2)) == pytest.approx(loud, rel=0.3)  # speech, not silence


class StartsPlayer(Player):
    """Remembers where in its buffer each start of playback began."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        super().__init__()

    def _start(self) -> None:
        if not self._playing:
            self.starts.append(self._pos)
        super()._start()


def test_the_player_slows_a_tone_down_at_its_pitch() -> None:
    player = Player()
    try:
        player.load(Clip(tone(), RATE))
        player.step_speed(-4)  # 1.0 → 0.5
        player.wait_idle()
        assert player.error is None, player.error
        assert player.speed == 0.5
        rate = player.device_rate
        assert abs(len(player._buffer) - 2.0 / 0.5 * rate) <= 2
        assert dominant_hz(player._buffer, rate) == pytest.approx(TONE_HZ, abs=1.0)
    finally:
        player.close()


def _at(player: Player, seconds: float) -> int:
    """The buffer index the player puts `seconds` of the clip at (as `_seek_to` does)."""
    fraction = min(max(seconds / player.duration, 0.0), 1.0)
    return int(fraction * len(player._buffer))


class HeldPlayer(StartsPlayer):
    """Its stream runs but plays silence without moving on: ALSA's null device pulls a clip
    through faster than real time, so a pause would otherwise land anywhere."""

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        outdata[:] = 0.0


def test_resuming_after_a_pause_rewinds_but_not_after_a_seek() -> None:
    player = HeldPlayer()
    try:
        player.rewind_s = 1.0
        player.load(load_clip(DATA / WU))
        player.seek(3.0)
        player.toggle()  # play from 3.0 exactly: a seek is never rewound
        player.toggle()  # pause at 3.0
        player.toggle()  # resume: one second earlier
        player.toggle()
        player.seek(0.5)  # paused, then moved: resumes exactly where it was put
        player.toggle()
        player.wait_idle()
        assert player.error is None, player.error
        assert player.starts[:2] == [_at(player, 3.0), _at(player, 2.0)]
        resumed = player.duration * player.starts[1] / len(player._buffer)
        assert player.starts[2] == _at(player, resumed + 0.5)
    finally:
        player.close()


def test_autoplay_plays_each_clip_when_it_arrives() -> None:
    player = StartsPlayer()
    try:
        player.load(load_clip(DATA / WU))
        player.wait_idle()
        assert player.starts == []
        player.autoplay = True
        player.load(load_clip(DATA / WU))
        player.wait_idle()
        assert player.starts == [0]  # (ALSA null may have played it through already)
    finally:
        player.close()


def test_audio_settings_are_read_and_checked() -> None:
    assert audio_settings({}, "c") == (AudioSettings(1.0, False), [])
    settings, problems = audio_settings({"audio": {"rewind": 0.5, "autoplay": True}}, "c")
    assert settings == AudioSettings(0.5, True) and problems == []
    settings, problems = audio_settings({"audio": {"rewind": "x", "autoplay": 1, "b": 2}}, "c")
    assert settings == AudioSettings()
    assert len(problems) == 3 and any("'b'" in p for p in problems)


async def test_the_config_reaches_the_player_and_speed_says_how_it_stretches(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[audio]\nrewind = 2.5\nautoplay = true\n")
    monkeypatch.setenv("WUWB_CONFIG", str(config))
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        assert (app.player.rewind_s, app.player.autoplay) == (2.5, True)
        assert app.player.position > 0  # the first utterance played on arrival
        await pilot.press("f3")
        await settle(app, pilot)
        assert "pitch kept" in app.screen.query_one("#status").render().plain  # type: ignore[attr-defined]


def test_without_pedalboard_the_built_in_stretch_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from workbench.tui import stretch

    monkeypatch.setitem(sys.modules, "pedalboard", None)  # as if it were not installed
    chosen, note = stretch.stretcher()
    assert chosen is wsola and note == BUILT_IN
