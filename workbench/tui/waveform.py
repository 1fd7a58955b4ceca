"""The waveform strip: amplitude envelope, playhead, speed, time and player state."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import events
from textual.timer import Timer
from textual.widget import Widget

from workbench.tui.audio import envelope
from workbench.tui.text import safe
from workbench.tui.web_audio import AnyPlayer

BLOCKS = " ▁▂▃▄▅▆▇█"


def clock(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


class Waveform(Widget):
    """One line of envelope with the playhead, and the transport state beside it."""

    DEFAULT_CSS = """
    Waveform { height: 1; }
    """

    def __init__(self, player: AnyPlayer, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.player = player
        self._peaks = np.zeros(0, dtype=np.float32)  # fine-grained envelope from the loader
        self._note = "no clip"
        self._duration = 0.0  # of the clip shown (the player loads it on its own thread)
        self._timer: Timer | None = None

    def show(self, peaks: np.ndarray | None, note: str = "", duration: float = 0.0) -> None:
        """Show a clip's envelope and length (None: no audio, with `note` saying why)."""
        self._peaks = peaks if peaks is not None else np.zeros(0, dtype=np.float32)
        self._note = note
        self._duration = duration
        self.refresh()

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / 15, self.refresh, pause=True)

    def sync(self) -> None:
        """Start or stop the playhead animation to match the player (call after it changes)."""
        if self._timer is None:
            return
        if self.player.playing:
            self._timer.resume()
        else:
            self._timer.pause()
        self.refresh()

    def _info(self, position: float) -> str:
        state = "▶ playing" if self.player.playing else "⏸ paused"
        return f"  {self.player.speed:.2g}×  {clock(position)} / {clock(self._duration)}  {state}"

    def on_click(self, event: events.Click) -> None:
        """A click on the envelope seeks there (the playhead lands on the clicked column)."""
        duration = self._duration
        if not len(self._peaks) or not duration or self.player.duration != duration:
            return  # no clip, or the player is still loading this one
        position = self.player.position
        width = max(self.size.width - len(self._info(position)), 4)
        if 0 <= event.x < width:
            self.player.seek(duration * event.x / width - position)

    def render(self) -> Text:
        player = self.player
        duration = self._duration
        # Until the player has loaded this clip, its position is the last clip's.
        position = player.position if player.duration == duration else 0.0
        info = self._info(position)
        width = max(self.size.width - len(info), 4)
        text = Text(no_wrap=True, overflow="crop")
        if not len(self._peaks):
            text.append(safe(self._note)[:width].ljust(width), style="dim")
            text.append(info, style="dim")
            return text
        bars = envelope(self._peaks, width)
        levels = np.minimum((bars * (len(BLOCKS) - 1)).round().astype(int), len(BLOCKS) - 1)
        head = int(width * position / duration) if duration else 0
        for column, level in enumerate(levels):
            if column == head:
                text.append("│", style="bold yellow")
            else:
                text.append(BLOCKS[level], style="green" if column < head else "blue")
        text.append(info)
        return text
