"""Team work on the review screen: the claimed batch, the second pass, others' claims.

A mixin for ReviewScreen, so the screen itself carries only a few calls into it. Every store
call here runs in a thread worker.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label

from db import claims, second_pass
from db.store import Filter, Sort, Store, Utterance
from workbench.session import ClaimHeld, Guard, SaveRequest, Writer
from workbench.team import TeamOptions
from workbench.tui.text import safe

if TYPE_CHECKING:
    from workbench.session import ReviewSession


class BatchClaimed(Message):
    def __init__(self, filt: Filter, sort: Sort, held: int) -> None:
        super().__init__()
        self.filt, self.sort, self.held = filt, sort, held


class SaveOverClaim(ModalScreen[bool]):
    """Ask before saving an utterance someone else holds a claim on."""

    DEFAULT_CSS = "SaveOverClaim { align: center middle; }"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Save anyway", id="claim.save"),
        Binding("n,escape", "answer(False)", "Leave it", id="claim.leave"),
    ]

    def __init__(self, key: str, holder: str) -> None:
        super().__init__()
        self.key, self.holder = key, holder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"{safe(self.key)} is claimed by {safe(self.holder)}."))
            yield Label(Text("Save your version anyway? y: save · n / escape: leave it"))

    def action_answer(self, save: bool) -> None:
        self.dismiss(save)


class TeamGlue:
    """What ReviewScreen mixes in; it provides store, annotator, team, filt, sort, list."""

    store: Store
    annotator: str
    team: TeamOptions
    filt: Filter
    sort: Sort
    list: Any
    _batch_held = 0  # claims the last top-up got (0: an empty queue, do not ask again)
    session: ReviewSession

    def claim_then_show(self, filt: Filter, sort: Sort) -> None:
        """Show `filt` in order: within the claimed batch when claiming (topped up first)."""
        if self.team.claiming:
            self._claim(replace(filt, claimed_by=self.annotator), sort)
        else:
            self.list.show(filt, sort)

    @work(thread=True, group="claim", exit_on_error=False)
    def _claim(self, filt: Filter, sort: Sort) -> None:
        held = self.team.claim(self.store, self.annotator, filt, sort)
        self.post_message(BatchClaimed(filt, sort, held))  # type: ignore[attr-defined]

    def on_batch_claimed(self, message: BatchClaimed) -> None:
        # An empty claim means an empty queue: counting nothing then must not claim again.
        self._batch_held = message.held
        if (message.filt, message.sort) == (self.filt, self.sort):
            self.list.show(message.filt, message.sort)

    @work(thread=True, group="claim", exit_on_error=False)
    def keep_batch(self) -> None:
        """Renew the lease (the app's timer); holding nothing, look for freed work."""
        if claims.renew(self.store, self.annotator, self.team.lease) == 0:
            held = self.team.claim(self.store, self.annotator, self.filt, self.sort)
            self.post_message(BatchClaimed(self.filt, self.sort, held))  # type: ignore[attr-defined]

    def batch_done(self, total: int) -> None:
        """The list counted `total` open rows: a batch that held some and is done is topped
        up from the queue."""
        if total == 0 and self.team.claiming and self._batch_held:
            self._batch_held = 0
            self._claim(self.filt, self.sort)

    def claim_guard(self) -> Guard | None:
        """For the session's saver: who else holds the utterance. Only a reviewer who works
        outside a claimed batch (a lead's --all) can meet someone else's claim."""
        if self.team.claiming:
            return None

        def holder(request: SaveRequest) -> str | None:
            held = claims.holder(self.store, request.utt_id)
            return None if held is None or held == self.annotator else held

        return holder

    def second_pass_writer(self) -> Writer | None:
        """For the session's saver: in the second pass an accept records the verdict (the
        first pass's gold is kept beside it); other saves are plain."""
        if self.team.pass_ != 2:
            return None

        def write(request: SaveRequest, expected: int) -> Utterance | None:
            if request.kind != "accept":
                return None
            c = request.changes
            verdict = second_pass.Verdict(
                c["draft"], c.get("translation"),
                **{t: c.get(t) for t in ("age", "gender", "emotion")},
            )
            return second_pass.review(self.store, request.utt_id, expected, self.annotator,
                                      verdict)

        return write

    def ask_over_claim(self, event: ClaimHeld) -> None:
        request = event.request

        def answered(save: bool | None) -> None:
            if save:
                self.session.resubmit(request)
            else:
                self.say(f"left {safe(request.key)} to {safe(event.holder)}")  # type: ignore[attr-defined]

        self.app.push_screen(  # type: ignore[attr-defined]
            SaveOverClaim(request.key, event.holder), answered
        )

    def team_title(self) -> list[str]:
        """What the list's title adds: whose batch, which pass."""
        parts = ["second pass"] if self.team.pass_ == 2 else []
        if self.filt.claimed_by is not None:
            parts.append(f"{safe(self.annotator)}'s batch")
        return parts

    def second_pass_hint(self, utt: Utterance, accept_key: str) -> None:
        if self.team.pass_ == 2:
            self.say(  # type: ignore[attr-defined]
                f"second pass of {safe(utt.annotator or '?')}'s gold: {accept_key} approves "
                "it as shown, or saves your correction"
            )

