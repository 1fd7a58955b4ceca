"""Clip loading, the amplitude envelope, and playback through PortAudio (sounddevice).

The player runs every PortAudio call on its own command thread, so the UI thread never waits
on the audio device. Samples reach the device from a callback stream reading a buffer already
time-stretched to the chosen speed (stretch.py: the pitch stays, Wu is tonal) and resampled
(soxr) to the device's rate. Playback resumed after a pause starts `rewind_s` earlier, and
with `autoplay` each clip plays as soon as it is loaded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
import soxr

from workbench.tui.stretch import Stretch, stretch_note, stretcher

SPEEDS: tuple[float, ...] = (0.5, 0.6, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0)


@dataclass(frozen=True)
class Clip:
    """Mono float32 samples and their rate."""

    samples: np.ndarray
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


def load_clip(path: str | Path) -> Clip:
    """Read any format libsndfile knows (PCM or float WAV, FLAC...), mixed down to mono."""
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return Clip(np.ascontiguousarray(data.mean(axis=1), dtype=np.float32), int(rate))


def envelope(samples: np.ndarray, columns: int) -> np.ndarray:
    """Peak amplitude per column, scaled so the loudest column is 1.0."""
    if columns <= 0 or len(samples) == 0:
        return np.zeros(max(columns, 0), dtype=np.float32)
    starts = np.linspace(0, len(samples), columns, endpoint=False).astype(np.int64)
    peaks = np.maximum.reduceat(np.abs(samples), starts).astype(np.float32)
    top = float(peaks.max())
    return peaks / top if top > 0 else peaks


def wait_for_queue(commands: queue.Queue[Any], timeout: float = 5.0) -> None:
    """Block until every command queued so far on a player's thread has run."""
    done = threading.Event()
    commands.put(done.set)
    done.wait(timeout=timeout)


class Player:
    """One clip at a time, played, paused, sought and sped up from any thread without blocking.

    `error` holds why playback is off (no PortAudio library, no output device) or None;
    `stretch_note` says which time-stretch changes the speed (Rubber Band, or the built-in
    WSOLA when pedalboard is not installed).
    `on_change` is called from the audio threads whenever playing starts or stops, and after
    a clip is loaded, a seek or a change of speed.
    """

    def __init__(self, on_change: Callable[[], object] | None = None) -> None:
        self.error: str | None = None
        self.device_name = ""
        self.device_rate = 0
        self.speed = 1.0
        self.rewind_s = 1.0  # heard again when playback resumes after a pause
        self.autoplay = False  # play each clip as soon as it is loaded
        self.on_change = on_change
        self.stretch_note = stretch_note()
        self._stretch: Stretch | None = None  # chosen on the audio thread when first needed
        self._paused_at: int | None = None  # where a pause left the buffer, to resume from
        self._clip: Clip | None = None
        self._buffer = np.zeros(0, dtype=np.float32)
        self._pos = 0  # next frame of _buffer to play
        self._lock = threading.Lock()
        self._stream: Any = None
        self._sd: Any = None
        self._playing = False
        self._commands: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="wuwb-audio", daemon=True)
        self._thread.start()
        self._commands.put(self._open_device)

    # -- state, readable from any thread --------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def duration(self) -> float:
        return self._clip.duration if self._clip else 0.0

    @property
    def position(self) -> float:
        """Where playback is, in seconds of the clip (not of the sped-up buffer)."""
        with self._lock:
            size = len(self._buffer)
            if not size:
                return 0.0
            return self.duration if self._pos >= size else self.duration * self._pos / size

    # -- commands, queued to the audio thread -----------------------------------------------
    def load(self, clip: Clip | None) -> None:
        self._commands.put(lambda: self._load(clip))

    def toggle(self) -> None:
        self._commands.put(self._toggle)

    def replay(self) -> None:
        self._commands.put(self._replay)

    def seek(self, seconds: float) -> None:
        self._commands.put(lambda: self._seek_by(seconds))

    def step_speed(self, steps: int) -> None:
        self._commands.put(lambda: self._step_speed(steps))

    def close(self) -> None:
        self._commands.put(self._stop)
        self._commands.put(None)
        self._thread.join(timeout=2)

    def wait_idle(self) -> None:
        """Block until every queued command ran (tests and the benchmark use it)."""
        wait_for_queue(self._commands)

    # -- the audio thread -------------------------------------------------------------------
    def _run(self) -> None:
        while (command := self._commands.get()) is not None:
            try:
                command()
            except Exception as error:  # a device that vanished must not kill the thread
                self.error = f"audio error: {error}"
                self._playing = False
                self._notify()

    def _notify(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _open_device(self) -> None:
        try:
            import sounddevice
        except (OSError, ImportError):  # sounddevice raises OSError without libportaudio
            self.error = "PortAudio not found: playback off"
        else:
            try:
                device = sounddevice.query_devices(kind="output")
            except Exception:
                self.error = "no audio device: playback off"
            else:
                self._sd = sounddevice
                self.device_name = str(device["name"])
                self.device_rate = int(device["default_samplerate"])
        self._notify()

    def _load(self, clip: Clip | None) -> None:
        self._stop()
        self._clip = clip
        self._paused_at = None
        self._resample(0.0)
        self._notify()
        if self.autoplay:
            self._start()

    def _resample(self, fraction: float) -> None:
        """Refill the buffer for the current speed and put the play position at `fraction`."""
        clip = self._clip
        if clip is None or not len(clip.samples):
            buffer = np.zeros(0, dtype=np.float32)
        else:
            samples = clip.samples
            if self.speed != 1.0:
                if self._stretch is None:
                    self._stretch, self.stretch_note = stretcher()
                samples = self._stretch(samples, clip.rate, self.speed)
            rate_out = self.device_rate or clip.rate
            buffer = (
                samples
                if clip.rate == rate_out
                else soxr.resample(samples, clip.rate, rate_out).astype(np.float32)
            )
        with self._lock:
            self._buffer = buffer
            self._pos = min(int(fraction * len(buffer)), len(buffer))

    def _toggle(self) -> None:
        if self._playing:
            self._stop()
            self._paused_at = self._pos
        else:
            if self._pos >= len(self._buffer):
                self._seek_to(0.0)
            elif self._paused_at is not None and self._paused_at == self._pos:
                self._seek_to(self.position - self.rewind_s)  # not after a seek: that is exact
            self._paused_at = None
            self._start()

    def _start(self) -> None:
        if self._sd is None or self._playing or not len(self._buffer):
            return
        self._stop()
        self._stream = self._sd.OutputStream(
            samplerate=self.device_rate,
            channels=1,
            dtype="float32",
            callback=self._callback,
            finished_callback=self._finished,
        )
        self._playing = True
        self._stream.start()
        self._notify()

    def _stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()
        if self._playing:
            self._playing = False
            self._notify()

    def _seek_to(self, seconds: float) -> None:
        duration = self.duration
        fraction = min(max(seconds / duration, 0.0), 1.0) if duration else 0.0
        with self._lock:
            self._pos = int(fraction * len(self._buffer))

    def _replay(self) -> None:
        self._seek_to(0.0)
        self._start()

    def _seek_by(self, seconds: float) -> None:
        self._seek_to(self.position + seconds)
        self._notify()

    def _step_speed(self, steps: int) -> None:
        self._set_speed(steps)
        self._notify()

    def _set_speed(self, steps: int) -> None:
        index = SPEEDS.index(self.speed) + steps
        speed = SPEEDS[min(max(index, 0), len(SPEEDS) - 1)]
        if speed == self.speed:
            return
        with self._lock:
            fraction = self._pos / len(self._buffer) if len(self._buffer) else 0.0
        self.speed = speed
        self._resample(fraction)

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        with self._lock:
            chunk = self._buffer[self._pos : self._pos + frames]
            self._pos += len(chunk)
        outdata[: len(chunk), 0] = chunk
        if len(chunk) < frames:
            outdata[len(chunk) :, 0] = 0.0
            raise self._sd.CallbackStop

    def _finished(self) -> None:
        # PortAudio's own thread: it ends a stream that ran out; the stop/close happens on ours.
        if self._playing:
            self._commands.put(self._stop)
