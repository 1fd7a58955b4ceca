"""The project file: one SQLite database per project, and the few queries the tools need.

Every list query is keyset-paged on an index; nothing here loads all rows. One Store may be
shared by threads: a lock serialises use of its connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rapidfuzz.distance import Levenshtein

from db import metrics, second_pass_policy, timings
from db.errors import WorkbenchError
from db.path_kinds import describe
from db.schema import LAZY_INDEXES, SCHEMA_VERSION, SchemaError, migrate
from db.timings import Times

STATUSES: tuple[str, ...] = ("todo", "accepted", "skipped", "flagged")
# What a list can filter by: the stored statuses and `reviewed`, an accepted utterance whose
# second pass is done and whose gold is still the one it settled on (db.second_pass).
LIST_STATUSES: tuple[str, ...] = (*STATUSES, "reviewed")
GROUP_FIELDS: tuple[str, ...] = ("subset", "domain", "sub_dialect")
EDITABLE: tuple[str, ...] = (
    "draft", "gold", "translation", "age", "gender", "emotion", "status", "note", "provenance",
    "pending",
)
SORT_FIELDS: tuple[str, ...] = ("key", "duration", "confidence", "disagreement", "cer", "risk")
_SORT_EXPR = {
    "key": "u.key",
    "duration": "IFNULL(u.duration, -1)",
    "confidence": "IFNULL(u.confidence, -1)",
    "disagreement": "IFNULL(u.disagreement, -1)",
    "cer": "IFNULL(h.cer, -1)",
    "risk": "IFNULL(u.risk, -1)",
}
# Consensus triage (db.consensus_run, db.triage): the tiers, and who made a gold.
TIERS: tuple[str, ...] = ("agree", "high", "low")
PROVENANCES: tuple[str, ...] = ("human", "import-gold", "bulk:")  # bulk:<system>
HUMAN = "human"
DERIVED_META = "derived_systems"  # meta row: JSON list of systems made from the others
_HEAD = 40  # characters of the draft a list row carries


def now() -> str:
    """UTC timestamp as stored in the file (ISO 8601, seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class StoreError(WorkbenchError, RuntimeError):
    """A request the project file cannot satisfy (unknown id, bad field, bad filter)."""


class ReadOnlyError(StoreError):
    """A write to a project opened read-only."""

    title = "read-only"


@dataclass(frozen=True)
class Filter:
    """Which utterances a list shows. Every field narrows; None means no constraint."""

    status: str | None = None
    group_field: str | None = None
    group_value: str | None = None
    task: str = "asr"
    has_system: str | None = None
    missing_system: str | None = None
    cer_system: str | None = None
    cer_min: float | None = None
    cer_max: float | None = None
    disagreement_min: float | None = None
    disagreement_max: float | None = None
    text: str | None = None
    tier: str | None = None
    audit: bool = False  # only utterances an audit drew for review
    claimed_by: str | None = None  # only utterances this annotator holds a live claim on
    unclaimed: bool = False  # only utterances nobody holds a claim on
    second_pass_for: str | None = None  # waiting for a second pass this reviewer may give


@dataclass(frozen=True)
class Sort:
    field: str = "key"
    descending: bool = False
    system: str | None = None  # whose CER, for field "cer"


Cursor = tuple[Any, int]


@dataclass(frozen=True)
class ListRow:
    id: int
    key: str
    status: str
    duration: float | None
    group: str | None
    confidence: float | None
    disagreement: float | None
    draft_head: str
    cursor: Cursor
    risk: float | None = None


@dataclass(frozen=True)
class Hypothesis:
    system: str
    task: str
    text: str | None
    score: float | None
    error: str | None
    created_at: str
    n: int | None
    s: int | None
    d: int | None
    i: int | None
    cer: float | None
    agreement: bytes | None = None  # consensus only: per character, see db.consensus
    times: Times | None = None  # start second per non-space character (db.timings)

    @property
    def errors(self) -> int | None:
        return None if self.n is None else (self.s or 0) + (self.d or 0) + (self.i or 0)


@dataclass(frozen=True)
class Utterance:
    id: int
    key: str
    audio: str
    duration: float | None
    sample_rate: int | None
    audio_error: str | None
    subset: str | None
    domain: str | None
    sub_dialect: str | None
    confidence: float | None
    dnsmos: float | None
    snr: float | None
    extra: str | None
    draft: str | None
    gold: str | None
    translation: str | None
    age: str | None
    gender: str | None
    emotion: str | None
    status: str
    note: str | None
    annotator: str | None
    updated_at: str | None
    version: int
    disagreement: float | None
    risk: float | None
    tier: str | None
    provenance: str | None
    audit: int | None
    pending: str | None = None  # JSON: an accepted row's translation/labels not accepted yet
    hypotheses: tuple[Hypothesis, ...] = field(default=())


_UTT_COLUMNS = [f.name for f in fields(Utterance) if f.name != "hypotheses"]
_HYP_COLUMNS = [f.name for f in fields(Hypothesis)]


@dataclass(frozen=True)
class HypothesisIn:
    """A hypothesis to write. A failure is text None with the reason in error."""

    utt_id: int
    system: str
    task: str
    text: str | None
    score: float | None = None
    error: str | None = None
    times: Times | None = None  # checked against the text by the writer (db.timings.check)


@dataclass(frozen=True)
class PendingItem:
    id: int
    key: str
    audio: str
    duration: float | None
    audio_error: str | None


class Conflict(StoreError):
    """Another reviewer saved this utterance since it was loaded: theirs is the saved state."""

    def __init__(self, theirs: Utterance) -> None:
        super().__init__(
            f"{theirs.key} was saved by {theirs.annotator or 'someone'} at {theirs.updated_at}"
        )
        self.theirs = theirs


class Store:
    """An open project file."""

    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout: float = 30.0) -> None:
        self._conn = conn
        self.path = path
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._indexed: set[str] = set()
        self.readonly = False
        self.derived = self._derived()  # consensus systems: no voice in the disagreement

    # --- opening -----------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, create: bool = True, readonly: bool = False,
        busy_timeout: float = 30.0,
    ) -> Store:
        """Open a project file and bring its schema up to date.

        Only a new or empty file is made a project, and only with `create`. Any other file is
        inspected read-only first, so a file that is not a project is refused untouched.
        `readonly` opens a `mode=ro` connection: reads work on a file nobody may write, and
        every write is refused with ReadOnlyError. `busy_timeout`: how long a write waits for
        another process's write lock before it fails with "database is locked".
        """
        p = Path(path)
        if not p.exists() and not create:
            raise StoreError(f"{p}: no such project file")
        if p.exists() and not p.is_file():
            raise StoreError(f"{p}: {describe(p)}, not a project file")
        fresh = not p.exists() or p.stat().st_size == 0
        if fresh and (not create or readonly):
            raise StoreError(f"{p}: an empty file, not a wu-workbench project")
        version = SCHEMA_VERSION if fresh else _check_project(p, create=create)
        if readonly:
            if version < SCHEMA_VERSION:
                if not writable(p):
                    raise ReadOnlyError(
                        f"{p}: project schema version {version} needs upgrading to "
                        f"{SCHEMA_VERSION}, and the file is read-only"
                    )
                cls.open(p, create=False).close()  # migrates
            conn = _connect_ro(p)
        else:
            if not fresh and not writable(p):
                raise ReadOnlyError(
                    f"{p}: the project file is read-only (no write permission); reading "
                    "commands (report, export, review) still open it"
                )
            try:
                conn = sqlite3.connect(
                    p, isolation_level=None, check_same_thread=False, timeout=busy_timeout
                )
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{p}: cannot open the project file ({exc})") from exc
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if not readonly:
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn)
        store = cls(conn, p, busy_timeout)
        store.readonly = readonly
        return store

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _derived(self) -> frozenset[str]:
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (DERIVED_META,))
        found = row.fetchone()
        return frozenset(json.loads(found[0])) if found else frozenset()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """The store's own connection, held for a run of statements (bulk import, tests)."""
        with self._lock:
            yield self._conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """One statement on the store's connection, all its rows (scripts and tests)."""
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back whole if anything inside raises."""
        self.require_writable()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def require_writable(self) -> None:
        if self.readonly:
            raise ReadOnlyError(f"{self.path}: opened read-only: saves are off")

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of its own, for long reads that must not hold the lock.

        WAL gives it one consistent snapshot while others write.
        """
        conn = _connect_ro(self.path, check_same_thread=True)
        try:
            yield conn
        finally:
            conn.close()

    # --- lists -------------------------------------------------------------------------

    def ensure_index(self, name: str) -> None:
        """Make one of the lazily built indexes (seconds on a million rows, once).

        A read-only project does without: its queries work, only slower.
        """
        if name in self._indexed or name not in LAZY_INDEXES or self.readonly:
            return
        with self._lock:
            self._conn.execute(LAZY_INDEXES[name])
            self._indexed.add(name)

    def _where(self, filt: Filter) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if filt.status is not None:
            if filt.status not in LIST_STATUSES:
                raise StoreError(f"unknown status {filt.status!r}")
            self.ensure_index("status")
            # Within a claimed batch the claims drive the query: `+` keeps the status index out.
            column = "+u.status" if filt.claimed_by is not None else "u.status"
            if filt.status == "reviewed":
                reviewed = second_pass_policy.reviewed_sql()
                where.append(f"{column} = 'accepted' AND {reviewed}")
            else:
                where.append(f"{column} = ?")
                args.append(filt.status)
        if filt.claimed_by is not None:
            # Driven from the claims (a batch is small), never a scan of the whole queue.
            where.append(
                "u.id IN (SELECT c.utt_id FROM claims c INDEXED BY claim_holder "
                "WHERE c.annotator = ? AND c.expires_at > ?)"
            )
            args += [filt.claimed_by, now()]
        if filt.unclaimed:
            where.append("NOT EXISTS (SELECT 1 FROM claims c WHERE c.utt_id = u.id)")
        if filt.second_pass_for is not None:
            with self._lock:
                policy = second_pass_policy.read(self._conn)
            self.ensure_index("status")
            due, due_args = second_pass_policy.due_sql(
                policy, filt.second_pass_for,
                "+u.status" if filt.claimed_by is not None else "u.status",
            )
            where.append(due)
            args += due_args
        if filt.group_field is not None and filt.group_value is not None:
            if filt.group_field not in GROUP_FIELDS:
                raise StoreError(f"unknown group field {filt.group_field!r}")
            where.append(f"u.{filt.group_field} = ?")
            args.append(filt.group_value)
        hyp = "SELECT 1 FROM hypotheses x WHERE x.utt_id = u.id AND x.task = ? AND x.system = ?"
        if filt.has_system:
            where.append(f"EXISTS ({hyp} AND x.text IS NOT NULL)")
            args += [filt.task, filt.has_system]
        if filt.missing_system:
            where.append(f"NOT EXISTS ({hyp} AND x.text IS NOT NULL)")
            args += [filt.task, filt.missing_system]
        if filt.cer_system and (filt.cer_min is not None or filt.cer_max is not None):
            lo = -1.0 if filt.cer_min is None else filt.cer_min
            hi = float("inf") if filt.cer_max is None else filt.cer_max
            where.append(f"EXISTS ({hyp} AND x.cer BETWEEN ? AND ?)")
            args += [filt.task, filt.cer_system, lo, hi]
        if filt.disagreement_min is not None:
            where.append("u.disagreement >= ?")
            args.append(filt.disagreement_min)
        if filt.disagreement_max is not None:
            where.append("u.disagreement <= ?")
            args.append(filt.disagreement_max)
        if filt.tier is not None:
            if filt.tier not in TIERS:
                raise StoreError(f"unknown tier {filt.tier!r}; use one of {', '.join(TIERS)}")
            self.ensure_index("tier")
            where.append("u.tier = ?")
            args.append(filt.tier)
        if filt.audit:
            where.append("u.audit IS NOT NULL")
        if filt.text:
            phrase = spaced(filt.text)
            if phrase:
                self.refresh_search()
                where.append("u.id IN (SELECT rowid FROM utt_fts WHERE utt_fts MATCH ?)")
                args.append('"' + phrase.replace('"', '""') + '"')
        return where, args

    def _select(
        self, filt: Filter, sort: Sort, cursor_cmp: str | None, cursor: Cursor | None,
        reverse: bool,
    ) -> tuple[str, list[Any]]:
        if sort.field not in SORT_FIELDS:
            raise StoreError(f"unknown sort field {sort.field!r}")
        where, args = self._where(filt)
        join = ""
        join_args: list[Any] = []
        if sort.field == "cer":
            if not sort.system:
                raise StoreError("sorting by CER needs a system")
            join = "LEFT JOIN hypotheses h ON h.utt_id = u.id AND h.task = ? AND h.system = ?"
            join_args = [filt.task, sort.system]
        self.ensure_index(sort.field)
        expr = _SORT_EXPR[sort.field]
        if cursor_cmp is not None and cursor is not None:
            where.append(f"({expr}, u.id) {cursor_cmp} (?, ?)")
            args += [cursor[0], cursor[1]]
        descending = sort.descending != reverse
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT u.id, u.key, u.status, u.duration, "
            f"COALESCE(u.subset, u.sub_dialect, u.domain), u.confidence, u.disagreement, "
            f"substr(u.draft, 1, {_HEAD}), {expr}, u.risk "
            f"FROM utterances u {join} "
            + (f"WHERE {' AND '.join(where)} " if where else "")
            + f"ORDER BY {expr} {direction}, u.id {direction}"
        )
        return sql, join_args + args

    @staticmethod
    def _rows(raw: Iterable[Sequence[Any]]) -> list[ListRow]:
        return [
            ListRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "", (r[8], r[0]), r[9])
            for r in raw
        ]

    def page(
        self, filt: Filter, sort: Sort, *, after: Cursor | None = None,
        offset: int | None = None, limit: int = 100,
    ) -> list[ListRow]:
        """Rows after a cursor in display order; `offset` only for jumps with no cursor."""
        cmp = "<" if sort.descending else ">"
        sql, args = self._select(filt, sort, cmp if after else None, after, reverse=False)
        sql += " LIMIT ?"
        args.append(limit)
        if offset and after is None:
            sql += " OFFSET ?"
            args.append(offset)
        with self._lock:
            return self._rows(self._conn.execute(sql, args))

    def page_before(
        self, filt: Filter, sort: Sort, before: Cursor, limit: int = 100
    ) -> list[ListRow]:
        """The `limit` rows just before a cursor, in display order."""
        cmp = ">" if sort.descending else "<"
        sql, args = self._select(filt, sort, cmp, before, reverse=True)
        with self._lock:
            rows = self._rows(self._conn.execute(sql + " LIMIT ?", [*args, limit]))
        rows.reverse()
        return rows

    def count(self, filt: Filter | None = None) -> int:
        where, args = self._where(filt or Filter())
        sql = "SELECT count(*) FROM utterances u"
        if where:
            sql += f" WHERE {' AND '.join(where)}"
        with self._lock:
            return int(self._conn.execute(sql, args).fetchone()[0])

    def position(self, filt: Filter, sort: Sort, cursor: Cursor) -> int:
        """How many rows come before a cursor in display order (to place the list there)."""
        cmp = "<" if not sort.descending else ">"
        sql, args = self._select(filt, sort, cmp, cursor, reverse=False)
        with self._lock:
            return int(self._conn.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0])

    # --- one utterance -----------------------------------------------------------------

    def utterance(self, utt_id: int) -> Utterance:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {', '.join(_UTT_COLUMNS)} FROM utterances WHERE id = ?", (utt_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"no utterance with id {utt_id}")
            hyps = self._conn.execute(
                f"SELECT {', '.join(_HYP_COLUMNS)} FROM hypotheses WHERE utt_id = ? "
                "ORDER BY task, system",
                (utt_id,),
            ).fetchall()
        # row holds every column before `hypotheses`, which mypy cannot count.
        answers = tuple(
            Hypothesis(*h[:-1], times=timings.decode(h[-1]))  # type: ignore[misc]
            for h in hyps
        )
        return Utterance(*row, hypotheses=answers)  # type: ignore[misc]

    def utterance_id(self, key: str) -> int | None:
        with self._lock:
            row = self._conn.execute("SELECT id FROM utterances WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def ids_for_keys(self, keys: Sequence[str]) -> dict[str, int]:
        """Ids of the given keys that exist (in chunks, under SQLite's variable limit)."""
        found: dict[str, int] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                found.update(
                    self._conn.execute(
                        f"SELECT key, id FROM utterances WHERE key IN ({marks})", chunk
                    ).fetchall()
                )
        return found

    # --- edits -------------------------------------------------------------------------

    def save(
        self, utt_id: int, expected_version: int, changes: dict[str, Any], annotator: str
    ) -> Utterance:
        """Write changes if nobody saved since `expected_version`; log every changed field.

        Raises Conflict with the saved state when the version moved.
        """
        bad = set(changes) - set(EDITABLE)
        if bad:
            raise StoreError(f"cannot edit {', '.join(sorted(bad))}")
        if "status" in changes and changes["status"] not in STATUSES:
            raise StoreError(f"unknown status {changes['status']!r}")
        if "status" in changes and "provenance" not in changes:
            # A person's accept makes human gold; leaving accepted, the gold has no maker.
            accepted = changes["status"] == "accepted"
            changes = {**changes, "provenance": HUMAN if accepted else None}
        with self.transaction() as conn:
            self.apply(conn, utt_id, expected_version, changes, annotator)
        return self.utterance(utt_id)

    def apply(
        self, conn: sqlite3.Connection, utt_id: int, expected_version: int,
        changes: dict[str, Any], annotator: str, log: Sequence[tuple[str, Any, Any]] = (),
    ) -> str:
        """Save's write, inside the caller's transaction; `log` adds (field, old, new) entries
        to the edit log beside the changed fields. Returns the time stamp written."""
        row = conn.execute(
            f"SELECT version, {', '.join(EDITABLE)} FROM utterances WHERE id = ?", (utt_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no utterance with id {utt_id}")
        if row[0] != expected_version:
            raise Conflict(self.utterance(utt_id))
        old = dict(zip(EDITABLE, row[1:], strict=True))
        changed = {k: v for k, v in changes.items() if old[k] != v}
        stamp = now()
        columns = dict(changed)
        if "status" in changed:
            columns["accepted_by"] = annotator if changed["status"] == "accepted" else None
        sets = ", ".join(f"{k} = ?" for k in columns)
        conn.execute(
            f"UPDATE utterances SET {sets + ', ' if sets else ''}"
            "version = version + 1, annotator = ?, updated_at = ? WHERE id = ?",
            [*columns.values(), annotator, stamp, utt_id],
        )
        conn.executemany(
            "INSERT INTO edits (utt_id, field, old, new, annotator, at) VALUES (?,?,?,?,?,?)",
            [(utt_id, k, old[k], v, annotator, stamp) for k, v in changed.items()]
            + [(utt_id, f, o, n, annotator, stamp) for f, o, n in log],
        )
        if {"draft", "gold", "status"} & changed.keys():
            self.rescore(conn, [utt_id])
        if "draft" in changed:
            conn.execute("INSERT OR IGNORE INTO fts_dirty VALUES (?)", (utt_id,))
        return stamp

    def accept(
        self, utt_id: int, expected_version: int, *, draft: str, annotator: str,
        translation: str | None = None, age: str | None = None, gender: str | None = None,
        emotion: str | None = None,
    ) -> Utterance:
        """Save the draft as gold with its labels and mark the utterance accepted."""
        return self.save(
            utt_id,
            expected_version,
            {
                "draft": draft, "gold": draft, "translation": translation, "age": age,
                "gender": gender, "emotion": emotion, "status": "accepted", "pending": None,
            },
            annotator,
        )

    def discard(self, utt_id: int, changes: dict[str, Any], annotator: str) -> None:
        """Log a version given up in a conflict (marked discarded): both versions stay in the
        edit log whichever is kept, though only the kept one is in the utterance."""
        bad = set(changes) - set(EDITABLE)
        if bad:
            raise StoreError(f"cannot edit {', '.join(sorted(bad))}")
        stamp = now()
        with self.transaction() as conn:
            row = conn.execute(
                f"SELECT {', '.join(EDITABLE)} FROM utterances WHERE id = ?", (utt_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"no utterance with id {utt_id}")
            kept = dict(zip(EDITABLE, row, strict=True))
            conn.executemany(
                "INSERT INTO edits (utt_id, field, old, new, annotator, at, discarded) "
                "VALUES (?,?,?,?,?,?,1)",
                [(utt_id, k, kept[k], v, annotator, stamp) for k, v in changes.items()],
            )

    def edit_log(
        self, utt_id: int, *, discarded: bool = False
    ) -> list[tuple[str, str | None, str | None, str, str]]:
        """(field, old, new, annotator, at) for an utterance, oldest first: the edits made,
        or with `discarded` those given up in conflicts."""
        with self._lock:
            return self._conn.execute(
                "SELECT field, old, new, annotator, at FROM edits WHERE utt_id = ? "
                "AND discarded = ? ORDER BY id",
                (utt_id, int(discarded)),
            ).fetchall()

    # --- hypotheses --------------------------------------------------------------------

    def add_hypotheses(self, rows: Iterable[HypothesisIn]) -> int:
        """Insert or replace hypotheses in one transaction, scoring them as they go in."""
        batch = list(rows)
        if not batch:
            return 0
        stamp = now()
        ids = sorted({h.utt_id for h in batch})
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO hypotheses (utt_id, task, system, text, score, error, "
                "created_at, times) VALUES (?,?,?,?,?,?,?,?)",
                [(h.utt_id, h.task, h.system, h.text, h.score, h.error, stamp,
                  timings.encode(h.times)) for h in batch],
            )
            self.rescore(conn, ids, {(h.utt_id, h.system) for h in batch if h.task == "asr"})
            conn.executemany("INSERT OR IGNORE INTO fts_dirty VALUES (?)", [(i,) for i in ids])
        return len(batch)

    def rescore(
        self, conn: sqlite3.Connection, utt_ids: Sequence[int],
        only: set[tuple[int, str]] | None = None,
    ) -> None:
        """Recount the asr hypotheses of these utterances and their disagreement.

        `only` names the (utterance, system) pairs whose text is new: the others keep their
        counts, since their reference did not change. Call inside a write transaction.
        """
        for start in range(0, len(utt_ids), 500):
            chunk = list(utt_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            refs = dict(
                conn.execute(
                    "SELECT id, CASE WHEN status = 'accepted' AND gold IS NOT NULL "
                    f"THEN gold ELSE draft END FROM utterances WHERE id IN ({marks})",
                    chunk,
                ).fetchall()
            )
            hyps = conn.execute(
                f"SELECT utt_id, system, text FROM hypotheses WHERE task = 'asr' "
                f"AND utt_id IN ({marks})",
                chunk,
            ).fetchall()
            ref_tokens = {
                i: None if t is None else metrics.tokenize(t) for i, t in refs.items()
            }
            by_utt: dict[int, list[list[str]]] = {}
            updates: list[tuple[Any, ...]] = []
            for utt_id, system, text in hyps:
                ref = ref_tokens.get(utt_id)
                if text is None:
                    updates.append((None, None, None, None, None, utt_id, system))
                    continue
                tokens = metrics.tokenize(text)
                if system not in self.derived:
                    by_utt.setdefault(utt_id, []).append(tokens)
                if only is not None and (utt_id, system) not in only:
                    continue
                if ref is None:
                    updates.append((None, None, None, None, None, utt_id, system))
                    continue
                c = metrics.align_counts(ref, tokens)
                updates.append((c.n, c.s, c.d, c.i, c.cer, utt_id, system))
            conn.executemany(
                "UPDATE hypotheses SET n = ?, s = ?, d = ?, i = ?, cer = ? "
                "WHERE utt_id = ? AND system = ? AND task = 'asr'",
                updates,
            )
            conn.executemany(
                "UPDATE utterances SET disagreement = ? WHERE id = ?",
                [(disagreement(by_utt.get(i, [])), i) for i in chunk],
            )

    def systems(self, task: str = "asr") -> list[str]:
        with self._lock:
            return [
                r[0]
                for r in self._conn.execute(
                    "SELECT DISTINCT system FROM hypotheses INDEXED BY hyp_system "
                    "WHERE task = ? ORDER BY system",
                    (task,),
                )
            ]

    def pending(
        self, system: str, task: str, *, filt: Filter | None = None,
        shard: tuple[int, int] = (0, 1), only_missing: bool = True, limit: int | None = None,
    ) -> Iterator[PendingItem]:
        """Utterances still to run for (system, task) in this shard, shortest first.

        A recorded failure counts as done: re-running resumes, it does not retry.
        """
        index, count = shard
        self.ensure_index("duration")
        if not 0 <= index < count:
            raise StoreError(f"shard {index}/{count} is not one of 0..{count - 1}")
        where, args = self._where(filt or Filter())
        if only_missing:
            where.append(
                "NOT EXISTS (SELECT 1 FROM hypotheses x WHERE x.utt_id = u.id "
                "AND x.task = ? AND x.system = ?)"
            )
            args += [task, system]
        if count > 1:
            where.append("u.id % ? = ?")
            args += [count, index]
        sql = (
            "SELECT u.id, u.key, u.audio, u.duration, u.audio_error FROM utterances u"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY IFNULL(u.duration, -1), u.id"
            + (f" LIMIT {int(limit)}" if limit is not None else "")
        )
        # Read the ids first so writes by the caller between batches cannot disturb the scan.
        with self._lock:
            items = [PendingItem(*r) for r in self._conn.execute(sql, args)]
        yield from items

    # --- search ------------------------------------------------------------------------

    def refresh_search(self, progress: Any = None, chunk: int = 5000) -> int:
        """Bring the text-search index up to date; returns the utterances (re)indexed.

        Import stays fast by leaving this to the first search (or the app's start). It runs
        on a connection of its own, in short transactions, so readers and the reviewer's
        saves are never held up for long. `progress(done, total)` is called between chunks.
        A read-only project is searched with the index as it stands.
        """
        if self.readonly:
            return 0
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            return self._index_text(conn, progress, chunk)
        finally:
            conn.close()

    @staticmethod
    def _index_text(conn: sqlite3.Connection, progress: Any, chunk: int) -> int:
        mark_row = conn.execute(
            "SELECT value FROM meta WHERE name = 'fts_indexed_through'"
        ).fetchone()
        mark = int(mark_row[0]) if mark_row else 0
        top = conn.execute("SELECT IFNULL(max(id), 0) FROM utterances").fetchone()[0]
        dirty = conn.execute("SELECT count(*) FROM fts_dirty").fetchone()[0]
        total = max(top - mark, 0) + dirty
        done = 0
        text_sql = (
            "SELECT u.id, IFNULL(u.draft, '') || char(10) || IFNULL((SELECT group_concat("
            "x.text, char(10)) FROM hypotheses x WHERE x.utt_id = u.id), '') FROM utterances u "
        )
        insert = "INSERT OR REPLACE INTO utt_fts (rowid, text) VALUES (?, ?)"
        while done < total:
            conn.execute("BEGIN IMMEDIATE")
            ids = [r[0] for r in conn.execute("SELECT utt_id FROM fts_dirty LIMIT ?", (chunk,))]
            if ids:
                marks = ",".join("?" * len(ids))
                rows = conn.execute(f"{text_sql} WHERE u.id IN ({marks})", ids).fetchall()
                conn.execute(f"DELETE FROM utt_fts WHERE rowid IN ({marks})", ids)
                conn.executemany(insert, [(i, spaced(t)) for i, t in rows])
                conn.execute(f"DELETE FROM fts_dirty WHERE utt_id IN ({marks})", ids)
                done += len(ids)
            elif mark < top:
                upper = min(mark + chunk, top)
                cursor = conn.execute(f"{text_sql} WHERE u.id > ? AND u.id <= ?", (mark, upper))
                conn.executemany(insert, [(i, spaced(t)) for i, t in cursor.fetchall()])
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('fts_indexed_through', ?)", (upper,)
                )
                done += upper - mark
                mark = upper
            else:
                done = total  # dirty rows were cleared by another indexer meanwhile
            conn.execute("COMMIT")
            if progress is not None:
                progress(min(done, total), total)
        return done

    # --- counts for screens ------------------------------------------------------------

    def groups(self, group_field: str) -> list[tuple[str, int]]:
        if group_field not in GROUP_FIELDS:
            raise StoreError(f"unknown group field {group_field!r}")
        with self._lock:
            return self._conn.execute(
                f"SELECT IFNULL({group_field}, ''), count(*) FROM utterances "
                f"GROUP BY 1 ORDER BY 1"
            ).fetchall()

    def progress(self, group_field: str = "subset") -> list[tuple[str, int, int]]:
        """(group, accepted, total) per group."""
        if group_field not in GROUP_FIELDS:
            raise StoreError(f"unknown group field {group_field!r}")
        with self._lock:
            return self._conn.execute(
                f"SELECT IFNULL({group_field}, ''), sum(status = 'accepted'), count(*) "
                "FROM utterances GROUP BY 1 ORDER BY 1"
            ).fetchall()

    def status_counts(self) -> dict[str, int]:
        """Utterances per list status; `reviewed` ones are also counted as accepted."""
        with self._lock:
            found = dict(
                self._conn.execute("SELECT status, count(*) FROM utterances GROUP BY status")
            )
            found["reviewed"] = self._conn.execute(
                "SELECT count(*) FROM second_pass p JOIN utterances u ON u.id = p.utt_id "
                "WHERE u.status = 'accepted' AND p.gold IS u.gold"
            ).fetchone()[0]
        return {s: int(found.get(s, 0)) for s in LIST_STATUSES}

    def reviews_per_day(self) -> list[tuple[str, str, int]]:
        """(annotator, day, utterances accepted that day) from the edit log."""
        with self._lock:
            return self._conn.execute(
                "SELECT annotator, substr(at, 1, 10) AS day, count(DISTINCT utt_id) FROM edits "
                "WHERE field = 'status' AND new = 'accepted' AND NOT discarded "
                "GROUP BY annotator, day ORDER BY day, annotator"
            ).fetchall()


_PROJECT_TABLES = frozenset(("meta", "utterances", "hypotheses", "edits"))


def writable(path: str | os.PathLike[str]) -> bool:
    """Whether this process may write the file (an open for writing, which root's
    permission bypass and the immutable attribute both answer truthfully)."""
    try:
        os.close(os.open(path, os.O_WRONLY))
    except OSError:
        return False
    return True


def _connect_ro(path: Path, *, check_same_thread: bool = False) -> sqlite3.Connection:
    """A `mode=ro` connection. In a folder this process cannot write, SQLite cannot make the
    WAL index it needs; with no -wal file the main file holds everything committed, and it is
    then read as immutable."""
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    options: dict[str, Any] = {
        "uri": True, "isolation_level": None, "check_same_thread": check_same_thread,
        "timeout": 30.0,
    }
    conn: sqlite3.Connection
    try:
        conn = sqlite3.connect(uri, **options)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.DatabaseError as exc:
        if Path(f"{path}-wal").exists():
            raise StoreError(
                f"{path}: cannot read it read-only ({exc}): its folder is not writable and a "
                "-wal file is present; open it once where it can be written"
            ) from exc
    try:
        conn = sqlite3.connect(uri + "&immutable=1", **options)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot read it ({exc})") from exc
    return conn


def _check_project(path: Path, *, create: bool) -> int:
    """Refuse a non-empty file that is not a project, reading it without changing a byte;
    returns its schema version. A SQLite database with no tables at all is empty: `create`
    may make it a project."""
    try:
        conn = _connect_ro(path, check_same_thread=True)
    except StoreError as exc:
        raise StoreError(f"{path}: not a wu-workbench project ({exc.__cause__})") from exc
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a wu-workbench project ({exc})") from exc
    finally:
        conn.close()
    if version == 0 and not tables and create:
        return 0
    if version == 0 and tables >= _PROJECT_TABLES:
        raise StoreError(
            f"{path}: not a wu-workbench project: it has the project's tables but user_version "
            "0 (another tool rewrote it, or it was copied table by table)"
        )
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{path}: project schema version {version} is newer than this wu-workbench "
            f"({SCHEMA_VERSION}); upgrade wu-workbench"
        )
    if version == 0 or not tables >= _PROJECT_TABLES:
        shown = ", ".join(sorted(tables)[:5]) or "none"
        raise StoreError(
            f"{path}: not a wu-workbench project (user_version {version}; tables: {shown})"
        )
    return int(version)


def spaced(text: str) -> str:
    """Text as the search index holds it: each character a token, whitespace dropped."""
    return " ".join(c for c in text if not c.isspace())


def disagreement(hyps: Sequence[Sequence[str]]) -> float | None:
    """Mean normalised edit distance over pairs of systems' transcripts; None under two."""
    if len(hyps) < 2:
        return None
    pairs = list(combinations(hyps, 2))
    return sum(Levenshtein.normalized_distance(a, b) for a, b in pairs) / len(pairs)
