"""The filter and sort dialog: status, group, systems, CER and disagreement ranges, text."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from db.store import GROUP_FIELDS, LIST_STATUSES, SORT_FIELDS, TIERS, Filter, Sort
from workbench.tui.text import safe


@dataclass(frozen=True)
class Choices:
    """What the dialog can offer, read from the store by the review screen's worker."""

    systems: list[str]
    groups: dict[str, list[tuple[str, int]]]


def _value(select: Select[Any]) -> Any:
    return None if select.value is Select.NULL else select.value


def _number(text: str, scale: float = 1.0) -> float | None:
    try:
        return float(text) / scale if text.strip() else None
    except ValueError:
        return None


def _shown(value: float | None, scale: float = 1.0) -> str:
    return "" if value is None else f"{value * scale:g}"


class FilterDialog(ModalScreen[tuple[Filter, Sort] | None]):
    """Edit the list's filter and sort; enter applies, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="filter.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="filter.apply", priority=True),
        Binding("ctrl+r", "clear", "Clear all", id="filter.clear", priority=True),
    ]

    def __init__(self, filt: Filter, sort: Sort, choices: Choices) -> None:
        super().__init__()
        self.filt = filt
        self.sort = sort
        self.choices = choices

    def compose(self) -> ComposeResult:
        f, s = self.filt, self.sort
        systems = [(Text(safe(name)), name) for name in self.choices.systems]

        def system_select(value: str | None, ident: str) -> Select[str]:
            return Select(systems, value=value or Select.NULL, prompt="—", id=ident, compact=True)
        with Vertical(classes="dialog wide"):
            yield Label("Filter & sort — enter or ctrl+s applies, escape cancels")
            with VerticalScroll(id="filter-fields", can_focus=False), Grid(id="filter-grid"):
                yield Label("text")
                yield Input(
                    f.text or "",
                    placeholder="in drafts and hypotheses; punctuation and spaces are ignored",
                    id="text",
                    compact=True,
                )
                yield Label("status")
                yield Select(
                    [(st, st) for st in LIST_STATUSES],
                    value=f.status or Select.NULL,
                    prompt="any",
                    id="status",
                    compact=True,
                )
                yield Label("consensus tier")
                with Horizontal(classes="range"):
                    yield Select(
                        [(t, t) for t in TIERS], value=f.tier or Select.NULL, prompt="any",
                        id="tier",
                    )
                    yield Checkbox("audit only", f.audit, id="audit")
                yield Label("group by")
                yield Select(
                    [(g, g) for g in GROUP_FIELDS],
                    value=f.group_field or Select.NULL,
                    prompt="—",
                    id="group_field",
                    compact=True,
                )
                yield Label("group")
                yield Select(
                    self._group_options(f.group_field),
                    prompt="any",
                    id="group_value",
                    value=f.group_value if f.group_value is not None else Select.NULL,
                    compact=True,
                )
                yield Label("has system")
                yield system_select(f.has_system, "has_system")
                yield Label("missing system")
                yield system_select(f.missing_system, "missing_system")
                yield Label("CER of")
                yield system_select(f.cer_system, "cer_system")
                yield Label("CER % from / to")
                with Horizontal(classes="range"):
                    yield Input(
                        _shown(f.cer_min, 100), placeholder="min %", id="cer_min", compact=True
                    )
                    yield Input(
                        _shown(f.cer_max, 100), placeholder="max %", id="cer_max", compact=True
                    )
                yield Label("disagreement 0–1")
                with Horizontal(classes="range"):
                    yield Input(
                        _shown(f.disagreement_min), placeholder="min", id="dis_min", compact=True
                    )
                    yield Input(
                        _shown(f.disagreement_max), placeholder="max", id="dis_max", compact=True
                    )
                yield Label("sort by")
                with Horizontal(classes="range"):
                    yield Select(
                        [(x, x) for x in SORT_FIELDS],
                        value=s.field,
                        allow_blank=False,
                        id="sort_field",
                        compact=True,
                    )
                    yield Checkbox("descending", s.descending, id="descending", compact=True)
                yield Label("sort CER of")
                yield system_select(s.system, "sort_system")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="apply", variant="primary", compact=True)
                yield Button("Clear", id="clear", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False  # steady, as in the editor: easy to find; snapshots hold
        self.query_one("#text", Input).focus()

    def _group_options(self, group_field: str | None) -> list[tuple[Text, str]]:
        groups = self.choices.groups.get(group_field or "", [])
        return [(Text(f"{safe(value or '(none)')}  {count:,}"), value) for value, count in groups]

    @on(Select.Changed, "#group_field")
    def _group_field_changed(self, event: Select.Changed) -> None:
        field = None if event.value is Select.NULL else str(event.value)
        self.query_one("#group_value", Select).set_options(self._group_options(field))

    def result(self) -> tuple[Filter, Sort]:
        q = self.query_one
        text = q("#text", Input).value.strip()
        filt = replace(
            self.filt,
            text=text or None,
            status=_value(q("#status", Select)),
            group_field=_value(q("#group_field", Select)),
            group_value=_value(q("#group_value", Select)),
            has_system=_value(q("#has_system", Select)),
            missing_system=_value(q("#missing_system", Select)),
            cer_system=_value(q("#cer_system", Select)),
            cer_min=_number(q("#cer_min", Input).value, 100),
            cer_max=_number(q("#cer_max", Input).value, 100),
            disagreement_min=_number(q("#dis_min", Input).value),
            disagreement_max=_number(q("#dis_max", Input).value),
            tier=_value(q("#tier", Select)),
            audit=q("#audit", Checkbox).value,
        )
        field = str(_value(q("#sort_field", Select)) or "key")
        system = _value(q("#sort_system", Select))
        if field == "cer" and system is None:
            system = filt.cer_system or (self.choices.systems[0] if self.choices.systems else None)
            field = field if system else "key"
        sort = Sort(field=field, descending=q("#descending", Checkbox).value, system=system)
        return filt, sort

    def on_input_submitted(self) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"apply": self.action_apply, "clear": self.action_clear}.get(
            event.button.id or "", self.action_cancel
        )()

    def action_apply(self) -> None:
        self.dismiss(self.result())

    def action_clear(self) -> None:
        self.dismiss((Filter(task=self.filt.task), Sort()))

    def action_cancel(self) -> None:
        self.dismiss(None)
