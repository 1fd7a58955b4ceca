"""Bulk accept with an audit: measure what a tier's consensus gets wrong before accepting it.

An audit is a uniform random sample of a tier's unseen utterances (status todo), marked for
review. Once people have accepted every one of them, the residual CER of the tier is
estimated as the corpus CER of the consensus against their gold, with a 95 % percentile
bootstrap interval over utterances. The commit then accepts the tier's other unseen
utterances with the consensus as gold, in one transaction (all or none), marked with the
provenance `bulk:<system>` so they are never taken for human gold.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from db import metrics
from db.errors import WorkbenchError
from db.store import TIERS, Store, now

BOOTSTRAP = 2000  # resamples for the interval
COMMIT_CHUNK = 5000  # rows per step of the commit (one transaction throughout)


class TriageError(WorkbenchError, ValueError):
    """An audit or a bulk accept that cannot be done as asked."""


@dataclass(frozen=True)
class Audit:
    id: int
    tier: str
    system: str
    size: int
    seed: int
    created_at: str
    committed_at: str | None
    accepted: int | None


@dataclass(frozen=True)
class Estimate:
    """The residual CER of a tier's consensus, measured on an audit."""

    audited: int  # utterances in the estimate
    tokens: int  # their gold characters
    errors: int  # the consensus's errors on them
    low: float
    high: float
    unseen: int  # the tier's utterances still unseen (what a commit would accept)
    unseen_tokens: int  # their consensus characters (the gold's size is unknown)

    @property
    def cer(self) -> float:
        return self.errors / self.tokens if self.tokens else 0.0

    @property
    def expected_wrong(self) -> tuple[float, float, float]:
        """Expected wrong characters in the unseen part: (estimate, low, high)."""
        n = self.unseen_tokens
        return self.cer * n, self.low * n, self.high * n


@dataclass(frozen=True)
class Progress:
    audit: Audit
    accepted: int  # audit utterances people accepted
    other: int  # audit utterances skipped or flagged (not usable until accepted)


def bootstrap(
    errors: Sequence[int], tokens: Sequence[int], seed: int, population: int | None = None,
    rounds: int = BOOTSTRAP,
) -> tuple[float, float]:
    """95 % interval of the corpus CER sum(errors) / sum(tokens) of the utterances *not*
    audited: the percentile interval from resampling the audited utterances, widened
    around the estimate by sqrt(P / (P - n)) for a tier of P utterances of which n were
    audited (the unseen part is the audit's complement, not the whole tier; for a large
    tier this is 1). With no error seen the upper bound is at least the rule of three."""
    e = np.asarray(errors, dtype=np.int64)
    n = np.asarray(tokens, dtype=np.int64)
    if len(e) == 0 or n.sum() == 0:
        raise TriageError("nothing to estimate from: the audit has no gold characters")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(e), size=(rounds, len(e)))
    sums_n = n[picks].sum(axis=1)
    rates = e[picks].sum(axis=1) / np.maximum(sums_n, 1)
    low, high = (float(x) for x in np.percentile(rates, [2.5, 97.5]))
    if population is not None and population > len(e):
        rate = float(e.sum() / n.sum())
        widen = float(np.sqrt(population / (population - len(e))))
        low, high = max(0.0, rate - (rate - low) * widen), rate + (high - rate) * widen
    if e.sum() == 0:
        high = max(high, 3.0 / float(n.sum()))
    return low, high


def _check_tier(tier: str) -> None:
    if tier not in TIERS:
        raise TriageError(f"unknown tier {tier!r}; use one of {', '.join(TIERS)}")


def _audit(row: Sequence[object]) -> Audit:
    return Audit(*row)  # type: ignore[arg-type]


_AUDIT_COLS = "id, tier, system, size, seed, created_at, committed_at, accepted"


def open_audit(store: Store, tier: str) -> Audit | None:
    """The tier's audit not yet committed, if any."""
    with store.locked() as conn:
        row = conn.execute(
            f"SELECT {_AUDIT_COLS} FROM audits WHERE tier = ? AND committed_at IS NULL "
            "ORDER BY id DESC LIMIT 1",
            (tier,),
        ).fetchone()
    return None if row is None else _audit(row)


def consensus_system(store: Store) -> str:
    derived = sorted(store.derived)
    if not derived:
        raise TriageError("no consensus yet: run wuwb consensus first")
    return "consensus" if "consensus" in derived else derived[0]


def _unseen_sql(tier_param: bool = True) -> str:
    # Unseen: nobody has touched it (todo, no edit by a person) and a consensus exists.
    return (
        "FROM utterances u JOIN hypotheses h ON h.utt_id = u.id AND h.task = 'asr' "
        "AND h.system = ? WHERE " + ("u.tier = ? AND " if tier_param else "")
        + "u.status = 'todo' AND u.audit IS NULL AND h.text IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM edits e WHERE e.utt_id = u.id "
        "AND e.annotator != 'import' AND e.annotator != h.system)"
    )


def draw(
    store: Store, tier: str, size: int, seed: int, system: str, annotator: str
) -> tuple[Audit, int]:
    """Draw a uniform sample of `size` unseen utterances of the tier and mark them for
    review; returns the audit and the tier's unseen count it was drawn from."""
    _check_tier(tier)
    if size < 1:
        raise TriageError("--audit needs a size of at least 1")
    if open_audit(store, tier) is not None:
        raise TriageError(f"tier {tier} has an audit under way: see --status")
    store.ensure_index("tier")
    with store.transaction() as conn:
        ids = conn.execute(f"SELECT u.id {_unseen_sql()} ORDER BY u.id", (system, tier))
        # Positions first, then one pass over the ids: memory is the sample's, not the tier's.
        count = conn.execute(f"SELECT count(*) {_unseen_sql()}", (system, tier)).fetchone()[0]
        if count == 0:
            raise TriageError(f"tier {tier} has no unseen utterances with a {system} answer")
        wanted = sorted(random.Random(seed).sample(range(count), min(size, count)))
        picked: list[int] = []
        nxt = 0
        for position, (utt_id,) in enumerate(ids):
            if nxt < len(wanted) and position == wanted[nxt]:
                picked.append(utt_id)
                nxt += 1
                if nxt == len(wanted):
                    break
        ids.close()  # done reading before this transaction writes
        cur = conn.execute(
            "INSERT INTO audits (tier, system, size, seed, created_at, annotator) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (tier, system, len(picked), seed, now(), annotator),
        )
        audit_id = int(cur.lastrowid or 0)
        conn.executemany(
            "UPDATE utterances SET audit = ? WHERE id = ?", [(audit_id, i) for i in picked]
        )
        row = conn.execute(f"SELECT {_AUDIT_COLS} FROM audits WHERE id = ?", (audit_id,))
        audit = _audit(row.fetchone())
    return audit, count


def progress(store: Store, audit: Audit) -> Progress:
    with store.locked() as conn:
        accepted, other = conn.execute(
            "SELECT IFNULL(sum(status = 'accepted' AND provenance = 'human'), 0), "
            "IFNULL(sum(status != 'todo' AND NOT (status = 'accepted' "
            "AND provenance = 'human')), 0) FROM utterances WHERE audit = ?",
            (audit.id,),
        ).fetchone()
    return Progress(audit, int(accepted), int(other))


def estimate(store: Store, audit: Audit) -> Estimate:
    """The residual CER from the audit's human gold so far, and the tier's unseen size."""
    errors: list[int] = []
    tokens: list[int] = []
    with store.locked() as conn:
        for gold, text in conn.execute(
            "SELECT u.gold, h.text FROM utterances u JOIN hypotheses h ON h.utt_id = u.id "
            "AND h.task = 'asr' AND h.system = ? WHERE u.audit = ? AND u.status = 'accepted' "
            "AND u.provenance = 'human' ORDER BY u.id",
            (audit.system, audit.id),
        ):
            c = metrics.counts(gold, text)
            errors.append(c.errors)
            tokens.append(c.n)
        unseen, unseen_tokens = _unseen_size(conn, audit)
    low, high = bootstrap(errors, tokens, audit.seed, len(errors) + unseen)
    return Estimate(len(errors), sum(tokens), sum(errors), low, high, unseen, unseen_tokens)


def _unseen_size(conn: sqlite3.Connection, audit: Audit) -> tuple[int, int]:
    count = 0
    chars = 0
    for (text,) in conn.execute(f"SELECT h.text {_unseen_sql()}", (audit.system, audit.tier)):
        count += 1
        chars += len(metrics.tokenize(text))
    return count, chars


def commit(
    store: Store, audit: Audit, annotator: str, *, max_cer: float | None = None,
    report: Callable[[int, int], None] | None = None,
) -> tuple[Estimate, int]:
    """Accept the tier's unseen utterances with the consensus as gold: all in one
    transaction, so a kill leaves none accepted. Refused until every audit utterance is
    accepted by a person, and when the interval's upper bound is above `max_cer`."""
    if audit.committed_at is not None:
        raise TriageError(f"audit {audit.id} was committed at {audit.committed_at}")
    done = progress(store, audit)
    if done.accepted < audit.size:
        raise TriageError(
            f"audit {audit.id}: {done.accepted} of {audit.size} utterances accepted by a "
            f"person; accept the rest first (skipped or flagged: {done.other})"
        )
    est = estimate(store, audit)
    if max_cer is not None and est.high > max_cer:
        raise TriageError(
            f"the residual CER's upper bound {100 * est.high:.2f}% is above --max-cer "
            f"{100 * max_cer:.2f}%: nothing accepted"
        )
    provenance = f"bulk:{audit.system}"
    stamp = now()
    accepted = 0
    with store.transaction() as conn:
        conn.execute("DROP TABLE IF EXISTS temp.bulk")
        conn.execute(
            "CREATE TEMP TABLE bulk (n INTEGER PRIMARY KEY, id INTEGER, text TEXT, "
            "draft TEXT, hours REAL)"
        )
        conn.execute(
            "INSERT INTO temp.bulk (id, text, draft, hours) "
            f"SELECT u.id, h.text, u.draft, IFNULL(u.duration, 0) / 3600.0 {_unseen_sql()} "
            "ORDER BY u.id",
            (audit.system, audit.tier),
        )
        total, hours = conn.execute(
            "SELECT count(*), IFNULL(sum(hours), 0) FROM temp.bulk"
        ).fetchone()
        for start in range(1, total + 1, COMMIT_CHUNK):
            span = (start, start + COMMIT_CHUNK - 1)
            for name, old, new in (
                ("status", "'todo'", "'accepted'"),
                ("gold", "NULL", "b.text"),
                ("provenance", "NULL", "?"),
            ):
                conn.execute(
                    "INSERT INTO edits (utt_id, field, old, new, annotator, at) "
                    f"SELECT b.id, '{name}', {old}, {new}, ?, ? FROM temp.bulk b "
                    "WHERE b.n BETWEEN ? AND ?",
                    ([provenance] if name == "provenance" else []) + [annotator, stamp, *span],
                )
            conn.execute(
                "INSERT INTO edits (utt_id, field, old, new, annotator, at) "
                "SELECT b.id, 'draft', b.draft, b.text, ?, ? FROM temp.bulk b "
                "WHERE b.n BETWEEN ? AND ? AND b.draft IS NOT b.text",
                (annotator, stamp, *span),
            )
            conn.execute(
                "UPDATE utterances SET gold = b.text, draft = b.text, status = 'accepted', "
                "provenance = ?, annotator = ?, updated_at = ?, version = version + 1 "
                "FROM temp.bulk b WHERE b.id = utterances.id AND b.n BETWEEN ? AND ?",
                (provenance, annotator, stamp, *span),
            )
            # Hypotheses were scored against the draft: where the draft was not the
            # consensus, they are scored again against the new gold.
            changed = [r[0] for r in conn.execute(
                "SELECT id FROM temp.bulk WHERE n BETWEEN ? AND ? AND draft IS NOT text", span
            )]
            if changed:
                store.rescore(conn, changed)
                conn.executemany("INSERT OR IGNORE INTO fts_dirty VALUES (?)",
                                 [(i,) for i in changed])
            accepted = min(span[1], total)
            if report is not None:
                report(accepted, total)
        conn.execute(
            "UPDATE audits SET cer = ?, cer_low = ?, cer_high = ?, committed_at = ?, "
            "accepted = ?, hours = ? WHERE id = ?",
            (est.cer, est.low, est.high, stamp, total, hours, audit.id),
        )
        conn.execute("DROP TABLE temp.bulk")
    return est, accepted


def audits(store: Store) -> list[tuple[Audit, float | None, float | None, float | None,
                                      float | None]]:
    """Every audit with (cer, low, high, hours) as committed."""
    with store.locked() as conn:
        rows = conn.execute(
            f"SELECT {_AUDIT_COLS}, cer, cer_low, cer_high, hours FROM audits ORDER BY id"
        ).fetchall()
    return [(_audit(r[:8]), r[8], r[9], r[10], r[11]) for r in rows]
