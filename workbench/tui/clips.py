"""Clips read off the UI's path: a clip that blocks on open never holds the review.

A FIFO or a hung network mount blocks `open()` in the kernel, where no thread can be
interrupted. Each read therefore runs on a daemon thread of its own (one per utterance, never
two), a Textual worker or an executor would be waited for at exit; the review screen shows the
utterance at once and the clip when it comes, or says the audio is unreadable after a timeout.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.tui.audio import Clip, envelope, load_clip

ENVELOPE_POINTS = 2048  # fine enough for any terminal width, small enough to keep per clip
KEPT_CLIPS = 16
TIMEOUT_S = 3.0  # a clip not read by then is shown as unreadable (it may still come)


@dataclass(frozen=True)
class ClipRead:
    """A clip and its envelope, or why there is none."""

    utt_id: int
    clip: Clip | None
    peaks: np.ndarray | None
    note: str


def check_regular(path: Path) -> None:
    """Refuse a FIFO or a device: reading one would block or never end."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"{path} is not a regular file")


def read_clip(utt_id: int, path: Path) -> ClipRead:
    try:
        check_regular(path)
        clip = load_clip(path)
    except Exception as error:  # unreadable or missing audio must not stop the review
        return ClipRead(utt_id, None, None, f"audio unreadable: {error}")
    return ClipRead(utt_id, clip, envelope(clip.samples, ENVELOPE_POINTS), "")


class ClipLoader:
    """Reads clips in the background and keeps the last few; `on_read` is called from the
    reading thread."""

    def __init__(self, on_read: Callable[[ClipRead], None]) -> None:
        self.on_read = on_read
        self._lock = threading.Lock()
        self._kept: dict[int, ClipRead] = {}
        self._reading: set[int] = set()

    def get(self, utt_id: int) -> ClipRead | None:
        with self._lock:
            return self._kept.get(utt_id)

    def reading(self, utt_id: int) -> bool:
        with self._lock:
            return utt_id in self._reading

    def request(self, utt_id: int, path: Path) -> None:
        """Start reading a clip unless it is kept or being read."""
        with self._lock:
            if utt_id in self._kept or utt_id in self._reading:
                return
            self._reading.add(utt_id)
        threading.Thread(
            target=self._read, args=(utt_id, path), name="wuwb-clip", daemon=True
        ).start()

    def _read(self, utt_id: int, path: Path) -> None:
        got = read_clip(utt_id, path)
        with self._lock:
            self._reading.discard(utt_id)
            self._kept[utt_id] = got
            while len(self._kept) > KEPT_CLIPS:
                del self._kept[next(iter(self._kept))]
        self.on_read(got)
