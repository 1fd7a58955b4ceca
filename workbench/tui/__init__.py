"""The review TUI. Importing this package is cheap: Textual loads when the app runs."""

from __future__ import annotations

import os


def under_web_driver() -> bool:
    """True in a process textual-serve started: the app will draw in a browser."""
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def run_review(db_path: str, annotator: str | None = None) -> None:
    """Open the review screen on a project file.

    Without an annotator the login name is used in a terminal; in a browser a prompt asks.
    """
    from workbench.tui.app import ReviewApp

    ReviewApp(db_path, annotator).run()
