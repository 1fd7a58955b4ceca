"""Line-by-line JSONL reading that names the file and line of every bad row."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from db.errors import WorkbenchError


class BadLine(WorkbenchError, ValueError):
    """One unusable input line; str() is `FILE:LINE: reason`, the form editors jump to."""

    def __init__(self, path: str | Path, line_no: int, reason: str) -> None:
        super().__init__(f"{path}:{line_no}: {reason}")
        self.path = str(path)
        self.line_no = line_no
        self.reason = reason


OnBad = Callable[[BadLine], None]


def raise_bad(bad: BadLine) -> None:
    raise bad


# (line number, object, bytes of the file read through this line, for progress bars).
# A plain tuple: a NamedTuple per line costs as much as parsing it.
Line = tuple[int, dict[str, Any], int]


def read_jsonl(
    path: str | Path, on_bad: OnBad = raise_bad, *, start: int = 0, end: int | None = None,
    first_line: int = 1,
) -> Iterator[Line]:
    """Objects of a JSONL file, one at a time; blank lines are skipped.

    A line that is not a JSON object goes to `on_bad` (which raises by default) and is skipped.
    A UTF-8 byte order mark at the start (Windows tools write one) is skipped. `start`, `end`
    and `first_line` read one range of whole lines (see db.import_chunks.ranges).
    """
    # orjson decodes (and checks the UTF-8 of) a line in a quarter of the stdlib's time:
    # on a million-line import that is 3.5 s of the total.
    decode = orjson.loads
    with open(path, "rb") as f:
        if start == 0 and f.read(3) == codecs.BOM_UTF8:
            pos = 3
        else:
            f.seek(start)
            pos = start
        for line_no, raw in enumerate(f, first_line):
            if end is not None and pos >= end:
                break
            pos += len(raw)
            try:
                obj = decode(raw)
            except orjson.JSONDecodeError as exc:  # bad JSON and bad UTF-8 alike
                if not raw.strip():
                    continue
                on_bad(BadLine(path, line_no, f"not JSON ({_short(exc)})"))
                continue
            if type(obj) is not dict:
                on_bad(BadLine(path, line_no, f"not a JSON object but {type(obj).__name__}"))
                continue
            yield line_no, obj, pos


def _short(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:120]

