"""What a path names, in words, for messages that must say why a path cannot be used."""

from __future__ import annotations

import os
import stat

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def describe(path: str | os.PathLike[str]) -> str:
    """"a regular file", "a folder", "a character device", … or "no such file"."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a broken link" if os.path.islink(path) else "no such file"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def not_a_file(path: str | os.PathLike[str]) -> str | None:
    """Why `path` cannot be read as a file, or None when it is a regular file."""
    kind = describe(path)
    if kind == "a regular file":
        return None
    if kind in ("no such file", "a broken link") or kind.startswith("unreadable"):
        return kind
    return f"{kind}, not a file"
