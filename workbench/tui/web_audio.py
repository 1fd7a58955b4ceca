"""Playback in the annotator's browser when the app runs under `wuwb serve`.

`WebPlayer` has the terminal Player's interface. Each clip goes to the page once, as a
16-bit WAV through `App.deliver_binary`; after that only commands go, as `wuwb-audio:` URLs
through `App.open_url`, to workbench/web/player.js, which plays them with an `<audio>` element
(its playbackRate keeps the pitch). The playhead shown in the waveform is estimated from the
clock (start position + elapsed time × speed), not read back from the browser: textual-serve
has no channel from the page to the app other than keys.
"""

from __future__ import annotations

import io
import json
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import soundfile
from textual.app import App

from workbench.tui.audio import SPEEDS, Clip, Player, wait_for_queue

PREFIX = "wuwb-audio:"  # player.js takes window.open calls with this prefix as commands
KEPT_CLIPS = 16  # clips the page still holds (it keeps 32), so they are not sent again


def encode_wav(clip: Clip) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, clip.samples, clip.rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


class WebPlayer:
    """One clip at a time in the browser; every method returns at once.

    Commands are sent in order from one thread (the WAV encoding of a long clip must not
    hold up the UI thread); `on_change` is called from that thread after each one, and when
    the clock says playback reached the end.
    """

    def __init__(self, app: App[Any], on_change: Callable[[], None] | None = None) -> None:
        self.error: str | None = None
        self.device_name = "browser"
        self.device_rate = 0
        self.speed = 1.0
        self.rewind_s = 1.0  # heard again when playback resumes after a pause
        self.autoplay = False  # play each clip as soon as it is loaded
        self.stretch_note = "speed changed by the browser (pitch kept)"
        self.on_change = on_change
        self._app = app
        self._paused = False  # paused by toggle (not stopped by a seek or a new clip)
        self._clip: Clip | None = None
        self._playing = False
        self._at = 0.0  # clip seconds at `_since`
        self._since = 0.0  # monotonic time of the last start, seek or speed change
        self._lock = threading.Lock()
        self._sent: OrderedDict[int, tuple[Clip, str]] = OrderedDict()  # id(clip) -> key
        self._commands: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="wuwb-web-audio", daemon=True)
        self._thread.start()

    # -- state, readable from any thread --------------------------------------------------
    @property
    def playing(self) -> bool:
        with self._lock:
            return self._playing and self._position() < self.duration

    @property
    def duration(self) -> float:
        clip = self._clip
        return clip.duration if clip else 0.0

    @property
    def position(self) -> float:
        with self._lock:
            return self._position()

    def _position(self) -> float:
        if not self._playing:
            return self._at
        return min(self._at + (time.monotonic() - self._since) * self.speed, self.duration)

    # -- commands ---------------------------------------------------------------------------
    def load(self, clip: Clip | None) -> None:
        with self._lock:
            self._clip, self._playing, self._at = clip, False, 0.0
            self._paused = False
            self._commands.put(lambda: self._send_clip(clip))
            if clip is not None and self.autoplay:
                self._start()

    def toggle(self) -> None:
        with self._lock:
            if self._clip is None:
                return
            if self._playing and self._position() < self.duration:
                self._at, self._playing = self._position(), False
                self._paused = True
                self._queue({"op": "pause", "at": self._at})
            else:
                if self._position() >= self.duration:
                    self._at = 0.0
                elif self._paused:  # resuming: hear the last moment again
                    self._at = max(self._at - self.rewind_s, 0.0)
                self._start()

    def replay(self) -> None:
        with self._lock:
            if self._clip is not None:
                self._at = 0.0
                self._start()

    def seek(self, seconds: float) -> None:
        with self._lock:
            self._at = min(max(self._position() + seconds, 0.0), self.duration)
            self._since = time.monotonic()
            self._paused = False
            self._queue({"op": "seek", "at": self._at})

    def step_speed(self, steps: int) -> None:
        with self._lock:
            index = min(max(SPEEDS.index(self.speed) + steps, 0), len(SPEEDS) - 1)
            self._at, self._since = self._position(), time.monotonic()
            self.speed = SPEEDS[index]
            self._queue({"op": "rate", "rate": self.speed})

    def close(self) -> None:
        self._commands.put(None)
        self._thread.join(timeout=2)

    def wait_idle(self) -> None:
        wait_for_queue(self._commands)

    # -- under the lock ---------------------------------------------------------------------
    def _start(self) -> None:
        self._playing, self._since, self._paused = True, time.monotonic(), False
        self._queue({"op": "play", "at": self._at, "rate": self.speed})

    def _queue(self, command: dict[str, Any]) -> None:
        self._commands.put(lambda: self._send(command))

    # -- the sending thread -----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                left = self.duration - self._position() if self._playing else None
            try:
                command = self._commands.get(
                    timeout=None if left is None else max(left / self.speed, 0.0) + 0.01
                )
            except queue.Empty:  # the clock says the clip has ended
                with self._lock:
                    if self._playing and self._position() >= self.duration:
                        self._at, self._playing = self.duration, False
                self._notify()
                continue
            if command is None:
                return
            try:
                command()
            except Exception as error:  # a closed session must not kill the thread
                self.error = f"audio error: {error}"
            self._notify()

    def _notify(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _send(self, command: dict[str, Any]) -> None:
        self._app.open_url(PREFIX + quote(json.dumps(command)), new_tab=False)

    def _send_clip(self, clip: Clip | None) -> None:
        if clip is None or not len(clip.samples):
            self._send({"op": "unload"})
            return
        sent = self._sent.pop(id(clip), None)
        if sent is None:
            self._send({"op": "expect"})
            key = self._app.deliver_binary(
                io.BytesIO(encode_wav(clip)),
                save_filename="clip.wav",
                open_method="browser",
                mime_type="audio/wav",
                name="wuwb-clip",
            )
            if key is None:
                raise RuntimeError("the app has no driver to deliver the clip")
            sent = (clip, key)
        self._sent[id(clip)] = sent  # the clip is held, so its id is not reused meanwhile
        while len(self._sent) > KEPT_CLIPS:
            self._sent.popitem(last=False)
        self._send({"op": "load", "key": sent[1], "rate": self.speed})


# What the review screen plays through: the terminal's PortAudio player or the browser's.
AnyPlayer = Player | WebPlayer
