"""The second pass: a reviewer who is not the first annotator approves or corrects gold.

What the first pass said (gold and labels) and what the second reviewer settled on are kept
in the second_pass table for the agreement figures (db.team_report); a correction also goes
through the edit log like any save, so the first-pass gold stays there as the old value.
"""

from __future__ import annotations

from dataclasses import dataclass

from db import second_pass_policy
from db.errors import WorkbenchError
from db.store import Store, StoreError, Utterance
from db.tasks import LABEL_TASKS


class SecondPassError(WorkbenchError, ValueError):
    """A second pass that may not be given (own work, not accepted, already reviewed)."""


@dataclass(frozen=True)
class Verdict:
    """What the second reviewer has on screen when they approve or correct."""

    gold: str
    translation: str | None = None
    age: str | None = None
    gender: str | None = None
    emotion: str | None = None


def set_policy(store: Store, policy: str) -> second_pass_policy.Policy:
    """Set the project's policy from `none`, `all`, `10%` or `0.1`."""
    fraction = second_pass_policy.parse(policy)
    with store.transaction() as conn:
        return second_pass_policy.write(conn, fraction)


def policy(store: Store) -> second_pass_policy.Policy:
    with store.locked() as conn:
        return second_pass_policy.read(conn)


def review(
    store: Store, utt_id: int, expected_version: int, reviewer: str, verdict: Verdict
) -> Utterance:
    """Record a second pass: `approved` when the reviewer's values equal the first pass's,
    else `corrected` (gold and labels saved as theirs). Raises Conflict like Store.save."""
    with store.transaction() as conn:
        row = conn.execute(
            f"SELECT status, {second_pass_policy.first_sql('utterances')}, gold, translation, "
            "age, gender, emotion, "
            "EXISTS (SELECT 1 FROM second_pass p WHERE p.utt_id = utterances.id) "
            "FROM utterances WHERE id = ?",
            (utt_id,),
        ).fetchone()
        if row is None:
            raise StoreError(f"no utterance with id {utt_id}")
        status, first, gold, translation, *labels, done = row
        if status != "accepted" or first is None or first in second_pass_policy.NOT_REVIEWABLE:
            raise SecondPassError("only utterances a person accepted get a second pass")
        if done:
            raise SecondPassError("this utterance has had its second pass already")
        if first == reviewer:
            raise SecondPassError(
                f"{reviewer} gave the first pass: the second must come from someone else"
            )
        before = (gold, translation, *labels)
        after = (verdict.gold, verdict.translation, verdict.age, verdict.gender, verdict.emotion)
        outcome = "approved" if before == after else "corrected"
        changes = {"draft": verdict.gold, "gold": verdict.gold, "translation": verdict.translation}
        changes |= {task: getattr(verdict, task) for task in LABEL_TASKS}
        stamp = store.apply(
            conn, utt_id, expected_version, changes, reviewer,
            log=[("second_pass", first, outcome)],
        )
        conn.execute(
            "INSERT INTO second_pass (utt_id, first_annotator, first_gold, first_age, "
            "first_gender, first_emotion, reviewer, gold, age, gender, emotion, verdict, at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (utt_id, first, gold, *labels, reviewer, verdict.gold, verdict.age,
             verdict.gender, verdict.emotion, outcome, stamp),
        )
    return store.utterance(utt_id)


def first_pass(store: Store, utt_id: int) -> tuple[str, str | None, str] | None:
    """(first annotator, their gold, verdict) of a reviewed utterance, else None."""
    with store.locked() as conn:
        row = conn.execute(
            "SELECT first_annotator, first_gold, verdict FROM second_pass WHERE utt_id = ?",
            (utt_id,),
        ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def waiting(store: Store) -> int:
    """Accepted utterances the policy sends to a second pass that have not had it."""
    with store.locked() as conn:
        where, args = second_pass_policy.due_sql(second_pass_policy.read(conn), None)
        return int(
            conn.execute(f"SELECT count(*) FROM utterances u WHERE {where}", args)
            .fetchone()[0]
        )
