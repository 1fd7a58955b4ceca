"""Per-annotator agreement and throughput, and the project's pace (`wuwb report --by
annotator`, the statistics screen).

Throughput comes from save times in the edit log: the gap before each accept (or second pass)
is the time spent on that utterance, and gaps over IDLE_S are breaks, not work. Agreement
comes from the second_pass table: the first annotator's gold scored against the second
reviewer's as a hypothesis against its reference (CER), and Cohen's kappa per label task.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from db import metrics, second_pass_policy
from db.second_pass import waiting
from db.store import Store
from db.tasks import LABEL_TASKS

IDLE_S = 300  # a gap longer than this between two saves is a break
PACE_DAYS = 7  # the pace is the mean over this many most recent working days
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Annotator:
    name: str
    accepted: int = 0  # utterances they accepted (first pass)
    audio_minutes: float = 0.0  # audio of those utterances
    second_passes: int = 0  # second passes they gave
    median_s: float | None = None  # seconds per utterance, breaks cut
    audio_minutes_per_hour: float | None = None  # of work time, breaks cut
    reviewed: int = 0  # of their utterances, how many had a second pass
    approved: int = 0  # of those, approved unchanged
    second_pass_cer: float | None = None  # their gold against the second reviewer's
    second_pass_counts: tuple[int, int, int, int] = (0, 0, 0, 0)  # N, S, D, I
    kappa: dict[str, float | None] = field(default_factory=dict)  # per label task
    kappa_pairs: dict[str, int] = field(default_factory=dict)
    took_unchanged: int = 0  # accepted exactly as some system's hypothesis
    took_by_system: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Pace:
    per_day: list[tuple[str, int, int]]  # (day, accepted, second passes)
    todo: int
    second_pass_due: int
    per_day_recent: float | None  # accepted per working day, over the last PACE_DAYS
    days_left: float | None  # todo at that pace


@dataclass(frozen=True)
class TeamReport:
    annotators: list[Annotator]
    pace: Pace
    policy: str

    def to_json(self) -> dict[str, Any]:
        return {
            "second_pass_policy": self.policy,
            "annotators": [asdict(a) for a in self.annotators],
            "pace": {
                **asdict(self.pace),
                "per_day": [
                    {"day": d, "accepted": a, "second_passes": s} for d, a, s in self.pace.per_day
                ],
            },
        }


@dataclass
class _Work:
    """One annotator's saves as they are added up."""

    accepted: set[int] = field(default_factory=set)
    minutes: float = 0.0
    passes: int = 0
    times: list[float] = field(default_factory=list)
    timed_s: float = 0.0
    timed_minutes: float = 0.0


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels; None when undefined (no pairs, or chance
    agreement is certain: both used one and the same label throughout)."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    chance = sum(first[k] * second[k] for k in first) / (n * n)
    if chance >= 1:
        return None
    return (observed - chance) / (1 - chance)


def work_times(stamps: list[str], idle_s: int = IDLE_S) -> list[float | None]:
    """Seconds spent on each save: the gap since the previous one, None after a break (or
    for the first)."""
    out: list[float | None] = []
    previous: datetime | None = None
    for text in stamps:
        at = datetime.strptime(text, _STAMP)
        gap = None if previous is None else (at - previous).total_seconds()
        out.append(gap if gap is not None and gap <= idle_s else None)
        previous = at
    return out


def build_team_report(store: Store, idle_s: int = IDLE_S) -> TeamReport:
    with store.locked() as conn:
        events = conn.execute(
            "SELECT e.annotator, e.utt_id, e.at, e.field, IFNULL(u.duration, 0) FROM edits e "
            "JOIN utterances u ON u.id = e.utt_id WHERE e.annotator <> 'import' AND "
            "((e.field = 'status' AND e.new = 'accepted') OR e.field = 'second_pass') "
            "ORDER BY e.annotator, e.at, e.id"
        ).fetchall()
        passes = conn.execute(
            "SELECT first_annotator, first_gold, gold, verdict, first_age, age, first_gender, "
            "gender, first_emotion, emotion FROM second_pass"
        ).fetchall()
        took = conn.execute(
            "SELECT COALESCE(p.first_annotator, u.accepted_by, u.annotator) AS who, h.system, u.id "
            "FROM utterances u LEFT JOIN second_pass p ON p.utt_id = u.id "
            "JOIN hypotheses h ON h.utt_id = u.id AND h.task = 'asr' "
            "WHERE u.status = 'accepted' AND h.text = COALESCE(p.first_gold, u.gold)"
        ).fetchall()
        todo = conn.execute("SELECT count(*) FROM utterances WHERE status = 'todo'").fetchone()
        policy = second_pass_policy.read(conn)
    due = waiting(store)

    by_name: dict[str, _Work] = {}
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, group in groupby(events, key=lambda e: str(e[0])):
        mine = list(group)
        work = by_name[name] = _Work()
        for (_, utt_id, at, kind, duration), spent in zip(
            mine, work_times([e[2] for e in mine], idle_s), strict=True
        ):
            first_time = kind == "status" and utt_id not in work.accepted
            if kind == "status":
                work.accepted.add(utt_id)
                work.minutes += duration / 60 if first_time else 0.0
            else:
                work.passes += 1
            if kind == "second_pass" or first_time:
                days[at[:10]][0 if kind == "status" else 1] += 1
            if spent is not None:
                work.times.append(spent)
                work.timed_s += spent
                work.timed_minutes += duration / 60

    pairs: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in passes:
        pairs[row[0]].append(row)
    took_by: dict[str, Counter[str]] = defaultdict(Counter)
    took_utts: dict[str, set[int]] = defaultdict(set)
    for who, system, utt_id in took:
        if who is not None:
            took_by[who][system] += 1
            took_utts[who].add(utt_id)

    names = sorted(set(by_name) | set(pairs) | set(took_by))
    annotators = []
    for name in names:
        acc = by_name.get(name, _Work())
        rows = pairs.get(name, [])
        total = metrics.corpus_counts((r[2], r[1]) for r in rows)
        kappa: dict[str, float | None] = {}
        kappa_pairs: dict[str, int] = {}
        for index, task in enumerate(LABEL_TASKS):
            labelled = [
                (r[4 + 2 * index], r[5 + 2 * index]) for r in rows
                if r[4 + 2 * index] is not None and r[5 + 2 * index] is not None
            ]
            kappa[task] = cohen_kappa(labelled)
            kappa_pairs[task] = len(labelled)
        hours = acc.timed_s / 3600
        annotators.append(Annotator(
            name=name,
            accepted=len(acc.accepted),
            audio_minutes=acc.minutes,
            second_passes=acc.passes,
            median_s=statistics.median(acc.times) if acc.times else None,
            audio_minutes_per_hour=acc.timed_minutes / hours if hours else None,
            reviewed=len(rows),
            approved=sum(r[3] == "approved" for r in rows),
            second_pass_cer=total.cer,
            second_pass_counts=(total.n, total.s, total.d, total.i),
            kappa=kappa,
            kappa_pairs=kappa_pairs,
            took_unchanged=len(took_utts.get(name, ())),
            took_by_system=dict(took_by[name].most_common()),
        ))

    per_day = [(day, a, s) for day, (a, s) in sorted(days.items())]
    recent = [a for _, a, _ in per_day if a][-PACE_DAYS:]
    rate = sum(recent) / len(recent) if recent else None
    left = int(todo[0])
    return TeamReport(
        annotators,
        Pace(per_day, left, due, rate, left / rate if rate else None),
        str(policy),
    )


def render(report: TeamReport) -> list[Any]:
    """Rich tables for the terminal (data text goes through db.safe_text.safe)."""
    from rich.table import Table
    from rich.text import Text

    from db.safe_text import safe

    def num(value: float | None, fmt: str) -> str:
        return "—" if value is None else format(value, fmt)

    def table(title: str, *columns: str) -> Table:
        out = Table(title=title, title_justify="left")
        out.add_column("annotator")
        for name in columns:
            out.add_column(name, justify="right")
        return out

    work = table("Throughput per annotator", "accepted", "audio min", "median s/utt",
                 "audio min/h", "2nd passes given")
    agree = table("Agreement with the second pass", "reviewed", "approved", "CER %",
                  *(f"κ {t}" for t in LABEL_TASKS))
    took = table("Hypotheses taken unchanged", "utterances", "share %")
    took.add_column("by system")
    for a in report.annotators:
        who = Text(safe(a.name))
        work.add_row(
            who, f"{a.accepted:,}", f"{a.audio_minutes:.1f}", num(a.median_s, ".0f"),
            num(a.audio_minutes_per_hour, ".1f"), f"{a.second_passes:,}",
        )
        cer = None if a.second_pass_cer is None else a.second_pass_cer * 100
        agree.add_row(
            who, f"{a.reviewed:,}", f"{a.approved:,}", num(cer, ".2f"),
            *(num(a.kappa.get(t), ".2f") for t in LABEL_TASKS),
        )
        share = a.took_unchanged / a.accepted if a.accepted else None
        systems = ", ".join(f"{safe(s)} {n:,}" for s, n in a.took_by_system.items())
        took.add_row(who, f"{a.took_unchanged:,}", num(None if share is None else share * 100,
                                                       ".0f"), Text(systems))
    if not report.annotators:
        work.add_row("—", "nobody has saved anything yet", *[""] * 4)

    pace = report.pace
    days = Table(title="Progress per day", title_justify="left")
    days.add_column("day")
    days.add_column("accepted", justify="right")
    days.add_column("2nd passes", justify="right")
    for day, accepted, second in pace.per_day:
        days.add_row(day, f"{accepted:,}", f"{second:,}")
    rate = "—" if pace.per_day_recent is None else f"{pace.per_day_recent:,.1f}/day"
    left = "—" if pace.days_left is None else f"{pace.days_left:,.1f} working days"
    pace_line = Text(
        f"todo {pace.todo:,} · at {rate} (last {PACE_DAYS} working days): {left} left · "
        f"second pass ({report.policy}): {pace.second_pass_due:,} waiting"
    )
    return [work, agree, took, days, pace_line]
