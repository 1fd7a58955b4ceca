"""The selected utterance: header, waveform, systems' answers, editor, translation, labels."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static, TextArea

from db.store import Utterance
from db.tasks import LABEL_TASKS
from workbench.tui.audio import Player
from workbench.tui.hypotheses import answers, asr_lines
from workbench.tui.text import fit, safe
from workbench.tui.waveform import Waveform


def header_text(utt: Utterance) -> Text:
    parts = [safe(utt.key)]
    if utt.duration is not None:
        parts.append(f"{utt.duration:.2f} s")
    if utt.sample_rate:
        parts.append(f"{utt.sample_rate / 1000:g} kHz")
    parts += [safe(v) for v in (utt.subset, utt.sub_dialect, utt.domain) if v]
    if utt.confidence is not None:
        parts.append(f"conf {utt.confidence:.2f}")
    parts.append(utt.status)
    if utt.annotator:
        parts.append(f"by {safe(utt.annotator)}")
    return Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")


def labels_text(utt: Utterance, values: dict[str, str | None], keys: dict[str, str]) -> Text:
    """The chosen labels, each with its cycle key and what the systems said."""
    text = Text()
    for n, task in enumerate(LABEL_TASKS):
        if n:
            text.append("\n")
        text.append(f"{task:<8}", style="bold")
        text.append(fit(safe(values.get(task) or "—"), 5), style="bold yellow")
        said = answers(utt.hypotheses, task)
        if said:
            text.append(f"  ({said})", style="dim")
        if key := keys.get(task):
            text.append(f"  {key}", style="cyan")
    return text


class Editor(TextArea):
    """The draft being corrected; the review screen's priority keys sit above its own."""

    def on_mount(self) -> None:
        self.cursor_blink = False  # steady: easier to find while listening; snapshots hold


class Detail(Vertical):
    """Everything about one utterance; filled by the review screen, never reads the store."""

    class Ready(Message):
        """The parts exist (a screen's own mount can come before its grandchildren's)."""

    def __init__(self, player: Player, **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.player = player

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield Waveform(self.player, id="waveform")
        yield Static(id="hypotheses")
        yield Editor(
            id="editor",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
        )
        yield Input(id="translation", placeholder="普通话 translation")
        yield Static(id="ast")
        yield Static(id="labels")
        yield Static(id="note")

    def on_mount(self) -> None:
        self.post_message(self.Ready())

    def show_header(self, utt: Utterance) -> None:
        self.query_one("#header", Static).update(header_text(utt), layout=False)

    def show_hypotheses(self, utt: Utterance, ref: str, take_keys: list[str]) -> None:
        asr = [h for h in utt.hypotheses if h.task == "asr"]
        self.query_one("#hypotheses", Static).update(asr_lines(asr, ref, take_keys))

    def show_translations(self, utt: Utterance, take_key: str) -> None:
        said = answers(utt.hypotheses, "ast")
        text = Text(f"systems: {said}  {take_key}" if said else "", style="dim", no_wrap=False)
        self.query_one("#ast", Static).update(text, layout=False)

    def show_labels(
        self, utt: Utterance, values: dict[str, str | None], keys: dict[str, str]
    ) -> None:
        self.query_one("#labels", Static).update(labels_text(utt, values, keys), layout=False)

    def show_note(self, utt: Utterance) -> None:
        note = Text()
        if utt.note:
            note.append("note ", style="bold red").append(safe(utt.note))
        self.query_one("#note", Static).update(note, layout=False)
