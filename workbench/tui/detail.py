"""The selected utterance: header, waveform, systems' answers, editor, translation, labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Location

from db.store import Hypothesis, Utterance
from db.tasks import LABEL_TASKS
from workbench.tui.char_times import SPOKEN
from workbench.tui.hypotheses import answers, asr_lines
from workbench.tui.text import fit, safe
from workbench.tui.waveform import Waveform
from workbench.tui.web_audio import AnyPlayer


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
    if utt.risk is not None:  # from wuwb consensus / bulk-accept
        parts.append(f"risk {utt.risk:.2f} ({utt.tier})")
    if utt.audit is not None:
        parts.append("audit")
    if utt.provenance is not None and utt.provenance != "human":
        parts.append(f"gold {safe(utt.provenance)}")
    if utt.annotator:
        parts.append(f"by {safe(utt.annotator)}")
    return Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")


def _rows(text: Text, width: int) -> int:
    """How many rows `text` takes at `width` cells (at least one)."""
    return sum(max(1, -(-cell_len(line) // width)) for line in text.plain.split("\n"))


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


class HypothesisLines(Widget):
    """Every system's answer, one row each (see `asr_lines`).

    Rendered once per change and drawn line by line. Its height is the current utterance's
    (a short one after a long one leaves no gap); the screen is laid out again only when the
    number of lines changes.
    """

    DEFAULT_CSS = """
    HypothesisLines { height: auto; }
    """

    def __init__(self, **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.shown: tuple[
            tuple[Hypothesis, ...], str, tuple[str, ...], str, tuple[tuple[str, int], ...]
        ] | None = None
        self._lines: list[Strip] = []
        self._rendered: tuple[object, int] | None = None  # what `_lines` show, at which width

    def show(
        self,
        hyps: Sequence[Hypothesis] | None,
        ref: str = "",
        keys: Sequence[str] = (),
        against: str = "draft",
        spoken: Mapping[str, int] | None = None,
    ) -> None:
        """Show these answers with their diffs against `ref` (the `against` text: draft or
        gold); None shows nothing. `spoken` marks the character being played in each timed
        system's answer."""
        shown = None if hyps is None else (
            tuple(hyps), ref, tuple(keys), against, tuple(sorted((spoken or {}).items()))
        )
        if shown == self.shown:
            return
        self.shown = shown
        width = self.size.width
        if not width:  # not laid out yet: the layout renders it at its width
            self.refresh(layout=True)
            return
        before = len(self._lines)
        self.refresh(layout=len(self._strips(width)) != before)

    def _strips(self, width: int) -> list[Strip]:
        if self._rendered != (self.shown, width):
            self._rendered = (self.shown, width)
            base = self.rich_style
            console = self.app.console
            lines = []
            if self.shown:
                hyps, ref, keys, against, spoken = self.shown
                lines = asr_lines(hyps, ref, keys, max(width, 1), console, against, dict(spoken))
            self._lines = [
                Strip(Segment.apply_style(line.render(console), base)).adjust_cell_length(
                    width, base
                )
                for line in lines
            ]
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._strips(width))

    def render_line(self, y: int) -> Strip:
        lines = self._strips(self.size.width)
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self.rich_style)


class SafeInput(Input):
    """An Input whose value stays exactly as stored or typed while it is drawn through
    `safe()`: an escape in a translation shows as ␛ instead of reaching the terminal.
    `safe()` maps each character to one, so cursor and selection indexes still line up."""

    @property
    def _value(self) -> Text:
        return Text(safe(self.value), no_wrap=True, overflow="ignore", end="")

    def _position_to_cell(self, position: int) -> int:
        return cell_len(safe(self.value[:position]))


class Editor(TextArea):
    """The draft being corrected; the review screen's priority keys sit above its own."""

    spoken: Location | None = None  # the character being played, marked (char_times)
    digits_free = False  # right after a label key the digits pick a label: not typed here

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        if self.digits_free and key.isdigit():
            return False
        return super().check_consume_key(key, character)

    def on_mount(self) -> None:
        self.cursor_blink = False  # steady: easier to find while listening; snapshots hold

    def show_spoken(self, location: Location | None) -> None:
        if location != self.spoken:
            self.spoken = location
            self._line_cache.clear()  # rendered lines are cached without this mark
            self.refresh()

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        if self.spoken is not None and self.spoken[0] == line_index:
            line.stylize(SPOKEN, self.spoken[1], self.spoken[1] + 1)
        return line


class Detail(VerticalScroll, can_focus=False):
    """Everything about one utterance; filled by the review screen, never reads the store.
    It scrolls when the terminal is too short for it (focus scrolls a part into view)."""

    class Ready(Message):
        """The parts exist (a screen's own mount can come before its grandchildren's)."""

    def __init__(self, player: AnyPlayer, **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.player = player
        self.shown_id: int | None = None  # whose header is on screen
        self.shown_ref: str | None = None  # what the systems' diffs are against
        self._texts: dict[str, Text] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield Waveform(self.player, id="waveform")
        yield HypothesisLines(id="hypotheses")
        yield Editor(
            id="editor",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
        )
        yield SafeInput(id="translation", placeholder="普通话 translation")
        yield Static(id="ast")
        yield Static(id="labels")
        yield Static(id="note")

    def on_mount(self) -> None:
        self.post_message(self.Ready())

    def _set(self, name: str, text: Text) -> None:
        """Show `text` in the one-line part `name` unless it shows it already: every part
        redrawn widens the area the next frame paints."""
        before = self._texts.get(name)
        if before != text:
            self._texts[name] = text
            # Laid out again only when its height may change (a part that wraps).
            width = max(self.scrollable_content_region.width - 2, 1)
            layout = before is None or _rows(before, width) != _rows(text, width)
            self.query_one(f"#{name}", Static).update(text, layout=layout)

    def show_header(self, utt: Utterance) -> None:
        self.shown_id = utt.id
        self._set("header", header_text(utt))

    def show_nothing(self, why: str) -> None:
        self.shown_id = None
        self._set("header", Text(why, style="dim"))
        self.query_one(HypothesisLines).show(None)
        for name in ("ast", "labels", "note"):
            self._set(name, Text())

    def show_hypotheses(
        self,
        utt: Utterance,
        ref: str,
        take_keys: Sequence[str],
        spoken: Mapping[str, int] | None = None,
    ) -> None:
        self.shown_ref = ref
        asr = [h for h in utt.hypotheses if h.task == "asr"]
        gold = utt.status == "accepted" and utt.gold is not None and ref == safe(utt.gold)
        self.query_one(HypothesisLines).show(
            asr, ref, take_keys, "gold" if gold else "draft", spoken
        )

    def show_translations(self, utt: Utterance, take_key: str) -> None:
        said = answers(utt.hypotheses, "ast")
        text = Text(f"systems: {said}  {take_key}" if said else "", style="dim", no_wrap=False)
        self._set("ast", text)

    def show_labels(
        self, utt: Utterance, values: dict[str, str | None], keys: dict[str, str]
    ) -> None:
        self._set("labels", labels_text(utt, values, keys))
        if self.has_focus_within:  # a label just cycled stays in view on a short screen
            self.query_one("#labels").scroll_visible(animate=False)

    def show_note(self, utt: Utterance) -> None:
        note = Text()
        if utt.note:
            note.append("note ", style="bold red").append(safe(utt.note))
        self._set("note", note)
