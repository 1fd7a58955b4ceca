"""Packets written from two threads reach the protocol pipe whole once the writes are locked
(Textual's WebDriver writes frames and file chunks from different threads)."""

from __future__ import annotations

import os
import threading
import time
from functools import partial
from types import SimpleNamespace

from workbench.tui.web_driver import _lock_writes

PACKET = 200_000  # well over the pipe's capacity, as a clip chunk plus a frame can be


def interleaved_packets(locked: bool) -> int:
    """Two threads each write 10 packets of one repeated byte; count the mixed ones read."""
    read_fd, write_fd = os.pipe()
    driver = SimpleNamespace(_write=partial(os.write, write_fd))
    if locked:
        _lock_writes(driver)

    def writer(byte: bytes) -> None:
        for _ in range(10):
            driver._write(byte * PACKET)

    threads = [threading.Thread(target=writer, args=(b,)) for b in (b"a", b"b")]
    for thread in threads:
        thread.start()
    data = bytearray()
    while len(data) < 20 * PACKET:
        data += os.read(read_fd, 65536)
        time.sleep(0.0005)  # a reader slower than the writers keeps the pipe full
    for thread in threads:
        thread.join()
    os.close(read_fd)
    os.close(write_fd)
    packets = [bytes(data[i : i + PACKET]) for i in range(0, len(data), PACKET)]
    return sum(1 for p in packets if p.strip(p[:1]))


def test_locked_writes_never_interleave() -> None:
    assert interleaved_packets(locked=True) == 0
