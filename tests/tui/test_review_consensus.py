"""The review screen once `wuwb consensus` has run: risk order by default, risk in the list,
tier and audit filters, and the consensus's low-agreement characters marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Checkbox, Select
from tui_helpers import screen_text, settle

from db.consensus_run import Request, run
from db.store import Filter, Hypothesis, ListRow, Sort, Store
from workbench.tui.app import ReviewApp
from workbench.tui.filter_screen import FilterDialog
from workbench.tui.hypotheses import WEAK, asr_lines
from workbench.tui.review_screen import ReviewScreen
from workbench.tui.utterance_list import doubt_cells


@pytest.fixture
def voted(project: Path) -> Path:
    with Store.open(project) as store:
        run(store, Request(weights="equal"), jobs=1)
    return project


def _by_risk(path: Path) -> list[tuple[str, float | None, str | None]]:
    with Store.open(path) as store:
        rows = store.page(Filter(status="todo"), Sort("risk", descending=True))
        return [(r.key, r.risk, store.utterance(r.id).tier) for r in rows]


async def test_riskiest_first_with_risk_in_the_list(voted: Path) -> None:
    order = _by_risk(voted)
    assert order[0][1] is not None and order[0][1] >= (order[1][1] or 0)
    app = ReviewApp(voted, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.utt is not None and screen.utt.key == order[0][0]
        text = screen_text(app)
        assert "sort: risk ↓" in text
        assert f"{order[0][1]:3.1f}" in text  # the risk figure in the list row
        assert f"risk {order[0][1]:.2f} ({order[0][2]})" in text  # and in the header
        assert "consensus" in text  # the consensus is a system like the others


async def test_tier_and_audit_filters(voted: Path) -> None:
    order = _by_risk(voted)
    tier = order[0][2]
    assert tier is not None
    wanted = sum(1 for _, _, t in order if t == tier)
    app = ReviewApp(voted, "alice")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+f")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, FilterDialog)
        dialog.query_one("#tier", Select).value = tier
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert f"{wanted} todo of 4" in screen_text(app) and f"tier {tier}" in screen_text(app)
        await pilot.press("ctrl+f")
        await settle(app, pilot)
        assert isinstance(app.screen, FilterDialog)
        app.screen.query_one("#audit", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "0 todo of 4" in screen_text(app)  # no audit drawn yet


def test_low_agreement_characters_of_the_consensus_are_underlined():
    # 侬 had all the weight, 好 a third: only 好 is marked.
    hyp = Hypothesis("consensus", "asr", "侬好。", None, None, "", None, None, None, None, None,
                     bytes([254, 85, 255]))
    lines = asr_lines([hyp], "侬好。", ["alt+1"], 60, Console(width=60))
    line = next(t for t in lines if "侬好" in t.plain)  # after the "CER vs" heading
    styled = {span.style for span in line.spans if line.plain[span.start:span.end] == "好"}
    assert any(WEAK in str(style) for style in styled)
    plain = [s for s in line.spans if line.plain[s.start:s.end] == "侬"]
    assert not any(WEAK in str(s.style) for s in plain)


def test_the_list_shows_risk_where_known_else_the_disagreement_bar():
    with_risk = _row(risk=1.25, disagreement=0.5)
    assert doubt_cells(with_risk) == "1.2"  # Python rounds half to even
    assert doubt_cells(_row(risk=12.0, disagreement=0.5)) == " 12"
    assert doubt_cells(_row(risk=None, disagreement=1.0)) == "███"


def _row(risk: float | None, disagreement: float | None) -> ListRow:
    return ListRow(1, "k", "todo", 1.0, None, None, disagreement, "", (0, 1), risk)
