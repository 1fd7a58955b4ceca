"""The review app under Textual's web driver, driven through its stdin/stdout packets exactly
as textual-serve drives it (no browser): what the page's player.js receives, and that stdout
carries nothing but the protocol."""

from __future__ import annotations

import io
from pathlib import Path

import soundfile
from web_helpers import WebDriverSession

CTRL_DOWN, CTRL_UP, ESCAPE = "\x1b[1;5B", "\x1b[1;5A", "\x1b"


def until(session: WebDriverSession, op: str) -> dict[str, object]:
    while (command := session.command())["op"] != op:
        pass
    return command


def first_clip_command(session: WebDriverSession) -> dict[str, object]:
    """The first command about a clip: an utterance shows before its clip is read (the
    review screen reads clips on their own threads), so the page may first hear "unload"."""
    command = session.command()
    while command["op"] == "unload":
        command = session.command()
    return command


def test_demo_opens_the_review_screen_under_the_web_driver(tmp_path: Path) -> None:
    """`wuwb demo` served to a browser: the review screen, not the report, and the name
    prompt first (no annotator given: the server's login must not be taken silently)."""
    session = WebDriverSession(["demo", "--dir", str(tmp_path)], cwd=tmp_path)
    try:
        # The demo's import summaries must not reach stdout before the protocol starts.
        session.wait_for(lambda kind, data: kind == b"D" and "Your name" in data)
        assert session.first_line == b"__GANGLION__\n"
        session.keys("阿芳\r")
        assert first_clip_command(session)["op"] == "expect"  # the first utterance's clip
    finally:
        assert session.close() == 0
    assert session.error is None, session.error


def test_each_clip_is_sent_once_as_wav_then_only_commands(demo_project: Path) -> None:
    session = WebDriverSession(
        ["review", str(demo_project), "--annotator", "tester"], cwd=demo_project.parent
    )
    try:
        assert first_clip_command(session)["op"] == "expect"
        delivered = session.command()
        assert delivered["op"] == "delivered" and delivered["mime_type"] == "audio/wav"
        load = session.command()
        assert load == {"op": "load", "key": delivered["key"], "rate": 1.0}
        wav = session.fetch(delivered["key"])
        info = soundfile.info(io.BytesIO(wav))
        assert info.format == "WAV" and info.subtype == "PCM_16"
        assert abs(info.duration - 13.75) < 0.05  # cross_lingual_prompt_22k, first in key order

        session.keys(ESCAPE)
        assert session.command() == {"op": "play", "at": 0.0, "rate": 1.0}
        session.keys(ESCAPE)
        pause = session.command()
        assert pause["op"] == "pause" and 0.0 <= pause["at"] < 13.75
        session.keys("\x1bOS")  # f4: faster
        assert session.command() == {"op": "rate", "rate": 1.25}

        session.keys(CTRL_DOWN)
        assert first_clip_command(session)["op"] == "expect"
        second = session.command()
        assert second["op"] == "delivered" and second["key"] != delivered["key"]
        assert session.command() == {"op": "load", "key": second["key"], "rate": 1.25}
        session.keys(CTRL_UP)  # back to the first clip: the page has it already
        assert first_clip_command(session) == {"op": "load", "key": delivered["key"], "rate": 1.25}
    finally:
        assert session.close() == 0
    assert session.error is None, session.error


def test_the_clock_ends_playback_at_the_end_of_the_clip(demo_project: Path) -> None:
    """No word comes back from the page: the app's clock stops the playhead at the end, and
    the next play starts from the beginning."""
    session = WebDriverSession(
        ["review", str(demo_project), "--annotator", "tester"], cwd=demo_project.parent
    )
    try:
        until(session, "load")
        session.keys(CTRL_DOWN)  # the 6.86 s clip
        until(session, "load")
        session.keys(ESCAPE)
        assert session.command() == {"op": "play", "at": 0.0, "rate": 1.0}
        for _ in range(3):
            session.keys("\x1bOQ")  # f2: 2 s on
            assert session.command()["op"] == "seek"
        session.wait_for(lambda kind, data: kind == b"D" and "▶ playing" in data)
        session.wait_for(lambda kind, data: kind == b"D" and "⏸ paused" in data, timeout=5)
        session.keys(ESCAPE)
        assert session.command() == {"op": "play", "at": 0.0, "rate": 1.0}
    finally:
        assert session.close() == 0
    assert session.error is None, session.error
