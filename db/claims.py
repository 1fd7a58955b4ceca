"""Claims: which annotator is working on which utterances, under a lease.

An annotator claims the next N unclaimed utterances of their filter and order in one write
transaction (BEGIN IMMEDIATE: SQLite lets one writer in at a time, so two annotators claiming
at once get disjoint batches). A claim carries a lease that the open app renews; a claim whose
lease ran out (the app was killed, the laptop closed) is freed by the next claim anyone makes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from db.errors import WorkbenchError
from db.store import Filter, Sort, Store

DEFAULT_BATCH = 20
DEFAULT_LEASE = timedelta(hours=2)
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


class ClaimError(WorkbenchError, ValueError):
    """A claim request that cannot be served as asked."""


def stamp(at: datetime | None = None) -> str:
    """A time as the claims table stores it (UTC, seconds; compares as text)."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime(_STAMP)


def parse_lease(text: str) -> timedelta:
    """`90s`, `45m`, `2h` (or a bare number of minutes) as a lease length."""
    units = {"s": 1, "m": 60, "h": 3600}
    word = text.strip().lower()
    unit = units.get(word[-1:])
    number = word[:-1] if unit else word
    try:
        seconds = float(number) * (unit or 60)
    except ValueError:
        raise ClaimError(f"lease {text!r}: use a length such as 30m or 2h") from None
    if seconds < 1:
        raise ClaimError(f"lease {text!r}: must be at least a second")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Holding:
    """What one annotator holds for one pass."""

    annotator: str
    pass_: int
    count: int
    since: str  # the oldest claim's time
    expires: str  # the latest lease end


def claim_batch(
    store: Store, annotator: str, filt: Filter, sort: Sort, *, size: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE, pass_: int = 1, at: datetime | None = None,
) -> int:
    """Renew this annotator's claims and top them up to `size` open ones; returns how many
    utterances of `filt` they now hold.

    A claim stays open while its utterance still matches `filt` (e.g. still todo); the rest
    (accepted, skipped) are let go here. Expired leases are freed first, so the batch may
    take utterances someone else abandoned.
    """
    if size < 1:
        raise ClaimError("the batch size must be at least 1")
    filt = replace(filt, claimed_by=None, unclaimed=False)
    start = stamp(at)
    until = stamp((at or datetime.now(UTC)) + lease)
    # Built outside the write transaction: building may make an index or the search index,
    # which must not hold the write lock (the search index writes on a connection of its own).
    where, args = store._where(filt)
    # CROSS JOIN keeps the claims the outer loop: a batch is small, the queue may be huge.
    mine_done = (
        "DELETE FROM claims WHERE utt_id IN (SELECT c.utt_id FROM claims c CROSS JOIN "
        "utterances u ON u.id = c.utt_id WHERE c.annotator = ? AND c.pass = ?"
        + (f" AND NOT ({' AND '.join(where)})" if where else " AND 0")
        + ")"
    )
    mine_open = (
        "SELECT count(*) FROM claims c CROSS JOIN utterances u ON u.id = c.utt_id "
        "WHERE c.annotator = ? AND c.pass = ?" + "".join(f" AND {w}" for w in where)
    )
    pick, pick_args = store._select(replace(filt, unclaimed=True), sort, None, None, reverse=False)
    with store.transaction() as conn:
        conn.execute("DELETE FROM claims WHERE expires_at <= ?", (start,))
        conn.execute(mine_done, [annotator, pass_, *args])
        conn.execute(
            "UPDATE claims SET expires_at = ? WHERE annotator = ? AND pass = ?",
            (until, annotator, pass_),
        )
        held = int(conn.execute(mine_open, [annotator, pass_, *args]).fetchone()[0])
        if held < size:
            ids = [r[0] for r in conn.execute(f"{pick} LIMIT ?", [*pick_args, size - held])]
            conn.executemany(
                "INSERT INTO claims (utt_id, annotator, pass, claimed_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(i, annotator, pass_, start, until) for i in ids],
            )
            held += len(ids)
    return held


def renew(
    store: Store, annotator: str, lease: timedelta = DEFAULT_LEASE, at: datetime | None = None
) -> int:
    """Push back the lease of every live claim of this annotator; returns how many."""
    start = stamp(at)
    until = stamp((at or datetime.now(UTC)) + lease)
    with store.transaction() as conn:
        return conn.execute(
            "UPDATE claims SET expires_at = ? WHERE annotator = ? AND expires_at > ?",
            (until, annotator, start),
        ).rowcount


def release(store: Store, annotator: str, pass_: int | None = None) -> int:
    """Free this annotator's claims (of one pass, or all); returns how many."""
    sql = "DELETE FROM claims WHERE annotator = ?"
    args: list[object] = [annotator]
    if pass_ is not None:
        sql += " AND pass = ?"
        args.append(pass_)
    with store.transaction() as conn:
        return conn.execute(sql, args).rowcount


def holder(store: Store, utt_id: int, at: datetime | None = None) -> str | None:
    """Who holds a live claim on this utterance, if anyone."""
    with store.locked() as conn:
        row = conn.execute(
            "SELECT annotator FROM claims WHERE utt_id = ? AND expires_at > ?",
            (utt_id, stamp(at)),
        ).fetchone()
    return None if row is None else str(row[0])


def holdings(store: Store, at: datetime | None = None) -> list[Holding]:
    """Live claims per annotator and pass, oldest first."""
    with store.locked() as conn:
        rows = conn.execute(
            "SELECT annotator, pass, count(*), min(claimed_at), max(expires_at) FROM claims "
            "WHERE expires_at > ? GROUP BY annotator, pass ORDER BY min(claimed_at), annotator",
            (stamp(at),),
        ).fetchall()
    return [Holding(*r) for r in rows]
