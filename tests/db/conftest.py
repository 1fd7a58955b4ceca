"""Fixtures for the store tests: real project files in tmp_path, real clips, JSONL writers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from db_helpers import AUDIO

from db.importers import ImportConfig, Summary, import_file
from db.jsonl import BadLine
from db.row_formats import Options
from db.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterable[Store]:
    s = Store.open(tmp_path / "project.db")
    yield s
    s.close()


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    """A copy of the test clips, so tests may break or delete files freely."""
    target = tmp_path / "audio"
    shutil.copytree(AUDIO, target)
    return target


ImportFn = Callable[..., tuple[Summary, list[str]]]


@pytest.fixture
def do_import(store: Store) -> ImportFn:
    """Import a file with keyword options; returns the summary and the bad-line messages."""

    def run(path: Path, *, gold: bool = False, subset: str | None = None,
            **config: Any) -> tuple[Summary, list[str]]:
        bad: list[str] = []

        def on_bad(b: BadLine) -> None:
            bad.append(str(b))

        cfg = ImportConfig(options=Options(gold=gold, subset=subset), **config)
        return import_file(store, path, cfg, on_bad=on_bad), bad

    return run
