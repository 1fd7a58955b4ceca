"""Every review action's binding (id, default keys, description) and the user's TOML keymap.

The keymap file maps binding ids to keys, e.g.

    [keys]
    "review.accept" = "ctrl+s"
    "audio.toggle" = "escape,ctrl+space"

It is read from `$WUWB_CONFIG` if set, else `$XDG_CONFIG_HOME/wuwb/config.toml`
(`~/.config/wuwb/config.toml`). Unknown ids and keys bound twice are reported, never silently
dropped, and a file that cannot be read leaves the default keys.
"""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding, BindingType

from workbench.tui.config import config_path, read_config, shown_path

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
    ("audio.from_cursor", "alt+p", "play_from_cursor", "Play from cursor −0.5 s", False),
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


def bindings() -> list[BindingType]:
    return [
        Binding(keys, action, description, show=show, id=binding_id, priority=True)
        for binding_id, keys, action, description, show in ACTIONS
    ]


# Keys the app itself holds (quit, the command palette): no review action may take them.
RESERVED = {"ctrl+q": "quit", "ctrl+c": "quit", "ctrl+p": "the command palette"}


def _keys(keys: str) -> list[str]:
    return [key.strip() for key in keys.split(",") if key.strip()]


def _clashes(keymap: dict[str, str]) -> list[tuple[str, str, str]]:
    """(key, id, other) for every key bound to two actions, or to one the app holds."""
    owner: dict[str, str] = dict(RESERVED)
    found = []
    for binding_id, default, *_ in ACTIONS:
        for key in dict.fromkeys(_keys(keymap.get(binding_id, default))):
            if binding_id == "app.quit" and owner.get(key) == "quit":
                continue  # the quit binding itself holds the app's quit keys
            if key in owner:
                found.append((key, binding_id, owner[key]))
            else:
                owner[key] = binding_id
    return found


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The keymap from the config file and the problems found in it (unreadable file, bad
    TOML, unknown ids, a key bound twice). Nothing found wrong is silently dropped: each
    problem is reported and the entries at fault give way to the default keys."""
    config, problems = read_config(path)
    if problems or not config:
        return {}, problems
    shown = shown_path(path or config_path())
    keys = config.get("keys", {})
    if not isinstance(keys, dict):
        return {}, [f"{shown}: [keys] must be a table; using the default keys"]
    known = {binding_id for binding_id, *_ in ACTIONS}
    keymap = {k: v for k, v in keys.items() if k in known and isinstance(v, str) and _keys(v)}
    problems = [f"{shown}: unknown binding id {k!r}" for k in keys if k not in known]
    problems += [
        f"{shown}: keys for {k!r} must be a non-empty string"
        for k in keys
        if k in known and k not in keymap
    ]
    # A key bound twice would silently lose one action: both entries at fault give way to
    # the defaults (which never clash), until no key is bound twice.
    while clashes := _clashes(keymap):
        dropped = False
        for key, binding_id, other in clashes:
            problems.append(f"{shown}: {key!r} is bound to both {other!r} and {binding_id!r}")
            for culprit in (binding_id, other):
                if keymap.pop(culprit, None) is not None:
                    dropped = True
                    problems.append(f"{shown}: {culprit!r} keeps its default keys")
        if not dropped:  # only defaults left: they never clash (a test checks), stop here
            break
    return keymap, problems
