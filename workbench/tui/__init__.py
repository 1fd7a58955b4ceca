"""The review TUI. Importing this package is cheap: Textual loads when the app runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.team import TeamOptions


def run_review(
    db_path: str, annotator: str | None = None, team: TeamOptions | None = None
) -> None:
    """Open the review screen on a project file (annotator defaults to the login name);
    `team` (workbench.team.TeamOptions) sets claims and the pass."""
    from workbench.tui.app import ReviewApp

    ReviewApp(db_path, annotator, team=team).run()
