"""Which accepted utterances go to a second reviewer: the project's policy and its SQL.

The policy is `none`, `all`, or a fraction. A fraction samples by a Fibonacci hash of the
utterance id and a per-project seed: the same project always samples the same utterances
(reproducible), each utterance is equally likely, and because the hash of consecutive ids is a
low-discrepancy sequence every annotator's run of work gets close to exactly that fraction.
The test is plain integer SQL, so any connection (export, the sqlite3 shell) sees the same set.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from typing import Any

from db.errors import WorkbenchError

_GOLDEN = 2654435761  # 2^32 / golden ratio, the multiplier of Fibonacci hashing
_SCALE = 1 << 32
# Annotators whose accepts are not a person's first pass: imported references.
NOT_REVIEWABLE: tuple[str, ...] = ("import",)


class PolicyError(WorkbenchError, ValueError):
    """A second-pass policy that cannot be read."""


@dataclass(frozen=True)
class Policy:
    fraction: float  # 0 = none, 1 = all
    seed: int = 0

    def __str__(self) -> str:
        if self.fraction <= 0:
            return "none"
        if self.fraction >= 1:
            return "all"
        return f"{self.fraction * 100:g}%"


def parse(text: str) -> float:
    """`none`, `all`, `10%` or `0.1` as a fraction."""
    word = text.strip().lower()
    if word == "none":
        return 0.0
    if word == "all":
        return 1.0
    try:
        value = float(word[:-1]) / 100 if word.endswith("%") else float(word)
    except ValueError:
        raise PolicyError(f"second-pass policy {text!r}: use none, all, a percentage (10%) "
                          "or a fraction (0.1)") from None
    if not 0 <= value <= 1:
        raise PolicyError(f"second-pass policy {text!r}: must lie between 0 and 100 %")
    return value


def read(conn: sqlite3.Connection) -> Policy:
    rows = dict(
        conn.execute(
            "SELECT name, value FROM meta WHERE name IN ('second_pass', 'second_pass_seed')"
        ).fetchall()
    )
    return Policy(float(rows.get("second_pass", 0.0)), int(rows.get("second_pass_seed", 0)))


def write(conn: sqlite3.Connection, fraction: float) -> Policy:
    """Set the policy; the seed is drawn once per project and kept, so the sample is stable."""
    policy = read(conn)
    seed = policy.seed or random.SystemRandom().randrange(1, 1 << 20)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('second_pass', ?)", (repr(fraction),))
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('second_pass_seed', ?)", (str(seed),))
    return Policy(fraction, seed)


def sampled_sql(policy: Policy, id_expr: str = "u.id") -> tuple[str, list[Any]]:
    """An SQL condition true for the utterances the policy samples."""
    if policy.fraction <= 0:
        return "0", []
    if policy.fraction >= 1:
        return "1", []
    # The id is folded under 2^31 first so the product stays inside SQLite's 64-bit integers.
    return (
        f"((({id_expr} + ?) % 2147483648) * {_GOLDEN}) % {_SCALE} < ?",
        [policy.seed, int(policy.fraction * _SCALE)],
    )


def first_sql(table: str = "u") -> str:
    """Who gave an accepted utterance's first pass: who accepted it (older rows: who saved)."""
    return f"COALESCE({table}.accepted_by, {table}.annotator)"


def reviewed_sql(id_expr: str = "u.id", gold_expr: str = "u.gold") -> str:
    """True when the utterance's second pass is done and its gold is still the one the
    second reviewer settled on (a later change of the gold undoes `reviewed`)."""
    return (
        f"EXISTS (SELECT 1 FROM second_pass p WHERE p.utt_id = {id_expr} "
        f"AND p.gold IS {gold_expr})"
    )


def due_sql(
    policy: Policy, reviewer: str | None, status_expr: str = "u.status"
) -> tuple[str, list[Any]]:
    """Accepted, sampled, not yet second-passed, and (for a reviewer) not their own work.
    `status_expr` "+u.status" keeps the status index from driving the query."""
    sample, args = sampled_sql(policy)
    marks = ",".join("?" * len(NOT_REVIEWABLE))
    first = first_sql()
    where = (
        f"{status_expr} = 'accepted' AND {first} IS NOT NULL AND {first} NOT IN ({marks}) "
        f"AND NOT EXISTS (SELECT 1 FROM second_pass p WHERE p.utt_id = u.id) AND {sample}"
    )
    out = [*NOT_REVIEWABLE, *args]
    if reviewer is not None:
        where += f" AND {first} <> ?"
        out.append(reviewer)
    return where, out
