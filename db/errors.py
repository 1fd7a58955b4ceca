"""The one base of every error the project raises on purpose.

The CLI prints such an error as one line and exits 1 or 2; the review app shows its title and
message instead of a traceback. Anything else that escapes is a bug.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """An expected failure with a message fit for the user (no traceback needed)."""

    title = "error"
