"""The review screen: the list on the left, the utterance being corrected on the right.

Every store call runs in a thread worker that posts a message back; the UI thread only draws.
The editor keeps focus all day, so every review key is a priority binding on this screen.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.cache import LRUCache
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, TextArea
from textual.worker import Worker, WorkerState

from db.store import GROUP_FIELDS, Conflict, Filter, ListRow, Sort, Store, Utterance
from db.tasks import LABEL_SETS, LABEL_TASKS
from workbench.team import TeamOptions
from workbench.tui.audio import Clip, Player, envelope, load_clip
from workbench.tui.char_times import Spoken, play_from
from workbench.tui.detail import Detail, Editor
from workbench.tui.filter_screen import Choices, FilterDialog
from workbench.tui.help_screen import KeysHelp
from workbench.tui.keymap import bindings
from workbench.tui.modals import ConflictChoice, FlagNote, Mine
from workbench.tui.team_glue import TeamGlue
from workbench.tui.text import safe
from workbench.tui.utterance_list import PAGE, UtteranceList
from workbench.tui.waveform import Waveform

ENVELOPE_POINTS = 2048  # fine enough for any terminal width, small enough to keep per clip
KEPT_DETAILS = 16  # utterances read (the neighbours read ahead among them), clips included
FRESH_S = 10.0  # a kept utterance older than this is read again before it is shown
MOVE_WAIT_S = 0.03  # the longest a move waits for its utterance to be read


@dataclass(frozen=True)
class Values:
    """What the reviewer has on screen for one utterance (compared to find unsaved edits)."""

    draft: str
    translation: str | None
    labels: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, utt: Utterance) -> Values:
        return cls(
            safe(utt.draft or ""),
            utt.translation,
            {"age": utt.age, "gender": utt.gender, "emotion": utt.emotion},
        )

    def changes(self, saved: Values) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.draft != saved.draft:
            out["draft"] = self.draft
        if self.translation != saved.translation:
            out["translation"] = self.translation
        out.update({k: v for k, v in self.labels.items() if saved.labels.get(k) != v})
        return out


@dataclass(frozen=True)
class SaveRequest:
    """One write: accept (draft becomes gold) or a plain save of `changes`."""

    utt: Utterance
    values: Values
    changes: dict[str, Any]
    accept: bool = False
    expected_version: int | None = None  # set when keeping mine over a conflict
    over_claim: bool = False  # the reviewer said to save over someone else's claim

    @property
    def version(self) -> int:
        return self.utt.version if self.expected_version is None else self.expected_version


class DetailLoaded(Message):
    """An utterance read with its clip; `prefetch` when read ahead of the reviewer."""

    def __init__(
        self,
        utt: Utterance,
        clip: Clip | None,
        peaks: np.ndarray | None,
        note: str,
        prefetch: bool = False,
    ) -> None:
        super().__init__()
        self.utt, self.clip, self.peaks, self.note = utt, clip, peaks, note
        self.prefetch = prefetch
        self.at = time.monotonic()


class Saved(Message):
    def __init__(self, request: SaveRequest, utt: Utterance) -> None:
        super().__init__()
        self.request, self.utt = request, utt


class SaveConflict(Message):
    def __init__(self, request: SaveRequest, theirs: Utterance) -> None:
        super().__init__()
        self.request, self.theirs = request, theirs


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
    BINDINGS = bindings()

    def __init__(
        self, store: Store, bulk: Store, annotator: str, player: Player, keymap: dict[str, str],
        team: TeamOptions | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.bulk = bulk  # a second connection for slow aggregates (counts, groups, stats)
        self.annotator = annotator
        self.player = player
        self.keymap = keymap
        self.team = team or TeamOptions(all=True)
        self.filt = self.team.shown(annotator)
        # Once `wuwb consensus` has run, the riskiest utterances come first.
        self.sort = Sort("risk", descending=True) if store.derived else Sort()
        self.choices: Choices | None = None  # read when the filter dialog first opens
        self.project_total: int | None = None
        self.matches: int | None = None
        self.utt: Utterance | None = None
        self.saved_values: Values | None = None
        self.labels: dict[str, str | None] = {}
        self._newest: dict[int, Utterance] = {}  # our own saves, newer than a stale read
        self._loading = False  # a detail load is running
        self._wanted: int | None = None  # the utterance whose detail should be shown next
        self._kept: LRUCache[int, DetailLoaded] = LRUCache(KEPT_DETAILS)
        self._prefetching: set[int] = set()
        self._move_target: int | None = None  # a move waiting for its utterance to be read
        self._move_timer: Timer | None = None
        self._started = False  # the first utterance has been shown
        self._audio_said: str | None = None
        # The character being played, marked in the timed answers and the draft.
        self._spoken: tuple[tuple[int, str], Spoken] | None = None
        self._spoken_systems: dict[str, int] = {}

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

    def on_detail_ready(self) -> None:
        self.player.on_change = lambda: self.post_message(PlayerChanged())
        self.claim_then_show(self.filt, self.sort)
        self.count_project()
        self.editor.focus()
        self._title()
        self.say("ready")
        self.on_player_changed()  # the device may have been probed already
        self.set_interval(0.1, self._track_spoken)

    def say(self, message: str) -> None:
        """The status line: what just happened (data in it shown literally)."""
        status = Text(safe(message), no_wrap=True, overflow="ellipsis")
        self.query_one("#status", Static).update(status, layout=False)

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
        keys = []
        for n in range(1, 10):
            shown = self.keymap.get(f"take.{n}", f"alt+{n}").split(",")[0]
            keys.append(shown)
        return keys

    def _key(self, binding_id: str, default: str) -> str:
        return self.keymap.get(binding_id, default).split(",")[0]

    # -- store workers ------------------------------------------------------------------------
    @work(thread=True, group="count", exit_on_error=False)
    def count_project(self) -> None:
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
        kept = self._kept.get(wanted)
        if kept is not None and self._fresh(wanted):
            self._present(kept)
        elif not self._loading:
            self._loading = True
            self.load_detail(wanted)

    def _fresh(self, utt_id: int, within: float = FRESH_S) -> bool:
        kept = self._kept.get(utt_id)
        return kept is not None and time.monotonic() - kept.at < within

    def _prefetch(self, utt_id: int) -> None:
        if utt_id not in self._prefetching:
            self._prefetching.add(utt_id)
            self.prefetch_detail(utt_id)

    def _read_ahead(self) -> None:
        """Read the neighbours of the cursor's row, so that next and previous show at once."""
        for index in (self.list.cursor + 1, self.list.cursor - 1):
            row = self.list.row(index)
            if row is not None and not self._fresh(row.id, FRESH_S / 2):
                self._prefetch(row.id)

    @work(thread=True, group="detail", exit_on_error=False)
    def load_detail(self, utt_id: int) -> None:
        self.post_message(self._read(utt_id))

    @work(thread=True, group="prefetch", exit_on_error=False)
    def prefetch_detail(self, utt_id: int) -> None:
        self.post_message(self._read(utt_id, prefetch=True))

    def _read(self, utt_id: int, prefetch: bool = False) -> DetailLoaded:
        """An utterance and its clip (in a worker thread)."""
        utt = self.store.utterance(utt_id)
        clip: Clip | None = None
        peaks: np.ndarray | None = None
        note = ""
        if utt.audio_error:
            note = f"audio: {utt.audio_error}"
        else:
            path = Path(utt.audio)
            if not path.is_absolute():
                path = self.store.path.parent / path
            try:
                clip = load_clip(path)
            except Exception as error:  # unreadable or missing audio must not stop the review
                note = f"audio unreadable: {error}"
            else:
                peaks = envelope(clip.samples, ENVELOPE_POINTS)
        return DetailLoaded(utt, clip, peaks, note, prefetch)

    @work(thread=True, group="save", exit_on_error=False)
    def save(self, request: SaveRequest) -> None:
        store, utt, values = self.store, request.utt, request.values
        if self.asks_first(request):
            return
        try:
            saved = self.second_pass_save(request)
            if saved is None and request.accept:
                saved = store.accept(
                    utt.id,
                    request.version,
                    draft=values.draft,
                    annotator=self.annotator,
                    translation=values.translation,
                    **values.labels,
                )
            elif saved is None:
                saved = store.save(utt.id, request.version, request.changes, self.annotator)
        except Conflict as conflict:
            self.post_message(SaveConflict(request, conflict.theirs))
            return
        self.post_message(Saved(request, saved))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        failed = event.state in (WorkerState.ERROR, WorkerState.CANCELLED)
        if failed and event.worker.group == "prefetch":
            self._prefetching.clear()  # reading it when it is wanted will say what fails
            return
        if failed and event.worker.group == "detail":
            self._loading = False
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.say(f"error: {error}")
            self.notify(safe(str(error)), title="Something failed", severity="error", markup=False)

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

    def on_utterance_list_counted(self, message: UtteranceList.Counted) -> None:
        self.matches = message.total
        self._title()
        self.batch_done(message.total)
        if message.total == 0 and self.list.row_count == 0:
            self._show_nothing()

    def on_utterance_list_highlighted(self, message: UtteranceList.Highlighted) -> None:
        self._highlight(message.row)

    def _highlight(self, row: ListRow) -> None:
        """The list's cursor went to `row`: show it."""
        self._leave()
        self._wanted = row.id
        self._show_wanted()

    def on_utterance_list_chosen(self) -> None:
        self.editor.focus()

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        utt_id = message.utt.id
        self._kept.set(utt_id, message)
        if message.prefetch:
            self._prefetching.discard(utt_id)
        else:
            self._loading = False
        target = self._move_target
        row = None if target is None else self.list.row(target)
        if target is not None and row is not None and row.id == utt_id:
            self._move_now(target)  # the move that waited for this utterance
        elif utt_id == self._wanted:
            self._present(message)
        elif not message.prefetch:
            self._show_wanted()  # the reviewer has moved on meanwhile

    def _present(self, loaded: DetailLoaded) -> None:
        if self.utt is not None and self.utt.id == loaded.utt.id:
            return  # shown already (read ahead, then read again): keep what is being typed
        current = self.list.current
        if current is None or current.id != loaded.utt.id:
            return
        utt = loaded.utt
        newer = self._newest.get(utt.id)
        if newer is not None and newer.version > utt.version:
            utt = newer
        self._show(utt)
        self.player.load(loaded.clip)
        clip = loaded.clip
        self.query_one(Waveform).show(loaded.peaks, loaded.note, clip.duration if clip else 0.0)
        self._read_ahead()
        if not self._started:
            # Everything made so far (modules, styles, widgets) lives as long as the app. Kept
            # out of the collector's full passes, those take a few ms instead of 30-90 ms
            # that would otherwise land on a keypress every few seconds.
            self._started = True
            self.call_after_refresh(gc.freeze)

    def on_saved(self, message: Saved) -> None:
        utt = message.utt
        self._newest[utt.id] = utt
        self.list.update_row(utt.id, status=utt.status, draft_head=(utt.draft or "")[:40])
        self.list.recount()
        if self.utt is not None and self.utt.id == utt.id:
            self.utt = utt
            self.saved_values = Values.of(utt)
            self.detail.show_header(utt)
            self.detail.show_note(utt)
        key = safe(utt.key)
        if message.request.accept:
            first = self.team.pass_ == 1
            self.say(f"saved {key} as gold" if first else f"second pass of {key} saved")
        elif "status" in message.request.changes:
            self.say(
                f"{key} {utt.status}"
                + (f": {safe(utt.note)}" if utt.note and utt.status == "flagged" else "")
            )
        else:
            self.say(f"edits to {key} saved")

    def on_save_conflict(self, message: SaveConflict) -> None:
        request, theirs = message.request, message.theirs
        self.list.update_row(theirs.id, status=theirs.status, draft_head=(theirs.draft or "")[:40])
        self.say(f"{safe(theirs.key)} was saved by {safe(theirs.annotator or 'someone')}: choose")
        mine = Mine(
            request.values.draft,
            request.values.translation,
            request.values.labels,
            "accepted" if request.accept else request.changes.get("status"),
        )

        def chosen(choice: str | None) -> None:
            if choice == "mine":
                self.say(f"saving your version of {safe(theirs.key)} over theirs…")
                self.save(
                    SaveRequest(
                        theirs,
                        request.values,
                        request.changes,
                        request.accept,
                        expected_version=theirs.version,
                    )
                )
            else:
                self._newest[theirs.id] = theirs
                if self.utt is not None and self.utt.id == theirs.id:
                    self._show(theirs)
                self.say(f"kept their version of {safe(theirs.key)}")

        self.app.push_screen(ConflictChoice(theirs, mine, self.annotator), chosen)

    def on_player_changed(self) -> None:
        self.query_one(Waveform).sync()
        self._track_spoken()
        if self.player.error and self.player.error != self._audio_said:
            self._audio_said = self.player.error
            self.say(self.player.error)

    # -- showing one utterance ----------------------------------------------------------------
    def _show(self, utt: Utterance) -> None:
        self.utt = utt
        self.saved_values = Values.of(utt)
        self.labels = dict(self.saved_values.labels)
        detail = self.detail
        detail.show_header(utt)
        detail.show_note(utt)
        editor = self.editor
        editor.load_text(self.saved_values.draft)
        editor.move_cursor(editor.document.end)
        self.query_one("#translation", Input).value = utt.translation or ""
        detail.show_translations(utt, self._key("take.translation", "alt+0"))
        self._show_labels()
        self._show_hypotheses()
        self.second_pass_hint(utt, self._key("review.accept", "ctrl+s"))

    def _show_nothing(self) -> None:
        self.utt = None
        self.saved_values = None
        self.editor.load_text("")
        self.detail.show_nothing("nothing matches this filter")
        self.player.load(None)
        self.query_one(Waveform).show(None, "")

    def _show_hypotheses(self) -> None:
        if self.utt is None:
            return
        utt = self.utt
        ref = safe(utt.gold or "") if utt.status == "accepted" and utt.gold else self.editor.text
        self.detail.show_hypotheses(utt, ref, self._take_keys(), self._spoken_systems)

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
        document = self.editor.document
        self.editor.show_spoken(
            None if draft_at is None else document.get_location_from_index(draft_at))

    def _show_labels(self) -> None:
        if self.utt is not None:
            keys = {t: self._key(f"label.{t}", "") for t in LABEL_TASKS}
            self.detail.show_labels(self.utt, self.labels, keys)

    @on(TextArea.Changed, "#editor")
    def _draft_changed(self) -> None:
        self._show_hypotheses()

    def values(self) -> Values:
        translation = self.query_one("#translation", Input).value.strip()
        return Values(self.editor.text, translation or None, dict(self.labels))

    def _leave(self) -> None:
        """Save unsaved edits of the utterance being left, so typing is never lost."""
        if self.utt is None or self.saved_values is None:
            return
        values = self.values()
        changes = values.changes(self.saved_values)
        if changes:
            self.save(SaveRequest(self.utt, values, changes))
            self.saved_values = values

    # -- actions ------------------------------------------------------------------------------
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
        if index == self.list.cursor or row is None or self._fresh(row.id):
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

    def action_accept(self) -> None:
        utt = self.utt
        if utt is None:
            return
        values = self.values()
        if not values.draft.strip():
            self.say("nothing to accept: the draft is empty")
            return
        self.say(f"saving {safe(utt.key)}…")
        self.save(SaveRequest(utt, values, {}, accept=True))
        self.saved_values = values
        self._go(self.list.cursor + 1)

    def _set_status(self, status: str, note: str | None = None) -> None:
        utt = self.utt
        if utt is None or self.saved_values is None:
            return
        values = self.values()
        changes = values.changes(self.saved_values) | {"status": status}
        if note is not None:
            changes["note"] = note
        self.save(SaveRequest(utt, values, changes))
        self.saved_values = values
        self._go(self.list.cursor + 1)

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

    def action_revert(self) -> None:
        if self.utt is None:
            return
        self.say(f"reverted {safe(self.utt.key)} to its saved state")
        # Nothing to autosave (the edits are being thrown away); read it again from the file.
        self.saved_values = None
        self._kept.discard(self.utt.id)
        self._wanted, self.utt = self.utt.id, None
        self._show_wanted()

    def action_undo(self) -> None:
        self.editor.undo()

    def action_redo(self) -> None:
        self.editor.redo()

    def action_take(self, n: int) -> None:
        if self.utt is None:
            return
        asr = [h for h in self.utt.hypotheses if h.task == "asr"]
        if n > len(asr) or asr[n - 1].text is None:
            self.say(f"no hypothesis {n}")
            return
        editor = self.editor
        editor.history.checkpoint()
        editor.replace(safe(asr[n - 1].text or ""), editor.document.start, editor.document.end)
        editor.history.checkpoint()
        undo = self._key("review.undo", "ctrl+z")
        self.say(f"took {safe(asr[n - 1].system)}'s transcript (undo: {undo})")

    def action_take_translation(self) -> None:
        if self.utt is None:
            return
        ast = [h.text for h in self.utt.hypotheses if h.task == "ast" and h.text]
        if ast:
            self.query_one("#translation", Input).value = ast[0]

    def action_cycle_label(self, task: str) -> None:
        if self.utt is None:
            return
        options: list[str | None] = [None, *LABEL_SETS[task]]
        current = self.labels.get(task)
        index = options.index(current) if current in options else 0
        self.labels[task] = options[(index + 1) % len(options)]
        self._show_labels()

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
        editor = self.editor
        index = editor.document.get_index_from_location(editor.cursor_location)
        start = None if self.utt is None else play_from(editor.text, self.utt.hypotheses, index)
        if start is None:
            self.say("no system gave character times for this utterance")
            return
        self.player.seek(start - self.player.position)
        if not self.player.playing:
            self.player.toggle()

    def action_speed(self, steps: int) -> None:
        self.player.step_speed(steps)
        self.say(self.player.stretch_note)

    def action_filter(self) -> None:
        def chosen(result: tuple[Filter, Sort] | None) -> None:
            if result is None:
                return
            self._leave()
            self._cancel_move()
            self.filt, self.sort = self.team.shown(self.annotator, result[0]), result[1]
            self.matches = None
            self.utt = None
            self.saved_values = None
            self._title()
            if self.filt.text and len(self.filt.text.strip()) >= 3:
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
