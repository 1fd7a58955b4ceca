"""The review TUI. Importing this package is cheap: Textual loads when the app runs."""

from __future__ import annotations


def run_review(db_path: str, annotator: str | None = None) -> None:
    """Open the review screen on a project file (annotator defaults to the login name)."""
    from workbench.tui.app import ReviewApp

    ReviewApp(db_path, annotator).run()
