"""The review TUI. Importing this package is cheap: Textual loads when the app runs."""

from __future__ import annotations

import sys


def run_review(db_path: str, annotator: str | None = None) -> int:
    """Open the review screen on a project file (annotator defaults to the login name) and
    return the exit status: 0 after a normal quit, non-zero when the project could not be
    opened (the reason goes to standard error) or the app crashed (Textual prints why)."""
    from db.safe_text import safe
    from workbench.tui.app import ReviewApp

    app = ReviewApp(db_path, annotator)
    app.run()
    if app.failure is not None:
        print(f"wuwb review: error: {safe(app.failure)}", file=sys.stderr)
    return app.return_code or 0
