"""The review state machine, free of Textual: what one reviewer has on screen and in flight.

The review screen sends intents (show, edit, take, accept, skip, undo, resolve a conflict) and
renders what the session holds; every rule that protects gold lives here and is tested
without a terminal:

- Saves run one at a time, in order, on the session's own thread. A save built on a version
  that an own earlier save moved on is written over that save, never reported as a conflict
  with oneself; an utterance shown again before its save lands shows the saved-to-be values.
- Gold (text, translation, labels) changes only by an explicit accept. Other changes to an
  accepted utterance are kept as a pending draft ("modified since accepted"), revertible.
- A save that fails (the file locked by another process) stays queued with the reason and is
  retried; what it carries stays on screen meanwhile. Nothing typed is dropped.
- A conflict with another reviewer waits for a decision; whichever version is kept, the
  other stays in the edit log (marked discarded).
- The stored draft is byte for byte what was imported or typed. The editor shows `safe()`
  text (visible marks for control characters); `restore` maps an edited display back onto
  the stored characters, so an unedited `\\n` or ESC is stored as such, never as its mark.
- Accepting text holding a model's special token or invisible characters needs a second,
  deliberate accept; skipping or flagging accepted gold needs a confirmation; the last
  decisions can be undone.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz.distance import Levenshtein

from db.safe_text import safe
from db.store import Conflict, Hypothesis, Store, Utterance
from db.tasks import LABEL_SETS, LABEL_TASKS

# Tokens ASR models emit for what they could not transcribe or as sequence markers; gold
# holding one is almost always a mistake. Configurable: [review] special_tokens.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<unk>", "<UNK>", "[UNK]", "<s>", "</s>", "<pad>", "<blank>", "<sil>", "<noise>",
    "<|endoftext|>", "<|nospeech|>",
)
PENDING_FIELDS: tuple[str, ...] = ("translation", *LABEL_TASKS)
RETRY_S = 5.0  # a failed save is tried again this often (or at once when asked)
KEPT_READS = 64  # utterances read ahead or lately, kept to show at once
UNDO_DEPTH = 50


@dataclass(frozen=True)
class Values:
    """What the reviewer has on screen for one utterance, as it would be stored."""

    draft: str
    translation: str | None
    labels: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, utt: Utterance) -> Values:
        """The utterance's working values: an accepted one's pending changes over its gold."""
        pending = pending_of(utt)
        return cls(
            utt.draft or "",
            pending.get("translation", utt.translation),
            {t: pending.get(t, getattr(utt, t)) for t in LABEL_TASKS},
        )

    def fields(self) -> dict[str, Any]:
        return {"draft": self.draft, "translation": self.translation, **self.labels}


def pending_of(utt: Utterance) -> dict[str, Any]:
    """An accepted utterance's translation and labels changed since (not gold yet)."""
    if not utt.pending or utt.status != "accepted":
        return {}
    try:
        loaded = json.loads(utt.pending)
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if k in PENDING_FIELDS}


def modified_since_accepted(utt: Utterance, values: Values) -> bool:
    """An accepted utterance whose working values differ from its gold."""
    if utt.status != "accepted":
        return False
    gold = Values(utt.gold or "", utt.translation, {t: getattr(utt, t) for t in LABEL_TASKS})
    return values != gold


def changes_for(utt: Utterance, values: Values, status: str | None = None) -> dict[str, Any]:
    """The fields to write so that `utt` holds `values` (and `status`, if given).

    An utterance that stays accepted keeps its gold columns: a changed draft goes to the
    draft column (gold is separate), changed translation or labels to `pending`.
    """
    now = Values.of(utt)
    out: dict[str, Any] = {}
    if values.draft != now.draft:
        out["draft"] = values.draft
    if utt.status == "accepted" and status in (None, "accepted"):
        pending = {
            k: v for k, v in values.fields().items()
            if k in PENDING_FIELDS and v != getattr(utt, k)
        }
        if pending != pending_of(utt):
            out["pending"] = json.dumps(pending, ensure_ascii=False) if pending else None
        return out
    out.update(
        {k: v for k, v in values.fields().items() if k != "draft" and getattr(utt, k) != v}
    )
    if utt.pending is not None:
        out["pending"] = None  # no longer accepted: the working values are the columns
    if status is not None and status != utt.status:
        out["status"] = status
    return out


def restore(base: str, shown: str) -> str:
    """The stored text for an edited display: where `shown` still matches `safe(base)`, the
    characters of `base` (a newline stays a newline, not its ␊ mark); elsewhere what was typed.
    """
    pieces = [safe(c) for c in base]
    display = "".join(pieces)
    if shown == display:
        return base
    owner: list[int] = []  # display index -> base index
    starts: list[int] = []
    for n, piece in enumerate(pieces):
        starts.append(len(owner))
        owner.extend([n] * len(piece))
    out: list[str] = []
    for op in Levenshtein.opcodes(display, shown):
        if op.tag != "equal":
            out.append(shown[op.dest_start : op.dest_end])
            continue
        i = op.src_start
        while i < op.src_end:
            n = owner[i]
            end = starts[n] + len(pieces[n])
            if i == starts[n] and end <= op.src_end:
                out.append(base[n])
                i = end
            else:  # a mark cut by the edit: keep what is shown of it
                stop = min(end, op.src_end)
                out.append(display[i:stop])
                i = stop
    return "".join(out)


def invisible(text: str) -> list[str]:
    """The characters of `text` a terminal cannot show as they are (as U+XXXX names)."""
    return sorted({f"U+{ord(c):04X}" for c in text if safe(c) != c})


def accept_warnings(values: Values, tokens: Sequence[str]) -> list[str]:
    """Why accepting these values needs a second look (empty: nothing to warn about)."""
    out: list[str] = []
    found = [t for t in tokens if t in values.draft]
    if found:
        out.append("special token " + ", ".join(safe(t) for t in found))
    hidden = invisible(values.draft + (values.translation or ""))
    if hidden:
        out.append("invisible characters " + " ".join(hidden))
    return out


@dataclass(frozen=True)
class SaveRequest:
    """One write of `changes` to an utterance, built on the version the reviewer saw."""

    utt_id: int
    key: str
    base_version: int
    changes: dict[str, Any]
    kind: str = "edit"  # edit, accept, status, undo, mine, discard
    over_claim: bool = False  # the reviewer said to save over someone else's claim


@dataclass
class ConflictState:
    """Another reviewer saved first: their saved state and every save of ours held back."""

    theirs: Utterance
    requests: list[SaveRequest]

    def changes(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for request in self.requests:
            merged.update(request.changes)
        return merged


@dataclass(frozen=True)
class Decision:
    """An accept, skip or flag, with what it replaced (for undo)."""

    utt_id: int
    key: str
    kind: str
    before: dict[str, Any]


# -- events the saver reports (called on the saver's thread) -------------------------------
@dataclass(frozen=True)
class Saved:
    request: SaveRequest
    utt: Utterance


@dataclass(frozen=True)
class SaveFailed:
    request: SaveRequest
    reason: str
    retrying: bool  # False: the save was given up (the reason says why)


@dataclass(frozen=True)
class ConflictFound:
    utt_id: int
    theirs: Utterance


@dataclass(frozen=True)
class ClaimHeld:
    """Someone else holds a claim on the utterance: the save waits for the reviewer to say
    (resubmit with over_claim) or is dropped."""

    request: SaveRequest
    holder: str


Event = Saved | SaveFailed | ConflictFound | ClaimHeld
# A write that replaces the store's plain save for some requests (the second pass records
# its verdict); None: the plain save.
Writer = Callable[[SaveRequest, int], Utterance | None]
# Who else holds the utterance (claims), asked on the saver's thread before a write.
Guard = Callable[[SaveRequest], str | None]


@dataclass(frozen=True)
class Check:
    """The answer to an intent: done, refused (why), or waiting for a confirmation (why)."""

    done: bool
    message: str = ""
    confirm: bool = False


class ReviewSession:
    """One reviewer's session over a store. Intents come from one (UI) thread; reads may run
    in worker threads; saves run on the session's own thread."""

    def __init__(
        self,
        store: Store,
        annotator: str,
        *,
        special_tokens: Sequence[str] = SPECIAL_TOKENS,
        retry_s: float = RETRY_S,
        on_event: Callable[[Event], None] | None = None,
        writer: Writer | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.store = store
        self.writer = writer
        self.guard = guard
        self.annotator = annotator
        self.special_tokens = tuple(special_tokens)
        self.retry_s = retry_s
        self.on_event = on_event
        self.current: Utterance | None = None  # as stored, with our queued saves over it
        self.values: Values | None = None  # on screen
        self.failure: str | None = None  # why the save at the head of the queue failed
        self.compare_with = 1  # the hypothesis the diff keys compare the draft with
        self.decisions: deque[Decision] = deque(maxlen=UNDO_DEPTH)
        self.conflicts: dict[int, ConflictState] = {}
        self._base = ""  # the stored text the editor's display was made from
        self._confirming: tuple[int, Values] | None = None  # an accept warned about
        self._known: dict[int, Utterance] = {}  # newest state seen or saved by us
        self._reads: dict[int, tuple[Utterance, float]] = {}  # read ahead, with when
        self._own: dict[int, dict[int, int]] = {}  # per utterance: base -> version we made
        self._queue: deque[SaveRequest] = deque()
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._reporting = False  # a save has landed and its event is being reported
        self._closing = False
        self._thread = threading.Thread(target=self._save_loop, name="wuwb-saver", daemon=True)
        self._thread.start()

    # -- reading ---------------------------------------------------------------------------
    def read(self, utt_id: int) -> Utterance:
        """Read an utterance from the store (blocking: call from a worker thread) and keep it."""
        utt = self.store.utterance(utt_id)
        with self._lock:
            self._reads[utt_id] = (utt, time.monotonic())
            if len(self._reads) > KEPT_READS:
                del self._reads[next(iter(self._reads))]
            self._remember(utt)
        return utt

    def kept(self, utt_id: int, within: float) -> Utterance | None:
        """An utterance read less than `within` seconds ago, else None."""
        with self._lock:
            got = self._reads.get(utt_id)
            if got is None or time.monotonic() - got[1] >= within:
                return None
            return got[0]

    def forget(self, utt_id: int) -> None:
        with self._lock:
            self._reads.pop(utt_id, None)

    def _remember(self, utt: Utterance) -> None:
        known = self._known.get(utt.id)
        if known is None or utt.version >= known.version:
            self._known[utt.id] = utt

    def view(self, utt_id: int, read: Utterance | None = None) -> Utterance | None:
        """The newest state known of an utterance with our queued or held saves over it:
        what the store will hold once they land."""
        with self._lock:
            if read is not None:
                self._remember(read)
            utt = self._known.get(utt_id)
            if utt is None:
                return None
            changes: dict[str, Any] = {}
            conflict = self.conflicts.get(utt_id)
            if conflict is not None:
                changes.update(conflict.changes())
            for request in self._queue:
                if request.utt_id == utt_id and request.kind != "discard":
                    changes.update(request.changes)
            return replace(utt, **changes) if changes else utt

    # -- the utterance on screen ---------------------------------------------------------
    def show(self, utt: Utterance) -> Utterance:
        """Make `utt` (as read, maybe earlier) the one on screen; returns what to render."""
        shown = self.view(utt.id, utt)
        assert shown is not None
        with self._lock:
            self.current = shown
            self.values = Values.of(shown)
            self._base = self.values.draft
            self._confirming = None
        return shown

    def clear(self) -> None:
        """Nothing on screen (an empty list)."""
        with self._lock:
            self.current = None
            self.values = None
            self._base = ""
            self._confirming = None

    @property
    def display_draft(self) -> str:
        """The draft as the editor shows it (control characters as visible marks)."""
        return safe(self.values.draft) if self.values is not None else ""

    def edit_draft(self, shown: str) -> None:
        """The editor now shows `shown`."""
        values = self.values
        if values is None or shown == safe(values.draft):
            return
        utt = self.current
        sources = [self._base]
        if utt is not None:
            sources += [utt.draft or "", utt.gold or ""]
            sources += [h.text for h in utt.hypotheses if h.task == "asr" and h.text]
        exact = next((s for s in sources if safe(s) == shown), None)
        self.values = replace(values, draft=exact if exact is not None else restore(
            self._base, shown
        ))

    @property
    def display_translation(self) -> str:
        values = self.values
        return safe(values.translation or "") if values is not None else ""

    def edit_translation(self, shown: str) -> None:
        """The translation box now shows `shown` (mapped back as the draft is)."""
        values = self.values
        if values is None or shown == safe(values.translation or ""):
            return
        base = self.current.translation or "" if self.current is not None else ""
        self.set_translation(restore(base, shown).strip() or None)

    def set_translation(self, text: str | None) -> None:
        if self.values is not None and text != self.values.translation:
            self.values = replace(self.values, translation=text or None)

    def set_label(self, task: str, value: str | None) -> None:
        if self.values is not None:
            self.values = replace(self.values, labels={**self.values.labels, task: value})

    def cycle_label(self, task: str, step: int = 1) -> str | None:
        """The next (or, with step -1, the previous) value of a label, none included."""
        if self.values is None:
            return None
        options: list[str | None] = [None, *LABEL_SETS[task]]
        now = self.values.labels.get(task)
        index = options.index(now) if now in options else 0
        value = options[(index + step) % len(options)]
        self.set_label(task, value)
        return value

    def pick_label(self, task: str, number: int) -> bool:
        """Value `number` (1-based, in the order shown) of a label; 0 clears it."""
        options = LABEL_SETS[task]
        if self.values is None or not 0 <= number <= len(options):
            return False
        self.set_label(task, options[number - 1] if number else None)
        return True

    def take_system_labels(self) -> list[str]:
        """Every label a system gave (the first system, by name, with a valid answer)."""
        if self.current is None:
            return []
        taken = []
        for task in LABEL_TASKS:
            said = [
                h.text for h in self.current.hypotheses
                if h.task == task and h.text in LABEL_SETS[task]
            ]
            if said:
                self.set_label(task, said[0])
                taken.append(task)
        return taken

    def take_translation(self) -> bool:
        if self.current is None:
            return False
        said = [h.text for h in self.current.hypotheses if h.task == "ast" and h.text]
        if said:
            self.set_translation(said[0])
        return bool(said)

    def asr(self) -> list[Hypothesis]:
        return [] if self.current is None else [
            h for h in self.current.hypotheses if h.task == "asr"
        ]

    def take(self, n: int) -> str | None:
        """Hypothesis `n`'s transcript as the draft; returns the display (None: no such)."""
        asr = self.asr()
        if not 1 <= n <= len(asr) or asr[n - 1].text is None or self.values is None:
            return None
        text = asr[n - 1].text or ""
        self._base = text
        self.values = replace(self.values, draft=text)
        return safe(text)

    def reference(self) -> str:
        """What the hypotheses' CER and diff are measured against: the draft on screen, as it
        is stored (the report's normalisation then applies to both)."""
        return self.values.draft if self.values is not None else ""

    # -- differences from one hypothesis ---------------------------------------------------
    def cycle_compare(self) -> Hypothesis | None:
        asr = [h for h in self.asr() if h.text is not None]
        if not asr:
            return None
        self.compare_with = self.compare_with % len(asr) + 1
        return asr[self.compare_with - 1]

    def compared(self) -> Hypothesis | None:
        asr = [h for h in self.asr() if h.text is not None]
        if not asr:
            return None
        self.compare_with = min(max(self.compare_with, 1), len(asr))
        return asr[self.compare_with - 1]

    def differences(self) -> list[tuple[int, int, str]]:
        """(start, end, their text) in the displayed draft, for each place where the compared
        hypothesis differs from it."""
        hyp = self.compared()
        if hyp is None or self.values is None:
            return []
        mine, theirs = self.display_draft, safe(hyp.text or "")
        return [
            (op.src_start, op.src_end, theirs[op.dest_start : op.dest_end])
            for op in Levenshtein.opcodes(mine, theirs)
            if op.tag != "equal"
        ]

    def next_difference(self, cursor: int, step: int) -> tuple[int, int, str] | None:
        """The first difference after (step 1) or before (step -1) the cursor's position."""
        spans = self.differences()
        if step > 0:
            return next((s for s in spans if s[0] > cursor), None)
        return next((s for s in reversed(spans) if s[0] < cursor), None)

    def difference_at(self, cursor: int) -> tuple[int, int, str] | None:
        """The difference the cursor is on (at its start, inside, or just after it)."""
        spans = self.differences()
        return next((s for s in spans if s[0] <= cursor <= s[1]), None)

    # -- leaving, saving, deciding ---------------------------------------------------------
    def unsaved(self) -> dict[str, Any]:
        if self.current is None or self.values is None:
            return {}
        with self._lock:
            stored = self.view(self.current.id) or self.current
        return changes_for(stored, self.values)

    def leave(self) -> SaveRequest | None:
        """Queue the on-screen changes of the utterance on screen (moving on, quitting)."""
        changes = self.unsaved()
        if not changes or self.current is None:
            return None
        return self._submit(changes, "edit")

    def accept(self, *, confirmed: bool = False) -> Check:
        """The on-screen values become gold (after a warning, a second accept confirms)."""
        utt, values = self.current, self.values
        if utt is None or values is None:
            return Check(False, "nothing to accept")
        if not values.draft.strip():
            return Check(False, "nothing to accept: the draft is empty")
        warnings = accept_warnings(values, self.special_tokens)
        if warnings and not confirmed and self._confirming != (utt.id, values):
            self._confirming = (utt.id, values)
            return Check(False, f"{safe(utt.key)} holds " + "; ".join(warnings), confirm=True)
        self._confirming = None
        stored = self.view(utt.id) or utt
        changes = {
            "draft": values.draft, "gold": values.draft, "translation": values.translation,
            **values.labels, "status": "accepted", "pending": None,
        }
        self._decide(stored, "accept", changes)
        return Check(True, f"saving {safe(utt.key)} as gold…")

    def set_status(self, status: str, note: str | None = None, *, confirmed: bool = False) -> Check:
        """Skip or flag the utterance on screen; accepted gold is demoted only when confirmed."""
        utt, values = self.current, self.values
        if utt is None or values is None:
            return Check(False, "nothing to " + ("skip" if status == "skipped" else "flag"))
        stored = self.view(utt.id) or utt
        if stored.status == "accepted" and not confirmed:
            return Check(False, f"{safe(utt.key)} is accepted gold", confirm=True)
        changes = changes_for(stored, values, status)
        changes["status"] = status
        if note is not None:
            changes["note"] = note
        self._decide(stored, status, changes)
        return Check(True)

    def _decide(self, stored: Utterance, kind: str, changes: dict[str, Any]) -> None:
        before = {
            "status": stored.status, "gold": stored.gold, "note": stored.note,
            "pending": stored.pending, "translation": stored.translation,
            **{t: getattr(stored, t) for t in LABEL_TASKS},
        }
        self.decisions.append(Decision(stored.id, stored.key, kind, before))
        self._submit(changes, kind)

    def undo_decision(self) -> Decision | None:
        """Give back the last accept, skip or flag (queued like any save)."""
        if not self.decisions:
            return None
        decision = self.decisions.pop()
        stored = self.view(decision.utt_id)
        if stored is None:
            return None
        # The decision's status and gold go back; the values the reviewer had stay, as the
        # working draft (or pending changes, if the utterance was accepted before).
        changes = {k: v for k, v in decision.before.items() if getattr(stored, k) != v}
        changes.update(changes_for(replace(stored, **decision.before), Values.of(stored)))
        self._queue_request(
            SaveRequest(decision.utt_id, decision.key, stored.version, changes, "undo")
        )
        if self.current is not None and self.current.id == decision.utt_id:
            self.show(self.view(decision.utt_id) or stored)
        return decision

    def revert(self) -> Check:
        """Throw away what is on screen: back to the saved state, and for an accepted
        utterance modified since, back to its gold (queued, so it is undoable by accepting)."""
        utt = self.current
        if utt is None:
            return Check(False)
        stored = self.view(utt.id) or utt
        if stored.status == "accepted":
            gold = Values(
                stored.gold or "", stored.translation,
                {t: getattr(stored, t) for t in LABEL_TASKS},
            )
            changes = changes_for(stored, gold)
            if changes:
                self.values = gold
                self._submit(changes, "edit")
        self.show(self.view(utt.id) or stored)
        return Check(True, f"reverted {safe(utt.key)} to its " + (
            "accepted gold" if stored.status == "accepted" else "saved state"
        ))

    def _submit(self, changes: dict[str, Any], kind: str) -> SaveRequest:
        assert self.current is not None
        stored = self.view(self.current.id) or self.current
        request = SaveRequest(stored.id, stored.key, stored.version, changes, kind)
        self._queue_request(request)
        with self._lock:
            self.current = self.view(stored.id) or stored
        return request

    def _queue_request(self, request: SaveRequest) -> None:
        with self._wake:
            self._queue.append(request)
            self._wake.notify_all()

    # -- conflicts -------------------------------------------------------------------------
    def resolve(self, utt_id: int, choice: str) -> None:
        """'mine': write ours over theirs; 'theirs': keep theirs. The other version is logged."""
        with self._lock:
            conflict = self.conflicts.pop(utt_id, None)
            if conflict is None:
                return
            self._remember(conflict.theirs)
            theirs = conflict.theirs
            changes = conflict.changes()
            kind = "mine" if choice == "mine" else "discard"
            self._queue_request(SaveRequest(utt_id, theirs.key, theirs.version, changes, kind))
            if self.current is not None and self.current.id == utt_id:
                self.show(self.view(utt_id) or theirs)

    # -- the saver -------------------------------------------------------------------------
    def retry(self) -> None:
        """Try a failed save again now."""
        with self._wake:
            self._wake.notify_all()

    @property
    def in_flight(self) -> int:
        """Saves queued or running, not landed yet."""
        with self._lock:
            return len(self._queue)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued save has landed or is held by a conflict; True when none
        is left queued (False: still retrying after `timeout`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._wake:
            while self._queue or self._reporting:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._wake.wait(left)
            return not self._queue

    def close(self) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify_all()

    def _expected(self, request: SaveRequest) -> int:
        version = request.base_version
        made = self._own.get(request.utt_id, {})
        while version in made:
            version = made[version]
        return version

    def _save_loop(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if self._closing:
                    return
                request = self._queue[0]
                conflict = self.conflicts.get(request.utt_id)
                if conflict is not None and request.kind not in ("mine", "discard"):
                    conflict.requests.append(self._queue.popleft())  # held with the others
                    self._wake.notify_all()
                    continue
                expected = self._expected(request)
            self._save_one(request, expected)

    def resubmit(self, request: SaveRequest) -> None:
        """Queue again a save that was held back (a claim the reviewer chose to save over)."""
        self._queue_request(replace(request, over_claim=True))

    def _save_one(self, request: SaveRequest, expected: int) -> None:
        event: Event
        try:
            holder = None
            if self.guard is not None and not request.over_claim and request.kind != "discard":
                holder = self.guard(request)
            if holder is not None:
                with self._wake:
                    self._queue.popleft()
                    self._reporting = True
                self._emit(ClaimHeld(request, holder))
                with self._wake:
                    self._reporting = False
                    self._wake.notify_all()
                return
            written = None if self.writer is None else self.writer(request, expected)
            if written is not None:
                saved = written
            elif request.kind == "discard":
                self.store.discard(request.utt_id, request.changes, self.annotator)
                saved = self.store.utterance(request.utt_id)
            else:
                saved = self.store.save(
                    request.utt_id, expected, request.changes, self.annotator
                )
        except Conflict as conflict:
            with self._wake:
                self._queue.popleft()
                self._remember(conflict.theirs)
                self.conflicts[request.utt_id] = ConflictState(conflict.theirs, [request])
                self.failure = None
                self._reporting = True
            event = ConflictFound(request.utt_id, conflict.theirs)
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as error:
            # Locked or busy: keep it at the head (later saves wait behind it) and retry.
            with self._wake:
                self.failure = str(error)
                self._wake.notify_all()
            self._emit(SaveFailed(request, str(error), retrying=True))
            with self._wake:
                if not self._closing:
                    self._wake.wait(self.retry_s)
                self.failure = None
            return
        except Exception as error:  # the utterance gone (StoreError) or a bug: retrying cannot help
            with self._wake:
                self._queue.popleft()
                self._reporting = True
            event = SaveFailed(request, str(error), retrying=False)
        else:
            with self._wake:
                self._queue.popleft()
                if request.kind != "discard":
                    self._own.setdefault(request.utt_id, {})[expected] = saved.version
                self._remember(saved)
                self.failure = None
                if self.current is not None and self.current.id == saved.id:
                    self.current = self.view(saved.id) or saved
                self._reporting = True
            event = Saved(request, saved)
        self._emit(event)
        with self._wake:
            self._reporting = False  # only now is the save idle: its event has been posted
            self._wake.notify_all()

    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)
