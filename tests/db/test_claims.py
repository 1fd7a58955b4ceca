"""Claims with leases on real project files, claimed by real concurrent processes."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from team_helpers import make_project

from db import claims
from db.store import Filter, Sort, Store

TODO = Filter(status="todo")
ROUNDS = 50


def _claimer(path: str, name: str, rounds: int, barrier: Any, out: Any) -> None:
    store = Store.open(path, create=False)
    for _ in range(rounds):
        barrier.wait()  # both processes start their claim together
        claims.claim_batch(store, name, TODO, Sort(), size=20)
        out.put((name, sorted(claims_of(store, name))))
        barrier.wait()  # the main process has read both batches
        claims.release(store, name)
    store.close()


def claims_of(store: Store, name: str) -> list[int]:
    return [r.id for r in store.page(Filter(claimed_by=name), Sort(), limit=1000)]


def test_two_processes_claiming_at_once_get_disjoint_batches(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    make_project(path, 60).close()
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(3)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_claimer, args=(str(path), name, ROUNDS, barrier, out))
        for name in ("ann", "bob")
    ]
    for p in procs:
        p.start()
    try:
        for _ in range(ROUNDS):
            barrier.wait(timeout=120)
            got = dict(out.get(timeout=120) for _ in procs)
            assert len(got["ann"]) == len(got["bob"]) == 20
            assert not set(got["ann"]) & set(got["bob"])
            barrier.wait(timeout=120)
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs)


def test_batch_follows_filter_and_order_and_tops_up(tmp_path: Path) -> None:
    store = make_project(tmp_path / "team.db", 30)
    held = claims.claim_batch(store, "ann", TODO, Sort(descending=True), size=5)
    assert held == 5
    mine = store.page(Filter(claimed_by="ann"), Sort(descending=True))
    assert [r.key for r in mine] == [f"utt_{i:04d}" for i in range(29, 24, -1)]
    # Two accepted: they leave the batch and the next two in order come in.
    for row in mine[:2]:
        utt = store.utterance(row.id)
        store.accept(utt.id, utt.version, draft="好", annotator="ann")
    assert claims.claim_batch(store, "ann", TODO, Sort(descending=True), size=5) == 5
    keys = [r.key for r in store.page(Filter(claimed_by="ann"), Sort(descending=True))]
    assert keys == [f"utt_{i:04d}" for i in range(27, 22, -1)]
    # Another annotator never gets them.
    claims.claim_batch(store, "bob", TODO, Sort(descending=True), size=5)
    bob = [r.key for r in store.page(Filter(claimed_by="bob"), Sort(descending=True))]
    assert bob == [f"utt_{i:04d}" for i in range(22, 17, -1)]
    store.close()


def test_an_expired_lease_frees_its_rest(tmp_path: Path) -> None:
    store = make_project(tmp_path / "team.db", 10)
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    lease = timedelta(hours=1)
    claims.claim_batch(store, "ann", TODO, Sort(), size=6, lease=lease, at=t0)
    first = set(claims_of_at(store, "ann", t0))
    claims.claim_batch(store, "bob", TODO, Sort(), size=6, lease=lease, at=t0 + lease / 2)
    assert claims_of_at(store, "bob", t0 + lease / 2) == [7, 8, 9, 10]  # only 4 were free
    # Renewed at 50 min, ann's lease outlives bob's first hour; bob's lapses first.
    assert claims.renew(store, "ann", lease, at=t0 + timedelta(minutes=50)) == 6
    later = t0 + timedelta(minutes=95)
    assert claims.holder(store, 7, at=later) is None
    claims.claim_batch(store, "cat", TODO, Sort(), size=6, lease=lease, at=later)
    assert set(claims_of_at(store, "cat", later)) == {7, 8, 9, 10}
    assert set(claims_of_at(store, "ann", later)) == first
    # Past ann's renewed lease, her batch is free too.
    free = t0 + timedelta(minutes=111)
    claims.claim_batch(store, "dan", TODO, Sort(), size=6, lease=lease, at=free)
    assert set(claims_of_at(store, "dan", free)) == first
    store.close()


def claims_of_at(store: Store, name: str, at: datetime) -> list[int]:
    """Live claims at a given time (the list filter uses the clock, so ask the table)."""
    with store.locked() as conn:
        return [
            r[0] for r in conn.execute(
                "SELECT utt_id FROM claims WHERE annotator = ? AND expires_at > ? ORDER BY 1",
                (name, claims.stamp(at)),
            )
        ]


def test_holdings_and_release(tmp_path: Path) -> None:
    store = make_project(tmp_path / "team.db", 10)
    claims.claim_batch(store, "ann", TODO, Sort(), size=3)
    claims.claim_batch(store, "bob", TODO, Sort(), size=2)
    held = {(h.annotator, h.pass_): h.count for h in claims.holdings(store)}
    assert held == {("ann", 1): 3, ("bob", 1): 2}
    assert claims.holder(store, 1) == "ann"
    assert claims.release(store, "ann") == 3
    assert [h.annotator for h in claims.holdings(store)] == ["bob"]
    store.close()


def test_bad_lease_and_batch_are_clear_errors(tmp_path: Path) -> None:
    assert claims.parse_lease("2h") == timedelta(hours=2)
    assert claims.parse_lease("90") == timedelta(minutes=90)
    with pytest.raises(claims.ClaimError, match="lease 'soon'"):
        claims.parse_lease("soon")
    store = make_project(tmp_path / "team.db", 2)
    with pytest.raises(claims.ClaimError, match="batch size"):
        claims.claim_batch(store, "ann", TODO, Sort(), size=0)
    store.close()


def test_claims_of_a_killed_process_stay_until_the_lease_runs_out(tmp_path: Path) -> None:
    """kill -9 releases nothing; the lease is what frees the batch."""
    path = tmp_path / "team.db"
    make_project(path, 10).close()
    script = textwrap.dedent(f"""
        import sys, time
        from datetime import timedelta
        from db import claims
        from db.store import Filter, Sort, Store
        store = Store.open({str(path)!r}, create=False)
        claims.claim_batch(store, "ann", Filter(status="todo"), Sort(), size=4,
                           lease=timedelta(minutes=30))
        print("claimed", flush=True)
        time.sleep(600)
    """)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "claimed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    store = Store.open(path, create=False)
    now = datetime.now(UTC)
    assert claims_of_at(store, "ann", now) == [1, 2, 3, 4]
    claims.claim_batch(store, "bob", TODO, Sort(), size=4, at=now)
    assert claims_of_at(store, "bob", now) == [5, 6, 7, 8]
    after = now + timedelta(minutes=31)
    claims.claim_batch(store, "cat", TODO, Sort(), size=4, at=after)
    assert claims_of_at(store, "cat", after) == [1, 2, 3, 4]
    store.close()
