"""The review screen: the list on the left, the utterance being corrected on the right.

The screen sends the reviewer's intents to a `ReviewSession` (workbench/session.py), which
holds every rule about saving, and renders what the session holds. Store reads run in thread
workers that post a message back, saves on the session's own thread, clips on threads of
their own (workbench/tui/clips.py): the UI thread only draws. The editor keeps focus all day,
so every review key is a priority binding on this screen.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, TextArea
from textual.worker import Worker, WorkerState

from db.safe_text import safe
from db.store import GROUP_FIELDS, Filter, ListRow, Sort, Store, Utterance
from db.tasks import LABEL_TASKS
from workbench.session import (
    SPECIAL_TOKENS,
    Check,
    ClaimHeld,
    ConflictFound,
    Event,
    ReviewSession,
    Saved,
    SaveFailed,
    modified_since_accepted,
)
from workbench.team import TeamOptions
from workbench.tui.audio import Player
from workbench.tui.char_times import Spoken, play_from
from workbench.tui.clips import TIMEOUT_S, ClipLoader, ClipRead
from workbench.tui.detail import Detail, Editor
from workbench.tui.filter_screen import Choices, FilterDialog
from workbench.tui.help_screen import KeysHelp
from workbench.tui.keymap import bindings
from workbench.tui.modals import Confirm, ConflictChoice, FlagNote, Mine
from workbench.tui.team_glue import TeamGlue
from workbench.tui.utterance_list import PAGE, UtteranceList
from workbench.tui.waveform import Waveform
from workbench.tui.web_audio import WebPlayer

FRESH_S = 10.0  # a kept utterance older than this is read again before it is shown
MOVE_WAIT_S = 0.03  # the longest a move waits for its utterance to be read
QUIT_WAIT_S = 2.0  # how long quitting waits for the last saves to land


class DetailLoaded(Message):
    """An utterance read; `prefetch` when read ahead of the reviewer."""

    def __init__(self, utt: Utterance, prefetch: bool = False) -> None:
        super().__init__()
        self.utt = utt
        self.prefetch = prefetch


class ClipLoaded(Message):
    def __init__(self, read: ClipRead) -> None:
        super().__init__()
        self.read = read


class SessionEvent(Message):
    """A save landed, failed or met another reviewer's (posted from the saver's thread)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class ChoicesLoaded(Message):
    def __init__(self, choices: Choices) -> None:
        super().__init__()
        self.choices = choices


class ProjectCounted(Message):
    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total


class PlayerChanged(Message):
    """The player started or stopped (posted from the audio threads)."""


class ReviewScreen(TeamGlue, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [*bindings()]

    def __init__(
        self,
        store: Store,
        bulk: Store,
        annotator: str,
        player: Player | WebPlayer,
        keymap: dict[str, str],
        special_tokens: tuple[str, ...] = SPECIAL_TOKENS,
        team: TeamOptions | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.bulk = bulk  # a second connection for slow aggregates (counts, groups, stats)
        self.annotator = annotator
        self.player = player
        self.keymap = keymap
        self.team = team or TeamOptions(all=True)
        self.session = ReviewSession(
            store, annotator, special_tokens=special_tokens, on_event=self._post_event,
            writer=self.second_pass_writer(), guard=self.claim_guard(),
        )
        self.clips = ClipLoader(self._post_clip)
        self.filt = self.team.shown(annotator)
        # Once `wuwb consensus` has run, the riskiest utterances come first.
        self.sort = Sort("risk", descending=True) if store.derived else Sort()
        self.choices: Choices | None = None  # read when the filter dialog first opens
        self.project_total: int | None = None
        self.matches: int | None = None
        self._loading = False  # a detail read is running
        self._wanted: int | None = None  # the utterance whose detail should be shown next
        self._prefetching: set[int] = set()
        self._move_target: int | None = None  # a move waiting for its utterance to be read
        self._move_timer: Timer | None = None
        self._clip_timer: Timer | None = None
        self._started = False  # the first utterance has been shown
        self._audio_said: str | None = None
        self._searching = False
        self._counting = False  # the project's total is being counted
        self._count_again = False
        self._label_task: str | None = None  # a label key was pressed: digits pick its value
        self._last_of_list: int | None = None  # accepted on the list's last row
        self._decided_at: dict[int, int] = {}  # list row of each decision, for its undo
        self._quitting = False
        # The character being played, marked in the timed answers and the draft.
        self._spoken: tuple[tuple[int, str], Spoken] | None = None
        self._spoken_systems: dict[str, int] = {}

    def _post_event(self, event: Event) -> None:  # on the saver's thread
        self.post_message(SessionEvent(event))

    def _post_clip(self, read: ClipRead) -> None:  # on a clip's thread
        self.post_message(ClipLoaded(read))

    def _post_player_changed(self) -> None:  # on an audio thread
        self.post_message(PlayerChanged())

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield UtteranceList(self.store, self.bulk, id="list")
            yield Detail(self.player, id="detail")
        yield Static(id="status")
        yield Footer()

    @property
    def list(self) -> UtteranceList:
        return self.query_one("#list", UtteranceList)

    @property
    def editor(self) -> Editor:
        return self.query_one("#editor", Editor)

    @property
    def detail(self) -> Detail:
        return self.query_one("#detail", Detail)

    @property
    def utt(self) -> Utterance | None:
        """The utterance on screen, as the session holds it."""
        return self.session.current

    @property
    def labels(self) -> dict[str, str | None]:
        values = self.session.values
        return dict(values.labels) if values is not None else {}

    def on_detail_ready(self) -> None:
        self.player.on_change = self._post_player_changed
        self.claim_then_show(self.filt, self.sort)
        self.count_project()
        self.editor.focus()
        self._title()
        self.say("ready")
        self.on_player_changed()  # the device may have been probed already
        self.set_interval(0.1, self._track_spoken)

    def on_unmount(self) -> None:
        self.session.leave()
        self.session.wait_idle(QUIT_WAIT_S)
        self.session.close()

    def say(self, message: str) -> None:
        """The status line: what just happened (data in it shown literally)."""
        status = Text(safe(message), no_wrap=True, overflow="ellipsis")
        self.query_one("#status", Static).update(status, layout=False)

    def tell(self, message: str, title: str, severity: str = "error") -> None:
        """The status line and a notification (data in it never read as markup)."""
        self.say(message)
        self.notify(message, title=title, severity=severity, markup=False)  # type: ignore[arg-type]

    def _title(self) -> None:
        matches = "…" if self.matches is None else f"{self.matches:,}"
        total = "…" if self.project_total is None else f"{self.project_total:,}"
        parts = [f"{matches} {self.filt.status or 'utterances'} of {total}", *self.team_title()]
        if self.filt.group_value is not None:
            parts.append(safe(self.filt.group_value))
        if self.filt.text:
            parts.append(f"“{safe(self.filt.text)}”")
        if self.filt.tier is not None:
            parts.append(f"tier {self.filt.tier}")
        if self.filt.audit:
            parts.append("audit")
        arrow = "↓" if self.sort.descending else "↑"
        parts.append(
            f"sort: {self.sort.field}{' ' + self.sort.system if self.sort.system else ''} {arrow}"
        )
        self.list.border_title = Text(" · ".join(parts))

    def _take_keys(self) -> Sequence[str]:  # (`list` is a property here)
        return [self._key(f"take.{n}", f"alt+{n}") for n in range(1, 10)]

    def _key(self, binding_id: str, default: str) -> str:
        return self.keymap.get(binding_id, default).split(",")[0]

    # -- store workers ------------------------------------------------------------------------
    def count_project(self) -> None:
        """Count the project again (an import may run meanwhile): one count at a time, and
        one more after it if asked for while it ran."""
        if self._counting:
            self._count_again = True
            return
        self._counting = True
        self._count_project()

    @work(thread=True, group="count", exit_on_error=False)
    def _count_project(self) -> None:
        self.post_message(ProjectCounted(self.bulk.count(Filter())))

    @work(thread=True, group="choices", exclusive=True, exit_on_error=False)
    def load_choices(self) -> None:
        """What the filter dialog offers: seconds of GROUP BY on a big project, so read on
        the dialog's first opening, not at start, and kept."""
        store = self.bulk
        groups = {f: store.groups(f) for f in GROUP_FIELDS}
        self.post_message(ChoicesLoaded(Choices(store.systems("asr"), groups)))

    def _show_wanted(self) -> None:
        """Show the utterance the cursor is on: at once if it was read ahead (or lately),
        else once read. While a read runs, moves only change which utterance is wanted, so
        keys held down move the list at once and read just the row the cursor settles on."""
        wanted = self._wanted
        if wanted is None:
            return
        kept = self.session.kept(wanted, FRESH_S)
        if kept is not None:
            self._present(kept)
        elif not self._loading:
            self._loading = True
            self.load_detail(wanted)

    def _prefetch(self, utt_id: int) -> None:
        if utt_id not in self._prefetching:
            self._prefetching.add(utt_id)
            self.prefetch_detail(utt_id)

    def _read_ahead(self) -> None:
        """Read the neighbours of the cursor's row, so that next and previous show at once."""
        for index in (self.list.cursor + 1, self.list.cursor - 1):
            row = self.list.row(index)
            if row is not None and self.session.kept(row.id, FRESH_S / 2) is None:
                self._prefetch(row.id)

    @work(thread=True, group="detail", exit_on_error=False)
    def load_detail(self, utt_id: int) -> None:
        self.post_message(DetailLoaded(self.session.read(utt_id)))

    @work(thread=True, group="prefetch", exit_on_error=False)
    def prefetch_detail(self, utt_id: int) -> None:
        self.post_message(DetailLoaded(self.session.read(utt_id), prefetch=True))

    def _clip_path(self, utt: Utterance) -> Path:
        path = Path(utt.audio)
        return path if path.is_absolute() else self.store.path.parent / path

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        failed = event.state in (WorkerState.ERROR, WorkerState.CANCELLED)
        if failed and event.worker.group == "prefetch":
            self._prefetching.clear()  # reading it when it is wanted will say what fails
            return
        if failed and event.worker.group == "detail":
            self._loading = False
        if failed and event.worker.group == "count":
            self._counting = False
        if event.state is WorkerState.ERROR:
            self.tell(f"error: {event.worker.error}", "Something failed")

    # -- messages from workers ----------------------------------------------------------------
    def on_choices_loaded(self, message: ChoicesLoaded) -> None:
        first = self.choices is None
        self.choices = message.choices
        if first and self.is_current:  # the reviewer asked for the dialog: open it now
            self.say("")
            self.action_filter()

    def on_project_counted(self, message: ProjectCounted) -> None:
        self.project_total = message.total
        self._title()
        self._counting = False
        if self._count_again:
            self._count_again = False
            self.count_project()

    def on_utterance_list_counted(self, message: UtteranceList.Counted) -> None:
        self.matches = message.total
        self._title()
        self.count_project()  # an import meanwhile changes the total too
        self.batch_done(message.total)
        if self._searching:
            self._searching = False
            self.say(f"{message.total:,} found")
        if message.total == 0 and self.list.row_count == 0:
            self._show_nothing()

    def on_utterance_list_highlighted(self, message: UtteranceList.Highlighted) -> None:
        self._highlight(message.row)

    def _highlight(self, row: ListRow) -> None:
        """The list's cursor went to `row`: show it."""
        if self.utt is not None and self.utt.id != row.id:
            self.say("")  # what was said is about the utterance being left
        self.session.leave()
        self._arm(None)
        self._wanted = row.id
        self._show_wanted()

    def on_utterance_list_chosen(self) -> None:
        self.editor.focus()

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        utt_id = message.utt.id
        if message.prefetch:
            self._prefetching.discard(utt_id)
        else:
            self._loading = False
        target = self._move_target
        row = None if target is None else self.list.row(target)
        if target is not None and row is not None and row.id == utt_id:
            self._move_now(target)  # the move that waited for this utterance
        elif utt_id == self._wanted:
            self._present(message.utt)
        elif not message.prefetch:
            self._show_wanted()  # the reviewer has moved on meanwhile

    def _present(self, read: Utterance) -> None:
        if self.utt is not None and self.utt.id == read.id:
            return  # shown already (read ahead, then read again): keep what is being typed
        current = self.list.current
        if current is None or current.id != read.id:
            return
        self.session.leave()  # typed while this one was read: kept where it was typed
        self._draw(self.session.show(read))
        self._show_clip(read)
        self._read_ahead()
        if not self._started:
            # Everything made so far (modules, styles, widgets) lives as long as the app. Kept
            # out of the collector's full passes, those take a few ms instead of 30-90 ms
            # that would otherwise land on a keypress every few seconds.
            self._started = True
            self.call_after_refresh(gc.freeze)

    def _show_clip(self, utt: Utterance) -> None:
        """The clip if read, else start reading it: the utterance never waits for its audio."""
        if self._clip_timer is not None:
            self._clip_timer.stop()
            self._clip_timer = None
        waveform = self.query_one(Waveform)
        if utt.audio_error:
            self.player.load(None)
            waveform.show(None, f"audio: {utt.audio_error}", 0.0)
            return
        got = self.clips.get(utt.id)
        if got is not None:
            self.player.load(got.clip)
            waveform.show(got.peaks, got.note, got.clip.duration if got.clip else 0.0)
            return
        self.player.load(None)
        waveform.show(None, "loading audio…", 0.0)
        self.clips.request(utt.id, self._clip_path(utt))
        self._clip_timer = self.set_timer(TIMEOUT_S, lambda: self._clip_late(utt.id))

    def _clip_late(self, utt_id: int) -> None:
        self._clip_timer = None
        if self.utt is not None and self.utt.id == utt_id and self.clips.get(utt_id) is None:
            note = f"audio unreadable: not read within {TIMEOUT_S:g} s (a blocked file?)"
            self.query_one(Waveform).show(None, note, 0.0)

    def on_clip_loaded(self, message: ClipLoaded) -> None:
        if self.utt is not None and self.utt.id == message.read.utt_id:
            self._show_clip(self.utt)
        for index in (self.list.cursor + 1, self.list.cursor - 1):
            row = self.list.row(index)  # the neighbours' clips, once this one is in
            kept = None if row is None else self.session.kept(row.id, FRESH_S)
            if kept is not None and not kept.audio_error:
                self.clips.request(kept.id, self._clip_path(kept))

    def on_session_event(self, message: SessionEvent) -> None:
        event = message.event
        if isinstance(event, Saved):
            self._saved(event)
        elif isinstance(event, SaveFailed):
            then = "kept on screen; retrying" if event.retrying else "not saved"
            self.tell(f"{safe(event.request.key)} not saved yet: {event.reason} ({then})",
                      "Save failed", "warning" if event.retrying else "error")
        elif isinstance(event, ConflictFound):
            self._conflict(event)
        elif isinstance(event, ClaimHeld):
            self.ask_over_claim(event)

    def _saved(self, event: Saved) -> None:
        utt, request = event.utt, event.request
        self.list.update_row(utt.id, status=utt.status, draft_head=(utt.draft or "")[:40])
        self.list.recount()
        if self.utt is not None and self.utt.id == utt.id:
            self._draw_header()
        key = safe(utt.key)
        if request.kind == "accept":
            last = self._last_of_list == utt.id
            done = f"saved {key} as gold" if self.team.pass_ == 1 else f"second pass of {key} saved"
            self.say(done + (": that was the last in this list" if last else ""))
        elif request.kind in ("skipped", "flagged"):
            self.say(
                f"{key} {utt.status}"
                + (f": {safe(utt.note)}" if utt.note and utt.status == "flagged" else "")
            )
        elif request.kind == "undo":
            self.say(f"{key} is {utt.status} again")
        elif request.kind == "mine":
            self.say(f"your version of {key} saved over theirs")
        elif request.kind == "discard":
            self.say(f"kept their version of {key}; yours is in the edit log")
        else:
            self.say(f"edits to {key} saved")

    def _conflict(self, event: ConflictFound) -> None:
        theirs = event.theirs
        self.list.update_row(theirs.id, status=theirs.status, draft_head=(theirs.draft or "")[:40])
        conflict = self.session.conflicts.get(event.utt_id)
        if conflict is None:
            return
        view = self.session.view(event.utt_id) or theirs
        changes = conflict.changes()
        mine = Mine(
            view.draft or "",
            view.translation,
            {t: getattr(view, t) for t in LABEL_TASKS},
            changes.get("status"),
        )
        self.say(f"{safe(theirs.key)} was saved by {safe(theirs.annotator or 'someone')}: choose")

        def chosen(choice: str | None) -> None:
            self.session.resolve(event.utt_id, choice or "theirs")
            if self.utt is not None and self.utt.id == event.utt_id:
                self._draw(self.utt)

        self.app.push_screen(ConflictChoice(theirs, mine, self.annotator), chosen)

    def on_player_changed(self) -> None:
        self.query_one(Waveform).sync()
        self._track_spoken()
        if self.player.error and self.player.error != self._audio_said:
            self._audio_said = self.player.error
            self.say(self.player.error)

    # -- showing one utterance ----------------------------------------------------------------
    def _draw(self, utt: Utterance) -> None:
        """Draw the session's utterance and on-screen values."""
        detail = self.detail
        self._draw_header()
        detail.show_note(utt)
        editor = self.editor
        editor.read_only = False
        editor.load_text(self.session.display_draft)
        editor.move_cursor(editor.document.end)
        self.query_one("#translation", Input).value = self.session.display_translation
        detail.show_translations(utt, self._key("take.translation", "alt+0"))
        self._show_labels()
        self._show_hypotheses()
        self.second_pass_hint(utt, self._key("review.accept", "ctrl+s"))

    def _draw_header(self) -> None:
        utt, values = self.session.current, self.session.values
        if utt is None:
            return
        self.detail.show_header(utt)
        if values is not None and modified_since_accepted(utt, values):
            header = self.query_one("#header", Static)
            header.update(
                Text.assemble(
                    Text(" · ".join([safe(utt.key), "modified since accepted"]), "bold yellow"),
                    " (accept to make it gold, ctrl+r for the gold)",
                ),
                layout=False,
            )

    def _show_nothing(self) -> None:
        self.session.clear()
        editor = self.editor
        editor.load_text("")
        editor.read_only = True  # nothing to type into: keys typed are not kept anywhere
        self.detail.show_nothing("nothing matches this filter")
        self.player.load(None)
        self.query_one(Waveform).show(None, "")

    def _show_hypotheses(self) -> None:
        utt = self.utt
        if utt is not None:
            self.detail.show_hypotheses(
                utt, self.session.reference(), self._take_keys(), self._spoken_systems
            )

    def _track_spoken(self) -> None:
        """While playing, mark the character being spoken (char_times.Spoken); else none."""
        systems: dict[str, int] = {}
        draft_at = None
        if self.utt is not None and self.player.playing:
            key = (self.utt.id, self.editor.text)
            if self._spoken is None or self._spoken[0] != key:
                self._spoken = (key, Spoken(self.utt.hypotheses, self.editor.text))
            systems, draft_at = self._spoken[1].at(self.player.position)
        if systems != self._spoken_systems:
            self._spoken_systems = systems
            self._show_hypotheses()
        self.editor.show_spoken(None if draft_at is None else self._location(draft_at))

    def _show_labels(self) -> None:
        if self.utt is not None:
            keys = {t: self._key(f"label.{t}", "") for t in LABEL_TASKS}
            self.detail.show_labels(self.utt, self.labels, keys)

    @on(TextArea.Changed, "#editor")
    def _draft_changed(self) -> None:
        if self.session.current is None:
            return
        self.session.edit_draft(self.editor.text)
        self._arm(None)
        self._show_hypotheses()

    @on(Input.Changed, "#translation")
    def _translation_changed(self, event: Input.Changed) -> None:
        self.session.edit_translation(event.value)

    # -- moving -------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self._go(self._heading() + delta)

    def action_move_page(self, delta: int) -> None:
        self._go(self._heading() + delta * PAGE // 4)

    def _heading(self) -> int:
        """The row the cursor is going to: a move waiting for its utterance counts as made."""
        return self.list.cursor if self._move_target is None else self._move_target

    def _go(self, index: int) -> None:
        """Move to row `index`. An utterance not read yet (the neighbours are read ahead) is
        read first and the move made when it is here, at most MOVE_WAIT_S later: the list
        and the detail then change in the same frame, not one frame after the other."""
        index = self.list.clamp(index)
        row = self.list.row(index)
        if index == self.list.cursor or row is None or self.session.kept(row.id, FRESH_S):
            self._move_now(index)
            return
        self._move_target = index
        self._prefetch(row.id)
        if self._move_timer is None:  # not reset by further keys: the list keeps moving
            self._move_timer = self.set_timer(MOVE_WAIT_S, self._move_waited)

    def _move_waited(self) -> None:
        self._move_timer = None
        if self._move_target is not None:
            self._move_now(self._move_target)

    def _cancel_move(self) -> None:
        self._move_target = None
        if self._move_timer is not None:
            self._move_timer.stop()
            self._move_timer = None

    def _move_now(self, index: int) -> None:
        self._cancel_move()
        row = self.list.move_to(index, announce=False)
        if row is not None:
            self._highlight(row)

    def _is_last_row(self) -> bool:
        return self.list.clamp(self.list.cursor + 1) == self.list.cursor

    # -- decisions ----------------------------------------------------------------------------
    def _ask(self, question: str, key: str, then: object) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()  # type: ignore[operator]
            else:
                self.say("cancelled")

        self.app.push_screen(Confirm(question, key), answered)

    def _decided(self, check: Check) -> None:
        """A decision was queued: note where, for its undo, and go to the next utterance."""
        utt = self.utt
        if utt is not None:
            self._decided_at[utt.id] = self.list.cursor
            self._last_of_list = utt.id if self._is_last_row() else None
        if check.message:
            self.say(check.message)
        self._go(self.list.cursor + 1)

    def _on_selected(self) -> bool:
        """Decisions go only to the utterance on screen, and only once it is the one the
        list has selected (not while the selected one is still being read)."""
        current, utt = self.list.current, self.utt
        if utt is not None and current is not None and current.id != utt.id:
            self.say(f"wait: {safe(current.key)} is still being read")
            return False
        return True

    def action_accept(self, confirmed: bool = False) -> None:
        if not self._on_selected():
            return
        check = self.session.accept(confirmed=confirmed)
        if check.confirm:
            key = self._key("review.accept", "ctrl+s")
            self._ask(f"{check.message}. Accept it as gold anyway?", key,
                      lambda: self.action_accept(True))
        elif check.done:
            self._decided(check)
        else:
            self.say(check.message)

    def _set_status(self, status: str, note: str | None = None, confirmed: bool = False) -> None:
        if not self._on_selected():
            return
        check = self.session.set_status(status, note, confirmed=confirmed)
        if check.confirm:
            binding = "review.skip" if status == "skipped" else "review.flag"
            key = self._key(binding, "ctrl+n" if status == "skipped" else "ctrl+g")
            verb = "Skip" if status == "skipped" else "Flag"
            self._ask(f"{check.message}. {verb} it (it leaves the gold set)?", key,
                      lambda: self._set_status(status, note, True))
        elif check.done:
            self._decided(check)
        else:
            self.say(check.message)

    def action_skip(self) -> None:
        self._set_status("skipped")

    def action_flag(self) -> None:
        utt = self.utt
        if utt is None:
            return

        def flagged(note: str | None) -> None:
            if note is None:
                self.say("flag cancelled")
            else:
                self._set_status("flagged", note)

        self.app.push_screen(FlagNote(utt.key, utt.note or ""), flagged)

    def action_undo_decision(self) -> None:
        decision = self.session.undo_decision()
        if decision is None:
            self.say("no decision to undo")
            return
        self.say(f"undoing {decision.kind} of {safe(decision.key)}…")
        index = self._decided_at.pop(decision.utt_id, None)
        row = None if index is None else self.list.row(index)
        if index is not None and row is not None and row.id == decision.utt_id:
            self.session.forget(decision.utt_id)
            if self.utt is None or self.utt.id != decision.utt_id:
                self._go(index)
        elif self.utt is not None and self.utt.id == decision.utt_id:
            self._draw(self.utt)

    def action_revert(self) -> None:
        check = self.session.revert()
        if check.done and self.utt is not None:
            self._draw(self.utt)
            self.say(check.message)

    # -- editing ------------------------------------------------------------------------------
    def action_undo(self) -> None:
        self.editor.undo()

    def action_redo(self) -> None:
        self.editor.redo()

    def action_take(self, n: int) -> None:
        self._arm(None)
        if self.utt is None:
            return
        shown = self.session.take(n)
        if shown is None:
            self.say(f"no hypothesis {n}")
            return
        editor = self.editor
        editor.history.checkpoint()
        editor.replace(shown, editor.document.start, editor.document.end)
        editor.history.checkpoint()
        system = self.session.asr()[n - 1].system
        self.say(f"took {safe(system)}'s transcript (undo: {self._key('review.undo', 'ctrl+z')})")

    def _cursor_index(self) -> int:
        row, column = self.editor.cursor_location
        lines = self.editor.text.split("\n")
        return sum(len(line) + 1 for line in lines[:row]) + column

    def _location(self, index: int) -> tuple[int, int]:
        before = self.editor.text[:index].split("\n")
        return len(before) - 1, len(before[-1])

    def action_difference(self, step: int) -> None:
        self._arm(None)
        hyp = self.session.compared()
        if hyp is None:
            self.say("no system to compare with")
            return
        span = self.session.next_difference(self._cursor_index(), step)
        if span is None:  # past the last one: round again from the other end
            span = self.session.next_difference(-1 if step > 0 else len(self.editor.text) + 1, step)
        if span is None:
            self.say(f"no further difference from {safe(hyp.system)}")
            return
        self.editor.move_cursor(self._location(span[0]))
        shown = safe(span[2]) or "nothing"
        take = self._key("diff.take", "f7")
        self.say(f"{safe(hyp.system)} has “{shown}” here ({take} takes it)")

    def action_take_difference(self) -> None:
        self._arm(None)
        hyp = self.session.compared()
        span = self.session.difference_at(self._cursor_index()) if hyp else None
        if hyp is None or span is None:
            self.say("the cursor is on no difference (f6 goes to the next)")
            return
        editor = self.editor
        start, end = self._location(span[0]), self._location(span[1])
        editor.history.checkpoint()
        editor.replace(span[2], start, end)
        editor.history.checkpoint()
        self.say(f"took {safe(hyp.system)}'s “{safe(span[2]) or '(deletion)'}”")

    def action_compare_next(self) -> None:
        self._arm(None)
        hyp = self.session.cycle_compare()
        if hyp is not None:
            self.say(f"differences from {safe(hyp.system)} ({self._key('diff.next', 'f6')})")

    def action_take_translation(self) -> None:
        self._arm(None)
        if self.session.take_translation():
            self.query_one("#translation", Input).value = self.session.display_translation

    def action_cycle_label(self, task: str, step: int = 1) -> None:
        if self.utt is None:
            return
        self.session.cycle_label(task, step)
        self._arm(task)
        self._show_labels()

    def _arm(self, task: str | None) -> None:
        """After a label key, the next digit picks that label's value (0 clears it)."""
        self._label_task = task
        self.editor.digits_free = task is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_label":  # digits pick a label only right after a label key
            return self._label_task is not None
        return True

    def action_pick_label(self, number: int) -> None:
        task = self._label_task
        self._arm(None)
        if task is not None and self.session.pick_label(task, number):
            self._show_labels()

    def action_take_labels(self) -> None:
        self._arm(None)
        taken = self.session.take_system_labels()
        self._show_labels()
        self.say("took the systems' " + ", ".join(taken) if taken else "no system labels")

    # -- audio --------------------------------------------------------------------------------
    def action_play_pause(self) -> None:
        if self.player.error:
            self.say(self.player.error)
        self.player.toggle()

    def action_replay(self) -> None:
        self.player.replay()

    def action_seek(self, seconds: float) -> None:
        self.player.seek(seconds)  # the player says when it is done: on_player_changed

    def action_play_from_cursor(self) -> None:
        """Play from the character under the editor cursor (char_times: its time less 0.5 s)."""
        utt, index = self.utt, self._cursor_index()
        start = None if utt is None else play_from(self.editor.text, utt.hypotheses, index)
        if start is None:
            self.say("no system gave character times for this utterance")
            return
        self.player.seek(start - self.player.position)
        if not self.player.playing:
            self.player.toggle()

    def action_speed(self, steps: int) -> None:
        self.player.step_speed(steps)
        self.say(self.player.stretch_note)

    # -- elsewhere ----------------------------------------------------------------------------
    def before_quit(self) -> bool:
        """Keep the draft as leaving does. True when quitting may go on: every save landed,
        or the reviewer asked twice knowing some did not."""
        self.session.leave()
        if self._quitting:  # asked twice: an open conflict keeps theirs, mine goes to the log
            for utt_id in list(self.session.conflicts):
                self.session.resolve(utt_id, "theirs")
            self.session.wait_idle(QUIT_WAIT_S)
            return True
        if self.session.wait_idle(QUIT_WAIT_S) and not self.session.conflicts:
            return True
        self._quitting = True
        if self.session.conflicts:
            why = "a conflict is not answered (alt+m / alt+t); quitting keeps theirs and logs yours"
        else:
            reason = self.session.failure or "still saving"
            why = f"{self.session.in_flight} change(s) not saved yet ({reason})"
        self.tell(f"{why}; quit again to leave", "Not saved")
        return False

    def action_filter(self) -> None:
        def chosen(result: tuple[Filter, Sort] | None) -> None:
            if result is None:
                return
            self.session.leave()
            self._cancel_move()
            self.filt, self.sort = self.team.shown(self.annotator, result[0]), result[1]
            self.matches = None
            self.session.clear()
            self._title()
            self._searching = bool(self.filt.text and self.filt.text.strip())
            if self._searching:
                self.say("searching (the first search builds the index)…")
            self.claim_then_show(self.filt, self.sort)

        if self.choices is None:
            self.say("reading the project's groups and systems…")
            self.load_choices()
            return
        self.app.push_screen(FilterDialog(self.filt, self.sort, self.choices), chosen)

    def action_focus_list(self) -> None:
        (self.editor if self.list.has_focus else self.list).focus()

    def action_stats(self) -> None:
        from workbench.tui.stats_screen import StatsScreen

        self.app.push_screen(StatsScreen(self.bulk))

    def action_help(self) -> None:
        self.app.push_screen(KeysHelp(self.keymap))
