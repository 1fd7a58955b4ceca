"""`wuwb serve` in a real browser: Debian's chromium driven by playwright (executable_path:
playwright's own browser download cannot be used here). `make test` installs both; where
chromium cannot be had (no apt, not root) this skips and says why."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from web_helpers import BROWSER_ARGS, Served, chromium, screen_tap

from db.store import Store

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)
if chromium() is None:
    pytest.skip(
        "no chromium: `sh scripts/system-deps.sh --browser` installs Debian's chromium as root "
        "(or set WUWB_CHROMIUM to a Chromium binary)",
        allow_module_level=True,
    )

TOKEN = "browser-token-0123456789abcdef"
ANNOTATOR = "阿芳"
FIRST, SECOND = "cross_li", "wu_A0002"  # the two todo rows, as the list shows their keys
SYSTEM = "tele-ctc-ft"  # a hypothesis line of the first utterance


@pytest.fixture
def served(demo_project: Path) -> Iterator[Served]:
    server = Served(demo_project, TOKEN)
    yield server
    server.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=BROWSER_ARGS)
        yield launched
        launched.close()


def accepted(project: Path) -> list[tuple[str, str | None, str | None]]:
    # A reader, as a person checking would be: a write transaction here would compete with
    # the app's save for the lock on every poll.
    with Store.open(project, readonly=True) as store:
        return [tuple(r) for r in store.execute(
            "SELECT key, gold, annotator FROM utterances WHERE status = 'accepted' "
            "AND annotator = ?",
            (ANNOTATOR,),
        )]


def test_review_in_chromium_plays_the_clip_and_saves_gold(
    served: Served, browser: Any, demo_project: Path, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    page.add_init_script(screen_tap())
    page.goto(f"{served.base}/?token={TOKEN}&annotator={quote(ANNOTATOR)}")
    for text in (FIRST, SECOND, SYSTEM):  # the list and the hypotheses are drawn
        page.wait_for_function("t => window.wuwbScreen.text.includes(t)", arg=text)
    page.focus(".xterm-helper-textarea")  # where xterm takes the keys

    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => !wuwbPlayer.audio.paused && wuwbPlayer.audio.currentTime > 0.2"
    )
    first_time = page.evaluate("wuwbPlayer.audio.currentTime")
    page.wait_for_function("t => wuwbPlayer.audio.currentTime > t + 0.2", arg=first_time)
    page.wait_for_function("() => wuwbPlayer.peak() > 0")  # sound, not silence, reached it
    assert abs(page.evaluate("wuwbPlayer.audio.duration") - 13.75) < 0.05

    page.keyboard.press("F3")  # 0.9×
    page.keyboard.press("F3")  # 0.75×
    page.wait_for_function("() => wuwbPlayer.audio.playbackRate === 0.75")
    assert page.evaluate("wuwbPlayer.audio.preservesPitch") is True
    assert page.evaluate("wuwbPlayer.audio.paused") is False
    page.screenshot(path=str(tmp_path / "review.png"))  # kept for a human to look at

    page.keyboard.insert_text("侬好伐")  # as an IME commits a composition
    page.wait_for_function("() => window.wuwbScreen.text.includes('侬好伐')")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 20
    while not (rows := accepted(demo_project)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rows == [("cross_lingual_prompt_22k", "侬好伐", ANNOTATOR)]


def test_a_browser_without_the_token_gets_nothing(served: Served, browser: Any) -> None:
    page = browser.new_page()
    response = page.goto(f"{served.base}/")
    assert response is not None and response.status == 403
    assert "token" in page.content()
    assert page.request.get(f"{served.base}/wuwb/player.js").status == 403
