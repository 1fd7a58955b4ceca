"""Talking to the review app as textual-serve does: the web driver's packets on its stdin and
stdout, read by a thread; and starting `wuwb serve` on a free local port."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from textual_serve._binary_encode import load as binary_load

WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # what textual-serve's AppService sets
PREFIX = "wuwb-audio:"


class ProtocolError(AssertionError):
    """The app wrote something on stdout that is not a web-driver packet."""


class WebDriverSession:
    """A `wuwb` command run under the web driver, fed and read like textual-serve does."""

    def __init__(self, argv: Sequence[str], cwd: Path, size: tuple[int, int] = (160, 40)) -> None:
        env = dict(os.environ)
        env.update(
            TEXTUAL_DRIVER=WEB_DRIVER,
            TEXTUAL_COLOR_SYSTEM="truecolor",
            COLUMNS=str(size[0]),
            ROWS=str(size[1]),
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.packets: queue.Queue[tuple[bytes, Any]] = queue.Queue()
        self.first_line = b""
        self.error: Exception | None = None
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        assert out is not None
        try:
            self.first_line = out.readline()
            if self.first_line != b"__GANGLION__\n":
                raise ProtocolError(f"stdout began with {self.first_line!r}")
            while header := out.read(5):
                kind, size = header[:1], int.from_bytes(header[1:], "big")
                payload = out.read(size)
                if kind == b"D":
                    self.packets.put((kind, payload.decode("utf-8")))
                elif kind == b"M":
                    self.packets.put((kind, json.loads(payload)))
                elif kind == b"P":
                    self.packets.put((kind, binary_load(payload)))
                else:
                    raise ProtocolError(f"not a packet: {header!r}")
        except Exception as error:  # handed to the test through `error`
            self.error = error
        finally:
            self.packets.put((b"", None))

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()

    def _send(self, kind: bytes, payload: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(kind + len(payload).to_bytes(4, "big") + payload)
        self.process.stdin.flush()

    def keys(self, text: str) -> None:
        self._send(b"D", text.encode("utf-8"))

    def meta(self, data: dict[str, Any]) -> None:
        self._send(b"M", json.dumps(data).encode("utf-8"))

    def wait_for(self, matches: Callable[[bytes, Any], bool], timeout: float = 30) -> Any:
        """The first packet from now on that `matches`; the others are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                kind, data = self.packets.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no such packet in {timeout} s") from None
            if kind == b"":
                raise AssertionError(
                    f"the app's output ended ({self.error!r}); stderr: {self.stderr[-2000:]!r}"
                )
            if matches(kind, data):
                return data

    def command(self, timeout: float = 30) -> dict[str, Any]:
        """The next player command (or clip delivery, as {"op": "delivered", "key": …})."""

        def player(kind: bytes, data: Any) -> bool:
            if kind != b"M":
                return False
            return data["type"] == "deliver_file_start" or (
                data["type"] == "open_url" and data["url"].startswith(PREFIX)
            )

        data = self.wait_for(player, timeout)
        if data["type"] == "deliver_file_start":
            return {"op": "delivered", "key": data["key"], "mime_type": data["mime_type"]}
        return json.loads(unquote(data["url"][len(PREFIX) :]))

    def fetch(self, key: str) -> bytes:
        """Pull a delivery in chunks, as textual-serve's download manager does."""
        body = b""
        while True:
            self.meta({"type": "deliver_chunk_request", "key": key, "size": 65536})
            chunk = self.wait_for(lambda kind, data: kind == b"P" and data[1] == key)[2]
            if not chunk:
                return body
            body += chunk

    def close(self) -> int:
        if self.process.poll() is None:
            self.meta({"type": "quit"})
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """`wuwb serve PROJECT` on a free port, stopped by close(); its output goes to `log`
    (a pipe nobody reads would fill and stall the server)."""

    def __init__(self, project: Path, token: str, *extra: str) -> None:
        self.port = free_port()
        self.token = token
        self.log = project.parent / f"serve-{self.port}.log"
        self._log = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "workbench.cli", "serve", str(project),
                "--port", str(self.port), "--token", token, *extra,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise AssertionError(f"wuwb serve did not start: {self.output()}") from None
                time.sleep(0.1)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# -- a real browser -----------------------------------------------------------------------

def screen_tap(watch: Sequence[str] = ()) -> str:
    """A script added to the page before its own: it keeps the terminal stream as text
    (textual.js draws on a canvas, so the page has no text to read) in window.wuwbScreen,
    and the time (performance.now) each string in `watch` first arrived."""
    return (
        """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  const screen = (window.wuwbScreen = { text: "", seen: {} });
  const watch = WATCH;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data === "string") return;
        screen.text = (screen.text + decoder.decode(event.data, { stream: true })).slice(-400000);
        for (const needle of watch) {
          if (!(needle in screen.seen) && screen.text.includes(needle)) {
            screen.seen[needle] = performance.now();
          }
        }
      });
    }
  };
})();
""".replace("WATCH", json.dumps(list(watch)))
    )


def chromium() -> str | None:
    """Debian's chromium (scripts/system-deps.sh --browser installs it), or $WUWB_CHROMIUM."""
    import shutil

    return os.environ.get("WUWB_CHROMIUM") or shutil.which("chromium")


BROWSER_ARGS = [
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",  # CI runs as root, where chromium's sandbox refuses to start
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
