"""Small dialogs: the flag note, a confirmation, and the choice when another reviewer saved
first. A dialog that can change gold is answered only by a deliberate key (with a modifier,
or the key of the action being confirmed) or a click: typing that goes on never answers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from db.store import Utterance
from workbench.tui.text import safe


class FlagNote(ModalScreen[str | None]):
    """Ask why an utterance is flagged; dismisses with the note, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel")
    ]

    def __init__(self, key: str, note: str) -> None:
        super().__init__()
        self.key = key
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Flag {safe(self.key)}: what is wrong?"))
            yield Input(self.note, placeholder="note (enter to flag, escape to cancel)", id="note")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Mine:
    """What this reviewer was saving when the conflict was found."""

    draft: str
    translation: str | None
    labels: dict[str, str | None]
    status: str | None


def version_text(
    title: str,
    who: str,
    draft: str,
    translation: str | None,
    labels: dict[str, str | None],
    status: str | None,
) -> Text:
    text = Text()
    text.append(title + "\n", style="bold underline")
    text.append(f"{who}\n", style="dim")
    text.append("status ", style="bold").append(f"{status or 'unchanged'}\n")
    text.append("draft  ", style="bold").append(safe(draft) + "\n")
    text.append("普通话 ", style="bold").append(safe(translation or "—") + "\n")
    text.append("labels ", style="bold").append(
        "  ".join(f"{k} {safe(v or '—')}" for k, v in labels.items())
    )
    return text


def click_only(button: Button) -> Button:
    """A button that a click presses but enter or space never does (it takes no focus)."""
    button.can_focus = False
    return button


class Confirm(ModalScreen[bool]):
    """A yes/no question before a decision that needs a second look (demoting gold, accepting
    a special token). Yes: the action's own key again, or the button; no: escape or the button.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, key: str) -> None:
        super().__init__()
        self.question = question
        self.key = key
        self._bindings.bind(key, "answer(True)", "Yes", priority=True)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question, style="bold"))
            with Horizontal(classes="buttons"):
                yield click_only(Button(f"Yes ({self.key})", id="yes", variant="warning"))
                yield click_only(Button("No (escape)", id="no", variant="primary"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ConflictChoice(ModalScreen[str]):
    """Both versions side by side; dismisses with "mine" (overwrite theirs) or "theirs".
    Only alt+m, alt+t or a click answers: the letters typed on, escape (the play key) do not.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("alt+m", "choose('mine')", "Keep mine", id="conflict.mine", priority=True),
        Binding("alt+t", "choose('theirs')", "Take theirs", id="conflict.theirs", priority=True),
    ]

    def __init__(self, theirs: Utterance, mine: Mine, annotator: str) -> None:
        super().__init__()
        self.theirs = theirs
        self.mine = mine
        self.annotator = annotator

    def compose(self) -> ComposeResult:
        theirs = self.theirs
        with Vertical(classes="dialog wide"):
            yield Label(
                Text(
                    f"{safe(theirs.key)} was saved by someone else while you edited it.",
                    style="bold red",
                )
            )
            with Horizontal(id="versions"):
                yield Static(
                    version_text(
                        "Theirs (saved)",
                        f"{safe(theirs.annotator or '?')} at {theirs.updated_at or '?'}",
                        theirs.draft or "",
                        theirs.translation,
                        {"age": theirs.age, "gender": theirs.gender, "emotion": theirs.emotion},
                        theirs.status,
                    ),
                    classes="version",
                )
                yield Static(
                    version_text(
                        "Mine (not saved)",
                        safe(self.annotator),
                        self.mine.draft,
                        self.mine.translation,
                        self.mine.labels,
                        self.mine.status,
                    ),
                    classes="version",
                )
            with Horizontal(classes="buttons"):
                yield click_only(Button("Keep mine (alt+m)", id="mine", variant="warning"))
                yield click_only(Button("Take theirs (alt+t)", id="theirs", variant="primary"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "theirs")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
