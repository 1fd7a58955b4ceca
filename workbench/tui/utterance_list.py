"""The utterance list: a Line-API scroll view over the store's keyset pages.

Only the pages on screen (and the next one) are ever fetched, by thread workers, and kept in
an LRU cache, so a project of a million utterances opens and scrolls like one of ten. A row
not yet fetched draws as a placeholder and is redrawn when its page arrives.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from db.store import Filter, ListRow, Sort, Store
from workbench.tui.text import fit, fit_middle, safe

PAGE = 100
GLYPHS = {"todo": " ", "accepted": "✓", "skipped": "»", "flagged": "!"}
BAR = " ░▒▓█"
Part = tuple[str, Style | None]


def disagreement_bar(value: float | None, cells: int = 3) -> str:
    """`value` in 0..1 as `cells` cells of shading, blank when unknown."""
    if value is None:
        return " " * cells
    eighths = round(min(max(value, 0.0), 1.0) * cells * (len(BAR) - 1))
    full, part = divmod(eighths, len(BAR) - 1)
    return (BAR[-1] * full + (BAR[part] if full < cells else "")).ljust(cells)[:cells]


def doubt_cells(row: ListRow) -> str:
    """The row's doubt in 3 cells: its consensus risk (expected wrong characters) once
    `wuwb consensus` has run, else the systems' disagreement as a bar."""
    if row.risk is None:
        return disagreement_bar(row.disagreement)
    return f"{row.risk:3.1f}" if row.risk < 9.95 else f"{min(row.risk, 999):3.0f}"


KEY_CELLS = 18  # at most: a long key loses its middle, so the draft keeps its share
GROUP_CELLS = 12
FIXED_CELLS = 3 + 1 + 7 + GROUP_CELLS + 1 + 5 + 4  # all but the key and the draft
_STYLE = {
    name: Style.parse(name) for name in ("bold green", "bold", "cyan", "magenta", "dim", "red")
}


def row_parts(row: ListRow, width: int, key_cells: int, selected: bool = False) -> list[Part]:
    """One utterance as styled pieces filling exactly `width` cells; data shown literally."""
    duration = f"{row.duration:5.1f}s " if row.duration is not None else "     - "
    confidence = f"{row.confidence:4.2f} " if row.confidence is not None else "   - "
    status = _STYLE["bold green"] if row.status == "accepted" else _STYLE["bold"]
    return [
        ("▸" if selected else " ", None),
        (f"{GLYPHS.get(row.status, '?')} ", status),
        (fit_middle(safe(row.key), key_cells) + " ", None),
        (duration, _STYLE["cyan"]),
        (fit_middle(safe(row.group or ""), GROUP_CELLS) + " ", _STYLE["magenta"]),
        (confidence, _STYLE["dim"]),
        (doubt_cells(row) + " ", _STYLE["red"]),
        (fit(safe(row.draft_head), max(width - FIXED_CELLS - key_cells, 0)), None),
    ]


def header_text(width: int, key_cells: int) -> str:
    """The column headings over `row_parts`, cell for cell."""
    text = "   " + fit("key", key_cells) + "    secs " + fit("group", GROUP_CELLS)
    return fit(text + " conf dis draft", width)


@dataclass(frozen=True)
class Query:
    """What the list shows: a filter, an order, and a generation so stale answers drop."""

    filt: Filter
    sort: Sort
    generation: int


class UtteranceList(ScrollView, can_focus=True):
    """Every utterance the filter matches, one line each, with a cursor row, under a line
    of column headings that stays put (row `index` is drawn on virtual line `index + 1`).
    The bottom border shows the progress: accepted of all in the filter, any status."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "choose", "Edit", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "utterance-list--cursor",
        "utterance-list--placeholder",
        "utterance-list--header",
    }
    DEFAULT_CSS = """
    UtteranceList {
        .utterance-list--cursor { background: $accent 40%; text-style: bold; }
        .utterance-list--placeholder { color: $text-muted; }
        .utterance-list--header { color: $text-muted; text-style: bold; }
    }
    """

    class Counted(Message):
        """The filter's match count is known (or changed)."""

        def __init__(self, total: int) -> None:
            super().__init__()
            self.total = total

    class Highlighted(Message):
        """The cursor is on a row whose data is loaded."""

        def __init__(self, index: int, row: ListRow) -> None:
            super().__init__()
            self.index = index
            self.row = row

    class Chosen(Message):
        """Enter was pressed on a row: the reviewer wants to edit it."""

    class Failed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    class _Page(Message):
        def __init__(self, generation: int, page: int, rows: list[ListRow]) -> None:
            super().__init__()
            self.generation = generation
            self.page = page
            self.rows = rows

    class _Count(Message):
        def __init__(
            self, generation: int, total: int, progress: tuple[int, int], recount: bool
        ) -> None:
            super().__init__()
            self.generation = generation
            self.total = total
            self.progress = progress  # (accepted, all) under the filter, whatever the status
            self.recount = recount

    def __init__(self, store: Store, counter: Store, **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.counter = counter  # its own connection: a slow count never delays a page
        self.query_ = Query(Filter(), Sort(), 0)
        self.total: int | None = None
        self.cursor = 0
        self._pages: LRUCache[int, list[ListRow]] = LRUCache(64)
        self._strips: LRUCache[tuple[int, int, bool], Strip] = LRUCache(512)
        self._pending: set[int] = set()
        self._key_cells = KEY_CELLS
        self._announced: int | None = None  # the row id last announced as highlighted

    # -- what is shown ------------------------------------------------------------------------
    def show(self, filt: Filter, sort: Sort) -> None:
        """Show another filter/order from its first row."""
        self.query_ = Query(filt, sort, self.query_.generation + 1)
        self.total = None
        self.cursor = 0
        self._announced = None
        self._pages.clear()
        self._strips.clear()
        self._pending.clear()
        self.scroll_to(y=0, animate=False, immediate=True)
        self._count(self.query_)
        self._request(0)
        self._resize()

    @property
    def row_count(self) -> int:
        if self.total is not None:
            return self.total
        return max((p * PAGE + len(self._pages[p]) for p in list(self._pages.keys())), default=0)

    def row(self, index: int) -> ListRow | None:
        rows = self._pages.get(index // PAGE)
        if rows is None or index % PAGE >= len(rows):
            return None
        return rows[index % PAGE]

    @property
    def current(self) -> ListRow | None:
        return self.row(self.cursor)

    def update_row(self, row_id: int, **changes: object) -> None:
        """Show a saved utterance's new status or draft without refetching its page."""
        for page in list(self._pages.keys()):
            rows = self._pages[page]
            for i, row in enumerate(rows):
                if row.id == row_id:
                    rows[i] = dataclasses.replace(row, **changes)  # type: ignore[arg-type]
                    self._redraw(page * PAGE + i)
                    return

    def recount(self) -> None:
        """Count the filter's matches again, for the title: a save may have moved a row out of
        the filter. The rows stay where they are until the filter is applied again."""
        self._count(self.query_, recount=True)

    # -- moving the cursor --------------------------------------------------------------------
    def clamp(self, index: int) -> int:
        """`index` moved into the rows there are."""
        last = self.row_count - 1
        return max(0, min(index, last)) if last >= 0 else 0

    def move_to(self, index: int, announce: bool = True) -> ListRow | None:
        """Put the cursor on row `index`; returns its row if that is a row not announced yet,
        which is posted as Highlighted unless the caller handles it (`announce=False`)."""
        index = self.clamp(index)
        previous, self.cursor = self.cursor, index
        if index != previous:
            # Only the two rows whose cursor mark changed are drawn again, unless it scrolls.
            self.refresh_line(previous + 1)
            self.refresh_line(index + 1)
            # The row and the line above it: the heading covers the top line.
            self.scroll_to_region(Region(0, index, 1, 2), animate=False, immediate=True, force=True)
        return self._announce(announce)

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_cursor_page(self, delta: int) -> None:
        self.move_to(self.cursor + delta * max(self.scrollable_content_region.height - 2, 1))

    def action_cursor_to(self, index: int) -> None:
        self.move_to(self.row_count - 1 if index < 0 else index)

    def action_choose(self) -> None:
        self.post_message(self.Chosen())

    def _announce(self, post: bool = True) -> ListRow | None:
        row = self.current
        new = None
        if row is None:
            self._request(self.cursor // PAGE)
        elif row.id != self._announced:
            self._announced, new = row.id, row
            if post:
                self.post_message(self.Highlighted(self.cursor, row))
        # Keep the page the cursor heads for warm, so that paging never waits for rows.
        if self.cursor % PAGE >= PAGE // 2:
            self._request(self.cursor // PAGE + 1)
        elif self.cursor >= PAGE:
            self._request(self.cursor // PAGE - 1)
        return new

    # -- drawing ------------------------------------------------------------------------------
    def _resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count + 1)

    def on_resize(self) -> None:
        self._strips.clear()
        self._resize()

    def _redraw(self, index: int) -> None:
        """Forget row `index`'s drawn line and draw it again if it is in view."""
        width = self.scrollable_content_region.width
        for selected in (False, True):
            self._strips.discard((index, width, selected))
        self.refresh_line(index + 1)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            style = self.rich_style + self.get_component_rich_style("utterance-list--header")
            return Strip([Segment(header_text(width, self._key_cells), style)], width)
        index = self.scroll_offset.y + y - 1
        if index >= self.row_count:
            return Strip.blank(width, self.rich_style)
        selected = index == self.cursor
        cached = self._strips.get((index, width, selected))
        if cached is not None:
            return cached
        row = self.row(index)
        if row is None:
            self._request(index // PAGE)
            style = self.get_component_rich_style("utterance-list--placeholder")
            return Strip([Segment("  …".ljust(width), style)], width)
        base = self.rich_style
        if selected:
            base += self.get_component_rich_style("utterance-list--cursor")
        segments = [
            Segment(text, base + style if style else base)
            for text, style in row_parts(row, width, self._key_cells, selected)
        ]
        strip = Strip(segments).adjust_cell_length(width, base)
        self._strips.set((index, width, selected), strip)
        return strip

    # -- fetching -----------------------------------------------------------------------------
    def _request(self, page: int) -> None:
        if page < 0 or page in self._pending or page in self._pages:
            return
        if self.total is not None and page * PAGE >= self.total:
            return
        self._pending.add(page)
        before = self._pages.get(page - 1)
        after = self._pages.get(page + 1)
        self._fetch(self.query_, page, before, after)

    @work(thread=True, group="pages", exit_on_error=False)
    def _fetch(
        self, query: Query, page: int, before: list[ListRow] | None, after: list[ListRow] | None
    ) -> None:
        store = self.store
        if before:
            rows = store.page(query.filt, query.sort, after=before[-1].cursor, limit=PAGE)
        elif after:
            rows = store.page_before(query.filt, query.sort, after[0].cursor, limit=PAGE)
        else:
            rows = store.page(query.filt, query.sort, offset=page * PAGE, limit=PAGE)
        self.post_message(self._Page(query.generation, page, rows))

    @work(thread=True, group="count", exclusive=True, exit_on_error=False)
    def _count(self, query: Query, recount: bool = False) -> None:
        counter, filt = self.counter, query.filt
        total = counter.count(filt)
        scope = dataclasses.replace(filt, status=None)
        accepted = total if filt.status == "accepted" else counter.count(
            dataclasses.replace(filt, status="accepted")
        )
        in_scope = total if filt.status is None else counter.count(scope)
        self.post_message(self._Count(query.generation, total, (accepted, in_scope), recount))

    def on_utterance_list__page(self, message: _Page) -> None:
        message.stop()
        if message.generation != self.query_.generation:
            return
        self._pending.discard(message.page)
        self._pages.set(message.page, message.rows)
        if message.page == 0 and message.rows:
            longest = max(cell_len(safe(r.key)) for r in message.rows)
            key_cells = min(max(longest, 8), KEY_CELLS)
            if key_cells != self._key_cells:
                self._key_cells = key_cells
                self._strips.clear()
                self.refresh()
        if len(message.rows) < PAGE and self.total is None:
            self.total = message.page * PAGE + len(message.rows)
            self.post_message(self.Counted(self.total))
        if self.virtual_size.height != self.row_count + 1:
            self._resize()
        # Draw the page's rows that are in view (placeholders until now), and no others.
        first = max(message.page * PAGE, self.scroll_offset.y)
        last = min(
            message.page * PAGE + len(message.rows), self.scroll_offset.y + self.size.height - 1
        )
        if first < last:
            for index in range(first, last):
                self._redraw(index)
        if message.page == self.cursor // PAGE:
            self._announce()

    def on_utterance_list__count(self, message: _Count) -> None:
        message.stop()
        if message.generation != self.query_.generation:
            return
        if not message.recount:
            self.total = message.total
        if self.virtual_size.height != self.row_count + 1:
            self._resize()
            self.refresh()
        accepted, in_scope = message.progress
        share = f" · {accepted / in_scope:.0%}" if in_scope else ""
        self.border_subtitle = f"accepted {accepted:,} of {in_scope:,}{share}"
        self.post_message(self.Counted(message.total))
