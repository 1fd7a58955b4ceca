"""The review app: opens the project off the UI thread, then shows the review screen."""

from __future__ import annotations

import getpass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Static

from db import claims
from db.store import Store, writable
from workbench.team import TeamOptions
from workbench.tui.audio import Player
from workbench.tui.commands import ReviewCommands
from workbench.tui.config import load_audio_settings
from workbench.tui.keymap import load_keymap
from workbench.tui.login import LoginPrompt
from workbench.tui.review_screen import ReviewScreen
from workbench.tui.settings import load_special_tokens
from workbench.tui.terminal_keys import restore_alt_digits
from workbench.tui.text import safe
from workbench.tui.web_audio import WebPlayer
from workbench.tui.web_driver import adjust_web_driver
from workbench.tui.web_keys import WebReviewScreen, web_keymap

EXIT_CANNOT_OPEN = 2  # as the CLI's other commands exit on a file they cannot use

READ_ONLY = "read-only: saves are off (the project file cannot be written)"


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
    # Sets -narrow or -wide on the screen (review.tcss); Textual's annotation has no ClassVar.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012

    def __init__(
        self, db_path: str | Path, annotator: str | None = None, *, config: Path | None = None,
        team: TeamOptions | None = None,
    ) -> None:
        super().__init__()
        restore_alt_digits()  # before the driver starts parsing what the terminal sends
        self.db_path = Path(db_path)
        self.annotator = annotator  # None: the login name, or in a browser a prompt asks
        self.config = config
        self.team = team or TeamOptions(all=True)  # no claims unless the CLI asks for them
        self.store: Store | None = None
        self.bulk: Store | None = None  # counts and statistics, so they never block a page
        self.player: Player | WebPlayer  # chosen at mount, when the driver is known
        self.review_keymap: dict[str, str] = {}
        self.failure: str | None = None  # why the review could not start (the exit says it)
        self.special_tokens: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(Text(f"opening {safe(str(self.db_path))}…", style="dim"), id="opening")

    def on_mount(self) -> None:
        keymap, problems = load_keymap(self.config)
        audio, audio_problems = load_audio_settings(self.config)
        problems += audio_problems
        self.special_tokens, more = load_special_tokens(self.config)
        problems += more
        if self.is_web:  # under `wuwb serve`: the browser plays the audio and has its own keys
            adjust_web_driver(self)
            self.player = WebPlayer(self)
            keymap, web_problems = web_keymap(keymap)
            problems += web_problems
        else:
            self.player = Player()
        self.player.rewind_s, self.player.autoplay = audio.rewind_s, audio.autoplay
        self.review_keymap = keymap
        self.set_keymap(keymap)
        for problem in problems:  # reported, never fatal: the review starts with defaults
            self.notify(safe(problem), title="Config", severity="warning", markup=False)
        if self.annotator is None and self.is_web:  # never the server's user, unasked
            self.push_screen(LoginPrompt(self.db_path.name), self._logged_in)
            return
        self.open_store()

    def _logged_in(self, name: str | None) -> None:
        self.annotator = name
        self.open_store()

    @work(thread=True, exit_on_error=False)
    def open_store(self) -> None:
        try:
            readonly = self.db_path.is_file() and not writable(self.db_path)
            # A save waits this long for another process's write lock, then is kept and
            # retried (workbench/session.py): the reviewer hears of it in seconds.
            store = Store.open(self.db_path, create=False, readonly=readonly, busy_timeout=5.0)
            bulk = Store.open(self.db_path, create=False, readonly=readonly)
        except Exception as error:  # a bad path or file is shown, not a traceback
            self.post_message(OpenFailed(error))
        else:
            self.post_message(StoreOpened(store, bulk))

    def on_store_opened(self, message: StoreOpened) -> None:
        self.store, self.bulk = message.store, message.bulk
        cls = WebReviewScreen if self.is_web else ReviewScreen
        annotator = self.annotator = self.annotator or getpass.getuser()
        screen = cls(
            message.store, message.bulk, annotator, self.player, self.review_keymap,
            self.special_tokens, self.team,
        )
        self.push_screen(screen)
        if message.store.readonly:  # the store refuses every save; say so before one is tried
            banner = Static(Text(READ_ONLY, style="bold"), id="read-only")
            banner.styles.background = "darkred"
            self.call_after_refresh(screen.mount, banner, before=0)
        if self.team.claiming:
            self.set_interval(self.team.renew_every_s, screen.keep_batch)

    async def action_quit(self) -> None:
        """Quit keeps the draft on screen as leaving an utterance does."""
        screen = next((s for s in self.screen_stack if isinstance(s, ReviewScreen)), None)
        if screen is None or screen.before_quit():
            self.exit()

    def on_open_failed(self, message: OpenFailed) -> None:
        # Nothing to review: leave at once with the reason and a failing exit status.
        self.failure = f"cannot open {self.db_path}: {message.error}"
        self.exit(return_code=EXIT_CANNOT_OPEN)

    def on_unmount(self) -> None:
        self.player.close()
        if self.team.claiming and self.store is not None and self.annotator is not None:
            claims.release(self.store, self.annotator, self.team.pass_)  # quitting frees them
        for store in (self.store, self.bulk):
            if store is not None:
                store.close()
