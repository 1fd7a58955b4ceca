"""Scores of every system against accepted gold: CER (overall and per group), label
accuracy, and corpus BLEU for ast.

CER comes from the n/s/d/i counts the store keeps on each asr hypothesis (current against gold
once an utterance is accepted), so a million utterances report in plain SQL. As compute-cer.py
does, only utterances with both a reference and a hypothesis are scored; beside each CER is
how many gold utterances the system did not answer. `wu_norm` rescores every pair after the
Wu normalisation (db.metrics.tokenize(wu_norm=True)), which is the slow path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from db import metrics
from db.store import GROUP_FIELDS, Store
from db.tasks import LABEL_TASKS, TASKS

OVERALL = ""  # the group key of the overall figure


@dataclass(frozen=True)
class Cer(metrics.Counts):
    """Summed counts over the utterances a system answered in one group."""

    scored: int = 0  # utterances with a gold reference and this system's answer
    unanswered: int = 0  # gold utterances without an answer from this system
    empty_refs: int = 0  # scored utterances whose reference has no tokens (counted apart)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cer": self.cer}


@dataclass(frozen=True)
class SystemCer:
    system: str
    overall: Cer
    groups: dict[str, Cer] = field(default_factory=dict)


@dataclass(frozen=True)
class LabelScore:
    system: str
    task: str
    correct: int
    answered: int
    off_label: int  # answers that named no label of the task (wrong, and kept raw)
    unanswered: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True)
class BleuScore:
    system: str
    bleu: float | None
    scored: int
    unanswered: int


@dataclass(frozen=True)
class Report:
    gold: int  # accepted utterances with a gold transcript
    group_by: str | None
    groups: list[tuple[str, int]]  # (group, gold utterances in it)
    cer: list[SystemCer]  # best overall CER first
    labels: list[LabelScore]
    bleu: list[BleuScore]
    wu_norm: list[SystemCer] | None = None  # the same figures after the Wu normalisation

    def to_json(self) -> dict[str, Any]:
        def cer_rows(rows: list[SystemCer]) -> list[dict[str, Any]]:
            return [
                {
                    "system": r.system,
                    "overall": r.overall.to_json(),
                    "groups": {g: c.to_json() for g, c in r.groups.items()},
                }
                for r in rows
            ]

        return {
            "gold_utterances": self.gold,
            "group_by": self.group_by,
            "groups": [{"group": g, "gold": n} for g, n in self.groups],
            "cer": cer_rows(self.cer),
            "cer_wu_norm": None if self.wu_norm is None else cer_rows(self.wu_norm),
            "labels": [{**asdict(s), "accuracy": s.accuracy} for s in self.labels],
            "bleu": [asdict(b) for b in self.bleu],
        }


_GOLD = "u.status = 'accepted' AND u.gold IS NOT NULL"
# Utterances drive every join (CROSS JOIN keeps them the outer loop): the hypotheses' primary
# key starts with utt_id, so both tables are read in order instead of hopping about.
_JOIN = "FROM utterances u CROSS JOIN hypotheses h ON h.utt_id = u.id"
# Distinct systems by skipping through the hyp_system index, one probe per system.
_SYSTEMS = (
    "WITH RECURSIVE s(system) AS (SELECT min(system) FROM hypotheses UNION ALL "
    "SELECT (SELECT min(system) FROM hypotheses WHERE system > s.system) FROM s "
    "WHERE s.system IS NOT NULL) SELECT system FROM s WHERE system IS NOT NULL"
)


def build_report(store: Store, group_by: str | None = None, *, wu_norm: bool = False) -> Report:
    if group_by is not None and group_by not in GROUP_FIELDS:
        raise ValueError(f"unknown grouping {group_by!r}; use one of {', '.join(GROUP_FIELDS)}")
    grp = f"IFNULL(u.{group_by}, '')" if group_by else "''"
    # Its own connection: a report over a million rows must not hold the app's lock.
    conn = store.reader()
    try:
        present = _tasks_present(conn)
        group_gold = dict(
            conn.execute(f"SELECT {grp}, count(*) FROM utterances u WHERE {_GOLD} GROUP BY 1")
        )
        gold = sum(group_gold.values())
        cer: list[SystemCer] = []
        wu: list[SystemCer] | None = [] if wu_norm else None
        if present.get("asr"):
            sums = conn.execute(
                f"SELECT h.system, {grp}, count(*), sum(h.n), sum(h.s), sum(h.d), sum(h.i), "
                f"sum(h.n = 0) {_JOIN} AND h.task = 'asr' WHERE h.text IS NOT NULL AND {_GOLD} "
                "GROUP BY 1, 2"
            ).fetchall()
            cer = _cer_table(sums, group_gold, group_by is not None)
            if wu_norm:
                wu = _wu_norm(conn, grp, group_gold, group_by is not None)
        labels = _labels(conn) if any(present.get(t) for t in LABEL_TASKS) else []
        bleu = _bleu(conn, present.get("ast", []))
    finally:
        conn.close()
    return Report(gold, group_by, sorted(group_gold.items()) if group_by else [], cer, labels,
                  bleu, wu)


def _tasks_present(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """task → systems with at least one hypothesis for it, from the index alone."""
    systems = [r[0] for r in conn.execute(_SYSTEMS)]
    present: dict[str, list[str]] = {}
    for system in systems:
        for task in TASKS:
            if conn.execute(
                "SELECT EXISTS (SELECT 1 FROM hypotheses WHERE system = ? AND task = ?)",
                (system, task),
            ).fetchone()[0]:
                present.setdefault(task, []).append(system)
    return present


def _cer_table(
    sums: list[tuple[Any, ...]], group_gold: dict[str, int], grouped: bool
) -> list[SystemCer]:
    by_system: dict[str, dict[str, Cer]] = {}
    for system, group, scored, n, s, d, i, empty in sums:
        by_system.setdefault(system, {})[group] = Cer(
            n or 0, s or 0, d or 0, i or 0, scored, group_gold.get(group, 0) - scored, empty or 0
        )
    rows = []
    total_gold = sum(group_gold.values())
    for system, groups in by_system.items():
        cells = groups.values()
        scored = sum(c.scored for c in cells)
        overall = Cer(
            sum(c.n for c in cells), sum(c.s for c in cells), sum(c.d for c in cells),
            sum(c.i for c in cells), scored, total_gold - scored, sum(c.empty_refs for c in cells),
        )
        per_group = (
            {g: groups.get(g, Cer(unanswered=gold)) for g, gold in sorted(group_gold.items())}
            if grouped else {}
        )
        rows.append(SystemCer(system, overall, per_group))
    rows.sort(key=lambda r: (r.overall.cer is None, r.overall.cer or 0.0, r.system))
    return rows


def _wu_norm(
    conn: sqlite3.Connection, grp: str, group_gold: dict[str, int], grouped: bool
) -> list[SystemCer]:
    totals: dict[tuple[str, str], list[int]] = {}
    cursor = conn.execute(
        f"SELECT h.system, {grp}, u.gold, h.text {_JOIN} AND h.task = 'asr' "
        f"WHERE h.text IS NOT NULL AND {_GOLD}"
    )
    for system, group, ref, hyp in cursor:
        c = metrics.counts(ref, hyp, wu_norm=True)
        t = totals.setdefault((system, group), [0, 0, 0, 0, 0, 0])
        t[0] += 1
        t[1] += c.n
        t[2] += c.s
        t[3] += c.d
        t[4] += c.i
        t[5] += c.n == 0
    sums = [(sys_, g, t[0], t[1], t[2], t[3], t[4], t[5]) for (sys_, g), t in totals.items()]
    return _cer_table(sums, group_gold, grouped)


def _labels(conn: sqlite3.Connection) -> list[LabelScore]:
    gold = dict(zip(LABEL_TASKS, conn.execute(
        "SELECT " + ", ".join(f"sum({t} IS NOT NULL)" for t in LABEL_TASKS)
        + " FROM utterances WHERE status = 'accepted'"
    ).fetchone(), strict=True))
    label = "CASE h.task " + " ".join(f"WHEN '{t}' THEN u.{t}" for t in LABEL_TASKS) + " END"
    tasks = ", ".join(f"'{t}'" for t in LABEL_TASKS)
    rows = conn.execute(
        f"SELECT h.system, h.task, count(*), sum(h.error IS NULL AND h.text = {label}), "
        f"sum(h.error IS NOT NULL) {_JOIN} AND h.task IN ({tasks}) "
        f"WHERE h.text IS NOT NULL AND u.status = 'accepted' AND {label} IS NOT NULL "
        "GROUP BY 1, 2"
    ).fetchall()
    order = {t: n for n, t in enumerate(LABEL_TASKS)}
    return [
        LabelScore(system, task, correct or 0, answered, off or 0, (gold[task] or 0) - answered)
        for system, task, answered, correct, off in sorted(rows, key=lambda r: (order[r[1]], r[0]))
    ]


def _bleu(conn: sqlite3.Connection, systems: list[str]) -> list[BleuScore]:
    if not systems:
        return []
    where = "u.status = 'accepted' AND IFNULL(u.translation, '') != ''"
    gold = conn.execute(f"SELECT count(*) FROM utterances u WHERE {where}").fetchone()[0]
    scores = []
    for system in sorted(systems):
        refs, hyps = _pairs(conn.execute(
            f"SELECT u.translation, h.text {_JOIN} AND h.task = 'ast' AND h.system = ? "
            f"WHERE h.text IS NOT NULL AND {where}",
            (system,),
        ))
        scores.append(BleuScore(system, metrics.bleu(refs, hyps), len(refs), gold - len(refs)))
    return scores


def _pairs(rows: Iterator[tuple[str, str]]) -> tuple[list[str], list[str]]:
    refs: list[str] = []
    hyps: list[str] = []
    for ref, hyp in rows:
        refs.append(ref)
        hyps.append(hyp)
    return refs, hyps
