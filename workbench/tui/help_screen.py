"""Every key the review screen answers to, as the keymap currently sets it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from workbench.tui.config import config_path
from workbench.tui.keymap import ACTIONS
from workbench.tui.text import safe


class KeysHelp(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f10,q", "dismiss", "Close", id="help.close")
    ]

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            where = safe(str(config_path()))  # the path may come from $WUWB_CONFIG
            yield Label(Text(f"Keys (remap them in {where} under [keys])"))
            yield DataTable(id="keys", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("keys", "action", "binding id")
        for binding_id, keys, _action, description, _show in ACTIONS:
            shown = self.keymap.get(binding_id, keys)
            keys_shown = ", ".join(
                self.app.get_key_display(Binding(k, "")) for k in shown.split(",")
            )
            table.add_row(Text(safe(keys_shown)), description, binding_id)
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
