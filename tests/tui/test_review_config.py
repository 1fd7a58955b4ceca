"""A config that is wrong or unreadable never stops a review; `wuwb review` fails loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tui_helpers import row, screen_text, settle

from workbench.tui.app import ReviewApp
from workbench.tui.keymap import ACTIONS, RESERVED, load_keymap
from workbench.tui.review_screen import ReviewScreen

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_key_bound_twice_is_reported_and_both_actions_keep_working(tmp_path: Path) -> None:
    path = _config(tmp_path, '[keys]\n"review.skip" = "f5"\n"review.flag" = "f12"\n')
    keymap, problems = load_keymap(path)
    # f5 is audio.replay's default: mapping skip there would silently lose replay.
    assert keymap == {"review.flag": "f12"}
    assert any("'f5' is bound to both" in p and "review.skip" in p for p in problems)
    assert any("'review.skip' keeps its default keys" in p for p in problems)


def test_two_entries_on_one_key_and_a_reserved_key_are_reported(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        '[keys]\n"review.next" = "f11"\n"review.prev" = "f11"\n"review.accept" = "ctrl+q"\n'
        '"audio.replay" = "f12, f5"\n',
    )
    keymap, problems = load_keymap(path)
    assert keymap == {"audio.replay": "f12, f5"}
    assert any("'f11' is bound to both 'review.next' and 'review.prev'" in p for p in problems)
    assert any("'ctrl+q' is bound to both 'quit' and 'review.accept'" in p for p in problems)


def test_the_defaults_bind_no_key_twice() -> None:
    """The rule above relies on it: the defaults are where a clash falls back to."""
    keys = [k.strip() for _, default, *_ in ACTIONS for k in default.split(",")]
    assert len(keys) == len(set(keys))
    others = [k.strip() for i, d, *_ in ACTIONS if i != "app.quit" for k in d.split(",")]
    assert not set(others) & set(RESERVED)  # only the quit binding holds a quit key


def test_unreadable_and_over_long_config_paths_give_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WUWB_CONFIG", "/" + "x" * 5000 + ".toml")
    keymap, problems = load_keymap()
    assert keymap == {} and len(problems) == 1
    assert "cannot read the config" in problems[0] and "using the defaults" in problems[0]
    assert len(problems[0]) < 200  # the path loses its middle

    if os.geteuid() == 0:  # root reads any file: make the folder unreadable another way
        locked = tmp_path / "file-not-dir"
        locked.write_text("")
        path = locked / "config.toml"  # NotADirectory is an OSError too
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        path = folder / "config.toml"
        path.write_text('[keys]\n"review.accept" = "f12"\n')
        folder.chmod(0)
    keymap, problems = load_keymap(path)
    assert keymap == {}
    assert all("using the defaults" in p for p in problems)


def test_an_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _config(tmp_path, '[keys]\n"review.accept" = "f12"\n')

    def denied(self: Path, *args: object, **kwargs: object) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    # A real chmod cannot deny root, who runs the CI: the error Path raises is simulated.
    monkeypatch.setattr(Path, "is_file", denied)
    keymap, problems = load_keymap(path)
    assert keymap == {}
    assert problems == [f"{path}: cannot read the config (Permission denied); using the defaults"]


async def test_config_problems_show_and_the_review_starts_with_the_defaults(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notifications on (run_test turns them off by default): showing one must not crash."""
    config = _config(
        tmp_path, '[keys]\n"audio.toggel" = "f12"\n"review.skip" = "f5"\n"review.flag" = "f12"\n'
    )
    monkeypatch.setenv("WUWB_CONFIG", str(config))
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewScreen)
        text = screen_text(app)
        assert "unknown binding id 'audio.toggel'" in text
        await pilot.press("ctrl+s")  # the default accept key still works
        await settle(app, pilot)
    assert app.return_code in (None, 0)
    assert row(project, "utt_001").status == "accepted"


def _review(project: Path, *before: str) -> subprocess.CompletedProcess[str]:
    """`wuwb review` in a child process on Textual's headless driver (no terminal needed);
    `before` are Python lines run first, to break something on purpose."""
    code = "\n".join([*before, "import sys", "from workbench.cli import main",
                      f"sys.exit(main(['review', {str(project)!r}]))"])
    env = os.environ | {"TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )


def test_review_exits_non_zero_when_the_project_cannot_be_opened(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-project.db"
    bad.write_bytes(b"this is not an SQLite file" * 100)
    done = _review(bad)
    assert done.returncode == 2
    assert f"wuwb review: error: cannot open {bad}" in done.stderr


def test_review_exits_non_zero_after_a_crash(project: Path) -> None:
    done = _review(
        project,
        "from workbench.tui.review_screen import ReviewScreen",
        "def broken(self): raise RuntimeError('synthetic crash')",
        "ReviewScreen.on_detail_ready = broken",
    )
    assert done.returncode != 0
    assert "synthetic crash" in done.stdout + done.stderr


async def test_an_over_long_config_path_starts_the_review_with_the_defaults(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WUWB_CONFIG", "/" + "x" * 5000 + ".toml")  # OSError: name too long
    app = ReviewApp(project, "alice")
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ReviewScreen)
        shown = screen_text(app)  # the toast, wrapped: these two parts stay on one line each
        assert "cannot read the config (File name" in shown and "using the defaults" in shown
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert row(project, "utt_001").status == "accepted"
