"""The reviewer's config file: `[keys]` (see keymap.py) and `[audio]`.

It is read from `$WUWB_CONFIG` if set, else `$XDG_CONFIG_HOME/wuwb/config.toml`
(`~/.config/wuwb/config.toml`). A file that cannot be read never stops a review: the problem
is reported and the defaults are used.

    [audio]
    rewind = 1.0       # seconds heard again when playback resumes after a pause (0: off)
    autoplay = false   # play each utterance as soon as it is shown
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AudioSettings:
    rewind_s: float = 1.0
    autoplay: bool = False


def config_path() -> Path:
    if env := os.environ.get("WUWB_CONFIG"):
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wuwb" / "config.toml"


def shown_path(path: Path) -> str:
    """The path for a message: an over-long one loses its middle."""
    text = str(path)
    return text if len(text) <= 80 else f"{text[:38]}…{text[-38:]}"


def read_config(path: Path | None = None) -> tuple[dict[str, object], list[str]]:
    """The config file as TOML, or {} and why it could not be read (never raises: a config
    that cannot be read must not stop a review, which then starts with the defaults)."""
    shown = "config"
    try:
        path = path or config_path()
        shown = shown_path(path)
        if not path.is_file():  # raises for an unreadable folder or an over-long name
            return {}, []
        return tomllib.loads(path.read_text(encoding="utf-8")), []
    except OSError as error:
        why = error.strerror or type(error).__name__
        return {}, [f"{shown}: cannot read the config ({why}); using the defaults"]
    except (RuntimeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return {}, [f"{shown}: {error}; using the defaults"]


def audio_settings(config: dict[str, object], where: str) -> tuple[AudioSettings, list[str]]:
    """The `[audio]` table's settings; a bad value is reported and left at its default."""
    table = config.get("audio", {})
    if not isinstance(table, dict):
        return AudioSettings(), [f"{where}: [audio] must be a table; using the defaults"]
    defaults = AudioSettings()
    problems: list[str] = []
    rewind = table.get("rewind", defaults.rewind_s)
    if isinstance(rewind, bool) or not isinstance(rewind, int | float) or not 0 <= rewind <= 30:
        problems.append(f"{where}: audio.rewind must be seconds from 0 to 30; using 1")
        rewind = defaults.rewind_s
    autoplay = table.get("autoplay", defaults.autoplay)
    if not isinstance(autoplay, bool):
        problems.append(f"{where}: audio.autoplay must be true or false; using false")
        autoplay = defaults.autoplay
    problems += [
        f"{where}: unknown audio setting {k!r}" for k in table if k not in ("rewind", "autoplay")
    ]
    return AudioSettings(float(rewind), autoplay), problems


def load_audio_settings(path: Path | None = None) -> tuple[AudioSettings, list[str]]:
    """The audio settings from the config file and the problems found in its `[audio]`
    (a file that cannot be read is reported by `keymap.load_keymap`, not twice)."""
    config, unreadable = read_config(path)
    if unreadable:
        return AudioSettings(), []
    return audio_settings(config, shown_path(path or config_path()))
