"""`wuwb consensus` over a whole project: weights, the vote per utterance, risk and tiers.

The project is walked in ranges of utterance ids. Worker processes (one per core) read a
range on connections of their own and vote; this process writes each range's results in one
transaction together with a watermark in `meta`, so a killed run re-run with the same request
continues after the last range written, and memory stays that of a few ranges whatever the
project's size.

Risk is the consensus's expected character errors (the sum over its slots of 1 - the winner's
share of the weight), plus 1 - the corpus confidence when the corpus gave one (read as the
corpus's own chance that a character is wrong somewhere). Tiers: `agree` when at least two
systems answered and all are identical after normalisation (and the risk is at most
`agree_max`, when given), `high` when at least two answered and the risk is at most
`high_max`, else `low` (a lone answer is never trusted unseen).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from db import consensus, metrics
from db.errors import WorkbenchError
from db.store import DERIVED_META, Store, now

CHUNK = 20000  # utterance ids per range: one transaction, one unit of resumption
AUTO, EQUAL = "auto", "equal"
_STATE = "consensus:"  # meta name prefix of a run's state, followed by the system name


class ConsensusError(WorkbenchError, ValueError):
    """A consensus that cannot be made as asked."""


@dataclass(frozen=True)
class Request:
    systems: tuple[str, ...] = ()  # empty: every system of the task except derived ones
    task: str = "asr"
    name: str = "consensus"
    weights: str = AUTO  # auto, equal, or A=0.5,B=0.3
    high_max: float = 0.5
    agree_max: float | None = None
    draft: bool = False  # also make it the draft where no person wrote the draft
    min_gold: int = 100  # gold utterances per system before weights are learnt from them


@dataclass
class Weights:
    """Weights per system, overall and for the subsets with gold enough of their own."""

    overall: dict[str, float]
    subsets: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # which were used, and why


@dataclass
class Totals:
    """Figures over the whole run, kept in meta so a resumed run reports them whole."""

    done_through: int = 0
    voted: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    drafts: int = 0
    # per system: [slots where its arc won, slots of the utterances it answered]
    agreement: dict[str, list[int]] = field(default_factory=dict)


def parse_weights(text: str) -> dict[str, float] | str:
    """auto / equal, or explicit SYSTEM=WEIGHT pairs."""
    if text in (AUTO, EQUAL):
        return text
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.rpartition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not name or weight <= 0:
            raise ConsensusError(
                f"--weights: {part!r} is not SYSTEM=WEIGHT with a positive weight"
            )
        out[name] = weight
    if not out:
        raise ConsensusError("--weights: give auto, equal or SYSTEM=WEIGHT,…")
    return out


def resolve_systems(store: Store, request: Request, explicit: dict[str, float] | None) -> list[str]:
    present = [s for s in store.systems(request.task) if s != request.name]
    if request.systems:
        wanted = list(request.systems)
    elif explicit:
        wanted = list(explicit)
    else:
        wanted = [s for s in present if s not in store.derived]
    missing = [s for s in wanted if s not in present]
    if missing:
        raise ConsensusError(
            f"no {request.task} hypotheses from {', '.join(missing)}; the project has "
            f"{', '.join(present) or 'none'}"
        )
    if request.name in wanted:
        raise ConsensusError(f"{request.name} is the consensus's own name, not a voter")
    if not wanted:
        raise ConsensusError(f"the project has no {request.task} hypotheses to vote on")
    if explicit and set(explicit) != set(wanted):
        raise ConsensusError("--weights must give a weight for every voting system, and only them")
    return wanted


def learn_weights(store: Store, systems: Sequence[str], request: Request) -> Weights:
    """Weights as the request says; `auto` learns them from gold no machine accepted."""
    mode = parse_weights(request.weights)
    if isinstance(mode, dict):
        return Weights(mode, notes=["weights as given"])
    equal = dict.fromkeys(systems, 1.0)
    if mode == EQUAL:
        return Weights(equal, notes=["equal weights"])
    if request.task != "asr":
        return Weights(equal, notes=["auto: no CER for this task, equal weights"])
    marks = ",".join("?" * len(systems))
    rows = store.execute(
        "SELECT h.system, IFNULL(u.subset, ''), count(*), sum(h.n), sum(h.s + h.d + h.i) "
        "FROM utterances u CROSS JOIN hypotheses h ON h.utt_id = u.id AND h.task = 'asr' "
        "WHERE u.status = 'accepted' AND u.gold IS NOT NULL "
        "AND IFNULL(u.provenance, 'human') NOT LIKE 'bulk:%' "
        f"AND h.text IS NOT NULL AND h.n IS NOT NULL AND h.system IN ({marks}) GROUP BY 1, 2",
        list(systems),
    )
    per: dict[str, dict[str, list[int]]] = {}  # subset → system → [utts, tokens, errors]
    overall: dict[str, list[int]] = {s: [0, 0, 0] for s in systems}
    for system, subset, utts, tokens, errors in rows:
        per.setdefault(subset, {})[system] = [utts, tokens or 0, errors or 0]
        for i, v in enumerate((utts, tokens or 0, errors or 0)):
            overall[system][i] += v
    fewest = min(v[0] for v in overall.values())
    if fewest < request.min_gold:
        return Weights(equal, notes=[
            f"auto: {fewest} gold utterances for the least-covered system (< {request.min_gold}"
            "), equal weights"
        ])
    weights = Weights({s: consensus.log_odds_weight(e, n) for s, (_, n, e) in overall.items()})
    weights.notes.append(f"auto: learnt from the gold overall (>= {fewest} utterances a system)")
    for subset, by_system in sorted(per.items()) if len(per) > 1 else ():
        if all(by_system.get(s, [0])[0] >= request.min_gold for s in systems):
            weights.subsets[subset] = {
                s: consensus.log_odds_weight(by_system[s][2], by_system[s][1]) for s in systems
            }
            weights.notes.append(f"auto: subset {subset or '(none)'} has its own weights")
    return weights


def describe(weights: dict[str, float]) -> str:
    total = sum(weights.values())
    return " ".join(f"{s}={weights[s] / total:.3f}" for s in consensus.rank(weights))


# --- the vote over one range of ids (in a worker process) ----------------------------------


@dataclass(frozen=True)
class Job:
    path: str
    lo: int
    hi: int
    task: str
    name: str
    orders: dict[str | None, list[tuple[str, int]]]  # subset (None: overall) → voting order
    high_max: float
    agree_max: float | None
    draft: bool


@dataclass
class Result:
    hi: int
    hyps: list[tuple[Any, ...]] = field(default_factory=list)  # rows for hypotheses
    risks: list[tuple[Any, ...]] = field(default_factory=list)  # (risk, tier, id)
    drafts: list[tuple[int, str, str | None]] = field(default_factory=list)  # id, new, old
    tiers: dict[str, int] = field(default_factory=dict)
    agreement: dict[str, list[int]] = field(default_factory=dict)


_conns: dict[str, sqlite3.Connection] = {}  # a worker process's read connections, by file


def _read(path: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)


def tier_of(c: consensus.Consensus, risk: float, high_max: float, agree_max: float | None) -> str:
    if c.unanimous and (agree_max is None or risk <= agree_max):
        return "agree"
    if c.voters >= 2 and risk <= high_max:
        return "high"
    return "low"


def answers_sql(systems: int) -> str:
    """The voters' answers in a range of utterance ids. The unary + keeps SQLite on the
    primary key's utt_id range: on the hyp_system index every range would read every answer
    of each system."""
    marks = ",".join("?" * systems)
    return (
        "SELECT utt_id, system, text FROM hypotheses WHERE utt_id BETWEEN ? AND ? "
        f"AND +task = ? AND +system IN ({marks}) AND text IS NOT NULL"
    )


def vote_in_worker(job: Job) -> Result:
    """`vote_range` in a worker process, on a connection it keeps for the next range."""
    conn = _conns.get(job.path)
    if conn is None:
        conn = _conns[job.path] = _read(job.path)
    return vote_range(job, conn)


def vote_range(job: Job, conn: sqlite3.Connection) -> Result:
    """Consensus, risk and tier of every utterance with ids in [lo, hi]."""
    systems = sorted({s for order in job.orders.values() for s, _ in order})
    answers: dict[int, dict[str, str]] = {}
    for utt_id, system, text in conn.execute(
        answers_sql(len(systems)), [job.lo, job.hi, job.task, *systems]
    ):
        answers.setdefault(utt_id, {})[system] = text
    human: set[int] = set()
    if job.draft:
        human = {r[0] for r in conn.execute(
            "SELECT DISTINCT utt_id FROM edits WHERE utt_id BETWEEN ? AND ? AND field = 'draft' "
            "AND annotator != 'import' AND annotator != ?",
            (job.lo, job.hi, job.name),
        )}
    result = Result(job.hi)
    stamp = now()
    agreement = result.agreement
    for system in systems:
        agreement[system] = [0, 0]
    overall = job.orders[None]
    for utt_id, subset, confidence, status, gold, draft in conn.execute(
        "SELECT id, IFNULL(subset, ''), confidence, status, gold, draft FROM utterances "
        "WHERE id BETWEEN ? AND ?",
        (job.lo, job.hi),
    ):
        said = answers.get(utt_id)
        if not said:
            continue
        order = job.orders.get(subset, overall)
        voters = order if len(said) == len(order) else [(s, w) for s, w in order if s in said]
        c = consensus.combine([said[s] for s, _ in voters], [w for _, w in voters])
        risk = c.expected_errors + (0.0 if confidence is None else max(0.0, 1.0 - confidence))
        tier = tier_of(c, risk, job.high_max, job.agree_max)
        result.tiers[tier] = result.tiers.get(tier, 0) + 1
        for (s, _), hit in zip(voters, c.matches, strict=True):
            tally = agreement[s]
            tally[0] += hit
            tally[1] += c.slots
        if job.draft and status == "todo" and utt_id not in human and draft != c.text:
            result.drafts.append((utt_id, c.text, draft))
            draft = c.text
        # Counted against gold (what the report needs), or a draft it equals. Against any
        # other draft the count (compute-cer's DP, the dearest step here) waits for the
        # utterance's next save; the review screen computes it live meanwhile.
        accepted = status == "accepted" and gold is not None
        if job.task != "asr" or not (accepted or draft == c.text):
            n = s_ = d = i = cer = None
        else:
            k = metrics.align_counts(
                metrics.tokenize(gold if accepted else draft), metrics.tokenize(c.text)
            )
            n, s_, d, i, cer = k.n, k.s, k.d, k.i, k.cer
        result.hyps.append(
            (utt_id, job.task, job.name, c.text, stamp, n, s_, d, i, cer, c.agreement)
        )
        result.risks.append((risk, tier, utt_id))
    return result


# --- the run ---------------------------------------------------------------------------------


def _state_name(request: Request) -> str:
    return _STATE + request.name


def _fingerprint(request: Request, systems: Sequence[str]) -> dict[str, Any]:
    return {**asdict(request), "systems": sorted(systems)}


def load_state(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (_STATE + name,)).fetchone()
    return None if row is None else json.loads(row[0])


def run(
    store: Store, request: Request, *, jobs: int | None = None, restart: bool = False,
    progress: Callable[[int, int], None] | None = None, chunk: int = CHUNK,
) -> tuple[Totals, Weights, bool]:
    """Make (or continue making) the consensus; returns its totals, weights and whether it
    continued an earlier run."""
    explicit = parse_weights(request.weights)
    systems = resolve_systems(store, request, explicit if isinstance(explicit, dict) else None)
    fingerprint = _fingerprint(request, systems)
    if restart:
        state = None
    else:
        with store.locked() as conn:
            state = load_state(conn, request.name)
    resumed = state is not None and state["request"] == fingerprint
    if resumed:
        assert state is not None
        weights = Weights(state["weights"], state["subset_weights"], state["notes"])
        totals = Totals(**state["totals"])
    else:
        weights = learn_weights(store, systems, request)
        totals = Totals()
    orders: dict[str | None, list[tuple[str, int]]] = {}
    for subset, table in [(None, weights.overall), *weights.subsets.items()]:
        ranked = consensus.rank(table)
        orders[subset] = list(zip(ranked, consensus.scaled([table[s] for s in ranked]),
                                  strict=True))
    with store.locked() as conn:
        top = conn.execute("SELECT IFNULL(max(id), 0) FROM utterances").fetchone()[0]
    _mark_derived(store, request.name)
    ranges = [
        (lo, min(lo + chunk - 1, top)) for lo in range(totals.done_through + 1, top + 1, chunk)
    ]
    def make(lo: int, hi: int) -> Job:
        return Job(
            str(store.path), lo, hi, request.task, request.name, orders, request.high_max,
            request.agree_max, request.draft,
        )

    jobs = max(1, jobs or min(2, os.cpu_count() or 1))

    def save(result: Result, lo: int) -> None:
        _write(store, request, result, lo, totals, weights, fingerprint)
        if progress is not None:
            progress(result.hi, top)

    if jobs == 1 or len(ranges) < 2:
        conn = _read(str(store.path))
        try:
            for lo, hi in ranges:
                save(vote_range(make(lo, hi), conn), lo)
        finally:
            conn.close()
        return totals, weights, resumed
    # Spawned workers: forking a process that holds SQLite connections is unsafe.
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        window: deque[tuple[int, Any]] = deque()
        todo = iter(ranges)
        for lo, hi in todo:
            window.append((lo, pool.apply_async(vote_in_worker, (make(lo, hi),))))
            if len(window) >= 2 * jobs:  # a bounded queue: memory stays a few ranges
                first_lo, pending = window.popleft()
                save(pending.get(), first_lo)
        while window:
            first_lo, pending = window.popleft()
            save(pending.get(), first_lo)
    return totals, weights, resumed


def _mark_derived(store: Store, name: str) -> None:
    derived = sorted(store.derived | {name})
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", (DERIVED_META, json.dumps(derived))
        )
    store.derived = frozenset(derived)


def _write(
    store: Store, request: Request, result: Result, lo: int, totals: Totals, weights: Weights,
    fingerprint: dict[str, Any],
) -> None:
    """One range's results and the watermark, in one transaction."""
    stamp = now()
    totals.done_through = result.hi
    totals.voted += len(result.hyps)
    totals.drafts += len(result.drafts)
    for tier, count in result.tiers.items():
        totals.tiers[tier] = totals.tiers.get(tier, 0) + count
    for system, (hit, slots) in result.agreement.items():
        tally = totals.agreement.setdefault(system, [0, 0])
        tally[0] += hit
        tally[1] += slots
    state = {
        "request": fingerprint, "weights": weights.overall, "subset_weights": weights.subsets,
        "notes": weights.notes, "totals": asdict(totals), "updated_at": stamp,
    }
    with store.transaction() as conn:
        # What an earlier run left in this range goes first: an utterance that lost its
        # answers meanwhile keeps no stale consensus or tier.
        conn.execute(
            "DELETE FROM hypotheses WHERE utt_id BETWEEN ? AND ? AND +task = ? AND +system = ?",
            (lo, result.hi, request.task, request.name),
        )
        conn.execute(
            "UPDATE utterances SET risk = NULL, tier = NULL WHERE id BETWEEN ? AND ? "
            "AND tier IS NOT NULL",
            (lo, result.hi),
        )
        conn.executemany(
            "INSERT INTO hypotheses (utt_id, task, system, text, created_at, n, s, d, i, cer, "
            "agreement) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            result.hyps,
        )
        conn.executemany("UPDATE utterances SET risk = ?, tier = ? WHERE id = ?", result.risks)
        if result.drafts:
            conn.executemany(
                "UPDATE utterances SET draft = ?, version = version + 1, annotator = ?, "
                "updated_at = ? WHERE id = ?",
                [(new, request.name, stamp, i) for i, new, _ in result.drafts],
            )
            conn.executemany(
                "INSERT INTO edits (utt_id, field, old, new, annotator, at) "
                "VALUES (?, 'draft', ?, ?, ?, ?)",
                [(i, old, new, request.name, stamp) for i, new, old in result.drafts],
            )
            store.rescore(conn, [i for i, _, _ in result.drafts])
        # Text search re-reads utterances it indexed already; the rest it reads anyway.
        indexed = conn.execute(
            "SELECT IFNULL((SELECT CAST(value AS INTEGER) FROM meta "
            "WHERE name = 'fts_indexed_through'), 0)"
        ).fetchone()[0]
        conn.executemany(
            "INSERT OR IGNORE INTO fts_dirty VALUES (?)",
            [(h[0],) for h in result.hyps if h[0] <= indexed],
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            (_state_name(request), json.dumps(state, ensure_ascii=False)),
        )
