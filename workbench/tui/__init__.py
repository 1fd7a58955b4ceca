"""The review TUI. Importing this package is cheap: Textual loads when the app runs."""

from __future__ import annotations

from typing import Any


def run_review(db_path: str, annotator: str | None = None, team: Any = None) -> None:
    """Open the review screen on a project file (annotator defaults to the login name);
    `team` (workbench.team.TeamOptions) sets claims and the pass."""
    from workbench.tui.app import ReviewApp

    ReviewApp(db_path, annotator, team=team).run()
