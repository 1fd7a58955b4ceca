"""Snapshots of the main, detail, filter and stats screens at 80x24, 120x30 and 160x45, with a
frozen clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_helpers import build_project, settle

import db.store
from workbench.tui.app import ReviewApp

SIZES = [(80, 24), (120, 30), (160, 45)]
SIZE = (120, 30)


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose edit times are all one fixed instant."""
    monkeypatch.setattr(db.store, "now", lambda: "2025-05-01T09:30:00Z")
    return build_project(tmp_path / "snap.db")


async def _ready(pilot: Pilot[Any]) -> None:
    await settle(pilot.app, pilot)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_main_screen(frozen: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(ReviewApp(frozen, "alice"), terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_filter_dialog(frozen: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+f")
        await _ready(pilot)

    assert snap_compare(ReviewApp(frozen, "alice"), terminal_size=size, run_before=run_before)


def test_narrow_list_focused(frozen: Path, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+l")
        await _ready(pilot)

    assert snap_compare(ReviewApp(frozen, "alice"), terminal_size=(80, 24), run_before=run_before)


def test_detail_after_take_and_flag(frozen: Path, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+g", *"clipped", "enter")
        await _ready(pilot)
        await pilot.press("ctrl+up", "alt+3", "alt+a")
        await _ready(pilot)

    assert snap_compare(ReviewApp(frozen, "alice"), terminal_size=SIZE, run_before=run_before)


def test_stats_screen(frozen: Path, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+s", "ctrl+s")
        await _ready(pilot)
        await pilot.press("f9")
        await _ready(pilot)

    assert snap_compare(ReviewApp(frozen, "alice"), terminal_size=SIZE, run_before=run_before)
