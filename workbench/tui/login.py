"""The name prompt a browser session opens with when its URL named no annotator."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from workbench.tui.text import safe

MAX_NAME = 64


class LoginPrompt(ModalScreen[str]):
    """Asks who is reviewing; dismisses with the name once one is entered (no way around it:
    every edit records its annotator)."""

    DEFAULT_CSS = "LoginPrompt { align: center middle; }"

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Reviewing {safe(self.project)}. Your name, recorded on your edits:"))
            yield Input(placeholder="name, then enter", max_length=MAX_NAME, id="annotator")
            yield Label("", id="login-problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name or not name.isprintable():
            problem = "a name is needed" if not name else "no control characters, please"
            self.query_one("#login-problem", Label).update(Text(problem, style="bold red"))
            return
        self.dismiss(name)
