"""Streaming import of WeNet, swift and WenetSpeech-Wu JSONL into a project file.

Memory stays flat: the file is read in byte ranges of whole lines, one transaction per range
(or one for the whole file under --strict, so a bad line leaves nothing behind). A range of
new, plain lines takes the fast lane (db.import_chunks: parsed ahead, on other cores for a big
file, and inserted whole); any other range is imported line by line here.

Idempotent and resumable: a line whose fields already hold the same values changes nothing
(no version bump). A key that exists with NULL in a field this line sets is filled in (that is
how several swift rows of one audio merge). Only a key whose stored value differs from the
line's is a duplicate, handled by the policy: skip it, update it (logged in the edit log as
annotator `import`, version bumped), or reject it as a bad line.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.audio_files import AudioInfo, Prober, resolve
from db.errors import WorkbenchError
from db.import_chunks import Job, Parsed, parsed_ranges, ranges, row_params, worker_count
from db.jsonl import BadLine, Line, OnBad, read_jsonl
from db.path_kinds import not_a_file
from db.row_formats import CORPUS_SYSTEM, FORMATS, PARSERS, Options, Row, RowError, detect
from db.store import Store, now

POLICIES: tuple[str, ...] = ("skip", "update", "error")
IMPORTER = "import"  # the annotator name updates are logged under

# Columns a line may set, compared for duplicates; probe results (duration, rate, error) are
# facts about the file, not content, and are written only with a new audio path.
CONTENT: tuple[str, ...] = (
    "audio", "subset", "domain", "sub_dialect", "confidence", "dnsmos", "snr", "extra",
    "draft", "gold", "translation", "age", "gender", "emotion", "status", "provenance",
)
_HYP_SQL = (
    "INSERT INTO hypotheses (utt_id, task, system, text, created_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (utt_id, task, system) DO UPDATE SET text = excluded.text, error = NULL, "
    "score = NULL, created_at = excluded.created_at "
    "WHERE hypotheses.text IS NOT excluded.text OR hypotheses.error IS NOT NULL"
)
BATCH = 20000
IMPORT_CACHE_KIB = -65536  # 64 MiB of page cache during an import (negative: KiB)


@functools.cache
def _insert_sql(columns: tuple[str, ...]) -> str:
    return (
        f"INSERT INTO utterances ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        "ON CONFLICT (key) DO NOTHING"
    )


@functools.cache
def _json_insert_sql(names: tuple[str, ...]) -> str:
    """Insert the rows of one JSON array of arrays: key, audio, then `names`."""
    columns = ("key", "audio", *names)
    values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
    # The array comes as UTF-8 bytes, read as text with no conversion; WHERE true: an upsert
    # after INSERT ... SELECT needs it to parse unambiguously.
    return (
        f"INSERT INTO utterances ({', '.join(columns)}) SELECT {values} "
        "FROM json_each(CAST(? AS TEXT)) WHERE true ON CONFLICT (key) DO NOTHING"
    )


class ImportError_(WorkbenchError, RuntimeError):
    """The file cannot be imported at all (unreadable, unknown format, strict stop)."""


@dataclass
class Summary:
    path: str
    format: str
    lines: int = 0
    inserted: int = 0
    updated: int = 0  # existing utterances whose fields were filled or replaced
    unchanged: int = 0
    skipped: int = 0  # duplicates left alone under --on-duplicate skip
    bad: int = 0
    merged: int = 0  # lines folded into an earlier line of the same key in this range
    # Corpus label values left empty ("gender 'M'", "age outside 0-120") → lines.
    unmapped: dict[str, int] = field(default_factory=dict)
    audio_missing: int = 0
    audio_unreadable: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, name: str, n: int = 1) -> None:
        setattr(self, name, getattr(self, name) + n)

    def line(self) -> str:
        parts = [
            f"{self.path}: {self.lines} lines ({self.format})",
            f"{self.inserted} new",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{self.skipped} duplicates skipped",
            f"{self.bad} bad lines",
        ]
        if self.merged:
            parts.append(f"{self.merged} merged into an earlier line of the same key")
        if self.unmapped:
            shown = ", ".join(f"{name} ×{n}" for name, n in sorted(
                self.unmapped.items(), key=lambda item: (-item[1], item[0])))
            parts.append(f"labels left empty: {shown}")
        if self.audio_missing or self.audio_unreadable:
            parts.append(f"audio: {self.audio_missing} missing, {self.audio_unreadable} unreadable")
        return ", ".join(parts)


@dataclass(frozen=True)
class ImportConfig:
    format: str = "auto"
    options: Options = field(default_factory=Options)
    audio_root: str | None = None
    on_duplicate: str = "skip"
    strict: bool = False
    probe: bool = True
    batch: int = BATCH
    workers: int | None = None  # parsing processes; None: by file size and cores, 0: none


Progress = Callable[[int], None]  # bytes read so far


def sniff(path: str | Path) -> str:
    """The format of a JSONL file from its first object."""
    first_bad: list[BadLine] = []
    for line_no, obj, _ in read_jsonl(path, on_bad=first_bad.append):
        fmt = detect(obj)
        if fmt is None:
            raise ImportError_(
                f"{path}:{line_no}: cannot tell the format (fields "
                f"{', '.join(sorted(obj)[:6])}); pass --format {'|'.join(FORMATS)}"
            )
        return fmt
    if first_bad:
        raise ImportError_(f"no line is a JSON object; the first: {first_bad[0]}")
    raise ImportError_(_empty(path))


def _empty(path: str | Path) -> str:
    return f"{path}: empty: no JSON lines to import"


def import_file(
    store: Store, path: str | Path, config: ImportConfig, *,
    on_bad: OnBad | None = None, progress: Progress | None = None,
) -> Summary:
    """Import one JSONL file; bad lines go to on_bad (stderr by default) and are counted."""
    if config.on_duplicate not in POLICIES:
        raise ImportError_(f"unknown duplicate policy {config.on_duplicate!r}")
    why = not_a_file(path)
    if why is not None:
        raise ImportError_(f"{path}: {why}")
    store.require_writable()
    fmt = sniff(path) if config.format == "auto" else config.format
    if fmt not in PARSERS:
        raise ImportError_(f"unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")
    summary = Summary(str(path), fmt)
    if fmt == "swift":
        summary.notes.append("swift rows carry no key: each key is the audio file's stem")
    report = on_bad or (lambda bad: print(bad, file=sys.stderr))

    def bad_line(bad: BadLine) -> None:
        if config.strict:
            raise ImportError_(f"{bad} (--strict: nothing of this file was written)")
        summary.count("bad")
        report(bad)

    not_json_lines = 0

    def not_json(bad: BadLine) -> None:
        nonlocal not_json_lines
        not_json_lines += 1
        bad_line(bad)

    base = os.path.dirname(os.path.abspath(path))
    audio_root = None if config.audio_root is None else os.path.abspath(config.audio_root)
    jobs = (
        Job(str(path), start, end, fmt, config.options, base, audio_root, config.probe)
        for start, end in ranges(str(path))
    )
    workers = worker_count(os.path.getsize(path), config.workers)
    lines = 0
    line_offset = 0  # physical lines before the range at hand
    with _writing(_Writer(store, config, summary, bad_line)) as writer:
        for parsed in parsed_ranges(jobs, workers, writer.probe):
            if new := writer.insert_new(parsed):
                lines += new
            else:
                lines += _import_lines(
                    writer, read_jsonl(path, not_json, start=parsed.start, end=parsed.end,
                                       first_line=line_offset + 1),
                    fmt, base, audio_root,
                )
            line_offset += parsed.lines
            if progress is not None:
                progress(parsed.end)
    summary.lines = lines + not_json_lines
    if summary.lines == 0:
        raise ImportError_(_empty(path))
    return summary


def _import_lines(
    writer: _Writer, objects: Iterator[Line], fmt: str, base: str, audio_root: str | None
) -> int:
    """The line-by-line lane: every line parsed here, merged in batches, bad lines reported.
    Returns the lines that were JSON objects."""
    summary, config = writer.summary, writer.config
    # Absolute paths are kept as written: the test is a prefix check on POSIX, a call elsewhere.
    absolute = "/" if os.name == "posix" and audio_root is None else None
    parse = PARSERS[fmt]
    opts = config.options
    size = config.batch
    lines = 0  # a local: an attribute of the summary costs a lookup per line
    pending: dict[str, tuple[int, Row]] = {}
    for line_no, obj, _ in objects:
        lines += 1
        try:
            row = parse(obj, opts)
        except RowError as exc:
            writer.bad_line(BadLine(summary.path, line_no, str(exc)))
            continue
        if row.flags:
            for flag in row.flags:
                summary.unmapped[flag] = summary.unmapped.get(flag, 0) + 1
        if absolute is None or not row.wav.startswith(absolute):
            row.wav = resolve(row.wav, row.key, base, audio_root)
        earlier = pending.get(row.key)
        if earlier is None:
            pending[row.key] = (line_no, row)
            if len(pending) >= size:
                writer.flush(pending)
                pending = {}
        else:
            writer.merge_pending(earlier[1], row, line_no)
    writer.flush(pending)
    return lines


@contextmanager
def _writing(writer: _Writer) -> Iterator[_Writer]:
    """The store held for a whole import, with a bigger page cache; under --strict the whole
    file is one transaction, committed only when the caller's block ends without an error.

    Parsing and writing share one thread: SQLite lets go of the GIL only inside each row's
    step, so a writer thread mostly waited for the GIL (measured: more CPU, no less time).
    """
    store = writer.store
    with store.locked() as conn:
        writer.conn = conn
        # The unique key index and the table's last pages are rewritten by every batch:
        # a bigger page cache (while importing only) keeps them from being re-read.
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = {IMPORT_CACHE_KIB}")
        strict = writer.config.strict
        if strict:
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield writer
        except BaseException:
            if strict:
                conn.execute("ROLLBACK")
            raise
        else:
            if strict:
                conn.execute("COMMIT")
        finally:
            conn.execute(f"PRAGMA cache_size = {cache}")


class _Writer:
    """Writes batches of rows, merging with what the project already holds."""

    conn: sqlite3.Connection  # the store's, set by _writing while it holds the store

    def __init__(
        self, store: Store, config: ImportConfig, summary: Summary,
        bad_line: Callable[[BadLine], None],
    ) -> None:
        self.store = store
        self.config = config
        self.summary = summary
        self.bad_line = bad_line
        self.probe = Prober()
        # Utterances that existed before this run: only those can be in the search index.
        self.first_new_id = self._max_id() + 1
        self.json_ok = _has_json(store)

    def _max_id(self) -> int:
        with self.store.locked() as conn:
            row = conn.execute("SELECT IFNULL(max(id), 0) FROM utterances").fetchone()
        return int(row[0])

    def merge_pending(self, earlier: Row, row: Row, line_no: int) -> None:
        """A key seen twice in one batch: merge like a stored utterance would be merged."""
        old = {"audio": earlier.wav, **earlier.fields}
        new = {"audio": row.wav, **row.fields}
        fills, conflicts = _compare(old, new)
        hyp_conflict = any(earlier.hyps.get(t, h) != h for t, h in row.hyps.items())
        if (conflicts or hyp_conflict) and not self._allowed(row.key, conflicts, line_no):
            return
        if "audio" in fills or "audio" in conflicts:
            earlier.wav = row.wav
        earlier.fields.update({k: v for k, v in {**fills, **conflicts}.items() if k != "audio"})
        earlier.hyps.update(row.hyps)
        if row.duration is not None:
            earlier.duration = row.duration
        # Whether the utterance changes is told once, when the merged line is written.
        self.summary.count("merged")

    def _allowed(self, key: str, conflicts: dict[str, Any], line_no: int) -> bool:
        """Apply the duplicate policy to a line that differs from what is stored."""
        policy = self.config.on_duplicate
        if policy == "update":
            return True
        if policy == "skip":
            self.summary.count("skipped")
            return False
        names = ", ".join(sorted(conflicts)) or "hypotheses"
        reason = f"duplicate key {key!r} ({names} differ)"
        self.bad_line(BadLine(self.summary.path, line_no, reason))
        return False

    def _probe(self, row: Row, tally: dict[str, int]) -> AudioInfo:
        if not self.config.probe:
            return AudioInfo(row.duration, None, None)
        info = self.probe(row.wav)
        if info.error is not None:
            tally["audio_missing" if info.error == "missing" else "audio_unreadable"] += 1
            return AudioInfo(row.duration, None, info.error)
        return info

    def _count(self, tally: dict[str, int]) -> None:
        for name, n in tally.items():
            if n:
                self.summary.count(name, n)

    def _shapes(
        self, pending: dict[str, tuple[int, Row]], tally: dict[str, int]
    ) -> dict[tuple[str, ...], list[tuple[Any, ...]]]:
        """The rows as INSERT parameters, grouped by the columns they set."""
        shapes: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        probe = self.probe if self.config.probe else None
        for _, row in pending.values():
            names, params = row_params(row, probe, tally)
            group = shapes.get(names)
            if group is None:
                group = shapes[names] = []
            group.append(params)
        return {("key", "audio", *names): group for names, group in shapes.items()}

    def insert_new(self, parsed: Parsed) -> int:
        """Insert a range from the fast lane: all of it, or (when a key is already stored)
        nothing, and 0 is returned for the line-by-line lane to take it. Returns its rows."""
        if parsed.shapes is None or not self.json_ok:
            return 0
        conn = self.conn
        conn.execute("SAVEPOINT fast_lane")
        try:
            inserted = sum(
                conn.execute(_json_insert_sql(names), (rows,)).rowcount
                for names, rows in parsed.shapes
            )
        except BaseException:
            conn.execute("ROLLBACK TO fast_lane")
            conn.execute("RELEASE fast_lane")
            raise
        if inserted != parsed.rows:
            conn.execute("ROLLBACK TO fast_lane")
            conn.execute("RELEASE fast_lane")
            return 0
        conn.execute("RELEASE fast_lane")
        self.summary.inserted += inserted
        self.summary.audio_missing += parsed.audio_missing
        self.summary.audio_unreadable += parsed.audio_unreadable
        return inserted

    def flush(self, pending: dict[str, tuple[int, Row]]) -> None:
        if not pending:
            return
        store = self.store
        conn = self.conn
        stamp = now()
        own_tx = not self.config.strict
        if own_tx:
            conn.execute("BEGIN IMMEDIATE")
        try:
            before = self._max_id()
            # Rows grouped by the columns they set: binding a NULL costs as much as a value,
            # and most rows set only a few of the twenty columns.
            tally = {"audio_missing": 0, "audio_unreadable": 0}
            shapes = self._shapes(pending, tally)
            inserted = sum(
                conn.executemany(_insert_sql(cols), params).rowcount
                for cols, params in shapes.items()
            )
            self.summary.count("inserted", inserted)
            rescore: set[int] = set()
            if inserted < len(pending):
                rescore |= self._merge_existing(pending, before, stamp, tally)
            self._count(tally)
            hyp_rows = [(k, r) for k, (_, r) in pending.items() if r.hyps]
            if hyp_rows:
                rescore |= self._write_hyps(hyp_rows, stamp)
            if rescore:
                ids = sorted(rescore)
                store.rescore(conn, ids)
                old = [(i,) for i in ids if i < self.first_new_id]
                conn.executemany("INSERT OR IGNORE INTO fts_dirty VALUES (?)", old)
        except BaseException:
            if own_tx:
                conn.execute("ROLLBACK")
            raise
        if own_tx:
            conn.execute("COMMIT")

    def _merge_existing(
        self, pending: dict[str, tuple[int, Row]], before: int, stamp: str,
        tally: dict[str, int],
    ) -> set[int]:
        """Lines whose key was stored before this batch: no-op, fill, update or reject."""
        conn = self.conn
        keys = list(pending)
        cols = ", ".join(CONTENT)
        existing: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT key, id, {cols} FROM utterances WHERE key IN ({marks}) AND id <= ?",
                [*chunk, before],
            ):
                existing[row[0]] = row[1:]
        rescore: set[int] = set()
        edits = []
        for key, stored in existing.items():
            line_no, row = pending[key]
            utt_id = stored[0]
            old = dict(zip(CONTENT, stored[1:], strict=True))
            new = {"audio": row.wav, **row.fields}
            fills, conflicts = _compare(old, new)
            if conflicts and not self._allowed(key, conflicts, line_no):
                row.hyps = {}  # a rejected line brings no corpus answers either
                continue
            changes = {**fills, **conflicts}
            if not changes:
                self.summary.count("unchanged")
                continue
            self.summary.count("updated")
            if "audio" in changes:
                info = self._probe(row, tally)
                changes.update(
                    duration=info.duration, sample_rate=info.sample_rate, audio_error=info.error
                )
            sets = ", ".join(f"{k} = ?" for k in changes)
            conn.execute(
                f"UPDATE utterances SET {sets}, version = version + 1, annotator = ?, "
                "updated_at = ? WHERE id = ?",
                [*changes.values(), IMPORTER, stamp, utt_id],
            )
            edits += [
                (utt_id, k, _text(old.get(k)), _text(v), IMPORTER, stamp)
                for k, v in changes.items() if k in CONTENT
            ]
            if {"draft", "gold", "status"} & changes.keys():
                rescore.add(utt_id)
        conn.executemany(
            "INSERT INTO edits (utt_id, field, old, new, annotator, at) VALUES (?,?,?,?,?,?)",
            edits,
        )
        return rescore

    def _write_hyps(self, rows: list[tuple[str, Row]], stamp: str) -> set[int]:
        """The corpus's own answers as hypotheses of system wswu-corpus; ids that changed."""
        ids = self.store.ids_for_keys([k for k, _ in rows])
        params = [
            (ids[key], task, CORPUS_SYSTEM, text, stamp)
            for key, row in rows
            for task, text in row.hyps.items()
        ]
        # Unchanged answers are left alone, so a re-run rescoring nothing stays cheap.
        if self.conn.executemany(_HYP_SQL, params).rowcount == 0:
            return set()
        return {ids[key] for key, _ in rows}


def _has_json(store: Store) -> bool:
    """Whether this SQLite has its JSON functions (built in since 3.38, an option before):
    without them every range is imported line by line."""
    try:
        with store.locked() as conn:
            conn.execute("SELECT json_extract('[1]', '$[0]')").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


def _compare(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a line's fields into fills (stored value empty) and conflicts (stored differs)."""
    fills: dict[str, Any] = {}
    conflicts: dict[str, Any] = {}
    for name, value in new.items():
        stored = old.get(name)
        if stored == value or (name == "provenance" and stored is not None):
            continue  # who made a stored gold is a fact an import never rewrites
        if stored is None or (name == "status" and stored == "todo"):
            fills[name] = value
        else:
            conflicts[name] = value
    return fills, conflicts


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
