"""How one annotator's review session takes part in team work (Textual-free).

`wuwb review --annotator NAME` works from a claimed batch: the list shows only what this
annotator holds, the app renews the lease while open and releases it on quit. `--all` shows
everything (a lead's view) and claims nothing; `--pass 2` works the second-pass queue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from db import claims
from db.store import Filter, Sort, Store


@dataclass(frozen=True)
class TeamOptions:
    batch: int = claims.DEFAULT_BATCH
    lease: timedelta = claims.DEFAULT_LEASE
    all: bool = False  # see and save everything; claim nothing
    pass_: int = 1

    @property
    def claiming(self) -> bool:
        return not self.all

    @property
    def renew_every_s(self) -> float:
        """Renew well before the lease could run out; at least once a minute, so an empty
        batch picks up work others have freed soon after."""
        return max(min(self.lease.total_seconds() / 4, 60.0), 1.0)

    def queue(self, annotator: str, filt: Filter | None = None) -> Filter:
        """What to claim from: the second-pass queue, or the reviewer's filter (todo)."""
        if self.pass_ == 2:
            return replace(filt or Filter(), status=None, second_pass_for=annotator)
        return filt or Filter(status="todo")

    def shown(self, annotator: str, filt: Filter | None = None) -> Filter:
        """What the list shows: the queue, narrowed to this annotator's claims."""
        queue = self.queue(annotator, filt)
        return replace(queue, claimed_by=annotator) if self.claiming else queue

    def claim(self, store: Store, annotator: str, filt: Filter, sort: Sort) -> int:
        """Claim (or top up) the batch for `filt`; returns how many are held (thread only)."""
        return claims.claim_batch(
            store, annotator, self.queue(annotator, replace(filt, claimed_by=None)), sort,
            size=self.batch, lease=self.lease, pass_=self.pass_,
        )
