"""Fixtures for `wuwb serve`: the demo project, built by the same commands `wuwb demo` runs."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import pytest

# No reviewer's own keymap leaks into the app processes the tests start.
os.environ["WUWB_CONFIG"] = str(Path(tempfile.gettempdir()) / "wuwb-test-no-such-config.toml")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.cli import main
    from workbench.demo import build

    return build(tmp_path_factory.mktemp("demo"), main)


@pytest.fixture
def demo_project(demo_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo project per test (its clips are absolute paths)."""
    target = tmp_path / "demo.db"
    with sqlite3.connect(demo_template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target
