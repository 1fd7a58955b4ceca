"""Gold data out as WeNet or swift JSONL (shared/FORMATS.md §1–2), in key order.

The file is written beside the target under a temporary name and renamed over it at the end,
so a crash or a full disk never leaves half a file where the old one was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from db.errors import WorkbenchError
from db.store import Store
from db.tasks import PROMPTS, TASKS

EXPORT_FORMATS: tuple[str, ...] = ("wenet", "swift")
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(...) rebuilds one per call
_CHUNK = 5000  # rows per write() call


class ExportError(WorkbenchError, ValueError):
    """An export that cannot be done as asked."""


def export(
    store: Store, out: str | Path, fmt: str, *, tasks: Sequence[str] = TASKS,
    status: str = "accepted", subset: str | None = None,
) -> int:
    """Write the export and return the number of rows written.

    status "accepted" writes accepted utterances with their gold; "all" writes every
    utterance, the others with their current draft, translation and labels.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if status not in ("accepted", "all"):
        raise ExportError(f"unknown status {status!r}; use accepted or all")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ExportError(f"unknown task {', '.join(unknown)}; use some of {', '.join(TASKS)}")
    target = Path(out)
    if target.is_dir():
        raise ExportError(f"{target}: is a folder")
    if not target.parent.is_dir():
        raise ExportError(f"{target.parent}: no such folder")
    rows = _utterances(store, status, subset)
    lines = _wenet_lines(rows) if fmt == "wenet" else _swift_lines(rows, tasks)
    return _write_atomic(target, lines)


Batch = list[tuple[Any, ...]]


def _utterances(store: Store, status: str, subset: str | None) -> Iterator[Batch]:
    """The selected utterances in key order, a few thousand rows at a time."""
    where, args = [], []
    if status == "accepted":
        where.append("status = 'accepted'")
    if subset is not None:
        where.append("subset = ?")
        args.append(subset)
    sql = (
        "SELECT key, audio, status, draft, gold, translation, age, gender, emotion, extra "
        "FROM utterances" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY key"
    )
    # A connection of its own: a long read must not hold the store's lock against the app,
    # and WAL gives it one consistent snapshot while others write.
    conn = store.reader()
    try:
        cursor = conn.execute(sql, args)
        while batch := cursor.fetchmany(_CHUNK):
            yield batch
    finally:
        conn.close()


def _transcript(status: str, draft: str | None, gold: str | None) -> str | None:
    if status == "accepted" and gold is not None:
        return gold
    return draft


def _wenet_lines(batches: Iterator[Batch]) -> Iterator[list[str]]:
    # The three known fields are spliced by hand around json's own string encoder (the one
    # json.dumps(ensure_ascii=False) uses): the same bytes, at a third of the cost of a dict.
    q = encode_basestring
    for batch in batches:
        lines = []
        for key, audio, status, draft, gold, _tr, _age, _gender, _emotion, extra in batch:
            txt = _transcript(status, draft, gold) or ""
            if extra:
                obj = {"key": key, "wav": audio, "txt": txt}
                # Fields the import did not know come back as they went in, after the three.
                obj.update((k, v) for k, v in json.loads(extra).items() if k not in obj)
                lines.append(_ENCODE(obj) + "\n")
            else:
                lines.append(f'{{"key": {q(key)}, "wav": {q(audio)}, "txt": {q(txt)}}}\n')
        yield lines


def _swift_lines(batches: Iterator[Batch], tasks: Sequence[str]) -> Iterator[list[str]]:
    wanted = [t for t in TASKS if t in tasks]
    for batch in batches:
        lines = []
        for _key, audio, status, draft, gold, translation, age, gender, emotion, _ in batch:
            answers = {
                "asr": _transcript(status, draft, gold),
                "ast": translation or None,
                "age": age or None,
                "gender": gender or None,
                "emotion": emotion or None,
            }
            for task in wanted:
                answer = answers[task]
                if answer is None:
                    continue
                lines.append(_ENCODE({
                    "messages": [
                        {"role": "user", "content": PROMPTS[task]},
                        {"role": "assistant", "content": answer},
                    ],
                    "audios": [audio],
                }) + "\n")
        yield lines


def _write_atomic(target: Path, chunks: Iterator[list[str]]) -> int:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for lines in chunks:
                f.writelines(lines)
                written += len(lines)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return written
