"""The command palette's review commands: every keyed action, found by its description."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Provider

from workbench.tui.keymap import ACTIONS
from workbench.tui.text import safe


class ReviewCommands(Provider):
    """Offers each review action with the key it is bound to, on the review screen."""

    def _actions(self) -> list[tuple[str, str, str]]:
        from workbench.tui.review_screen import ReviewScreen

        screen = self.screen
        if not isinstance(screen, ReviewScreen):
            return []
        return [
            (description, action, safe(f"{screen.keymap.get(binding_id, keys)}  ·  {binding_id}"))
            for binding_id, keys, action, description, _show in ACTIONS
        ]

    async def discover(self) -> AsyncIterator[DiscoveryHit]:
        for description, action, help_text in self._actions():
            yield DiscoveryHit(description, partial(self.screen.run_action, action), help=help_text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for description, action, help_text in self._actions():
            score = matcher.match(description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(description),
                    partial(self.screen.run_action, action),
                    help=help_text,
                )
