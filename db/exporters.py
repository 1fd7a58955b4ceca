"""Gold data out as WeNet or swift JSONL (shared/FORMATS.md §1–2), in key order.

A file is written beside the target under a temporary name and renamed over it at the end,
so a crash or a full disk never leaves half a file where the old one was. The temporary file
is locked while it is written: one left by a killed export is unlocked, and the next export
of that target removes it. A target that is a link is written through (the link stays); a
pipe or a device, or a link to an open file such as /dev/stdout, is streamed to.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from db import second_pass_policy
from db.errors import WorkbenchError
from db.path_kinds import describe
from db.store import Store
from db.tasks import PROMPTS, TASKS

EXPORT_FORMATS: tuple[str, ...] = ("wenet", "swift")
PROVENANCE_CHOICES: tuple[str, ...] = ("all", "human")  # human: no machine-accepted gold
EXPORT_STATUSES: tuple[str, ...] = ("accepted", "reviewed", "all")
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(...) rebuilds one per call
_CHUNK = 5000  # rows per write() call


class ExportError(WorkbenchError, ValueError):
    """An export that cannot be done as asked."""


def export(
    store: Store, out: str | Path, fmt: str, *, tasks: Sequence[str] = TASKS,
    status: str = "accepted", subset: str | None = None, provenance: str = "all",
    tier: str | None = None,
) -> int:
    """Write the export and return the number of rows written.

    status "accepted" writes accepted utterances with their gold; "reviewed" only those whose
    second pass is done; "all" writes every utterance, the others with their current draft,
    translation and labels. Accepted rows carry their gold's provenance as a field;
    provenance "human" leaves out gold a machine accepted (bulk:<system>). `tier` keeps only
    that consensus tier.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if status not in EXPORT_STATUSES:
        raise ExportError(f"unknown status {status!r}; use {', '.join(EXPORT_STATUSES)}")
    if provenance not in PROVENANCE_CHOICES:
        raise ExportError(f"unknown provenance {provenance!r}; use all or human")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ExportError(f"unknown task {', '.join(unknown)}; use some of {', '.join(TASKS)}")
    target = Path(out)
    kind = describe(target)
    if kind == "a folder":
        raise ExportError(f"{target}: is a folder")
    if kind in ("a socket", "a block device"):
        raise ExportError(f"{target}: {kind}; export writes files, pipes and terminals")
    stream = kind in ("a character device", "a named pipe") or _names_open_file(target)
    real = target if stream else Path(os.path.realpath(target))
    if not real.parent.is_dir():
        raise ExportError(f"{real.parent}: no such folder")
    rows = _utterances(store, status, subset, provenance, tier)
    lines = _wenet_lines(rows) if fmt == "wenet" else _swift_lines(rows, tasks)
    if stream:
        return _write_stream(target, lines, append=kind == "a regular file")
    return _write_atomic(real, lines)


def _names_open_file(path: Path) -> bool:
    """Whether the path reaches a file through /proc/<pid>/fd (/dev/stdout, /dev/fd/N): that
    names a file someone has open, to be written into, never replaced."""
    hop = str(path.absolute())
    for _ in range(40):  # the kernel's own bound on a chain of links (MAXSYMLINKS)
        if os.path.realpath(os.path.dirname(hop)).startswith("/proc/"):
            return True
        if not os.path.islink(hop):
            return False
        hop = os.path.join(os.path.dirname(hop), os.readlink(hop))
    return False


Batch = list[tuple[Any, ...]]


def _utterances(
    store: Store, status: str, subset: str | None, provenance: str = "all",
    tier: str | None = None,
) -> Iterator[Batch]:
    """The selected utterances in key order, a few thousand rows at a time."""
    where, args = [], []
    if status in ("accepted", "reviewed"):
        where.append("status = 'accepted'")
    if provenance == "human":
        where.append("(status != 'accepted' OR IFNULL(provenance, '') NOT LIKE 'bulk:%')")
    if status == "reviewed":
        where.append(second_pass_policy.reviewed_sql("utterances.id", "utterances.gold"))
    if subset is not None:
        where.append("subset = ?")
        args.append(subset)
    if tier is not None:
        where.append("tier = ?")
        args.append(tier)
    sql = (
        "SELECT key, audio, status, draft, gold, translation, age, gender, emotion, extra, "
        "CASE WHEN status = 'accepted' THEN provenance END "
        "FROM utterances" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY key"
    )
    # A connection of its own: a long read must not hold the store's lock against the app.
    with store.reader() as conn:
        cursor = conn.execute(sql, args)
        while batch := cursor.fetchmany(_CHUNK):
            yield batch


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
        for key, audio, status, draft, gold, _tr, _age, _gender, _emotion, extra, made in batch:
            txt = _transcript(status, draft, gold) or ""
            if extra:
                obj = {"key": key, "wav": audio, "txt": txt}
                if made:
                    obj["provenance"] = made
                # Fields the import did not know come back as they went in, after these.
                obj.update((k, v) for k, v in json.loads(extra).items() if k not in obj)
                lines.append(_ENCODE(obj) + "\n")
            else:
                who = f', "provenance": {q(made)}' if made else ""
                lines.append(f'{{"key": {q(key)}, "wav": {q(audio)}, "txt": {q(txt)}{who}}}\n')
        yield lines


def _swift_lines(batches: Iterator[Batch], tasks: Sequence[str]) -> Iterator[list[str]]:
    wanted = [t for t in TASKS if t in tasks]
    for batch in batches:
        lines = []
        for _key, audio, status, draft, gold, translation, age, gender, emotion, _, made in batch:
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
                row: dict[str, Any] = {
                    "messages": [
                        {"role": "user", "content": PROMPTS[task]},
                        {"role": "assistant", "content": answer},
                    ],
                    "audios": [audio],
                }
                if made:
                    row["provenance"] = made
                lines.append(_ENCODE(row) + "\n")
        yield lines


def _write_stream(target: Path, chunks: Iterator[list[str]], *, append: bool) -> int:
    """Write straight into a pipe, a terminal or a file open elsewhere (appending, so a shell's
    `>>` keeps what is there)."""
    written = 0
    with open(target, "a" if append else "w", encoding="utf-8", newline="\n") as f:
        for lines in chunks:
            f.writelines(lines)
            written += len(lines)
    return written


def _write_atomic(target: Path, chunks: Iterator[list[str]]) -> int:
    """Write a temporary file beside the target and rename it over the target at the end.

    The target's mode (and owner, where allowed) is kept; a new file gets the umask's mode.
    """
    _remove_stale(target)
    fd, tmp = _locked_temp(target)
    written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for lines in chunks:
                f.writelines(lines)
                written += len(lines)
            f.flush()
            _copy_mode(target, f.fileno())
            os.fsync(f.fileno())
            os.replace(tmp, target)  # while the lock is held: a cleaner never sees it whole
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return written


def _temp_names(target: Path) -> tuple[str, str]:
    return f".{target.name}.", ".tmp"


def _locked_temp(target: Path) -> tuple[int, str]:
    """A new temporary file for target, locked; made again if a cleaner took it first."""
    prefix, suffix = _temp_names(target)
    while True:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=suffix)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)


def _remove_stale(target: Path) -> None:
    """Remove the temporary files of this target that no running export holds locked."""
    prefix, suffix = _temp_names(target)
    for name in os.listdir(target.parent):
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        path = target.parent / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                os.unlink(path)
        except OSError:
            pass  # held by a running export, or gone already
        finally:
            os.close(fd)


def _copy_mode(target: Path, fd: int) -> None:
    try:
        st = os.stat(target)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        return
    with contextlib.suppress(PermissionError):
        os.fchown(fd, st.st_uid, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
