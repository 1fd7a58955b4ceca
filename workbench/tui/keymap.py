"""Every review action's binding (id, default keys, description) and the user's TOML keymap.

The keymap file maps binding ids to keys, e.g.

    [keys]
    "review.accept" = "ctrl+s"
    "audio.toggle" = "escape,ctrl+space"

It is read from `$WUWB_CONFIG` if set, else `$XDG_CONFIG_HOME/wuwb/config.toml`
(`~/.config/wuwb/config.toml`). Unknown ids are reported, not silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from textual.binding import Binding

# (id, default keys, action, description, shown in the footer). Priority bindings, so they
# win over the editor's own keys: the editor keeps focus all day and every key works from it.
ACTIONS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("review.accept", "ctrl+s", "accept", "Accept → next", True),
    ("review.next", "ctrl+down", "move(1)", "Next", True),
    ("review.prev", "ctrl+up", "move(-1)", "Previous", True),
    ("review.page_next", "ctrl+pagedown", "move_page(1)", "Page down", False),
    ("review.page_prev", "ctrl+pageup", "move_page(-1)", "Page up", False),
    ("review.skip", "ctrl+n", "skip", "Skip → next", False),
    ("review.flag", "ctrl+g", "flag", "Flag with note", True),
    ("app.quit", "ctrl+q", "app.quit", "Quit", True),
    ("review.revert", "ctrl+r", "revert", "Revert to saved", False),
    ("review.undo_decision", "ctrl+u", "undo_decision", "Undo last accept/skip/flag", False),
    ("review.undo", "ctrl+z", "undo", "Undo edit", False),
    ("review.redo", "ctrl+y", "redo", "Redo edit", False),
    ("review.filter", "ctrl+f", "filter", "Filter & sort", True),
    ("audio.toggle", "escape", "play_pause", "Play/pause", True),
    ("audio.replay", "f5", "replay", "Replay", False),
    ("audio.back", "f1", "seek(-2.0)", "Seek −2 s", True),
    ("audio.forward", "f2", "seek(2.0)", "Seek +2 s", True),
    ("audio.slower", "f3", "speed(-1)", "Slower", False),
    ("audio.faster", "f4", "speed(1)", "Faster", False),
    *((f"take.{n}", f"alt+{n}", f"take({n})", f"Take hypothesis {n}", False) for n in range(1, 10)),
    ("take.translation", "alt+0", "take_translation", "Take system translation", False),
    ("diff.next", "f6", "difference(1)", "Next difference from compared system", False),
    ("diff.prev", "shift+f6", "difference(-1)", "Previous difference", False),
    ("diff.take", "f7", "take_difference", "Take compared system's span at cursor", False),
    ("diff.compare", "f8", "compare_next", "Compare with next system", False),
    ("label.age", "alt+a", "cycle_label('age')", "Cycle age label (then 1-9: pick)", False),
    ("label.gender", "alt+s", "cycle_label('gender')", "Cycle gender label (then 1-9)", False),
    ("label.emotion", "alt+e", "cycle_label('emotion')", "Cycle emotion label (then 1-9)", False),
    ("label.age_back", "alt+shift+a", "cycle_label('age', -1)", "Age label back", False),
    ("label.gender_back", "alt+shift+s", "cycle_label('gender', -1)", "Gender back", False),
    ("label.emotion_back", "alt+shift+e", "cycle_label('emotion', -1)", "Emotion back", False),
    ("label.take", "alt+l", "take_labels", "Take the systems' labels", False),
    *(
        (f"label.pick_{n}", str(n), f"pick_label({n})", f"Label value {n} (after alt+a/s/e)",
         False)
        for n in range(10)
    ),
    ("view.list", "ctrl+l", "focus_list", "List ⇄ editor", False),
    ("view.stats", "f9", "stats", "Statistics", True),
    ("view.help", "f10", "help", "Keys", True),
)


def bindings() -> list[Binding]:
    return [
        Binding(keys, action, description, show=show, id=binding_id, priority=True)
        for binding_id, keys, action, description, show in ACTIONS
    ]


def config_path() -> Path:
    if env := os.environ.get("WUWB_CONFIG"):
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wuwb" / "config.toml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The keymap from the config file and the problems found in it (unknown ids, bad TOML)."""
    path = path or config_path()
    if not path.is_file():
        return {}, []
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return {}, [f"{path}: {error}"]
    keys = config.get("keys", {})
    if not isinstance(keys, dict):
        return {}, [f"{path}: [keys] must be a table"]
    known = {binding_id for binding_id, *_ in ACTIONS}
    keymap = {k: v for k, v in keys.items() if k in known and isinstance(v, str)}
    problems = [f"{path}: unknown binding id {k!r}" for k in keys if k not in known]
    problems += [
        f"{path}: keys for {k!r} must be a string" for k in keys if k in known and k not in keymap
    ]
    return keymap, problems
