"""A project file nobody may write opens for review read-only, with a banner (issue 13.3)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import screen_text, settle

from workbench.tui.app import ReviewApp


@pytest.fixture
def read_only(project: Path) -> Iterator[Path]:
    project.chmod(0o444)
    immutable = os.geteuid() == 0  # root writes past modes: the immutable attribute stops it
    if immutable and subprocess.run(["chattr", "+i", str(project)]).returncode != 0:
        pytest.skip("running as root without chattr: the file cannot be made read-only")
    try:
        yield project
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(project)], check=True)


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
