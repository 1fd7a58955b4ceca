"""Fixtures for the review TUI: a small real project, and a silent ALSA device.

PortAudio reads ALSA's configuration when sounddevice is first imported, so the null device is
set up here, at collection time, before any test module imports the app.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_ALSA = Path(tempfile.gettempdir()) / "wuwb-test-asound.conf"
_ALSA.write_text("pcm.!default { type null }\nctl.!default { type null }\n")
os.environ["ALSA_CONFIG_PATH"] = str(_ALSA)
# No reviewer's own keymap leaks into the tests.
os.environ["WUWB_CONFIG"] = str(Path(tempfile.gettempdir()) / "wuwb-test-no-such-config.toml")

from tui_helpers import build_project  # noqa: E402  (after the ALSA setup on purpose)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return build_project(tmp_path / "project.db")
