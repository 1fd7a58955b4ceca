"""`wuwb serve` in Debian's chromium (headless, via playwright): how long the review screen
takes to appear, and how long audio takes to start after a key press.

    .venv/bin/python bench/web_latency.py [--loads 5] [--presses 5]

What is measured, in the browser's own clock (performance.now / event timeStamp):
- "page load → first screen": from the navigation's start to the arrival over the websocket
  of the frame that has both the utterance list (the first todo key) and the hypotheses (a
  system's name); xterm draws it in the next animation frame. Each load is a new session,
  so it includes starting a `wuwb review` process (Python, Textual, opening the project).
- "key press → audio start": from the escape key's keydown event in the page to the
  <audio> element's `playing` event, i.e. the key's trip to the app, the app's play command
  back, and the element starting (the clip was delivered when the utterance was shown).
  The first press of each session is listed apart from the later play/pause presses.

The project is the demo (five real clips), built fresh in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))  # the same server and browser set-up as the test

from web_helpers import BROWSER_ARGS, Served, chromium, screen_tap  # noqa: E402

FIRST_KEY, SYSTEM = "cross_li", "tele-ctc-ft"
TOKEN = "bench-token-0123456789abcdef"

WATCH_KEYS = """() => {
  window.wuwbTimes = { key: [], playing: [] };
  addEventListener("keydown", (e) => { if (e.key === "Escape") wuwbTimes.key.push(e.timeStamp); },
                   true);
  wuwbPlayer.audio.addEventListener("playing", (e) => wuwbTimes.playing.push(e.timeStamp));
}"""


def figures(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.0f} ms, min {min(values):.0f}, "
        f"max {max(values):.0f} (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=5, help="page loads (sessions)")
    parser.add_argument("--presses", type=int, default=5, help="plays per session")
    args = parser.parse_args()
    executable = chromium()
    if executable is None:
        sys.exit("no chromium: run `sh scripts/system-deps.sh --browser` as root")
    from playwright.sync_api import sync_playwright

    from workbench.cli import main as wuwb
    from workbench.demo import build

    loads: list[float] = []
    first_plays: list[float] = []
    plays: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        project = build(Path(folder), wuwb)
        server = Served(project, TOKEN)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
                for _ in range(args.loads):
                    page = browser.new_page(viewport={"width": 1600, "height": 900})
                    page.add_init_script(screen_tap([FIRST_KEY, SYSTEM]))
                    page.goto(f"{server.base}/?token={TOKEN}&annotator=bench")
                    page.wait_for_function(
                        "keys => keys.every(k => k in wuwbScreen.seen)", arg=[FIRST_KEY, SYSTEM]
                    )
                    loads.append(
                        page.evaluate("Math.max(...Object.values(wuwbScreen.seen))")
                    )
                    page.wait_for_function("() => wuwbPlayer.audio.readyState >= 1")
                    page.evaluate(WATCH_KEYS)
                    page.focus(".xterm-helper-textarea")
                    for press in range(args.presses):
                        page.keyboard.press("Escape")  # play
                        page.wait_for_function(f"() => wuwbTimes.playing.length > {press}")
                        key, playing = page.evaluate(
                            f"[wuwbTimes.key[{2 * press}], wuwbTimes.playing[{press}]]"
                        )
                        (first_plays if press == 0 else plays).append(playing - key)
                        page.keyboard.press("Escape")  # pause
                        page.wait_for_function("() => wuwbPlayer.audio.paused")
                    page.close()
                browser.close()
        finally:
            server.close()
    print(f"chromium {executable}; {args.loads} sessions on the demo project")
    print(f"page load → first screen:            {figures(loads)}")
    print(f"key press → audio start, first play: {figures(first_plays)}")
    print(f"key press → audio start, later:      {figures(plays)}")


if __name__ == "__main__":
    main()
