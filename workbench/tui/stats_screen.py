"""Progress by group, per-system scores (the `wuwb report` table), reviews per day, and the
team figures (`wuwb report --by annotator`)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from db.report import build_report
from db.report_table import render
from db.store import GROUP_FIELDS, Store
from db.team_report import build_team_report
from db.team_report import render as render_team
from workbench.tui.text import safe


def progress_table(field: str, rows: list[tuple[str, int, int]]) -> Table:
    table = Table(title=f"Progress by {field}", title_justify="left", expand=False)
    table.add_column(field)
    table.add_column("accepted", justify="right")
    table.add_column("total", justify="right")
    table.add_column("done", justify="right")
    table.add_column("", min_width=20)
    accepted_all = total_all = 0
    for group, accepted, total in rows:
        accepted_all += accepted
        total_all += total
        share = accepted / total if total else 0.0
        bar = "█" * round(share * 20)
        table.add_row(
            Text(safe(group or "(none)")),
            f"{accepted:,}",
            f"{total:,}",
            f"{share:.1%}",
            Text(bar, style="green"),
        )
    share = accepted_all / total_all if total_all else 0.0
    table.add_row(
        Text("all", style="bold"), f"{accepted_all:,}", f"{total_all:,}", f"{share:.1%}", ""
    )
    return table


def reviews_table(rows: list[tuple[str, str, int]]) -> Table:
    table = Table(title="Accepted per annotator per day", title_justify="left")
    table.add_column("day")
    table.add_column("annotator")
    table.add_column("accepted", justify="right")
    for annotator, day, n in rows:
        table.add_row(day, Text(safe(annotator)), f"{n:,}")
    if not rows:
        table.add_row("—", "nobody has accepted anything yet", "")
    return table


class StatsLoaded(Message):
    def __init__(self, tables: list[Any]) -> None:
        super().__init__()
        self.tables = tables


class StatsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f9", "app.pop_screen", "Back", id="stats.close"),
        Binding("g", "next_group", "Group by…", id="stats.group"),
        Binding("r", "reload", "Reload", id="stats.reload"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.group_field = "subset"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="stats"):
            yield Static(Text("loading statistics…", style="dim"), id="stats-body")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#stats-body", Static).update(Text("loading statistics…", style="dim"))
        self.load(self.group_field)

    def action_next_group(self) -> None:
        index = GROUP_FIELDS.index(self.group_field)
        self.group_field = GROUP_FIELDS[(index + 1) % len(GROUP_FIELDS)]
        self.action_reload()

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def load(self, field: str) -> None:
        store = self.store
        tables: list[Any] = [progress_table(field, store.progress(field))]
        tables += render(build_report(store, field))
        tables.append(reviews_table(store.reviews_per_day()))
        tables += render_team(build_team_report(store))
        self.post_message(StatsLoaded(tables))

    def on_stats_loaded(self, message: StatsLoaded) -> None:
        from rich.console import Group

        parts: list[Any] = []
        for table in message.tables:
            parts += [table, Text("")]
        self.query_one("#stats-body", Static).update(Group(*parts))
