"""The review TUI. Importing this package is cheap: Textual loads when the app runs."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.team import TeamOptions


def under_web_driver() -> bool:
    """True in a process textual-serve started: the app will draw in a browser."""
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def run_review(
    db_path: str, annotator: str | None = None, team: TeamOptions | None = None
) -> int:
    """Open the review screen on a project file and return the exit status: 0 after a normal
    quit, non-zero when the project could not be opened (the reason goes to standard error) or
    the app crashed (Textual prints why). Without an annotator the login name is used in a
    terminal; in a browser a prompt asks. `team` (workbench.team.TeamOptions) sets claims and
    the pass."""
    from db.safe_text import safe
    from workbench.tui.app import ReviewApp

    app = ReviewApp(db_path, annotator, team=team)
    app.run()
    if app.failure is not None:
        print(f"wuwb review: error: {safe(app.failure)}", file=sys.stderr)
    return app.return_code or 0
