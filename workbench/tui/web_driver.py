"""Two adjustments to Textual's WebDriver for sessions of `wuwb serve` (private attributes:
tests/web/test_textual_serve_api.py is their canary)."""

from __future__ import annotations

import threading
from typing import Any

from textual.app import App

# How often the driver's input thread wakes to let a lone escape byte through as the escape
# key. Textual waits ESCDELAY for the rest of a sequence, but only notices on a wake, every
# 100 ms by default: escape (play/pause) then reached the app ~105 ms after the key.
INPUT_POLL_S = 0.02


def adjust_web_driver(app: App[Any]) -> None:
    driver: Any = app._driver
    _lock_writes(driver)
    reader = getattr(driver, "_input_reader", None)
    if reader is not None and hasattr(reader, "timeout"):
        reader.timeout = INPUT_POLL_S


def _lock_writes(driver: Any) -> None:
    """Make the driver's packets on its protocol pipe whole.

    WebDriver writes frames from the UI thread and file chunks from its input thread, each
    packet with one unlocked os.write; two packets larger than the pipe's atomic size can
    interleave and break the session. Clips make such deliveries frequent.
    """
    write = getattr(driver, "_write", None)
    if write is None or getattr(write, "wuwb_locked", False):
        return
    lock = threading.Lock()

    def locked(data: bytes) -> int:
        with lock:
            return int(write(data))

    locked.wuwb_locked = True  # type: ignore[attr-defined]
    driver._write = locked
