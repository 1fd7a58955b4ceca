"""A project file nobody may write opens for review read-only, with a banner (issue 13.3)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_helpers import build_project, screen_text, settle

from workbench.tui.app import ReviewApp


@pytest.fixture(params=["file", "file and folder"])
def read_only(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A project nobody may write (for root too: the immutable attribute), the file alone or
    its folder too (then SQLite cannot make the WAL index beside it)."""
    folder = tmp_path / "projects"
    folder.mkdir()
    project = build_project(folder / "p.db")
    paths = [project, folder] if request.param == "file and folder" else [project]
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    locked: list[Path] = []
    try:
        if os.geteuid() == 0:
            for path in paths:
                if subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
                    pytest.skip("running as root without chattr: nothing can be read-only")
                locked.append(path)
        yield project
    finally:
        for path in reversed(locked):
            subprocess.run(["chattr", "-i", str(path)], check=True)
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)


async def test_a_read_only_project_opens_with_saves_off(read_only: Path) -> None:
    before = hashlib.sha256(read_only.read_bytes()).hexdigest()
    app = ReviewApp(read_only, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        assert app.store is not None and app.store.readonly
        text = screen_text(app)
        assert "read-only: saves are off" in text
        assert "utt_001" in text  # the project is shown and can be read
        await pilot.press("x", "ctrl+s")
        await settle(app, pilot)
        assert "opened read-only" in screen_text(app)  # the refused save says why
    assert hashlib.sha256(read_only.read_bytes()).hexdigest() == before
