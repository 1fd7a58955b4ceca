"""The review app: opens the project off the UI thread, then shows the review screen."""

from __future__ import annotations

import getpass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Static

from db.store import Store
from workbench.tui.audio import Player
from workbench.tui.commands import ReviewCommands
from workbench.tui.keymap import load_keymap
from workbench.tui.review_screen import ReviewScreen
from workbench.tui.settings import load_special_tokens
from workbench.tui.terminal_keys import restore_alt_digits
from workbench.tui.text import safe


class StoreOpened(Message):
    def __init__(self, store: Store, bulk: Store) -> None:
        super().__init__()
        self.store = store
        self.bulk = bulk


class OpenFailed(Message):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class ReviewApp(App[None]):
    CSS_PATH = "review.tcss"
    TITLE = "wu-workbench review"
    COMMANDS = App.COMMANDS | {ReviewCommands}

    def __init__(
        self, db_path: str | Path, annotator: str | None = None, *, config: Path | None = None
    ) -> None:
        super().__init__()
        restore_alt_digits()  # before the driver starts parsing what the terminal sends
        self.db_path = Path(db_path)
        self.annotator = annotator or getpass.getuser()
        self.config = config
        self.store: Store | None = None
        self.bulk: Store | None = None  # counts and statistics, so they never block a page
        self.player = Player()
        self.review_keymap: dict[str, str] = {}
        self.special_tokens: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(Text(f"opening {safe(str(self.db_path))}…", style="dim"), id="opening")

    def on_mount(self) -> None:
        keymap, problems = load_keymap(self.config)
        self.special_tokens, more = load_special_tokens(self.config)
        self.review_keymap = keymap
        self.set_keymap(keymap)
        for problem in problems + more:  # data, never markup (notify takes a str)
            self.notify(problem, title="Config", severity="warning", markup=False)
        self.open_store()

    @work(thread=True, exit_on_error=False)
    def open_store(self) -> None:
        try:
            # A save waits this long for another process's write lock, then is kept and
            # retried (workbench/session.py): the reviewer hears of it in seconds.
            store = Store.open(self.db_path, create=False, busy_timeout=5.0)
            bulk = Store.open(self.db_path, create=False)
        except Exception as error:  # a bad path or file is shown, not a traceback
            self.post_message(OpenFailed(error))
        else:
            self.post_message(StoreOpened(store, bulk))

    def on_store_opened(self, message: StoreOpened) -> None:
        self.store, self.bulk = message.store, message.bulk
        self.push_screen(
            ReviewScreen(
                message.store,
                message.bulk,
                self.annotator,
                self.player,
                self.review_keymap,
                self.special_tokens,
            )
        )

    async def action_quit(self) -> None:
        """Quit keeps the draft on screen as leaving an utterance does."""
        screen = next((s for s in self.screen_stack if isinstance(s, ReviewScreen)), None)
        if screen is None or screen.before_quit():
            self.exit()

    def on_open_failed(self, message: OpenFailed) -> None:
        self.query_one("#opening", Static).update(
            Text(f"cannot open {safe(str(self.db_path))}: {message.error}", style="bold red")
        )

    def on_unmount(self) -> None:
        self.player.close()
        for store in (self.store, self.bulk):
            if store is not None:
                store.close()
