"""Scores of every system against accepted gold: CER (overall and per group), label
accuracy, and corpus BLEU for ast.

CER comes from the n/s/d/i counts the store keeps on each asr hypothesis (current against gold
once an utterance is accepted), so a million utterances report in plain SQL. As compute-cer.py
does, only utterances with both a reference and a hypothesis are scored; beside each CER is
how many gold utterances the system did not answer. `wu_norm` rescores every pair after the
Wu normalisation (db.metrics.tokenize(wu_norm=True)), which is the slow path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from db import metrics
from db.store import DERIVED_META, GROUP_FIELDS, TIERS, Store
from db.tasks import LABEL_TASKS, TASKS


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
class ProvenanceRow:
    """Accepted utterances by who made their gold (machine-accepted never counts as human)."""

    provenance: str
    utterances: int
    hours: float


@dataclass(frozen=True)
class AuditRow:
    id: int
    tier: str
    system: str
    size: int
    committed_at: str | None
    accepted: int | None
    cer: float | None
    cer_low: float | None
    cer_high: float | None
    hours: float | None


@dataclass(frozen=True)
class Triage:
    tiers: dict[str, int]  # utterances per consensus tier
    unseen: dict[str, int]  # of them still todo
    audits: list[AuditRow]
    hours_saved: float  # audio hours accepted unseen (bulk:<system>)
    # consensus system → voter → share of the consensus's slots where it had the winning arc
    agreement: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    gold: int  # accepted utterances with a gold transcript
    group_by: str | None
    groups: list[tuple[str, int]]  # (group, gold utterances in it)
    cer: list[SystemCer]  # best overall CER first
    labels: list[LabelScore]
    bleu: list[BleuScore]
    wu_norm: list[SystemCer] | None = None  # the same figures after the Wu normalisation
    oracle: Cer | None = None  # the best non-consensus system of each utterance: the ceiling
    provenance: list[ProvenanceRow] = field(default_factory=list)
    triage: Triage | None = None

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
            "oracle": None if self.oracle is None else self.oracle.to_json(),
            "provenance": [asdict(p) for p in self.provenance],
            "triage": None if self.triage is None else asdict(self.triage),
        }


# Gold a machine accepted (wuwb bulk-accept) is the consensus itself: it scores nobody.
_GOLD = (
    "u.status = 'accepted' AND u.gold IS NOT NULL "
    "AND IFNULL(u.provenance, 'human') NOT LIKE 'bulk:%'"
)
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
    groupings = (*GROUP_FIELDS, "tier")  # tier: the consensus tier (wuwb consensus)
    if group_by is not None and group_by not in groupings:
        raise ValueError(f"unknown grouping {group_by!r}; use one of {', '.join(groupings)}")
    grp = f"IFNULL(u.{group_by}, '')" if group_by else "''"
    # Its own connection: a report over a million rows must not hold the app's lock.
    with store.reader() as conn:
        present = _tasks_present(conn)
        group_gold = dict(
            conn.execute(f"SELECT {grp}, count(*) FROM utterances u WHERE {_GOLD} GROUP BY 1")
        )
        gold = sum(group_gold.values())
        cer: list[SystemCer] = []
        wu: list[SystemCer] | None = [] if wu_norm else None
        oracle = None
        derived = _derived(conn)
        if present.get("asr"):
            oracle = _oracle(conn, derived)
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
        provenance = [
            ProvenanceRow(p, n, h or 0.0) for p, n, h in conn.execute(
                "SELECT IFNULL(provenance, 'human'), count(*), sum(duration) / 3600.0 "
                "FROM utterances WHERE status = 'accepted' GROUP BY 1 ORDER BY 1"
            )
        ]
        triage = _triage(conn, provenance) if derived else None
    return Report(gold, group_by, sorted(group_gold.items()) if group_by else [], cer, labels,
                  bleu, wu, oracle, provenance, triage)


def _derived(conn: sqlite3.Connection) -> list[str]:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (DERIVED_META,)).fetchone()
    return [] if row is None else list(json.loads(row[0]))


def _oracle(conn: sqlite3.Connection, derived: list[str]) -> Cer | None:
    """Per gold utterance the answer with the fewest errors among the systems that are not
    consensus ones (SQLite takes the bare columns from the row min() picked)."""
    marks = ",".join("?" * len(derived)) or "NULL"
    row = conn.execute(
        "SELECT count(*), sum(n), sum(s), sum(d), sum(i), sum(n = 0) FROM (SELECT h.n AS n, "
        "h.s AS s, h.d AS d, h.i AS i, min(h.s + h.d + h.i) "
        f"{_JOIN} AND h.task = 'asr' WHERE h.text IS NOT NULL AND h.n IS NOT NULL AND {_GOLD} "
        f"AND h.system NOT IN ({marks}) GROUP BY u.id)",
        derived,
    ).fetchone()
    if not row[0]:
        return None
    return Cer(row[1] or 0, row[2] or 0, row[3] or 0, row[4] or 0, row[0], 0, row[5] or 0)


def _triage(conn: sqlite3.Connection, provenance: list[ProvenanceRow]) -> Triage:
    tiers: dict[str, int] = dict.fromkeys(TIERS, 0)
    unseen: dict[str, int] = dict.fromkeys(TIERS, 0)
    for tier, total, todo in conn.execute(
        "SELECT tier, count(*), sum(status = 'todo') FROM utterances WHERE tier IS NOT NULL "
        "GROUP BY tier"
    ):
        tiers[tier], unseen[tier] = total, todo or 0
    audits = [AuditRow(*r) for r in conn.execute(
        "SELECT id, tier, system, size, committed_at, accepted, cer, cer_low, cer_high, hours "
        "FROM audits ORDER BY id"
    )]
    agreement: dict[str, dict[str, float]] = {}
    for name, value in conn.execute("SELECT name, value FROM meta WHERE name LIKE 'consensus:%'"):
        totals = json.loads(value)["totals"]["agreement"]
        agreement[name.split(":", 1)[1]] = {
            s: hit / slots for s, (hit, slots) in sorted(totals.items()) if slots
        }
    saved = sum(p.hours for p in provenance if p.provenance.startswith("bulk:"))
    return Triage(tiers, unseen, audits, saved, agreement)


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
