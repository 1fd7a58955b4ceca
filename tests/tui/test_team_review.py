"""Team work on the real review app: claimed batches, the second pass, others' claims."""

from __future__ import annotations

from pathlib import Path

from conftest import row, screen_text, settle

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
    with Store.open(path) as store:
        return {h.annotator: h.count for h in claims.holdings(store)}


async def test_two_annotators_get_different_batches_released_on_quit(project: Path) -> None:
    team = TeamOptions(batch=2)
    ann, bob = ReviewApp(project, "ann", team=team), ReviewApp(project, "bob", team=team)
    async with ann.run_test(size=(150, 40)) as pa, bob.run_test(size=(150, 40)) as pb:
        await settle(ann, pa)
        await settle(bob, pb)
        a, b = review(ann), review(bob)
        assert a.utt is not None and a.utt.key == "utt_001"
        assert b.utt is not None and b.utt.key == "utt_003"
        assert "2 / 4" in screen_text(ann) and "2 / 4" in screen_text(bob)
        assert held(project) == {"ann": 2, "bob": 2}
        # Ann finishes her batch: her done claims go and nothing is free to top it up with.
        await pa.press("ctrl+s")
        await settle(ann, pa)
        await pa.press("ctrl+s")
        await settle(ann, pa)
        assert held(project) == {"bob": 2}
    assert held(project) == {}
    assert row(project, "utt_002").status == "accepted"


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
        assert row(project, "utt_001").status == "todo"  # nothing written before the answer
        await pilot.press("y")
        await settle(app, pilot)
    saved = row(project, "utt_001")
    assert saved.status == "accepted" and saved.annotator == "lead"
