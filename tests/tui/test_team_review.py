"""Team work on the real review app: claimed batches, the second pass, others' claims."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui_helpers import row, screen_text, settle

from db import claims, second_pass
from db.store import Filter, Sort, Store
from workbench.team import TeamOptions
from workbench.tui.app import ReviewApp
from workbench.tui.review_screen import ReviewScreen
from workbench.tui.team_glue import SaveOverClaim


def review(app: ReviewApp) -> ReviewScreen:
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


def held(path: Path) -> dict[str, int]:
    # Read-only, as an onlooker: a writable open here competed with the app for the lock.
    with Store.open(path, readonly=True) as store:
        return {h.annotator: h.count for h in claims.holdings(store)}


async def test_two_annotators_get_different_batches_released_on_quit(project: Path) -> None:
    team = TeamOptions(batch=2)
    ann, bob = ReviewApp(project, "ann", team=team), ReviewApp(project, "bob", team=team)
    async with ann.run_test(size=(150, 40)) as pa, bob.run_test(size=(150, 40)) as pb:
        await settle(ann, pa)
        await settle(bob, pb)
        a, b = review(ann), review(bob)
        assert a.utt is not None and b.utt is not None
        # Whichever app claimed first got the first two: the batches never overlap.
        assert {a.utt.key, b.utt.key} == {"utt_001", "utt_003"}
        ann_first = a.utt.key
        assert "2 todo of 4 · ann's batch" in screen_text(ann)
        assert "2 todo of 4 · bob's batch" in screen_text(bob)
        assert held(project) == {"ann": 2, "bob": 2}
        # Ann finishes her batch: her done claims go and nothing is free to top it up with.
        await pa.press("ctrl+s")
        await settle(ann, pa)
        await pa.press("ctrl+s")
        await settle(ann, pa)
        assert held(project) == {"bob": 2}
    assert held(project) == {}
    done = [k for k in ("utt_001", "utt_002", "utt_003", "utt_004")
            if row(project, k).status == "accepted"]
    assert done == (["utt_001", "utt_002"] if ann_first == "utt_001" else ["utt_003", "utt_004"])


async def test_batch_is_topped_up_when_done(project: Path) -> None:
    app = ReviewApp(project, "ann", team=TeamOptions(batch=1))
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        screen = review(app)
        assert screen.utt is not None and screen.utt.key == "utt_001"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await settle(app, pilot)
        assert screen.utt is not None and screen.utt.key == "utt_002"
        assert held(project) == {"ann": 1}


async def test_second_pass_approves_with_one_key_never_own_work(project: Path) -> None:
    with Store.open(project) as store:
        second_pass.set_policy(store, "all")
        for key in ("utt_001", "utt_002"):
            utt = store.utterance(store.utterance_id(key) or 0)
            store.accept(utt.id, utt.version, draft=utt.draft or "", annotator="ann",
                         gender=utt.gender)
    own = ReviewApp(project, "ann", team=TeamOptions(pass_=2))
    async with own.run_test(size=(150, 40)) as pilot:
        await settle(own, pilot)
        assert review(own).utt is None  # nothing of hers comes back to her
    app = ReviewApp(project, "bob", team=TeamOptions(pass_=2))
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        screen = review(app)
        assert screen.utt is not None and screen.utt.key == "utt_001"
        assert "second pass of ann's gold" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "second pass of utt_001 saved" in screen_text(app)
    with Store.open(project) as store:
        assert second_pass.first_pass(store, store.utterance_id("utt_001") or 0) == (
            "ann", row(project, "utt_001").gold, "approved"
        )
        assert store.count(Filter(status="reviewed")) == 1


async def test_lead_saving_on_someone_elses_claim_is_asked_first(project: Path) -> None:
    with Store.open(project) as store:
        claims.claim_batch(store, "ann", Filter(status="todo"), Sort(), size=1)
    app = ReviewApp(project, "lead", team=TeamOptions(all=True))
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, SaveOverClaim)
        assert "utt_001 is claimed by ann." in screen_text(app)
        assert row(project, "utt_001").status == "todo"  # nothing written before the answer
        await pilot.press("y")
        await settle(app, pilot)
    saved = row(project, "utt_001")
    assert saved.status == "accepted" and saved.annotator == "lead"


async def test_the_open_app_renews_its_lease(project: Path) -> None:
    app = ReviewApp(project, "ann", team=TeamOptions(batch=2, lease=timedelta(hours=2)))
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        soon = claims.stamp(datetime.now(UTC) + timedelta(minutes=1))
        with Store.open(project) as store, store.transaction() as conn:
            conn.execute("UPDATE claims SET expires_at = ?", (soon,))
        review(app).keep_batch()  # what the app's interval timer calls
        await settle(app, pilot)
        with Store.open(project) as store:
            ends = {h.expires for h in claims.holdings(store)}
        assert len(ends) == 1 and ends.pop() > claims.stamp(datetime.now(UTC) + timedelta(hours=1))


def test_a_killed_app_keeps_its_claims_until_the_lease_runs_out(project: Path) -> None:
    """The real app, headless in its own process, killed with SIGKILL: nothing releases its
    batch, so it stays held until the lease has run out, then others get it."""
    root = Path(__file__).resolve().parents[2]
    script = textwrap.dedent(f"""
        from datetime import timedelta
        from workbench.team import TeamOptions
        from workbench.tui.app import ReviewApp
        team = TeamOptions(batch=2, lease=timedelta(minutes=30))
        ReviewApp({str(project)!r}, "ann", team=team).run(headless=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)})
    try:
        for _ in range(600):  # until the app has claimed (or died)
            if held(project) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert held(project) == {"ann": 2}
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert held(project) == {"ann": 2}
    later = datetime.now(UTC) + timedelta(minutes=31)
    with Store.open(project) as store:
        assert claims.claim_batch(store, "bob", Filter(status="todo"), Sort(), size=4,
                                  at=later) == 4
        mine = store.page(Filter(claimed_by="bob"), Sort())
    assert [r.key for r in mine] == ["utt_001", "utt_002", "utt_003", "utt_004"]


async def test_an_empty_batch_picks_up_work_others_free(project: Path) -> None:
    with Store.open(project) as store:
        claims.claim_batch(store, "bob", Filter(status="todo"), Sort(), size=4)
    app = ReviewApp(project, "ann", team=TeamOptions(batch=1))
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        screen = review(app)
        assert screen.utt is None and held(project) == {"bob": 4}
        with Store.open(project) as store:
            claims.release(store, "bob")
        screen.keep_batch()  # the app's timer, a minute later
        await settle(app, pilot)
        await settle(app, pilot)
        assert screen.utt is not None and screen.utt.key == "utt_001"
        assert held(project) == {"ann": 1}


async def test_second_pass_edits_wait_on_leaving_and_accept_records_a_correction(
    project: Path,
) -> None:
    """Gold changes only by an accept, in the second pass too: edits kept on leaving wait as
    a pending draft; the accept on coming back records them as the correction."""
    with Store.open(project) as store:
        second_pass.set_policy(store, "all")
        for key in ("utt_001", "utt_002"):
            utt = store.utterance(store.utterance_id(key) or 0)
            store.accept(utt.id, utt.version, draft=utt.draft or "", annotator="ann",
                         gender=utt.gender)
    first = row(project, "utt_001")
    app = ReviewApp(project, "bob", team=TeamOptions(pass_=2))
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("end", "啊", "alt+s", "ctrl+down")
        await settle(app, pilot)
        assert row(project, "utt_001").gold == first.gold
        await pilot.press("ctrl+up")
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    after = row(project, "utt_001")
    assert after.gold == (first.gold or "") + "啊" and after.gender == "女性"
    with Store.open(project) as store:
        kept = store.execute(
            "SELECT first_annotator, first_gold, first_gender, reviewer, verdict "
            "FROM second_pass WHERE utt_id = ?", (after.id,)
        )[0]
    assert kept == ("ann", first.gold, "男性", "bob", "corrected")
